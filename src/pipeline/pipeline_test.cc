// The lambda equation at the batch/speed handoff, with the loops stepped by
// hand: every served answer must equal the views recomputed over exactly
// the events [0, S) it reports, also when a batch version lands between two
// micro-batches and after a restart.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/murmur2.h"
#include "ingest/seed_generator.h"
#include "serving/query.h"
#include "sql/binder.h"
#include "store/local_object_store.h"
#include "store/manifest_chain.h"

namespace lf {
namespace {

constexpr const char* kViews =
    "CREATE STREAM events (zipcode INT, ProductName TEXT NOT NULL, price DOUBLE, timestamp TIMESTAMP NOT NULL);\n"
    "CREATE VIEW revenue AS SELECT ProductName, COUNT(*) AS n, SUM(price) AS s, MIN(price) AS lo, MAX(zipcode) AS hi\n"
    "  FROM events GROUP BY ProductName;\n"
    "CREATE VIEW zips AS SELECT zipcode, COUNT(*) AS n FROM events WHERE price > 50 GROUP BY zipcode;\n"
    "CREATE VIEW total AS SELECT COUNT(*) AS n, SUM(price) AS s FROM events;\n";

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lf-pipeline-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    views_path_ = root_ + "/views.sql";
    std::ofstream(views_path_) << kViews;
    auto c = sql::CompileViews(kViews, "views.sql");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    for (const auto& v : catalog_.views) {
      auto p = ViewPlan::Compile(v);
      ASSERT_TRUE(p.ok());
      plans_.push_back(std::move(*p));
    }
    fs_ = NewPosixFileSystem();
  }
  void TearDown() override {
    pipeline_.reset();
    std::filesystem::remove_all(root_);
  }

  // Loops stepped by hand; small segments.
  void Start(int partitions = 0, std::string partition_by = "") {
    PipelineOptions o;
    o.dir.partitions = partitions;
    o.partition_by = std::move(partition_by);
    o.dir.seal_events = 50;
    o.micro_batch = std::chrono::milliseconds(0);
    o.batch_interval = std::chrono::milliseconds(-1);
    o.seal_age = std::chrono::milliseconds(0);
    auto p = Pipeline::Start(fs_.get(), root_ + "/data", views_path_, o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = std::move(*p);
  }

  // Sends n seed events plus one bad line; remembers the accepted ones.
  void Send(size_t n) {
    std::string body;
    std::vector<std::string> lines;
    for (size_t i = 0; i < n; ++i) {
      std::string line;
      gen_.AppendEvent(&line);
      body += line;
      line.pop_back();
      lines.push_back(line);
    }
    body += "{\"zipcode\": 1}\n";
    auto r = pipeline_->Accept(body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->accepted, n);
    ASSERT_EQ(r->rejects.size(), 1u);
    EXPECT_EQ(r->rejects[0].line, n + 1);
    EXPECT_EQ(r->offsets.from, events_.size());
    events_.insert(events_.end(), lines.begin(), lines.end());
  }

  // The views recomputed from scratch over events [0, s).
  std::vector<ViewResult> Expected(uint64_t s) {
    JsonDecoder decoder(catalog_.streams[0]);
    std::vector<std::unique_ptr<ViewState>> states;
    for (auto& p : plans_) states.push_back(p->NewState());
    Batch batch(catalog_.streams[0].types());
    auto flush = [&] {
      for (auto& st : states) st->Consume(batch);
      batch.Clear();
    };
    for (uint64_t i = 0; i < s; ++i) {
      Reject reject;
      bool blank;
      EXPECT_TRUE(decoder.Decode(events_[i], events_[i].size(), i + 1, &batch, &reject, &blank));
      if (batch.full()) flush();
    }
    flush();
    std::vector<ViewResult> out;
    for (auto& st : states) {
      auto r = st->Finalize();
      EXPECT_TRUE(r.ok());
      out.push_back(std::move(*r));
    }
    return out;
  }

  // Checks every served view against the recomputation over [0, S).
  void CheckEquation(const std::string& step) {
    SCOPED_TRACE(step);
    const ServedViews& served = pipeline_->served();
    for (size_t v = 0; v < served.num_views(); ++v) {
      auto m = served.Materialize(v);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      ASSERT_EQ(m->coverage.speed.size(), 1u);
      const uint64_t s = m->coverage.speed[0];
      EXPECT_LE(m->coverage.batch[0], s);
      const auto expected = Expected(s);
      EXPECT_EQ(m->result->rows, expected[v].rows)
          << "view " << served.plan(v).name() << " at S=" << s << " W=" << m->coverage.batch[0];
    }
  }

  std::string root_, views_path_;
  sql::Catalog catalog_;
  std::vector<std::unique_ptr<ViewPlan>> plans_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<Pipeline> pipeline_;
  SeedGenerator gen_{SeedGeneratorOptions{.seed = 7}};
  std::vector<std::string> events_;
};

TEST_F(PipelineTest, BatchVersionBetweenMicroBatchesDropsExactlyTheCoveredBuckets) {
  Start();
  Send(120);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  CheckEquation("speed only");
  EXPECT_EQ(pipeline_->served().coverage().speed, std::vector<uint64_t>{120});
  EXPECT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{100});  // two closed buckets, sealed
  EXPECT_EQ(pipeline_->stats().speed_buckets, 3u);

  // Events arrive, then a batch version covering [0, 100) is published
  // before the next micro-batch consumes them.
  Send(30);
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  CheckEquation("version published, not yet swapped in");
  EXPECT_EQ(pipeline_->served().coverage().batch, std::vector<uint64_t>{0});
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  const Coverage c = pipeline_->served().coverage();
  EXPECT_EQ(c.batch, std::vector<uint64_t>{100});
  EXPECT_EQ(c.speed, std::vector<uint64_t>{150});
  ASSERT_TRUE(c.batch_version.has_value());
  EXPECT_EQ(*c.batch_version, 1u);
  // [100, 150) closed and sealed, and an empty open bucket at 150.
  EXPECT_EQ(pipeline_->stats().speed_buckets, 2u);
  CheckEquation("after the swap");
}

// A swap reads only the pieces the new version adds: the others are the
// ones loaded (or merges of them by compaction). A --full version is read
// whole. The owned-state API answers as the served views.
TEST_F(PipelineTest, SwapReadsOnlyTheNewPieces) {
  Start();
  const uint64_t views = plans_.size();
  Send(120);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->last_swap().pieces_read, views);
  CheckEquation("first version");
  for (int round = 0; round < 8; ++round) {
    Send(60);
    ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
    ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
    ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
    const Pipeline::SwapStats s = pipeline_->last_swap();
    EXPECT_TRUE(s.delta) << "round " << round;
    EXPECT_EQ(s.pieces_read, views) << "round " << round;  // one new piece per view
    EXPECT_GE(s.pieces_total, 2 * views) << "round " << round;
    CheckEquation("round " + std::to_string(round));
    // Nine pieces per view by now without compaction; merged ones are
    // swapped in without being read.
    if (round == 7) {
      EXPECT_LT(s.pieces_total, 9 * views) << "compaction never merged pieces";
    }
  }
  // The owned state of every view (all partitions are owned) is the
  // served one, and a partition's batch-only state covers its W.
  for (size_t v = 0; v < plans_.size(); ++v) {
    auto owned = pipeline_->OwnedState(v);
    ASSERT_TRUE(owned.ok()) << owned.status().ToString();
    ASSERT_EQ(owned->partitions.size(), 1u);
    const Coverage c = pipeline_->served().coverage();
    EXPECT_EQ(owned->partitions[0].batch, c.batch[0]);
    EXPECT_EQ(owned->partitions[0].speed, c.speed[0]);
    auto rows = owned->state->Finalize();
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows->rows, Expected(c.speed[0])[v].rows) << plans_[v]->name();
    auto batch = pipeline_->PartitionBatchOnly(v, 0);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_EQ(batch->batch, c.batch[0]);
    auto batch_rows = batch->state->Finalize();
    ASSERT_TRUE(batch_rows.ok());
    EXPECT_EQ(batch_rows->rows, Expected(c.batch[0])[v].rows) << plans_[v]->name();
  }
}

TEST_F(PipelineTest, RandomInterleavingsKeepTheEquation) {
  Start();
  std::mt19937 rng(42);
  for (int step = 0; step < 40; ++step) {
    switch (rng() % 4) {
      case 0:
      case 1:
        Send(rng() % 90);
        break;
      case 2:
        ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
        break;
      case 3:
        ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
        break;
    }
    CheckEquation("step " + std::to_string(step));
  }
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->served().coverage().speed, std::vector<uint64_t>{events_.size()});
  EXPECT_GE(pipeline_->stats().batch_runs, 3u);
}

TEST_F(PipelineTest, RestartResumesFromTheBatchWatermark) {
  Start();
  Send(130);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  Send(75);  // sealed partly by the next micro-batch, partly left in the log
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  Send(20);  // acknowledged, never consumed before the stop
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();

  Start();
  const Coverage c = pipeline_->served().coverage();
  EXPECT_EQ(c.batch, std::vector<uint64_t>{100});
  EXPECT_EQ(c.speed, std::vector<uint64_t>{events_.size()});
  CheckEquation("after restart");
  Send(10);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->served().coverage().batch, std::vector<uint64_t>{200});
  CheckEquation("after restart and a new version");
}

TEST_F(PipelineTest, SpeedLayerUsesTheRowsIngestDecoded) {
  Start();
  Send(30);
  Send(10);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->stats().speed_events_handed_over, 40u);
  EXPECT_EQ(pipeline_->stats().speed_events_decoded, 0u);
  Send(30);  // crosses the segment boundary at 50: read back from the log
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->stats().speed_events_decoded, 30u);
  CheckEquation("after both paths");
}

TEST_F(PipelineTest, KeyLookupEqualsTheMaterializedRow) {
  Start();
  Send(200);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  Send(40);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  const ServedViews& served = pipeline_->served();
  const int v = served.FindView("REVENUE");
  ASSERT_EQ(v, 0);
  auto all = served.Materialize(0);
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->result->rows.empty());
  for (const auto& row : all->result->rows) {
    auto one = served.Lookup(0, {row[0]});
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    ASSERT_EQ(one->result.rows.size(), 1u);
    EXPECT_EQ(one->result.rows[0], row);
  }
  Value missing;
  missing.type = TypeId::kText;
  missing.is_null = false;
  missing.s = "no such product";
  auto none = served.Lookup(0, {missing});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->result.rows.empty());
  EXPECT_EQ(served.FindView("nope"), -1);
}

TEST_F(PipelineTest, QueriesOverMergedGroupsEqualQueriesOverTheRows) {
  Start();
  Send(300);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  Send(100);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  const ServedViews& served = pipeline_->served();
  for (const char* sql : {"SELECT * FROM revenue ORDER BY n DESC LIMIT 3", "SELECT * FROM revenue ORDER BY lo LIMIT 7",
                          "SELECT ProductName, s FROM revenue WHERE n > 3 ORDER BY s DESC, ProductName",
                          "SELECT hi, COUNT(*) AS c FROM revenue GROUP BY hi ORDER BY c DESC, hi LIMIT 2",
                          "SELECT zipcode FROM zips ORDER BY n DESC LIMIT 0", "SELECT * FROM zips LIMIT 5",
                          "SELECT n * 2 AS twice FROM total"}) {
    SCOPED_TRACE(sql);
    int view = -1;
    auto prepared = PrepareQuery(sql, "q", [&](std::string_view name, StreamSchema* columns) {
      view = served.FindView(name);
      if (view >= 0) *columns = served.Columns(static_cast<size_t>(view));
      return view >= 0;
    });
    ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
    auto direct = served.Query(static_cast<size_t>(view), prepared->bound);
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    auto rows = served.Materialize(static_cast<size_t>(view));
    ASSERT_TRUE(rows.ok());
    auto expected = ExecuteQuery(prepared->bound, *rows->result);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(direct->result.rows, expected->rows);
    EXPECT_EQ(direct->result.column_names, expected->column_names);
  }
}

TEST_F(PipelineTest, RejectsGoToTheDeadLetterStore) {
  Start();
  auto r = pipeline_->Accept("{\"zipcode\": 1, \"ProductName\": \"p\", \"price\": 2, \"timestamp\": 0}\n\nnot json\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 1u);
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_EQ(r->rejects[0].line, 3u);
  EXPECT_EQ(pipeline_->stats().rejected, 1u);
  std::ifstream in(root_ + "/data/rejects/rejects.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_NE(line.find("not json"), std::string::npos);
  ASSERT_TRUE(pipeline_->Stop().ok());
  EXPECT_EQ(pipeline_->Accept("{}").status().code(), StatusCode::kUnavailable);
}

// Idempotent producers: a retry is answered with the original offsets, not
// appended and not dead-lettered again; the views count it once; an
// out-of-order seq is Conflict; a restart keeps the producer's last batch.
TEST_F(PipelineTest, ProducerRetryIsAnsweredOnceAndCountedOnce) {
  Start();
  const std::string body =
      "{\"zipcode\": 1, \"ProductName\": \"p\", \"price\": 2, \"timestamp\": 0}\nnot json\n"
      "{\"zipcode\": 2, \"ProductName\": \"q\", \"price\": 3, \"timestamp\": 0}\n";
  const ProducerBatch b{"pipeline-test", 4};
  auto first = pipeline_->Accept(body, b);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->accepted, 2u);
  auto retry = pipeline_->Accept(body, b);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->offsets.from, first->offsets.from);
  EXPECT_EQ(retry->offsets.to, first->offsets.to);
  EXPECT_EQ(retry->accepted, 2u);
  EXPECT_EQ(retry->rejects.size(), 1u);          // the answer says which line was rejected...
  EXPECT_EQ(pipeline_->stats().rejected, 1u);    // ...but it was dead-lettered once
  EXPECT_EQ(pipeline_->stats().log_end[0], 2u);  // and appended once
  EXPECT_EQ(pipeline_->Accept(body, ProducerBatch{"pipeline-test", 6}).status().code(), StatusCode::kConflict);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->served().coverage().speed[0], 2u);
  // An all-rejected batch still takes its seq.
  auto empty = pipeline_->Accept("nope\n", ProducerBatch{"pipeline-test", 5});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->accepted, 0u);
  pipeline_.reset();
  Start();
  auto after = pipeline_->Accept("nope\n", ProducerBatch{"pipeline-test", 5});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->duplicate);
  auto next = pipeline_->Accept(body, ProducerBatch{"pipeline-test", 6});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_FALSE(next->duplicate);
  EXPECT_EQ(next->offsets.from, 2u);
}

// Several partitions: a body split by the key's murmur2, each partition's
// part appended once; an idempotent producer's retry is a duplicate in every
// partition; without a key a producer's batches go to its id's partition.
TEST_F(PipelineTest, PartitionsByKeyWithAnIdempotentProducer) {
  Start(4, "zipcode");
  EXPECT_EQ(pipeline_->partitions(), 4);
  std::string body;
  std::vector<uint64_t> want(4, 0);
  for (int z = 1; z <= 40; ++z) {
    body += "{\"zipcode\": " + std::to_string(z) + ", \"ProductName\": \"p\", \"price\": 2, \"timestamp\": 0}\n";
    ++want[static_cast<size_t>(KeyPartition(std::to_string(z), 4))];
  }
  body += "not json\n";
  const ProducerBatch b{"keyed", 1};
  auto first = pipeline_->Accept(body, b);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->accepted, 40u);
  ASSERT_EQ(first->ranges.size(), 4u);  // every partition takes the producer's seq
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(first->ranges[static_cast<size_t>(p)].partition, p);
    EXPECT_EQ(first->ranges[static_cast<size_t>(p)].to - first->ranges[static_cast<size_t>(p)].from,
              want[static_cast<size_t>(p)]);
  }
  auto retry = pipeline_->Accept(body, b);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->accepted, 40u);
  EXPECT_EQ(pipeline_->stats().log_end, want);  // appended once
  EXPECT_EQ(pipeline_->stats().rejected, 1u);   // dead-lettered once
  // The next seq touches one partition's records but every partition's seq.
  auto one = pipeline_->Accept("{\"zipcode\": 7, \"ProductName\": \"p\", \"price\": 2, \"timestamp\": 0}\n",
                               ProducerBatch{"keyed", 2});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ++want[static_cast<size_t>(KeyPartition("7", 4))];
  EXPECT_EQ(pipeline_->stats().log_end, want);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->served().coverage().speed, want);
  // Each partition's part came with its decoded rows: nothing decoded again.
  EXPECT_EQ(pipeline_->stats().speed_events_handed_over, 41u);
  EXPECT_EQ(pipeline_->stats().speed_events_decoded, 0u);
  auto m = pipeline_->served().Materialize(2);  // total
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->result->rows.size(), 1u);
  EXPECT_EQ(m->result->rows[0][0], Value::Int(41));
  // After a restart, the retry of seq 2 is still a duplicate everywhere.
  pipeline_.reset();
  Start();
  EXPECT_EQ(pipeline_->partitions(), 4);
  auto again = pipeline_->Accept("{\"zipcode\": 7, \"ProductName\": \"p\", \"price\": 2, \"timestamp\": 0}\n",
                                 ProducerBatch{"keyed", 2});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(pipeline_->stats().log_end, want);
  // Without partition_by: a producer's batches stay in its id's partition;
  // ?partition= out of range is refused.
  pipeline_.reset();
  Start(4);
  const int home = KeyPartition("unkeyed", 4);
  auto u = pipeline_->Accept(body, ProducerBatch{"unkeyed", 1});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->offsets.partition, home);
  ASSERT_EQ(u->ranges.size(), 1u);
  auto u2 = pipeline_->Accept(body, ProducerBatch{"unkeyed", 1});
  ASSERT_TRUE(u2.ok());
  EXPECT_TRUE(u2->duplicate);
  EXPECT_EQ(u2->offsets.partition, home);
  EXPECT_EQ(pipeline_->Accept(body, std::nullopt, 4).status().code(), StatusCode::kInvalidArgument);
  auto explicit_p = pipeline_->Accept(body, std::nullopt, 3);
  ASSERT_TRUE(explicit_p.ok());
  EXPECT_EQ(explicit_p->offsets.partition, 3);
}

TEST_F(PipelineTest, PartitionCountIsFixedAtCreation) {
  Start(3);
  pipeline_.reset();
  PipelineOptions o;
  o.dir.partitions = 2;
  auto p = Pipeline::Start(fs_.get(), root_ + "/data", views_path_, o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("has 3 partitions"), std::string::npos) << p.status().ToString();
  EXPECT_NE(p.status().message().find("--partitions 2"), std::string::npos) << p.status().ToString();
}

// Regression: a query with a 120,000-item IN list over a large view held the
// served views' lock for seconds, and every event acknowledged meanwhile
// stayed invisible that long. Queries now read an immutable snapshot: the
// micro-batches go on while they run, and each stops at its time budget.
TEST_F(PipelineTest, HeavyQueriesDoNotDelayMicroBatches) {
  using std::chrono::milliseconds;
  using Clock = std::chrono::steady_clock;
  std::ofstream(views_path_) << kViews
                             << "CREATE VIEW by_event AS SELECT zipcode, timestamp, COUNT(*) AS n FROM events\n"
                                "  GROUP BY zipcode, timestamp;\n";
  PipelineOptions o;
  o.micro_batch = milliseconds(5);
  o.batch_interval = milliseconds(-1);
  o.query_limits.timeout = milliseconds(3000);
  auto p = Pipeline::Start(fs_.get(), root_ + "/data", views_path_, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  pipeline_ = std::move(*p);
  const ServedViews& served = pipeline_->served();
  auto wait_visible = [&](uint64_t to) {
    const auto t0 = Clock::now();
    while (served.coverage().speed[0] < to && Clock::now() - t0 < std::chrono::seconds(30))
      std::this_thread::sleep_for(milliseconds(1));
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  // 100,000 events: as many groups in by_event (each event its own time).
  for (int i = 0; i < 10; ++i) Send(10'000);
  wait_visible(events_.size());
  const int view = served.FindView("by_event");
  ASSERT_GE(view, 0);
  ASSERT_GE(served.num_groups(static_cast<size_t>(view)), 90'000u);

  std::string sql = "SELECT * FROM by_event WHERE zipcode IN (";
  for (int i = 0; i < 120'000; ++i) sql += (i ? ", " : "") + std::to_string(100'000 + i);  // none matches
  sql += ")";
  const auto prepare_start = Clock::now();
  auto prepared = PrepareQuery(sql, "query", [&](std::string_view name, StreamSchema* columns) {
    if (served.FindView(name) != view) return false;
    *columns = served.Columns(static_cast<size_t>(view));
    return true;
  });
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  const double prepare_ms = std::chrono::duration<double, std::milli>(Clock::now() - prepare_start).count();

  std::atomic<bool> stop{false};
  std::atomic<bool> in_query{false};
  std::atomic<int> queries{0}, timed_out{0};
  std::thread heavy([&] {
    while (!stop.load()) {
      in_query = true;
      auto a = served.Query(static_cast<size_t>(view), prepared->bound);
      in_query = false;
      if (a.ok()) {
        EXPECT_TRUE(a->result.rows.empty());
      } else {
        EXPECT_EQ(a.status().code(), StatusCode::kDeadlineExceeded) << a.status().ToString();
        ++timed_out;
      }
      ++queries;
    }
  });
  // Meanwhile, for about one query budget: small batches, each acknowledged
  // and then awaited in the served views. Before, each waited for the query
  // in progress (seconds: the budget, or more without one).
  std::this_thread::sleep_for(milliseconds(50));
  double worst_ms = 0;
  int rounds = 0, overlapped = 0;  // rounds sent while a query ran
  for (const auto end = Clock::now() + milliseconds(2500); Clock::now() < end; ++rounds) {
    overlapped += in_query.load();
    Send(200);
    worst_ms = std::max(worst_ms, wait_visible(events_.size()));
    std::this_thread::sleep_for(milliseconds(40));
  }
  stop = true;
  heavy.join();
  std::printf(
      "IN list of 120,000: prepared in %.0f ms; %d queries (%d over the budget) ran while %d batches became "
      "visible (%d sent during a query), the slowest after %.1f ms\n",
      prepare_ms, queries.load(), timed_out.load(), rounds, overlapped, worst_ms);
  EXPECT_LT(worst_ms, 1500) << "a micro-batch waited for a query";
  EXPECT_GE(overlapped * 4, rounds * 3) << "the heavy queries ran throughout";
}

// Two processes pointed at one store by mistake (two data directories, one
// --store): the one that started last owns it; the first one's archiver and
// batch loop stop with one log line and last_error, and it keeps serving.
TEST_F(PipelineTest, SecondWriterOfTheStoreFencesTheFirst) {
  std::vector<std::string> log_a;
  PipelineOptions o;
  o.dir.seal_events = 50;
  o.dir.store = root_ + "/store";
  o.micro_batch = std::chrono::milliseconds(0);
  o.batch_interval = std::chrono::milliseconds(-1);
  o.seal_age = std::chrono::milliseconds(0);
  PipelineOptions oa = o;
  oa.log = [&](const std::string& line) { log_a.push_back(line); };
  oa.dir.operator_log = oa.log;
  auto a = Pipeline::Start(fs_.get(), root_ + "/a", views_path_, oa);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  pipeline_ = std::move(*a);
  Send(120);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  EXPECT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{100});

  // A second one that cannot start (its empty log ends below the store's
  // sealed watermark) claims nothing: the first one goes on sealing.
  auto refused = Pipeline::Start(fs_.get(), root_ + "/b", views_path_, o);
  ASSERT_FALSE(refused.ok());
  Send(30);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{150});
  EXPECT_EQ(pipeline_->stats().last_error, "");

  // The second one (its own, empty log continues at the store's sealed
  // watermark) claims every partition.
  PipelineOptions ob = o;
  ob.dir.log.restart_at_sealed = true;
  auto b = Pipeline::Start(fs_.get(), root_ + "/b", views_path_, ob);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->stats().sealed, std::vector<uint64_t>{150});

  // The first one's next seal is refused: not a crash, not a silent drop.
  Send(60);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  const PipelineStats st = pipeline_->stats();
  EXPECT_EQ(st.sealed, std::vector<uint64_t>{150});
  EXPECT_NE(st.last_error.find("partition 0 is fenced"), std::string::npos) << st.last_error;
  size_t fenced_lines = 0;
  for (const auto& l : log_a) fenced_lines += l.find("partition 0 is fenced") != std::string::npos;
  EXPECT_EQ(fenced_lines, 2u) << "one line from the master dataset, one from the archiver";
  Status batch = pipeline_->RunBatchForTesting();
  EXPECT_EQ(batch.code(), StatusCode::kFenced) << batch.ToString();
  CheckEquation("the fenced process still serves what it has");
  // The owner's view of the store holds nothing of the refused seal.
  ASSERT_TRUE((*b)->RunBatchForTesting().ok());
  EXPECT_EQ((*b)->stats().sealed, std::vector<uint64_t>{150});
}

// A data directory of the previous release (master/MANIFEST replaced by
// rename, segments named by their range, batch/CURRENT) is migrated into
// the manifest chains on the first start, once, serving what it served.
TEST_F(PipelineTest, PreviousReleaseDirectoryIsMigratedOnce) {
  Start();
  Send(130);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  Send(20);
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();

  // Rewrite the store part of the directory in the previous layout.
  const std::string data = root_ + "/data";
  namespace sfs = std::filesystem;
  {
    auto store = LocalObjectStore::Open(fs_.get(), data);
    ASSERT_TRUE(store.ok());
    ManifestChain chain(store->get(), 0, ManifestChainOptions{.writer_id = "test", .now_ms = {}, .put_attempts = 3});
    auto latest = chain.ReadLatest();
    ASSERT_TRUE(latest.ok() && *latest);
    const PartitionContent& c = (*latest)->content;
    Manifest old;
    old.generation = 4;
    old.schema_fingerprint = SchemaFingerprint(catalog_.streams[0]);
    old.first = {c.start};
    old.sealed = {c.sealed};
    sfs::create_directories(data + "/master/segments");
    for (const auto& e : c.segments) {
      SegmentInfo seg{0,
                      e.from,
                      e.to,
                      e.events,
                      RawSegmentName(0, e.from, e.to),
                      e.bytes,
                      e.xxh64,
                      ColsSegmentName(0, e.from, e.to, old.schema_fingerprint),
                      0};
      sfs::copy_file(data + "/" + e.key, data + "/master/" + seg.raw_name);
      sfs::copy_file(data + "/" + SidecarKey(e.key, old.schema_fingerprint), data + "/master/" + seg.cols_name);
      old.segments.push_back(seg);
    }
    ASSERT_TRUE(fs_->WriteFileAtomic(data + "/master/MANIFEST", EncodeManifest(old)).ok());
    ASSERT_FALSE(c.batch_key.empty());
    // The previous release wrote format 1: one state per view, named by the
    // view (here the version's one piece per view of its one partition).
    {
      const std::string folder = data + "/batch/v00000000000000000001";
      sfs::create_directories(folder);
      auto text = fs_->ReadFile(data + "/" + c.batch_key + "/VERSION");
      ASSERT_TRUE(text.ok());
      auto v = DecodeVersion(*text, "VERSION", c.batch_key);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      v->format = 1;
      for (size_t i = 0; i < v->views.size(); ++i) {
        auto pieces = v->PiecesOf(i, 0);
        ASSERT_EQ(pieces.size(), 1u);
        VersionView& w = v->views[i];
        w.groups = pieces[0]->groups;
        w.state_bytes = pieces[0]->bytes;
        w.state_hash = pieces[0]->hash;
        sfs::copy_file(data + "/" + pieces[0]->key, folder + "/" + StateFileName(w.name));
        sfs::copy_file(data + "/" + c.batch_key + "/" + TsvFileName(w.name), folder + "/" + TsvFileName(w.name));
      }
      ASSERT_TRUE(fs_->WriteFileAtomic(folder + "/VERSION", EncodeVersion(*v)).ok());
    }
    ASSERT_TRUE(fs_->WriteFileAtomic(data + "/batch/CURRENT", "v00000000000000000001\n").ok());
    sfs::remove_all(data + "/manifest");
    sfs::remove_all(data + "/segments");
    sfs::remove_all(data + "/" + c.batch_key);
  }

  std::vector<std::string> log;
  auto start = [&] {
    PipelineOptions o;
    o.dir.seal_events = 50;
    o.micro_batch = std::chrono::milliseconds(0);
    o.batch_interval = std::chrono::milliseconds(-1);
    o.seal_age = std::chrono::milliseconds(0);
    o.log = [&](const std::string& line) { log.push_back(line); };
    o.dir.operator_log = o.log;
    auto p = Pipeline::Start(fs_.get(), data, views_path_, o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = std::move(*p);
  };
  auto migrated = [&] {
    size_t n = 0;
    for (const auto& l : log) n += l.find("migrated partition 0 of master/MANIFEST") != std::string::npos;
    return n;
  };
  start();
  EXPECT_EQ(migrated(), 1u);
  Coverage c = pipeline_->served().coverage();
  EXPECT_EQ(c.batch, std::vector<uint64_t>{100});
  ASSERT_TRUE(c.batch_version.has_value());
  EXPECT_EQ(*c.batch_version, 1u);  // the migrated version, not a recompute
  EXPECT_EQ(c.speed, std::vector<uint64_t>{events_.size()});
  CheckEquation("after the migration");
  Send(40);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  EXPECT_EQ(pipeline_->served().coverage().batch, std::vector<uint64_t>{150});
  CheckEquation("a new version over migrated and new segments");
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();
  start();
  EXPECT_EQ(migrated(), 1u) << "migrated twice";
  CheckEquation("after a restart");
}

// `--store DIR` puts the shared part elsewhere and is recorded in the data
// directory: a restart without the flag finds it, another one is refused.
TEST_F(PipelineTest, StoreElsewhereIsRecordedInTheDataDirectory) {
  PipelineOptions o;
  o.dir.seal_events = 50;
  o.micro_batch = std::chrono::milliseconds(0);
  o.batch_interval = std::chrono::milliseconds(-1);
  o.seal_age = std::chrono::milliseconds(0);
  const std::string data = root_ + "/data", store = root_ + "/shared";
  auto start = [&](const std::string& store_flag) {
    PipelineOptions p = o;
    p.dir.store = store_flag;
    return Pipeline::Start(fs_.get(), data, views_path_, p);
  };
  auto p = start(store);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  pipeline_ = std::move(*p);
  Send(120);
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();
  namespace sfs = std::filesystem;
  EXPECT_TRUE(sfs::exists(store + "/manifest/p0"));
  EXPECT_FALSE(sfs::exists(data + "/manifest"));
  EXPECT_FALSE(sfs::exists(data + "/segments"));
  EXPECT_TRUE(sfs::exists(data + "/log"));

  p = start("");  // the flag forgotten: the recorded store
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  pipeline_ = std::move(*p);
  EXPECT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{100});
  CheckEquation("restarted without --store");
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();
  p = start(root_ + "/other");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("--store " + store), std::string::npos) << p.status().ToString();
  EXPECT_FALSE(sfs::exists(root_ + "/other/manifest"));
}

}  // namespace
}  // namespace lf
