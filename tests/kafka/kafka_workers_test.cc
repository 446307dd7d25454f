// Several `lambdaflow run --source kafka://... --group NAME` workers on one
// topic and one store (docs/formats/ownership.md), against librdkafka's mock
// cluster: the group splits the partitions, every partition is sealed by
// exactly one worker into one contiguous chain of segments, and every answer
// of every worker equals SQLite over exactly the prefixes it reports (its
// own partitions as read, the others from its batch version alone); after a
// kill -9 of one worker the other gains its partitions and catches up,
// nothing lost and nothing doubled; a worker stopped past the session
// timeout and continued is fenced.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/file_system.h"
#include "kafka/mock_cluster.h"
#include "kafka/topic_readback.h"
#include "master/master_store.h"
#include "store/local_object_store.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

namespace lf {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;
using test::CompareView;
using test::Db;
using test::Kind;
using test::OutCol;
using test::ServerProcess;
using test::Split;
using test::TempDir;

constexpr int kPartitions = 8;

using test::LoadEvents;
using test::ReadTopic;
using test::Rec;

// revenue_by_product in SQLite over the events an answer covers.
const char* kRevenueSql =
    "SELECT ProductName, COUNT(*), SUM(price), MIN(price), MAX(price), AVG(price), SUM(ABS(price)), AVG(ABS(price)) "
    "FROM events WHERE {cover} GROUP BY ProductName ORDER BY ProductName";
const std::vector<OutCol> kRevenueCols = {{"ProductName", Kind::kText},        {"orders", Kind::kInt},
                                          {"revenue", Kind::kDoubleApprox, 6}, {"min_price", Kind::kDoubleExact},
                                          {"max_price", Kind::kDoubleExact},   {"avg_price", Kind::kDoubleApprox, 7}};

std::vector<uint64_t> ParseList(const std::string& text) {
  std::vector<uint64_t> v;
  for (const std::string& x : Split(text, ',')) v.push_back(std::stoull(x));
  return v;
}

struct Answer {
  std::string tsv;
  std::vector<uint64_t> speed;
};

std::string CheckAnswer(Db& db, const Answer& a) {
  std::string cover = "(0";
  for (size_t p = 0; p < a.speed.size(); ++p)
    cover += " OR (p = " + std::to_string(p) + " AND off < " + std::to_string(a.speed[p]) + ")";
  cover += ")";
  std::string sql = kRevenueSql;
  sql.replace(sql.find("{cover}"), 7, cover);
  std::string out;
  for (const auto& d : CompareView(db.get(), sql, kRevenueCols, a.tsv)) out += "  " + d + "\n";
  return out.empty() ? "" : "differs from SQLite (" + sql + "):\n" + out;
}

std::optional<Answer> Get(const ServerProcess& s) {
  httplib::Client c(s.host(), s.port());
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(10, 0);
  auto res = c.Get("/v1/views/revenue_by_product?format=tsv");
  if (!res || res->status != 200) return std::nullopt;
  return Answer{res->body, ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark"))};
}

// Queries one worker while events arrive, kept for the oracle.
class QueryLoop {
 public:
  explicit QueryLoop(const ServerProcess& s) : server_(s) {
    thread_ = std::thread([this] {
      while (!stop_) {
        if (auto a = Get(server_)) {
          std::lock_guard lock(mu_);
          answers_.push_back(std::move(*a));
        }
        std::this_thread::sleep_for(milliseconds(40));
      }
    });
  }
  std::vector<Answer> Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    return answers_;
  }
  ~QueryLoop() { Stop(); }

 private:
  const ServerProcess& server_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Answer> answers_;
  std::thread thread_;
};

class KafkaWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = test::MockCluster::Start({.brokers = 1, .topic = "events", .partitions = kPartitions}, &error);
    ASSERT_NE(cluster_, nullptr) << error;
    config_ = dir_.path() / "run.toml";
    test::WriteFile(config_,
                    "seal_events = 2000\nseal_age = 1\nbatch_interval = 1\nmicro_batch_ms = 20\n"
                    "group_session_ms = 3000\n[kafka]\n\"fetch.wait.max.ms\" = \"20\"\n");
  }

  std::unique_ptr<ServerProcess> StartWorker(const std::string& name) {
    std::string error;
    auto s = ServerProcess::Start(
        LAMBDAFLOW_BIN,
        {"run", "--data", (dir_.path() / name).string(), "--store", (dir_.path() / "store").string(), "--listen",
         "127.0.0.1:0", "--source", cluster_->Url("events"), "--group", "lf-workers", "--config", config_.string()},
        dir_.path() / (name + ".err"), seconds(30), &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }

  int Produce(int count, int seed, int rate) {
    return test::RunShell(std::string(LAMBDAFLOW_BIN) + " produce --quiet --to " + cluster_->Url("events") +
                          " --count " + std::to_string(count) + " --seed " + std::to_string(seed) + " --rate " +
                          std::to_string(rate) + " 2>>" + test::ShellQuote((dir_.path() / "produce.err").string()));
  }

  // The shared store's chains, read as a reader: per partition its segments
  // must be contiguous from the first offset (nothing sealed twice, no gap).
  Manifest Chains() {
    auto store = LocalObjectStore::Open(fs_.get(), (dir_.path() / "store").string());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return {};
    StreamSchema schema;  // segments' metadata only: the schema is not read
    schema.name = "events";
    schema.columns = {{"zipcode", TypeId::kInt, true}};
    auto m = MasterStore::Open(store->get(), schema, kPartitions, MasterStoreOptions{});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return {};
    return (*m)->Snapshot();
  }

  void ExpectChainsCover(const std::vector<uint64_t>& ends) {
    const auto deadline = Clock::now() + seconds(30);
    Manifest m;
    while (Clock::now() < deadline) {
      m = Chains();
      if (m.sealed == ends) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    ASSERT_EQ(m.sealed, ends) << "the chains' sealed watermarks never reached the topic's end";
    std::vector<uint64_t> next = m.first;
    for (const SegmentInfo& s : m.segments) {
      const auto p = static_cast<size_t>(s.partition);
      EXPECT_EQ(s.from, next[p]) << "partition " << p << ": segment [" << s.from << ", " << s.to
                                 << ") overlaps or leaves a gap";
      next[p] = s.to;
    }
    EXPECT_EQ(next, ends);
  }

  // Waits until every partition is read to `ends` by one of `workers`.
  static bool WaitCovered(const std::vector<const ServerProcess*>& workers, const std::vector<uint64_t>& ends,
                          seconds timeout, std::vector<Answer>* finals) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      finals->clear();
      std::vector<bool> covered(ends.size(), false);
      for (const ServerProcess* w : workers) {
        auto a = Get(*w);
        if (!a || a->speed.size() != ends.size()) break;
        for (size_t p = 0; p < ends.size(); ++p) covered[p] = covered[p] || a->speed[p] == ends[p];
        finals->push_back(std::move(*a));
      }
      if (finals->size() == workers.size() && std::find(covered.begin(), covered.end(), false) == covered.end())
        return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  static size_t CountGains(const ServerProcess& s) {
    const std::string text = s.StderrText();
    size_t n = 0;
    for (size_t at = text.find("group: gained partition"); at != std::string::npos;
         at = text.find("group: gained partition", at + 1))
      ++n;
    return n;
  }

  void CheckAll(Db& db, const std::vector<Answer>& answers, const std::string& who) {
    for (const Answer& a : answers) ASSERT_EQ(CheckAnswer(db, a), "") << who;
  }

  TempDir dir_{"lf-kafka-workers"};
  fs::path config_;
  std::unique_ptr<test::MockCluster> cluster_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
};

TEST_F(KafkaWorkersTest, TwoWorkersSplitThePartitionsAndEachAnswersExactly) {
  auto a = StartWorker("a");
  ASSERT_NE(a, nullptr);
  auto b = StartWorker("b");
  ASSERT_NE(b, nullptr);
  QueryLoop qa(*a), qb(*b);
  ASSERT_EQ(Produce(20000, 21, 8000), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 20000u);
  std::vector<Answer> finals;
  ASSERT_TRUE(WaitCovered({a.get(), b.get()}, ends, seconds(60), &finals))
      << "no worker read some partition to its end\n"
      << a->StderrText() << "\n----\n"
      << b->StderrText();
  const std::vector<Answer> during_a = qa.Stop(), during_b = qb.Stop();
  // Both took part: each read some partition the other did not.
  for (size_t w = 0; w < 2; ++w) {
    bool own = false;
    for (size_t p = 0; p < ends.size(); ++p) own = own || (finals[w].speed[p] == ends[p] && ends[p] > 0);
    EXPECT_TRUE(own) << "worker " << w << " owns nothing";
  }
  Db db;
  LoadEvents(db, recs);
  CheckAll(db, during_a, "worker a");
  CheckAll(db, during_b, "worker b");
  CheckAll(db, finals, "final answers");
  ExpectChainsCover(ends);
  if (getenv("LF_PRINT_WORKER_LOGS"))
    std::fprintf(stderr, "%s\n----\n%s\n", a->StderrText().c_str(), b->StderrText().c_str());
  EXPECT_NE(a->StderrText().find("group: gained partition"), std::string::npos) << a->StderrText();
  EXPECT_NE(b->StderrText().find("group: gained partition"), std::string::npos) << b->StderrText();
}

TEST_F(KafkaWorkersTest, KillNineOfOneWorkerMovesItsPartitionsLosingAndDoublingNothing) {
  auto a = StartWorker("a");
  ASSERT_NE(a, nullptr);
  auto b = StartWorker("b");
  ASSERT_NE(b, nullptr);
  std::atomic<int> produced{-1};
  std::thread producer([&] { produced = Produce(30000, 22, 8000); });
  // Killed once it has gained partitions and published a batch version
  // for some of them.
  const auto deadline = Clock::now() + seconds(30);
  while (Clock::now() < deadline && b->StderrText().find("batch: version") == std::string::npos)
    std::this_thread::sleep_for(milliseconds(50));
  std::this_thread::sleep_for(milliseconds(500));
  const size_t gains_before = CountGains(*a);
  b->Kill9();
  // b's last version's W per partition (of those it owned, W > first).
  std::vector<uint64_t> b_w;
  {
    const std::string text = b->StderrText();
    const size_t at = text.rfind("batch: version");
    ASSERT_NE(at, std::string::npos) << text;
    const size_t w = text.find("(W=", at) + 3;
    b_w = ParseList(text.substr(w, text.find(')', w) - w));
  }
  QueryLoop qa(*a);
  producer.join();
  ASSERT_EQ(produced.load(), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 30000u);
  std::vector<Answer> finals;
  ASSERT_TRUE(WaitCovered({a.get()}, ends, seconds(60), &finals)) << "the survivor never caught up\n"
                                                                  << a->StderrText();
  Db db;
  LoadEvents(db, recs);
  CheckAll(db, qa.Stop(), "the survivor while partitions moved");
  CheckAll(db, finals, "the survivor's final answer");
  EXPECT_EQ(finals[0].speed, ends);
  EXPECT_GT(CountGains(*a), gains_before) << "the survivor gained nothing after the kill\n" << a->StderrText();
  // The survivor took b's batch pieces of what it gained: its speed state
  // was rebuilt from b's W, not from the first offset (no full re-read).
  {
    const std::string text = a->StderrText();
    size_t at = 0;
    for (size_t k = 0; k < gains_before; ++k) at = text.find("group: gained partition", at) + 1;
    size_t taken = 0;
    for (at = text.find("group: gained partition", at); at != std::string::npos;
         at = text.find("group: gained partition", at + 1)) {
      const std::string line = text.substr(at, text.find('\n', at) - at);
      const size_t p = std::stoul(line.substr(std::string("group: gained partition ").size()));
      const size_t wat = line.find("batch part W=");
      ASSERT_NE(wat, std::string::npos) << line;
      const uint64_t w = std::stoull(line.substr(wat + 13));
      ASSERT_LT(p, b_w.size());
      EXPECT_GE(w, b_w[p]) << "partition " << p << " rebuilt from below b's batch watermark: " << line;
      if (b_w[p] > 0) ++taken;
    }
    EXPECT_GT(taken, 0u) << "no gained partition had a batch version of b's\n" << text;
  }
  ExpectChainsCover(ends);
}

// A worker stopped (SIGSTOP) past the session timeout is a zombie: the group
// gives its partitions to the other, which claims them; continued (SIGCONT),
// it learns they were lost and publishes nothing for them — the chains stay
// contiguous, sealed once — and both workers' answers stay exact.
TEST_F(KafkaWorkersTest, AStoppedWorkerIsFencedWhenItContinues) {
  auto a = StartWorker("a");
  ASSERT_NE(a, nullptr);
  auto b = StartWorker("b");
  ASSERT_NE(b, nullptr);
  std::atomic<int> produced{-1};
  std::thread producer([&] { produced = Produce(30000, 23, 8000); });
  const auto deadline = Clock::now() + seconds(30);
  while (Clock::now() < deadline && b->StderrText().find("group: gained partition") == std::string::npos)
    std::this_thread::sleep_for(milliseconds(50));
  std::this_thread::sleep_for(milliseconds(1000));
  const size_t gains_before = CountGains(*a);
  ASSERT_EQ(kill(b->pid(), SIGSTOP), 0);
  // The other worker takes its partitions (session timeout 3 s).
  const auto moved_by = Clock::now() + seconds(30);
  while (Clock::now() < moved_by && CountGains(*a) == gains_before) std::this_thread::sleep_for(milliseconds(100));
  const bool moved = CountGains(*a) > gains_before;
  ASSERT_EQ(kill(b->pid(), SIGCONT), 0);
  ASSERT_TRUE(moved) << "the stopped worker's partitions never moved\n" << a->StderrText();
  QueryLoop qa(*a), qb(*b);
  producer.join();
  ASSERT_EQ(produced.load(), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 30000u);
  std::vector<Answer> finals;
  ASSERT_TRUE(WaitCovered({a.get(), b.get()}, ends, seconds(60), &finals))
      << "no worker read some partition to its end\n"
      << a->StderrText() << "\n----\n"
      << b->StderrText();
  Db db;
  LoadEvents(db, recs);
  CheckAll(db, qa.Stop(), "worker a");
  CheckAll(db, qb.Stop(), "the worker that was stopped");
  CheckAll(db, finals, "final answers");
  ExpectChainsCover(ends);
  // It learnt that its partitions were taken (or a publish of it was fenced).
  const std::string berr = b->StderrText();
  if (getenv("LF_PRINT_WORKER_LOGS")) std::fprintf(stderr, "%s\n", berr.c_str());
  EXPECT_TRUE(berr.find("group: lost partition") != std::string::npos || berr.find("fenced") != std::string::npos)
      << berr;
}

}  // namespace
}  // namespace lf
