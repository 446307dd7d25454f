// The gather (cluster/gather.h) against a fake backend: partials from the
// owners, batch states for the rest, refusals (stale epoch, overlap,
// another plan, a damaged image, a failed fetch), and every gathered state
// equal to the view over exactly events[p][0, S[p]) for the S it reports.
#include "cluster/gather.h"

#include <gtest/gtest.h>

#include <map>

#include "sql/binder.h"

namespace lf {
namespace {

constexpr int kPartitions = 4;
constexpr int64_t kNow = 1'000'000;

// Events of partition p: offset o has x = o + 1.
class Events {
 public:
  explicit Events(const ViewPlan* plan, const StreamSchema* schema) : plan_(plan), schema_(schema) {}
  // The view over events[p][from[p], to[p]) for the partitions given.
  std::unique_ptr<ViewState> Over(const std::map<uint32_t, std::pair<uint64_t, uint64_t>>& ranges) const {
    auto state = plan_->NewState();
    Batch batch(schema_->types());
    for (const auto& [p, r] : ranges) {
      for (uint64_t o = r.first; o < r.second; ++o) {
        batch.columns[0].SetInt(batch.size, p);
        batch.columns[1].SetInt(batch.size, static_cast<int64_t>(o + 1));
        if (++batch.size == Batch::kCapacity) {
          state->Consume(batch);
          batch.Clear();
        }
      }
    }
    state->Consume(batch);
    return state;
  }

 private:
  const ViewPlan* plan_;
  const StreamSchema* schema_;
};

class FakeBackend : public GatherBackend {
 public:
  FakeBackend(const ViewPlan* plan, const Events* events) : plan_(plan), events_(events) {}
  int partitions() const override { return kPartitions; }
  const std::string& writer_id() const override { return id_; }
  Result<LocalPartial> Local(size_t) override {
    LocalPartial l;
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& c : local) ranges[c.partition] = {0, c.speed};
    l.state = events_->Over(ranges);
    l.partitions = local;
    l.caught_up_ms = kNow - 5;
    l.batch_version = 7;
    return l;
  }
  Result<std::vector<WorkerRecord>> Directory() override {
    ++directory_reads;
    return records;
  }
  std::vector<Result<Partial>> Fetch(const std::vector<std::string>& addresses, const std::string& view) override {
    std::vector<Result<Partial>> out;
    for (const auto& a : addresses) {
      asked.push_back(a);
      auto it = partials.find(a);
      if (it == partials.end()) {
        out.push_back(Status::Unavailable("connection refused"));
      } else {
        out.push_back(it->second);
      }
    }
    return out;
  }
  Result<uint64_t> ChainEpoch(uint32_t p) override { return chain[p]; }
  Result<BatchPiece> Batch(size_t, uint32_t p) override {
    if (!batch_ok) return Status::Unavailable("no batch state");
    BatchPiece b;
    b.batch = batch_w[p];
    b.state = events_->Over({{p, {0, batch_w[p]}}});
    return b;
  }
  int64_t NowMs() const override { return kNow; }

  // A partial of `writer` over `covers` (S per partition), as its worker would send it.
  Partial PartialOf(const std::string& writer, const std::vector<PartitionCover>& covers) const {
    Partial p;
    p.writer_id = writer;
    p.view = plan_->name();
    p.fingerprint = plan_->fingerprint();
    p.caught_up_ms = kNow - 50;
    p.partitions = covers;
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& c : covers) ranges[c.partition] = {0, c.speed};
    events_->Over(ranges)->Serialize(&p.state);
    return p;
  }

  std::string id_ = "me";
  std::vector<PartitionCover> local;
  std::vector<WorkerRecord> records;
  std::map<std::string, Partial> partials;
  std::vector<std::string> asked;
  std::vector<uint64_t> chain = std::vector<uint64_t>(kPartitions, 1);
  std::vector<uint64_t> batch_w = std::vector<uint64_t>(kPartitions, 3);
  bool batch_ok = true;
  int directory_reads = 0;

 private:
  const ViewPlan* plan_;
  const Events* events_;
};

WorkerRecord Record(const std::string& id, const std::string& address, int64_t ms,
                    std::map<uint32_t, uint64_t> partitions) {
  WorkerRecord r;
  r.writer_id = id;
  r.address = address;
  r.updated_ms = ms;
  r.partitions = std::move(partitions);
  return r;
}

class GatherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = sql::CompileViews(
        "CREATE STREAM events (p INT NOT NULL, x INT NOT NULL);"
        "CREATE VIEW by_p AS SELECT p, COUNT(*) AS n, SUM(x) AS s FROM events GROUP BY p;",
        "views.sql");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    auto p = ViewPlan::Compile(catalog_.views[0]);
    ASSERT_TRUE(p.ok());
    plan_ = std::move(*p);
    events_ = std::make_unique<Events>(plan_.get(), &catalog_.streams[0]);
    backend_ = std::make_unique<FakeBackend>(plan_.get(), events_.get());
  }

  // The gathered state must be the view over exactly events[p][0, S[p]).
  void ExpectExact(const Gathered& g) {
    ASSERT_EQ(g.coverage.speed.size(), static_cast<size_t>(kPartitions));
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;
    for (uint32_t p = 0; p < kPartitions; ++p) {
      EXPECT_LE(g.coverage.batch[p], g.coverage.speed[p]);
      ranges[p] = {0, g.coverage.speed[p]};
    }
    auto want = events_->Over(ranges)->Finalize();
    auto got = g.state->Finalize();
    ASSERT_TRUE(want.ok() && got.ok());
    ASSERT_EQ(got->rows.size(), want->rows.size());
    for (size_t r = 0; r < want->rows.size(); ++r)
      for (size_t c = 0; c < want->rows[r].size(); ++c)
        EXPECT_EQ(got->rows[r][c].i, want->rows[r][c].i) << "row " << r << " column " << c;
  }

  Result<Gathered> Run() { return Gather(backend_.get(), *plan_, 0, GatherOptions{.directory_max_age_ms = 1000}); }

  sql::Catalog catalog_;
  std::unique_ptr<ViewPlan> plan_;
  std::unique_ptr<Events> events_;
  std::unique_ptr<FakeBackend> backend_;
};

TEST_F(GatherTest, OwningEveryPartitionAsksNobody) {
  backend_->local = {{0, 1, 2, 10}, {1, 1, 0, 4}, {2, 2, 1, 1}, {3, 1, 5, 9}};
  auto g = Run();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(backend_->directory_reads, 0);
  EXPECT_TRUE(backend_->asked.empty());
  EXPECT_EQ(g->coverage.speed, (std::vector<uint64_t>{10, 4, 1, 9}));
  EXPECT_EQ(g->coverage.batch, (std::vector<uint64_t>{2, 0, 1, 5}));
  EXPECT_EQ(g->coverage.batch_version, 7u);
  ExpectExact(*g);
}

TEST_F(GatherTest, OwnersPartialsAndBatchStatesCoverEveryPartitionOnce) {
  backend_->local = {{0, 1, 2, 10}};
  backend_->records = {Record("b", "b:1", kNow - 100, {{1, 2}, {2, 1}}),
                       Record("c", "c:1", kNow - 5000, {{3, 4}}),  // too old: not asked
                       Record("me", "me:1", kNow, {{0, 1}})};
  backend_->chain = {1, 2, 1, 4};
  backend_->partials["b:1"] = backend_->PartialOf("b", {{1, 2, 3, 20}, {2, 1, 0, 6}});
  auto g = Run();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(backend_->asked, (std::vector<std::string>{"b:1"}));
  EXPECT_EQ(g->coverage.speed, (std::vector<uint64_t>{10, 20, 6, 3}));
  EXPECT_EQ(g->coverage.batch, (std::vector<uint64_t>{2, 3, 0, 3}));
  EXPECT_EQ(g->coverage.caught_up_ms, kNow - 50);
  EXPECT_EQ(g->report.partitions[0].from, GatherReport::From::kOwn);
  EXPECT_EQ(g->report.partitions[1].from, GatherReport::From::kWorker);
  EXPECT_EQ(g->report.partitions[1].writer_id, "b");
  EXPECT_EQ(g->report.partitions[3].from, GatherReport::From::kBatch);
  EXPECT_TRUE(g->report.refused.empty());
  ExpectExact(*g);
}

TEST_F(GatherTest, APartialFromAStaleEpochIsRefusedWhole) {
  backend_->local = {{0, 1, 2, 10}};
  // The directory still names b for 1 and 2, but the chain of 2 moved on.
  backend_->records = {Record("b", "b:1", kNow, {{1, 2}, {2, 1}})};
  backend_->chain = {1, 2, 2, 1};
  backend_->partials["b:1"] = backend_->PartialOf("b", {{1, 2, 3, 20}, {2, 1, 0, 6}});
  auto g = Run();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->report.refused.size(), 1u);
  EXPECT_NE(g->report.refused[0].find("stale owner"), std::string::npos) << g->report.refused[0];
  EXPECT_EQ(g->coverage.speed, (std::vector<uint64_t>{10, 3, 3, 3}));  // 1..3 from their batch states
  ExpectExact(*g);
}

TEST_F(GatherTest, OverlappingPartialsAreRefused) {
  backend_->local = {{0, 1, 2, 10}};
  backend_->records = {Record("b", "b:1", kNow, {{1, 1}}), Record("c", "c:1", kNow, {{2, 1}, {3, 1}})};
  // b also claims 0 (ours) and c claims 1 after b's was refused... c is fine.
  backend_->partials["b:1"] = backend_->PartialOf("b", {{0, 1, 0, 5}, {1, 1, 0, 5}});
  backend_->partials["c:1"] = backend_->PartialOf("c", {{2, 1, 0, 7}, {3, 1, 0, 8}});
  auto g = Run();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->report.refused.size(), 1u);
  EXPECT_NE(g->report.refused[0].find("disjoint"), std::string::npos) << g->report.refused[0];
  EXPECT_EQ(g->coverage.speed, (std::vector<uint64_t>{10, 3, 7, 8}));
  ExpectExact(*g);
}

TEST_F(GatherTest, AnotherPlanADamagedImageOrAFailedFetchFallsBackToBatchStates) {
  backend_->local = {{0, 1, 2, 10}};
  backend_->records = {Record("b", "b:1", kNow, {{1, 1}}), Record("c", "c:1", kNow, {{2, 1}}),
                       Record("d", "d:1", kNow, {{3, 1}})};
  Partial other = backend_->PartialOf("b", {{1, 1, 0, 5}});
  other.fingerprint ^= 1;
  backend_->partials["b:1"] = other;
  Partial damaged = backend_->PartialOf("c", {{2, 1, 0, 5}});
  damaged.state[damaged.state.size() / 2] ^= 0x40;
  backend_->partials["c:1"] = damaged;
  // d:1 does not answer.
  auto g = Run();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->report.refused.size(), 3u);
  EXPECT_EQ(g->coverage.speed, (std::vector<uint64_t>{10, 3, 3, 3}));
  ExpectExact(*g);
}

TEST_F(GatherTest, APartitionNobodyCanAnswerFailsTheGather) {
  backend_->local = {{0, 1, 2, 10}};
  backend_->batch_ok = false;
  auto g = Run();
  EXPECT_FALSE(g.ok());
}

}  // namespace
}  // namespace lf
