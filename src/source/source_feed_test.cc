// SourceFeed over an in-memory LogSource: offset gaps, backpressure by
// pausing, commits after sealing, retention loss at startup and while
// reading, and freshness that only high-watermark answers advance.
#include "source/source_feed.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace lf {
namespace {

using std::chrono::milliseconds;

// A log in memory. Thread-safe (the feed's two threads use it).
class FakeSource final : public LogSource {
 public:
  explicit FakeSource(uint32_t partitions) : parts_(partitions) {}

  // Appends a record at `offset` and makes `end` the partition's end.
  void Put(uint32_t p, uint64_t offset, std::string value, uint64_t end = 0) {
    MutexLock lock(&mu_);
    parts_[p].records[offset] = std::move(value);
    parts_[p].end = std::max(end, offset + 1);
  }
  void SetLogStart(uint32_t p, uint64_t start) {
    MutexLock lock(&mu_);
    parts_[p].log_start = start;
    std::erase_if(parts_[p].records, [&](const auto& r) { return r.first < start; });
  }
  // While held, a partition delivers nothing (a slow fetch).
  void Hold(uint32_t p, bool hold) {
    MutexLock lock(&mu_);
    parts_[p].held = hold;
  }
  bool paused(uint32_t p) {
    MutexLock lock(&mu_);
    return parts_[p].paused;
  }
  bool assigned(uint32_t p) {
    MutexLock lock(&mu_);
    return parts_[p].assigned;
  }
  std::vector<std::pair<uint32_t, uint64_t>> commits() {
    MutexLock lock(&mu_);
    return commits_;
  }

  uint32_t partition_count() const override { return static_cast<uint32_t>(parts_.size()); }
  Status Assign(const std::vector<PartitionStart>& starts) override {
    MutexLock lock(&mu_);
    for (auto& p : parts_) p.assigned = p.paused = false;
    for (const auto& s : starts) {
      parts_[s.partition].assigned = true;
      parts_[s.partition].position = s.offset;
    }
    return Status::OK();
  }
  Status Poll(size_t max_records, std::chrono::milliseconds timeout, RecordBatch* out) override {
    {
      MutexLock lock(&mu_);
      for (uint32_t i = 0; i < parts_.size(); ++i) {
        Part& p = parts_[i];
        if (!p.assigned || p.paused || p.held) continue;
        if (p.position < p.log_start)
          return Status::OutOfRange("partition " + std::to_string(i) + " no longer holds " +
                                    std::to_string(p.position));
        for (auto it = p.records.lower_bound(p.position); it != p.records.end() && out->size() < max_records; ++it) {
          auto value = std::make_shared<std::string>(it->second);
          out->Add(SourceRecord{.partition = i, .offset = it->first, .key = {}, .value = *value, .timestamp_ms = -1}, value);
          p.position = it->first + 1;
        }
        if (out->size() < max_records) p.position = std::max(p.position, p.end);
      }
      if (!out->empty()) return Status::OK();
    }
    std::this_thread::sleep_for(std::min(timeout, milliseconds(5)));
    return Status::OK();
  }
  Result<uint64_t> Position(uint32_t partition) const override {
    MutexLock lock(&mu_);
    return parts_[partition].position;
  }
  Result<PartitionBounds> Bounds(uint32_t partition, std::chrono::milliseconds) override {
    MutexLock lock(&mu_);
    if (down_) return Status::Unavailable("down");
    return PartitionBounds{parts_[partition].log_start, parts_[partition].end};
  }
  Status Pause(const std::vector<uint32_t>& partitions, bool pause) override {
    MutexLock lock(&mu_);
    for (uint32_t p : partitions) parts_[p].paused = pause;
    return Status::OK();
  }
  void CommitAsync(uint32_t partition, uint64_t offset) override {
    MutexLock lock(&mu_);
    commits_.emplace_back(partition, offset);
  }
  SourceHealth health() const override { return {}; }
  std::string Describe() const override { return "fake://log"; }
  void SetDown(bool down) {
    MutexLock lock(&mu_);
    down_ = down;
  }

 private:
  struct Part {
    std::map<uint64_t, std::string> records;
    uint64_t log_start = 0, end = 0, position = 0;
    bool assigned = false, paused = false, held = false;
  };
  mutable Mutex mu_;
  std::vector<Part> parts_ GUARDED_BY(mu_);
  std::vector<std::pair<uint32_t, uint64_t>> commits_ GUARDED_BY(mu_);
  bool down_ GUARDED_BY(mu_) = false;
};

template <class F>
bool Eventually(F f) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return f();
}

std::vector<uint64_t> Offsets(const SourceTail& t, int p, uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  EXPECT_TRUE(t.Read(p, from, to, [&](uint64_t o, std::string_view) {
                 v.push_back(o);
                 return Status::OK();
               }).ok());
  return v;
}

SourceFeedOptions Options() {
  SourceFeedOptions o;
  o.watermark_interval = milliseconds(5);
  o.poll_timeout = milliseconds(5);
  return o;
}

TEST(SourceFeedTest, CoverageIsThePositionAcrossOffsetGaps) {
  auto src = std::make_shared<FakeSource>(2);
  src->Put(0, 0, "a");
  src->Put(0, 1, "b");
  src->Put(0, 5, "c", /*end=*/7);  // 2..4 and 6: transaction markers
  src->Put(1, 3, "d");
  auto feed = SourceFeed::Start(src, {0, 3}, Options());
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  const SourceTail& tail = (*feed)->tail();
  ASSERT_TRUE(Eventually([&] { return tail.Position(0) == 7 && tail.Position(1) == 4; }));
  EXPECT_EQ(Offsets(tail, 0, 0, 7), (std::vector<uint64_t>{0, 1, 5}));
  EXPECT_EQ(Offsets(tail, 1, 3, 4), (std::vector<uint64_t>{3}));
  EXPECT_EQ((*feed)->records_read(), 4u);
}

TEST(SourceFeedTest, APartitionOverItsBudgetIsPausedUntilSealingCatchesUp) {
  auto src = std::make_shared<FakeSource>(2);
  SourceFeedOptions o = Options();
  o.max_tail_bytes = 100;
  for (uint64_t i = 0; i < 3; ++i) src->Put(0, i, std::string(60, 'x'));
  src->Put(1, 0, "small");
  auto feed = SourceFeed::Start(src, {0, 0}, o);
  ASSERT_TRUE(feed.ok());
  ASSERT_TRUE(Eventually([&] { return src->paused(0) && (*feed)->partitions()[0].paused; }));
  EXPECT_FALSE(src->paused(1));
  (*feed)->Sealed(0, 2);  // 60 bytes left: under half the budget? no (50): still paused
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_TRUE(src->paused(0));
  (*feed)->Sealed(0, 3);
  ASSERT_TRUE(Eventually([&] { return !src->paused(0) && !(*feed)->partitions()[0].paused; }));
  EXPECT_EQ((*feed)->tail().bytes(0), 0u);
  ASSERT_TRUE(Eventually([&] { return src->commits().size() == 2; }));
  EXPECT_EQ(src->commits()[1], (std::pair<uint32_t, uint64_t>{0, 3}));
}

TEST(SourceFeedTest, RetentionLossAtStartupIsReportedAndThePartitionNotRead) {
  auto src = std::make_shared<FakeSource>(2);
  for (uint64_t i = 10; i < 20; ++i) src->Put(0, i, "e");
  src->SetLogStart(0, 10);
  src->Put(1, 0, "e");
  std::vector<std::string> lines;
  Mutex lines_mu;
  SourceFeedOptions o = Options();
  o.log = [&](const std::string& l) {
    MutexLock lock(&lines_mu);
    lines.push_back(l);
  };
  auto feed = SourceFeed::Start(src, {4, 0}, o);
  ASSERT_TRUE(feed.ok());
  const auto parts = (*feed)->partitions();
  EXPECT_TRUE(parts[0].lost);
  EXPECT_EQ(parts[0].lost_from, 4u);
  EXPECT_EQ(parts[0].lost_to, 10u);
  EXPECT_FALSE(parts[1].lost);
  EXPECT_FALSE(src->assigned(0));
  ASSERT_TRUE(Eventually([&] { return (*feed)->tail().Position(1) == 1; }));
  EXPECT_EQ((*feed)->tail().Position(0), 4u) << "a lost partition is not read";
  MutexLock lock(&lines_mu);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("fake://log partition 0: offsets [4, 10) were deleted by the topic's retention"),
            std::string::npos)
      << lines[0];
}

TEST(SourceFeedTest, RetentionLossWhileReadingStopsOnlyThatPartition) {
  auto src = std::make_shared<FakeSource>(2);
  src->Put(0, 0, "a");
  src->Put(1, 0, "b");
  auto feed = SourceFeed::Start(src, {0, 0}, Options());
  ASSERT_TRUE(feed.ok());
  ASSERT_TRUE(Eventually([&] { return (*feed)->tail().Position(0) == 1; }));
  src->Hold(0, true);  // partition 0 falls behind ...
  for (uint64_t i = 1; i < 30; ++i) src->Put(0, i, "a");
  src->SetLogStart(0, 20);  // ... and retention deletes [1, 20)
  src->Hold(0, false);
  ASSERT_TRUE(Eventually([&] { return (*feed)->partitions()[0].lost; }));
  const auto p0 = (*feed)->partitions()[0];
  EXPECT_EQ(p0.lost_from, 1u);
  EXPECT_EQ(p0.lost_to, 20u);
  EXPECT_EQ((*feed)->tail().Position(0), 1u) << "never a silent jump";
  src->Put(1, 1, "b");
  ASSERT_TRUE(Eventually([&] { return (*feed)->tail().Position(1) == 2; })) << "the other partition goes on";
}

TEST(SourceFeedTest, FreshnessAdvancesOnlyWithHighWatermarkAnswers) {
  auto src = std::make_shared<FakeSource>(1);
  src->Put(0, 0, "a");
  auto feed = SourceFeed::Start(src, {0}, Options());
  ASSERT_TRUE(feed.ok());
  ASSERT_TRUE(Eventually([&] { return (*feed)->tail().Position(0) == 1; }));
  std::this_thread::sleep_for(milliseconds(20));
  const int64_t t1 = (*feed)->CaughtUpMs({1});
  EXPECT_EQ((*feed)->CaughtUpMs({0}), t1) << "S below the high watermark claims nothing newer";
  src->SetDown(true);  // no answers: the time known complete stays
  std::this_thread::sleep_for(milliseconds(30));
  const int64_t t2 = (*feed)->CaughtUpMs({1});
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ((*feed)->CaughtUpMs({1}), t2);
  src->SetDown(false);
  ASSERT_TRUE(Eventually([&] { return (*feed)->CaughtUpMs({1}) > t2 + 40; }));
}

}  // namespace
}  // namespace lf
