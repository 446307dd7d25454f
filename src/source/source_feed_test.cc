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

#include "source/fake_log_source.h"

namespace lf {
namespace {

using std::chrono::milliseconds;
using test::FakeSource;

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
