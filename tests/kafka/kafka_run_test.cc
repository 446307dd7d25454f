// `lambdaflow run --source kafka://...` against librdkafka's mock cluster (in
// its own process), fed by `lambdaflow produce --to kafka://...`: every
// answer of the served views equals SQLite over exactly the events it
// covers (the topic read back with a plain consumer, offset below S[p] per
// partition), with queries running while events arrive, across kill -9 and
// restart, injected broker errors and a broker down and up; retention loss
// is reported, never skipped.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kafka/mock_cluster.h"
#include "kafka/topic_readback.h"
#include "source/kafka_producer.h"
#include "testing/example_view_cases.h"
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

using test::ExampleViewCases;
using ViewCase = test::ExampleViewCase;

std::string Cover(const std::vector<uint64_t>& s) {
  std::string c = "(0";
  for (size_t p = 0; p < s.size(); ++p)
    c += " OR (p = " + std::to_string(p) + " AND off < " + std::to_string(s[p]) + ")";
  return c + ")";
}

std::vector<uint64_t> ParseList(const std::string& text) {
  std::vector<uint64_t> v;
  for (const std::string& x : Split(text, ',')) v.push_back(std::stoull(x));
  return v;
}

// One answer of a view: its TSV and the speed watermark it covers.
struct Answer {
  std::string view, tsv;
  std::vector<uint64_t> speed;
};

// Compares `a` with SQLite over the events below its S; "" when equal.
std::string CheckAnswer(Db& db, const Answer& a) {
  for (const ViewCase& c : ExampleViewCases()) {
    if (c.view != a.view) continue;
    std::string sql = c.sql;
    sql.replace(sql.find("{cover}"), 7, Cover(a.speed));
    std::vector<std::string> diffs = CompareView(db.get(), sql, c.cols, a.tsv);
    std::string out;
    for (const auto& d : diffs) out += "  " + d + "\n";
    return out.empty() ? "" : a.view + " differs from SQLite (" + sql + "):\n" + out;
  }
  return "no view " + a.view;
}

class KafkaRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = test::MockCluster::Start({.brokers = 1, .topic = "events", .partitions = kPartitions}, &error);
    ASSERT_NE(cluster_, nullptr) << error;
    config_ = dir_.path() / "run.toml";
    // The [kafka] table reaches librdkafka (a bad property would stop the start).
    test::WriteFile(config_,
                    "seal_events = 4000\nseal_age = 1\nbatch_interval = 1\nmicro_batch_ms = 20\n"
                    "[kafka]\n\"fetch.wait.max.ms\" = \"20\"\n\"socket.keepalive.enable\" = \"true\"\n");
  }

  std::unique_ptr<ServerProcess> StartRun(const std::string& topic = "events") {
    std::string error;
    auto s = ServerProcess::Start(LAMBDAFLOW_BIN,
                                  {"run", "--data", (dir_.path() / "data").string(), "--listen", "127.0.0.1:0",
                                   "--source", cluster_->Url(topic), "--config", config_.string()},
                                  dir_.path() / "run.err", seconds(30), &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }

  // `lambdaflow produce --to kafka://...`; its exit code.
  int Produce(int count, int seed, int rate = 0, const std::string& topic = "events") {
    return test::RunShell(std::string(LAMBDAFLOW_BIN) + " produce --quiet --to " + cluster_->Url(topic) + " --count " +
                          std::to_string(count) + " --seed " + std::to_string(seed) +
                          (rate > 0 ? " --rate " + std::to_string(rate) : "") + " 2>>" +
                          test::ShellQuote((dir_.path() / "produce.err").string()));
  }

  static std::unique_ptr<httplib::Client> Client(const ServerProcess& s) {
    auto c = std::make_unique<httplib::Client>(s.host(), s.port());
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(20, 0);
    return c;
  }

  // The view's TSV answer, with its S (nullopt when the request failed).
  static std::optional<Answer> Get(httplib::Client& c, const std::string& view) {
    auto res = c.Get("/v1/views/" + view + "?format=tsv");
    if (!res || res->status != 200) return std::nullopt;
    return Answer{view, res->body, ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark"))};
  }

  static std::string Status(httplib::Client& c) {
    auto res = c.Get("/v1/status");
    return res && res->status == 200 ? res->body : "";
  }

  // Produces 8 MiB of incompressible records into partition 0 of `topic`,
  // more than the mock cluster keeps (about 5 MiB per partition); returns
  // the partition's log start afterwards.
  int64_t OverrunRetention(const std::string& topic) {
    KafkaProducerOptions o;
    o.url = {cluster_->bootstrap(), topic};
    auto p = KafkaProducer::Open(o);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return -1;
    std::mt19937_64 rng(16);
    std::string pad(64 << 10, 'x');
    for (int i = 0; i < 128; ++i) {
      for (char& ch : pad) ch = static_cast<char>('a' + rng() % 26);
      EXPECT_TRUE((*p)->Produce("k", pad).ok());
    }
    EXPECT_TRUE((*p)->Flush(seconds(30)).ok());
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster_->bootstrap().c_str(), err, sizeof(err));
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    int64_t lo = -1, hi = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), 0, &lo, &hi, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    return lo;
  }

  // Waits until the served S equals `ends` in every partition.
  static bool WaitCaughtUp(httplib::Client& c, const std::vector<uint64_t>& ends, seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto a = Get(c, "revenue_by_product");
      if (a && a->speed == ends) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  // Reads the topic back, loads SQLite, checks each answer; then checks the
  // final answers of every example view cover all of it.
  void CheckAgainstOracle(const ServerProcess& server, const std::vector<Answer>& during, uint64_t want_events) {
    std::vector<uint64_t> ends;
    const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
    ASSERT_EQ(recs.size(), want_events);
    Db db;
    LoadEvents(db, recs);
    auto c = Client(server);
    ASSERT_TRUE(WaitCaughtUp(*c, ends, seconds(30))) << "S never reached the high watermarks\n" << Status(*c);
    size_t checked = 0;
    for (const Answer& a : during) {
      const std::string diff = CheckAnswer(db, a);
      ASSERT_EQ(diff, "");
      ++checked;
    }
    for (const ViewCase& v : ExampleViewCases()) {
      auto a = Get(*c, v.view);
      ASSERT_TRUE(a.has_value());
      ASSERT_EQ(a->speed, ends);
      EXPECT_EQ(CheckAnswer(db, *a), "");
    }
    RecordProperty("answers_checked", static_cast<int>(checked));
  }

  TempDir dir_{"lf-kafka-run"};
  fs::path config_;
  std::unique_ptr<test::MockCluster> cluster_;
};

// Queries answered while events are produced, kept for the oracle.
class QueryLoop {
 public:
  explicit QueryLoop(const ServerProcess& s) : server_(s) {
    thread_ = std::thread([this] {
      auto c = std::make_unique<httplib::Client>(server_.host(), server_.port());
      c->set_connection_timeout(1, 0);
      c->set_read_timeout(5, 0);
      size_t i = 0;
      while (!stop_) {
        const std::string& view = ExampleViewCases()[i++ % ExampleViewCases().size()].view;
        auto res = c->Get("/v1/views/" + view + "?format=tsv");
        if (res && res->status == 200) {
          std::lock_guard lock(mu_);
          answers_.push_back({view, res->body, ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark"))});
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
  ~QueryLoop() { Stop(); }

 private:
  const ServerProcess& server_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Answer> answers_;
  std::thread thread_;
};

TEST_F(KafkaRunTest, EightPartitionsWithQueriesRunningEqualTheOracle) {
  auto server = StartRun();
  ASSERT_NE(server, nullptr);
  QueryLoop queries(*server);
  ASSERT_EQ(Produce(30000, 11, 15000), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<Answer> during = queries.Stop();
  // Answers at several points of the stream, not only the end.
  std::set<std::vector<uint64_t>> points;
  for (const Answer& a : during) points.insert(a.speed);
  EXPECT_GE(points.size(), 5u);
  CheckAgainstOracle(*server, during, 30000);

  auto c = Client(*server);
  const std::string status = Status(*c);
  EXPECT_NE(status.find("\"source\":{\"url\":\"" + cluster_->Url("events") + "\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"lag\":0,"), std::string::npos) << status;
  EXPECT_EQ(status.find("\"lost\":{"), std::string::npos) << status;
  // Sealed into the master dataset and served by batch versions too.
  const auto deadline = Clock::now() + seconds(20);
  std::string st = status;
  while (Clock::now() < deadline && st.find("\"batch_version\":null") != std::string::npos) {
    std::this_thread::sleep_for(milliseconds(100));
    st = Status(*c);
  }
  EXPECT_EQ(st.find("\"batch_version\":null"), std::string::npos) << st;
  auto metrics = c->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lambdaflow_source_lag{partition=\"7\"} 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("lambdaflow_source_high_watermark{partition=\"0\"}"), std::string::npos);

  // The sealed offsets are committed to the group, for lag tools (and never
  // read back: the kill -9 test resumes from lambdaflow's own manifest).
  {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster_->bootstrap().c_str(), err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "lambdaflow", err, sizeof(err));
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ASSERT_NE(rk, nullptr) << err;
    std::vector<uint64_t> committed, sealed;
    const auto until = Clock::now() + seconds(10);
    while (Clock::now() < until) {
      const std::string now = Status(*c);
      const std::string from = now.substr(now.find("\"sealed\":[") + 10);
      sealed = ParseList(from.substr(0, from.find(']')));
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
      for (int p = 0; p < kPartitions; ++p) rd_kafka_topic_partition_list_add(list, "events", p);
      committed.clear();
      if (rd_kafka_committed(rk, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < list->cnt; ++i)
          committed.push_back(static_cast<uint64_t>(std::max<int64_t>(0, list->elems[i].offset)));
      rd_kafka_topic_partition_list_destroy(list);
      if (committed == sealed) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    rd_kafka_destroy(rk);
    EXPECT_EQ(committed, sealed);
    EXPECT_NE(sealed, std::vector<uint64_t>(kPartitions, 0));
  }

  // HTTP ingest is refused with the way to produce instead.
  auto post = c->Post("/v1/events", "{\"zipcode\":1}\n", "application/x-ndjson");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 409);
  EXPECT_NE(post->body.find("produce them to the topic"), std::string::npos) << post->body;
  EXPECT_NE(post->body.find("lambdaflow produce --to " + cluster_->Url("events")), std::string::npos) << post->body;
}

TEST_F(KafkaRunTest, KillNineMidStreamAndRestartLosesAndDoublesNothing) {
  auto server = StartRun();
  ASSERT_NE(server, nullptr);
  std::atomic<int> produced{-1};
  std::thread producer([&] { produced = Produce(40000, 12, 16000); });
  // Killed while events arrive and segments are being sealed.
  auto c = Client(*server);
  const auto deadline = Clock::now() + seconds(20);
  std::string status;
  while (Clock::now() < deadline) {
    status = Status(*c);
    if (status.find("\"segments_sealed\":0") == std::string::npos && !status.empty()) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(status.find("\"segments_sealed\":0"), std::string::npos) << "nothing was sealed before the kill";
  server->Kill9();
  std::this_thread::sleep_for(milliseconds(300));
  server = StartRun();
  ASSERT_NE(server, nullptr);
  QueryLoop queries(*server);
  producer.join();
  ASSERT_EQ(produced.load(), 0) << test::ReadFile(dir_.path() / "produce.err");
  CheckAgainstOracle(*server, queries.Stop(), 40000);
  EXPECT_NE(server->StderrText().find("the group's committed offsets are never read"), std::string::npos);
}

TEST_F(KafkaRunTest, BrokerErrorsAndABrokerDownAreRiddenOut) {
  auto server = StartRun();
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(Produce(8000, 13), 0);
  auto c = Client(*server);
  {
    std::vector<uint64_t> ends;
    ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
    ASSERT_TRUE(WaitCaughtUp(*c, ends, seconds(30)));
  }
  // Injected errors on fetches and watermark requests, then events.
  ASSERT_EQ(cluster_->Command("errors Fetch 6 NOT_LEADER_FOR_PARTITION _TRANSPORT REQUEST_TIMED_OUT"), "ok");
  ASSERT_EQ(cluster_->Command("errors ListOffsets 4 _TRANSPORT NOT_LEADER_FOR_PARTITION"), "ok");
  ASSERT_EQ(Produce(8000, 14), 0);
  {
    std::vector<uint64_t> ends;
    ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
    ASSERT_TRUE(WaitCaughtUp(*c, ends, seconds(30))) << Status(*c);
  }
  // Every broker down: serving goes on, and the freshness it reports grows.
  ASSERT_EQ(cluster_->Command("down all"), "ok");
  std::this_thread::sleep_for(milliseconds(2500));
  auto res = c->Get("/v1/views/revenue_by_product?format=tsv");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(std::stoll(res->get_header_value("X-Lambdaflow-Freshness-Ms")), 2000) << "freshness must not claim "
                                                                                     "completeness while no broker "
                                                                                     "answers";
  ASSERT_EQ(cluster_->Command("up all"), "ok");
  // Consumption resumes by itself.
  QueryLoop queries(*server);
  ASSERT_EQ(Produce(8000, 15), 0) << test::ReadFile(dir_.path() / "produce.err");
  CheckAgainstOracle(*server, queries.Stop(), 24000);
  res = c->Get("/v1/views/revenue_by_product?format=tsv");
  ASSERT_TRUE(res);
  EXPECT_LT(std::stoll(res->get_header_value("X-Lambdaflow-Freshness-Ms")), 2000);
}

TEST_F(KafkaRunTest, RetentionLossIsReportedAndThePartitionNotRead) {
  // One partition that retention will overrun (the mock keeps about 5 MiB).
  ASSERT_EQ(cluster_->Command("topic small 1"), "ok");
  test::WriteFile(config_, "seal_events = 1000000\nseal_age = 1\nbatch_interval = 1\n");
  auto server = StartRun("small");
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(Produce(500, 16, 0, "small"), 0);
  auto c = Client(*server);
  // Sealed to 500 (the open bucket is cut by age), then stopped.
  const auto deadline = Clock::now() + seconds(20);
  std::string st;
  while (Clock::now() < deadline) {
    st = Status(*c);
    if (st.find("\"sealed\":[500]") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_NE(st.find("\"sealed\":[500]"), std::string::npos) << st;
  server->Kill9();
  // 8 MiB more push the partition's log start past everything read.
  const int64_t lo = OverrunRetention("small");
  ASSERT_GT(lo, 500) << "the mock cluster kept every record: retention cannot be tested";
  server = StartRun("small");
  ASSERT_NE(server, nullptr);
  c = Client(*server);
  st = Status(*c);
  const std::string range = "[500, " + std::to_string(lo) + ")";
  EXPECT_NE(st.find("\"lost\":{\"from\":500,\"to\":" + std::to_string(lo)), std::string::npos) << st;
  EXPECT_NE(server->StderrText().find("retention loss: " + cluster_->Url("small") + " partition 0: offsets " + range),
            std::string::npos)
      << server->StderrText();
  auto metrics = c->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lambdaflow_source_lost_offsets{partition=\"0\"} " + std::to_string(lo - 500)),
            std::string::npos);
  // Not read: S stays at the sealed 500, nothing of the later records is served.
  std::this_thread::sleep_for(milliseconds(500));
  auto a = Get(*c, "revenue_by_product");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->speed, std::vector<uint64_t>{500});
}

// Records that do not decode are dead letters naming the topic, the
// partition and the offset (`lambdaflow rejects`); the views hold the rest.
TEST_F(KafkaRunTest, UndecodableRecordsGoToTheDeadLettersWithPartitionAndOffset) {
  auto server = StartRun();
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(Produce(2000, 18), 0);
  {
    KafkaProducerOptions o;
    o.url = {cluster_->bootstrap(), "events"};
    auto p = KafkaProducer::Open(o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE((*p)->Produce("90001", "this is not json").ok());
    ASSERT_TRUE((*p)->Produce("90002", "{\"zipcode\":90002,\"price\":3}").ok());  // required fields missing
    ASSERT_TRUE((*p)->Produce("90003", "").ok());                                 // a tombstone
    ASSERT_TRUE((*p)->Flush(seconds(30)).ok());
  }
  // Every record read back: the three bad ones are known by their values.
  std::vector<uint64_t> ends;
  std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 2003u);
  std::vector<Rec> good, bad;
  for (Rec& r : recs) (r.value.find("ProductName") != std::string::npos ? good : bad).push_back(std::move(r));
  ASSERT_EQ(bad.size(), 3u);
  auto c = Client(*server);
  ASSERT_TRUE(WaitCaughtUp(*c, ends, seconds(30)));
  // Dead letters are written when their range is sealed (seal_age 1 s).
  const fs::path out = dir_.path() / "rejects.out";
  std::string rejects;
  const auto deadline = Clock::now() + seconds(20);
  while (Clock::now() < deadline) {
    ASSERT_EQ(test::RunShell(std::string(LAMBDAFLOW_BIN) + " rejects --data " +
                             test::ShellQuote((dir_.path() / "data").string()) + " >" + test::ShellQuote(out.string())),
              0);
    rejects = test::ReadFile(out);
    if (Split(rejects, '\n').size() >= 4) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  for (const Rec& r : bad) {
    const std::string input = "\"input\":\"" + cluster_->Url("events") + " partition " + std::to_string(r.partition) +
                              " offset " + std::to_string(r.offset) + "\",\"line\":" + std::to_string(r.offset);
    EXPECT_NE(rejects.find(input), std::string::npos) << input << "\n" << rejects;
  }
  EXPECT_EQ(Split(rejects, '\n').size(), 4u) << rejects;  // three lines and the empty rest
  Db db;
  LoadEvents(db, good);
  for (const ViewCase& v : ExampleViewCases()) {
    auto a = Get(*c, v.view);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(CheckAnswer(db, *a), "");
  }
}

// While running: the partition is paused (its unsealed tail is over
// budget), retention deletes what it has not read meanwhile, and once
// sealing resumes it the broker answers "out of range": reported, the
// partition not read, never a jump.
TEST_F(KafkaRunTest, RetentionLossWhileRunningIsReportedAndThePartitionNotRead) {
  ASSERT_EQ(cluster_->Command("topic small 1"), "ok");
  test::WriteFile(config_, "seal_events = 1000000\nseal_age = 2\nbatch_interval = 1\nmax_tail_bytes = 20000\n");
  auto server = StartRun("small");
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(Produce(500, 19, 0, "small"), 0);
  auto c = Client(*server);
  std::string st;
  auto wait_for = [&](const std::string& text) {
    const auto deadline = Clock::now() + seconds(20);
    while (Clock::now() < deadline) {
      st = Status(*c);
      if (st.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  };
  ASSERT_TRUE(wait_for("\"paused\":true")) << st;
  const std::string at = st.substr(st.find("\"position\":") + 11);
  const uint64_t position = std::stoull(at);
  ASSERT_GT(position, 0u);
  const int64_t lo = OverrunRetention("small");
  ASSERT_GT(lo, static_cast<int64_t>(position)) << "the mock cluster kept every record: retention cannot be tested";
  // The bucket is sealed by age, the partition resumed, and the loss found.
  ASSERT_TRUE(wait_for("\"lost\":{")) << st;
  EXPECT_NE(st.find("\"lost\":{\"from\":" + std::to_string(position) + ",\"to\":" + std::to_string(lo)),
            std::string::npos)
      << st;
  EXPECT_NE(server->StderrText().find("retention loss: " + cluster_->Url("small") + " partition 0: offsets [" +
                                      std::to_string(position) + ", " + std::to_string(lo) + ")"),
            std::string::npos)
      << server->StderrText();
  auto a = Get(*c, "revenue_by_product");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->speed, std::vector<uint64_t>{position}) << "nothing past the loss is served";
}

// A topic whose retention already deleted its first records: a new data
// directory starts at the log start (those records were never lambdaflow's),
// which is no loss.
TEST_F(KafkaRunTest, ANewDirectoryStartsAtTheTopicsLogStart) {
  ASSERT_EQ(cluster_->Command("topic old 1"), "ok");
  const int64_t lo = OverrunRetention("old");
  ASSERT_GT(lo, 0) << "the mock cluster kept every record: retention cannot be tested";
  ASSERT_EQ(Produce(300, 20, 0, "old"), 0);
  auto server = StartRun("old");
  ASSERT_NE(server, nullptr);
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "old", 1, &ends);
  auto c = Client(*server);
  ASSERT_TRUE(WaitCaughtUp(*c, ends, seconds(30))) << Status(*c);
  const std::string st = Status(*c);
  EXPECT_EQ(st.find("\"lost\":{"), std::string::npos) << st;
  EXPECT_NE(
      server->StderrText().find("partition 0 starts at offset " + std::to_string(lo) + " (the topic's log start)"),
      std::string::npos)
      << server->StderrText();
  // The views hold the 300 events (the big records before them do not decode).
  std::vector<Rec> good;
  for (const Rec& r : recs)
    if (r.value.find("ProductName") != std::string::npos) good.push_back(r);
  ASSERT_EQ(good.size(), 300u);
  Db db;
  LoadEvents(db, good);
  auto a = Get(*c, "revenue_by_product");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(CheckAnswer(db, *a), "");
}

// A producer nobody here wrote: kafkajs (npm, tests/kafka/kafkajs, installed
// by scripts/install-deps.sh) publishes the events.
TEST_F(KafkaRunTest, KafkajsProducerFeedsTheViews) {
  const fs::path script = fs::path(LF_KAFKAJS_DIR) / "produce.mjs";
  if (!fs::exists(fs::path(LF_KAFKAJS_DIR) / "node_modules" / "kafkajs" / "package.json") ||
      test::RunShell("node --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "node or kafkajs missing (scripts/install-deps.sh installs them)";
  auto server = StartRun();
  ASSERT_NE(server, nullptr);
  QueryLoop queries(*server);
  const fs::path out = dir_.path() / "kafkajs.out";
  ASSERT_EQ(test::RunShell("node " + test::ShellQuote(script.string()) + " --brokers " + cluster_->bootstrap() +
                           " --topic events --count 6000 --seed 5 >" + test::ShellQuote(out.string()) + " 2>&1"),
            0)
      << test::ReadFile(out);
  EXPECT_EQ(test::ReadFile(out), "sent 6000\n");
  CheckAgainstOracle(*server, queries.Stop(), 6000);
}

}  // namespace
}  // namespace lf
