#include "speed/speed_layer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "sql/binder.h"

namespace lf {
namespace {

class SpeedLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lf-speed-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs_ = NewPosixFileSystem();
    auto c = sql::CompileViews(
        "CREATE STREAM s (k INT, v INT); CREATE VIEW by_k AS SELECT k, SUM(v) AS total FROM s GROUP BY k;", "v.sql");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    auto p = ViewPlan::Compile(catalog_.views[0]);
    ASSERT_TRUE(p.ok());
    plan_ = std::move(*p);
    auto log = Log::Open(fs_.get(), root_ + "/log", LogOptions{.fsync = FsyncPolicy::kNone}, nullptr);
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
    auto m = MasterStore::Open(fs_.get(), root_ + "/master", catalog_.streams[0], 1);
    ASSERT_TRUE(m.ok());
    master_ = std::move(*m);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Append(int n) {
    std::vector<std::string> lines;
    for (int i = 0; i < n; ++i) lines.push_back("{\"k\": " + std::to_string(i % 3) + ", \"v\": 1}");
    std::vector<std::string_view> views(lines.begin(), lines.end());
    ASSERT_TRUE(log_->Append(0, views).ok());
  }

  std::unique_ptr<SpeedLayer> Make(uint64_t seal_events, std::chrono::milliseconds age) {
    SpeedOptions o;
    o.seal_events = seal_events;
    o.seal_age = age;
    return std::make_unique<SpeedLayer>(std::vector<const ViewPlan*>{plan_.get()}, catalog_.streams[0], 1, o);
  }

  std::string root_;
  std::unique_ptr<FileSystem> fs_;
  sql::Catalog catalog_;
  std::unique_ptr<ViewPlan> plan_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<MasterStore> master_;
};

TEST_F(SpeedLayerTest, BucketsCloseAtSegmentSizeAndDropOnlyAtBoundaries) {
  auto speed = Make(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(speed->Rebuild(*master_, {0}).ok());
  Append(25);
  ViewStates delta;
  std::vector<OffsetRange> closed;
  ASSERT_TRUE(speed->Poll(*log_, &delta, &closed).ok());
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].from, 0u);
  EXPECT_EQ(closed[0].to, 10u);
  EXPECT_EQ(closed[1].from, 10u);
  EXPECT_EQ(closed[1].to, 20u);
  EXPECT_EQ(speed->watermark(), std::vector<uint64_t>{25});
  EXPECT_EQ(speed->num_buckets(), 3u);
  EXPECT_EQ(delta[0]->num_groups(), 3u);

  // A watermark inside a bucket, inside the open bucket, or beyond S is a bug.
  for (uint64_t w : {5u, 22u, 26u}) {
    Status st = speed->DropBelow({w});
    EXPECT_EQ(st.code(), StatusCode::kInternal) << w;
  }
  EXPECT_EQ(speed->num_buckets(), 3u);
  ASSERT_TRUE(speed->DropBelow({10}).ok());
  EXPECT_EQ(speed->num_buckets(), 2u);
  EXPECT_EQ(speed->low_watermark(), std::vector<uint64_t>{10});
  ViewStates all = NewViewStates({plan_.get()});
  speed->CombineInto(&all);
  auto r = all[0]->Finalize();
  ASSERT_TRUE(r.ok());
  int64_t total = 0;
  for (const auto& row : r->rows) total += row[1].i;
  EXPECT_EQ(total, 15);  // events [10, 25)
}

TEST_F(SpeedLayerTest, OpenBucketClosesByAge) {
  auto speed = Make(1000, std::chrono::milliseconds(30));
  ASSERT_TRUE(speed->Rebuild(*master_, {0}).ok());
  Append(5);
  ViewStates delta;
  std::vector<OffsetRange> closed;
  ASSERT_TRUE(speed->Poll(*log_, &delta, &closed).ok());
  EXPECT_TRUE(closed.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  ViewStates delta2;
  ASSERT_TRUE(speed->Poll(*log_, &delta2, &closed).ok());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].to, 5u);
  EXPECT_EQ(delta2[0]->num_groups(), 0u);
}

TEST_F(SpeedLayerTest, RebuildStartsWithOneBucketPerUncoveredSegment) {
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i) lines.push_back("{\"k\": 1, \"v\": " + std::to_string(i) + "}");
  std::vector<std::string_view> v(lines.begin(), lines.end());
  ASSERT_TRUE(master_->Seal(0, 0, {v.begin(), v.begin() + 10}).ok());
  ASSERT_TRUE(master_->Seal(0, 10, {v.begin() + 10, v.begin() + 30}).ok());
  auto speed = Make(1000, std::chrono::milliseconds(0));
  ASSERT_TRUE(speed->Rebuild(*master_, {10}).ok());
  EXPECT_EQ(speed->num_buckets(), 1u);
  EXPECT_EQ(speed->watermark(), std::vector<uint64_t>{30});
  // The batch watermark must be a segment boundary.
  auto other = Make(1000, std::chrono::milliseconds(0));
  EXPECT_EQ(other->Rebuild(*master_, {5}).code(), StatusCode::kInternal);
}

// A worker's partitions come and go: a lost partition's buckets are
// dropped; a gained one is rebuilt from its own segments above its batch
// watermark, leaving the other partitions' buckets untouched.
TEST_F(SpeedLayerTest, PartitionsAreDroppedAndRebuiltOneByOne) {
  auto m = MasterStore::Open(fs_.get(), root_ + "/master2", catalog_.streams[0], 2);
  ASSERT_TRUE(m.ok());
  MasterStore& master = **m;
  auto seal = [&](int p, uint64_t from, int n, int v) {
    std::vector<std::string> lines;
    for (int i = 0; i < n; ++i) lines.push_back("{\"k\": " + std::to_string(p) + ", \"v\": " + std::to_string(v) + "}");
    std::vector<std::string_view> views(lines.begin(), lines.end());
    ASSERT_TRUE(master.Seal(p, from, views).ok());
  };
  seal(0, 0, 10, 1);  // p0 [0, 10): 10
  seal(1, 0, 10, 2);  // p1 [0, 10): 20
  seal(1, 10, 5, 3);  // p1 [10, 15): 15
  SpeedOptions o;
  SpeedLayer speed({plan_.get()}, catalog_.streams[0], 2, o);
  ASSERT_TRUE(speed.Rebuild(master, {0, 0}).ok());
  EXPECT_EQ(speed.num_buckets(), 3u);
  auto totals = [&](int only) {
    ViewStates states = NewViewStates({plan_.get()});
    if (only < 0) {
      speed.CombineInto(&states);
    } else {
      speed.CombinePartitionInto(only, &states);
    }
    std::map<int64_t, int64_t> out;
    auto r = states[0]->Finalize();
    EXPECT_TRUE(r.ok());
    for (const auto& row : r->rows) out[row[0].i] = row[1].i;
    return out;
  };
  EXPECT_EQ(totals(-1), (std::map<int64_t, int64_t>{{0, 10}, {1, 35}}));
  EXPECT_EQ(totals(1), (std::map<int64_t, int64_t>{{1, 35}}));
  {
    // One view alone: the same as that view of all.
    auto one = plan_->NewState();
    speed.CombinePartitionInto(1, 0, one.get());
    auto r = one->Finalize();
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0][0].i, 1);
    EXPECT_EQ(r->rows[0][1].i, 35);
  }
  // Partition 1 is lost: nothing of it is left.
  speed.DropPartition(1, 15);
  EXPECT_EQ(speed.num_buckets(), 1u);
  EXPECT_EQ(speed.watermark(), (std::vector<uint64_t>{10, 15}));
  EXPECT_EQ(totals(-1), (std::map<int64_t, int64_t>{{0, 10}}));
  // Gained again, its batch version covering [0, 10): only [10, 15) is speed.
  ASSERT_TRUE(speed.RebuildPartition(master, 1, 10).ok());
  EXPECT_EQ(speed.num_buckets(), 2u);
  EXPECT_EQ(speed.watermark(), (std::vector<uint64_t>{10, 15}));
  EXPECT_EQ(totals(-1), (std::map<int64_t, int64_t>{{0, 10}, {1, 15}}));
  EXPECT_EQ(speed.low_watermark(), (std::vector<uint64_t>{0, 10}));
  // Rebuilt twice: the same, not doubled. A watermark inside a segment is
  // refused and leaves the partition as it was.
  ASSERT_TRUE(speed.RebuildPartition(master, 1, 10).ok());
  EXPECT_EQ(totals(-1), (std::map<int64_t, int64_t>{{0, 10}, {1, 15}}));
  EXPECT_EQ(speed.RebuildPartition(master, 1, 12).code(), StatusCode::kInternal);
  EXPECT_EQ(totals(-1), (std::map<int64_t, int64_t>{{0, 10}, {1, 15}}));
  // A partition with nothing above its batch watermark has no bucket.
  ASSERT_TRUE(speed.RebuildPartition(master, 1, 15).ok());
  EXPECT_EQ(totals(1), (std::map<int64_t, int64_t>{}));
  EXPECT_EQ(speed.watermark(), (std::vector<uint64_t>{10, 15}));
}

TEST(DecodedRows, TakesOnlyAWholeEntryAtTheExactStart) {
  DecodedRows rows(100);
  auto batches = [] {
    std::vector<std::unique_ptr<Batch>> b;
    b.push_back(std::make_unique<Batch>(std::vector<TypeId>{TypeId::kInt}));
    return b;
  };
  rows.Put(0, 0, 10, batches());
  rows.Put(0, 10, 30, batches());
  rows.Put(1, 0, 5, batches());
  EXPECT_FALSE(rows.Take(0, 0, 9).has_value());  // would cross the limit
  auto e = rows.Take(0, 0, 10);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->to, 10u);
  EXPECT_FALSE(rows.Take(0, 11, 100).has_value());  // drops [10, 30): consumed otherwise
  EXPECT_FALSE(rows.Take(0, 10, 100).has_value());
  EXPECT_TRUE(rows.Take(1, 0, 5).has_value());
  rows.Put(0, 40, 141, batches());  // over the bound: dropped
  EXPECT_FALSE(rows.Take(0, 40, 200).has_value());
}

}  // namespace
}  // namespace lf
