// The served views' snapshots: a reader's snapshot stays consistent (its
// states match the watermarks it reports) and unchanged while the writer
// merges micro-batches, the writer never waits for a reader, and queries
// stop at their time and memory budgets.
#include "serving/served_views.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "serving/query.h"

namespace lf {
namespace {

constexpr const char* kViews =
    "CREATE STREAM events (k INT NOT NULL, x INT NOT NULL);"
    "CREATE VIEW by_k AS SELECT k, COUNT(*) AS n, SUM(x) AS s FROM events GROUP BY k;"
    "CREATE VIEW total AS SELECT COUNT(*) AS n FROM events;";

class ServedViewsTest : public ::testing::Test {
 protected:
  void SetUp() override { Make({}); }

  void Make(QueryLimits limits) {
    served_.reset();
    plans_.clear();
    auto c = sql::CompileViews(kViews, "views.sql");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    std::vector<const ViewPlan*> plans;
    for (const auto& v : catalog_.views) {
      auto p = ViewPlan::Compile(v);
      ASSERT_TRUE(p.ok());
      plans.push_back(p->get());
      plans_.push_back(std::move(*p));
    }
    served_ = std::make_unique<ServedViews>(plans, limits);
  }

  // A delta of `n` events with keys first_key, first_key + 1, ... (mod keys), x = 1.
  ViewStates Delta(int64_t first_key, size_t n, int64_t keys) {
    Batch batch(catalog_.streams[0].types());
    ViewStates delta;
    for (const auto& p : plans_) delta.push_back(p->NewState());
    for (size_t i = 0; i < n; ++i) {
      batch.columns[0].SetInt(batch.size, (first_key + static_cast<int64_t>(i)) % keys);
      batch.columns[1].SetInt(batch.size, 1);
      if (++batch.size == Batch::kCapacity) {
        for (auto& d : delta) d->Consume(batch);
        batch.Clear();
      }
    }
    for (auto& d : delta) d->Consume(batch);
    return delta;
  }

  // Applies n events; S advances by n.
  void Apply(size_t n, int64_t keys = 1000) {
    served_->Apply(Delta(static_cast<int64_t>(s_), n, keys), {s_ + n}, 0);
    s_ += n;
  }

  // The events a snapshot of `view` counts (the sum of n).
  static int64_t Counted(const ServedViews::Snapshot& snap) {
    auto r = snap.state().Finalize();
    EXPECT_TRUE(r.ok());
    int64_t total = 0;
    for (const auto& row : r->rows) total += row[row.size() == 1 ? 0 : 1].i;
    return total;
  }

  Result<PreparedQuery> Prepare(const std::string& sql) {
    return PrepareQuery(sql, "query", [&](std::string_view name, StreamSchema* columns) {
      const int v = served_->FindView(name);
      if (v >= 0) *columns = served_->Columns(static_cast<size_t>(v));
      return v >= 0;
    });
  }

  sql::Catalog catalog_;
  std::vector<std::unique_ptr<ViewPlan>> plans_;
  std::unique_ptr<ServedViews> served_;
  uint64_t s_ = 0;
};

TEST_F(ServedViewsTest, ApplyDoesNotWaitForAReaderThatHoldsASnapshot) {
  Apply(5000);
  // A reader in the middle of a long answer.
  ServedViews::Snapshot held = served_->Read(0);
  ASSERT_EQ(held.coverage().speed, std::vector<uint64_t>{5000});
  // The writer goes on while it is held (this waited for the reader before).
  auto applied = std::async(std::launch::async, [&] {
    for (int i = 0; i < 10; ++i) Apply(100);
  });
  ASSERT_EQ(applied.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  // New readers see every micro-batch...
  const ServedViews::Snapshot fresh = served_->Read(0);
  EXPECT_EQ(fresh.coverage().speed, std::vector<uint64_t>{6000});
  EXPECT_EQ(Counted(fresh), 6000);
  // ...and the held snapshot is unchanged and consistent.
  EXPECT_EQ(held.coverage().speed, std::vector<uint64_t>{5000});
  EXPECT_EQ(Counted(held), 5000);
  // Copied once (the first micro-batch), then merged in place: no one
  // pinned the copy.
  EXPECT_EQ(served_->copies(), 1u);
  // A view nobody reads is never copied: `total` was merged in place.
  EXPECT_EQ(Counted(served_->Read(1)), 6000);
}

TEST_F(ServedViewsTest, SnapshotsStayConsistentWhileApplyRuns) {
  Apply(1000);
  std::atomic<bool> stop{false};
  std::atomic<int> checked{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!stop.load()) {
        // Every snapshot counts exactly the events [0, S) it reports, and
        // keeps doing so however long it is held.
        const ServedViews::Snapshot snap = served_->Read(static_cast<size_t>(t % 2));
        const int64_t s = static_cast<int64_t>(snap.coverage().speed[0]);
        ASSERT_EQ(Counted(snap), s);
        std::this_thread::yield();
        ASSERT_EQ(Counted(snap), s);
        ++checked;
      }
    });
  }
  // At least 300 micro-batches, and on until the readers checked 30
  // snapshots (however the threads are scheduled).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; (i < 300 || checked.load() < 30) && std::chrono::steady_clock::now() < give_up; ++i)
    Apply(97 + static_cast<size_t>(i % 7), 5000);
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_GE(checked.load(), 30);
  EXPECT_EQ(Counted(served_->Read(0)), static_cast<int64_t>(s_));
  // Queries and lookups see the same.
  auto q = Prepare("SELECT SUM(n) AS n FROM by_k");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto a = served_->Query(0, q->bound);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->result.rows.at(0).at(0).i, static_cast<int64_t>(a->coverage.speed[0]));
}

TEST_F(ServedViewsTest, InstallSwapsEveryViewAtOnce) {
  Apply(2000);
  ServedViews::Snapshot before = served_->Read(1);
  ViewStates states = Delta(0, 10, 10);
  served_->Install(std::move(states), Coverage{{10}, {10}, 7, 0, 0, 0});
  EXPECT_EQ(Counted(before), 2000);
  EXPECT_EQ(Counted(served_->Read(0)), 10);
  EXPECT_EQ(Counted(served_->Read(1)), 10);
  EXPECT_EQ(served_->Read(1).coverage().batch_version, std::optional<uint64_t>(7));
}

TEST_F(ServedViewsTest, AQueryOverItsMemoryBudgetFailsWithResourceExhausted) {
  Make(QueryLimits{std::chrono::milliseconds(0), 20'000});
  Apply(5000, 5000);
  auto all = Prepare("SELECT * FROM by_k");
  ASSERT_TRUE(all.ok());
  auto a = served_->Query(0, all->bound);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kResourceExhausted) << a.status().ToString();
  EXPECT_NE(a.status().message().find("query_max_bytes"), std::string::npos) << a.status().message();
  EXPECT_FALSE(served_->Materialize(0).ok());
  // A top-k holds only its best rows, an aggregate only its groups.
  auto top = Prepare("SELECT * FROM by_k ORDER BY k DESC LIMIT 10");
  ASSERT_TRUE(top.ok());
  auto t = served_->Query(0, top->bound);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->result.rows.at(0).at(0).i, 4999);
  auto agg = Prepare("SELECT COUNT(*) AS groups FROM by_k");
  ASSERT_TRUE(agg.ok());
  auto g = served_->Query(0, agg->bound);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->result.rows.at(0).at(0).i, 5000);
  // Grouping by every key builds as many groups: over the budget too.
  auto regroup = Prepare("SELECT k, SUM(n) AS n FROM by_k GROUP BY k");
  ASSERT_TRUE(regroup.ok());
  auto r = served_->Query(0, regroup->bound);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
}

TEST(QueryBudgetTest, AScanOverItsTimeBudgetStopsWithDeadlineExceeded) {
  ViewResult v;
  v.name = "v";
  v.column_names = {"k"};
  v.column_types = {TypeId::kBigInt};
  auto bound = PrepareQuery("SELECT k FROM v WHERE k > 0", "query", [&](std::string_view, StreamSchema* columns) {
    columns->name = "v";
    columns->columns.push_back({"k", TypeId::kBigInt, false});
    return true;
  });
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  // A source of 100 slow batches: the budget of 1 ms is over after the
  // first, and the scan stops there.
  int batches = 0;
  Batch batch({TypeId::kBigInt});
  batch.columns[0].SetInt(0, 1);
  batch.size = 1;
  auto slow = [&](const BatchFn& fn) -> Status {
    for (int i = 0; i < 100; ++i) {
      ++batches;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      RETURN_IF_ERROR(fn(batch));
    }
    return Status::OK();
  };
  QueryBudget budget(QueryLimits{std::chrono::milliseconds(1), 0}, "query over view 'v'");
  auto r = ExecuteQuery(bound->bound, "v", slow, &budget);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("query_timeout_ms"), std::string::npos) << r.status().message();
  EXPECT_EQ(batches, 1);
  // Without a limit it runs to the end.
  batches = 0;
  QueryBudget unlimited(QueryLimits{std::chrono::milliseconds(0), 0}, "query over view 'v'");
  auto all = ExecuteQuery(bound->bound, "v", slow, &unlimited);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows.size(), 100u);
}

}  // namespace
}  // namespace lf
