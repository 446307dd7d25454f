// Several `lambdaflow run --source kafka://... --group NAME` workers on one
// topic and one store, against librdkafka's mock cluster, for the tests of
// kafka_workers_test.cc and kafka_gather_test.cc: starting workers, feeding
// the topic, querying workers while events arrive, and checking every
// answer against SQLite over exactly the prefixes it reports, the chains'
// segments and the workers' logs.
#pragma once

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

namespace lf::test {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

inline constexpr int kPartitions = 8;

// revenue_by_product in SQLite over the events an answer covers.
inline constexpr const char* kRevenueSql =
    "SELECT ProductName, COUNT(*), SUM(price), MIN(price), MAX(price), AVG(price), SUM(ABS(price)), AVG(ABS(price)) "
    "FROM events WHERE {cover} GROUP BY ProductName ORDER BY ProductName";
inline const std::vector<OutCol> kRevenueCols = {
    {"ProductName", Kind::kText},        {"orders", Kind::kInt},
    {"revenue", Kind::kDoubleApprox, 6}, {"min_price", Kind::kDoubleExact},
    {"max_price", Kind::kDoubleExact},   {"avg_price", Kind::kDoubleApprox, 7}};

inline std::vector<uint64_t> ParseList(const std::string& text) {
  std::vector<uint64_t> v;
  for (const std::string& x : Split(text, ',')) v.push_back(std::stoull(x));
  return v;
}

struct Answer {
  std::string tsv;
  std::vector<uint64_t> speed;
};

inline std::string CheckAnswer(Db& db, const Answer& a) {
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

inline std::optional<Answer> Get(const ServerProcess& s) {
  httplib::Client c(s.host(), s.port());
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(10, 0);
  auto res = c.Get("/v1/views/revenue_by_product?format=tsv");
  if (!res || res->status != 200) return std::nullopt;
  return Answer{res->body, ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark"))};
}

// Queries workers picked at random (or one worker) while events arrive,
// kept for the oracle.
class RandomQueryLoop {
 public:
  explicit RandomQueryLoop(const ServerProcess& s) : RandomQueryLoop({&s}, 0) {}
  RandomQueryLoop(std::vector<const ServerProcess*> servers, uint64_t seed) : servers_(std::move(servers)) {
    thread_ = std::thread([this, seed] {
      Rng rng(seed);
      while (!stop_) {
        if (auto a = Get(*rng.Pick(servers_))) {
          std::lock_guard lock(mu_);
          answers_.push_back(std::move(*a));
        }
        std::this_thread::sleep_for(milliseconds(30));
      }
    });
  }
  std::vector<Answer> Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    return answers_;
  }
  size_t Count() {
    std::lock_guard lock(mu_);
    return answers_.size();
  }
  ~RandomQueryLoop() { Stop(); }

 private:
  const std::vector<const ServerProcess*> servers_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Answer> answers_;
  std::thread thread_;
};

// A worker's /v1/status: per partition the owner's writer id it reports
// ("" when none), and its own writer id.
struct GroupView {
  std::string writer;
  std::vector<std::string> owners;
  std::vector<bool> self;
  uint64_t from_batch = 0;  // partitions its gathers answered from their batch states alone
  uint64_t fallbacks = 0;   // reads it answered from its own states alone
};
inline std::optional<GroupView> ReadGroup(const ServerProcess& s) {
  httplib::Client c(s.host(), s.port());
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(10, 0);
  auto res = c.Get("/v1/status");
  if (!res || res->status != 200) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc, group;
  if (parser.parse(res->body).get(doc) != simdjson::SUCCESS || doc["group"].get(group) != simdjson::SUCCESS)
    return std::nullopt;
  GroupView g;
  std::string_view writer;
  if (group["writer"].get(writer) != simdjson::SUCCESS) return std::nullopt;
  g.writer = writer;
  simdjson::dom::array parts;
  if (group["partitions"].get(parts) != simdjson::SUCCESS) return std::nullopt;
  if (group["gathers"]["partitions_from_batch"].get(g.from_batch) != simdjson::SUCCESS ||
      group["gathers"]["fallbacks"].get(g.fallbacks) != simdjson::SUCCESS)
    return std::nullopt;
  for (simdjson::dom::element p : parts) {
    std::string_view owner;
    bool self = false;
    g.owners.push_back(p["owner"].get(owner) == simdjson::SUCCESS ? std::string(owner) : std::string());
    if (p["self"].get(self) != simdjson::SUCCESS) return std::nullopt;
    g.self.push_back(self);
  }
  return g;
}

class KafkaWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = MockCluster::Start({.brokers = 1, .topic = "events", .partitions = kPartitions}, &error);
    ASSERT_NE(cluster_, nullptr) << error;
    config_ = dir_.path() / "run.toml";
    WriteFile(config_,
              "seal_events = 2000\nseal_age = 1\nbatch_interval = 1\nmicro_batch_ms = 20\n"
              "group_session_ms = 3000\n[kafka]\n\"fetch.wait.max.ms\" = \"20\"\n");
  }

  // Worker `name` (data directory `name`, stderr `log`.err, `name`.err by default).
  std::unique_ptr<ServerProcess> StartWorker(const std::string& name, const std::string& log = "") {
    std::string error;
    auto s = ServerProcess::Start(
        LAMBDAFLOW_BIN,
        {"run", "--data", (dir_.path() / name).string(), "--store", (dir_.path() / "store").string(), "--listen",
         "127.0.0.1:0", "--source", cluster_->Url("events"), "--group", "lf-workers", "--config", config_.string()},
        dir_.path() / ((log.empty() ? name : log) + ".err"), seconds(30), &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }

  int Produce(int count, int seed, int rate) {
    return RunShell(std::string(LAMBDAFLOW_BIN) + " produce --quiet --to " + cluster_->Url("events") + " --count " +
                    std::to_string(count) + " --seed " + std::to_string(seed) + " --rate " + std::to_string(rate) +
                    " 2>>" + ShellQuote((dir_.path() / "produce.err").string()));
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

  // Waits until each of `workers` alone answers for every partition up to
  // `ends` (its own partitions and the others' gathered from their owners).
  static bool WaitEachCovers(const std::vector<const ServerProcess*>& workers, const std::vector<uint64_t>& ends,
                             seconds timeout, std::vector<Answer>* finals) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      finals->clear();
      for (const ServerProcess* w : workers) {
        auto a = Get(*w);
        if (!a || a->speed != ends) break;
        finals->push_back(std::move(*a));
      }
      if (finals->size() == workers.size()) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  static std::string Logs(const std::vector<const ServerProcess*>& workers) {
    std::string out;
    for (const ServerProcess* w : workers) out += w->StderrText() + "\n----\n";
    return out;
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
  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
};

}  // namespace lf::test
