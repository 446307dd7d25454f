// `lambdaflow run --source kinesis://events` against kinesalite (started by
// the test), fed by `lambdaflow produce --to kinesis://events`: a 4-shard
// stream, a shard split while `run` reads it, kill -9 of `run` while it
// appends, a restart that must resume exactly after the last appended
// record, records that do not decode (dead letters with shard and sequence
// number), and every answer taken compared with SQLite over exactly the
// events it covers (the lambda equation). The offsets of each record are
// rebuilt from the stream read back and the shard -> partition map the
// data directory records (kinesis/STATE): a partition holds its shards'
// valid records in order, a parent's before its child's.
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "aws/node_helper.h"
#include "source/kinesis_client.h"
#include "testing/example_view_cases.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

using ViewCase = ExampleViewCase;

struct Answer {
  std::string view, tsv;
  std::vector<uint64_t> speed;
};

std::vector<uint64_t> ParseList(const std::string& text) {
  std::vector<uint64_t> v;
  for (const std::string& x : Split(text, ',')) v.push_back(std::stoull(x));
  return v;
}

std::string Cover(const std::vector<uint64_t>& s) {
  std::string c = "(0";
  for (size_t p = 0; p < s.size(); ++p)
    c += " OR (p = " + std::to_string(p) + " AND off < " + std::to_string(s[p]) + ")";
  return c + ")";
}

class KinesisRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip, error;
    emulator_ = NodeHelper::Start({}, "kinesis_emulator.mjs", {"--stream", "events", "--shards", "4"}, "kinesalite",
                                  &skip, &error);
    if (!emulator_ && !skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(emulator_, nullptr) << error;
    config_.credentials = {"AKIDEXAMPLE", "secret", ""};
    config_.region = "us-east-1";
    config_.kinesis_endpoint = aws::Endpoint{"http", "127.0.0.1:" + std::to_string(emulator_->port()), ""};
    ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
    ::setenv("AWS_ENDPOINT_URL_KINESIS", ("http://127.0.0.1:" + std::to_string(emulator_->port())).c_str(), 1);
    client_ = std::make_unique<KinesisClient>(config_, "events");
  }
  void TearDown() override {
    if (server_) server_->Kill9();
    if (HasFailure()) {
      for (int i = 1; i <= starts_; ++i) std::fprintf(stderr, "---- run %d:\n%s", i, ReadFile(ErrPath(i)).c_str());
    }
  }
  std::filesystem::path ErrPath(int i) const { return dir_.path() / ("run-" + std::to_string(i) + ".err"); }
  std::filesystem::path Data() const { return dir_.path() / "data"; }

  void StartRun() {
    std::string error;
    server_ = ServerProcess::Start(
        LAMBDAFLOW_BIN,
        {"run", "--data", Data().string(), "--listen", "127.0.0.1:0", "--source", "kinesis://events",
         "--seal-events=500", "--seal-age=0.3", "--batch-interval=0.4", "--micro-batch-ms=20"},
        ErrPath(++starts_), seconds(20), &error);
    ASSERT_NE(server_, nullptr) << error;
    http_ = std::make_unique<httplib::Client>(server_->host(), server_->port());
    http_->set_read_timeout(20, 0);
  }

  int Produce(int count, int seed) {
    return RunShell(std::string(LAMBDAFLOW_BIN) + " produce --quiet --to kinesis://events --count " +
                    std::to_string(count) + " --seed " + std::to_string(seed) + " 2>>" +
                    ShellQuote((dir_.path() / "produce.err").string()));
  }

  // Takes one answer of each view (kept for the comparison at the end).
  void TakeAnswers() {
    for (const ViewCase& c : ExampleViewCases()) {
      auto res = http_->Get("/v1/views/" + c.view + "?format=tsv");
      if (!res || res->status != 200) continue;
      answers_.push_back({c.view, res->body, ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark"))});
    }
  }

  uint64_t SpeedTotal() {
    auto res = http_->Get("/v1/views/revenue_by_product?format=tsv");
    if (!res || res->status != 200) return 0;
    uint64_t n = 0;
    for (uint64_t s : ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark"))) n += s;
    return n;
  }

  // Every record of every shard, by shard id, in order.
  std::map<std::string, std::vector<KinesisRecord>> ReadStream() {
    std::map<std::string, std::vector<KinesisRecord>> out;
    auto shards = client_->ListShards();
    EXPECT_TRUE(shards.ok()) << shards.status().ToString();
    if (!shards.ok()) return out;
    for (const auto& s : *shards) {
      auto it = client_->GetShardIterator(s.shard_id, "TRIM_HORIZON");
      EXPECT_TRUE(it.ok());
      std::string iterator = it.ok() ? *it : "";
      auto& recs = out[s.shard_id];
      while (!iterator.empty()) {
        auto r = client_->GetRecords(iterator, 1000);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        if (!r.ok() || r->records.empty()) break;
        for (auto& rec : r->records) recs.push_back(std::move(rec));
        iterator = r->next_iterator;
      }
    }
    return out;
  }

  TempDir dir_{"lf-kinesis-run"};
  std::unique_ptr<NodeHelper> emulator_;
  aws::AwsConfig config_;
  std::unique_ptr<KinesisClient> client_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> http_;
  std::vector<Answer> answers_;
  int starts_ = 0;
};

TEST_F(KinesisRunTest, SplitKillRestartResumesExactlyAndAnswersMatchSqlite) {
  ASSERT_EQ(Produce(3000, 1), 0);
  // Three records that do not decode.
  ASSERT_TRUE(client_->PutRecords({{"k1", "not json"}, {"k2", "{\"zipcode\":1}"}, {"k3", "[1,2]"}}).ok());
  ASSERT_NO_FATAL_FAILURE(StartRun());
  const auto deadline = Clock::now() + seconds(30);
  while (SpeedTotal() < 3000 && Clock::now() < deadline) {
    TakeAnswers();
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(SpeedTotal(), 3000u);
  // A split while `run` reads: shard 0 of 4 at the middle of its hash range.
  ASSERT_TRUE(client_->SplitShard("shardId-000000000000", "42535295865117307932921825928971026432").ok());
  for (int i = 0; i < 200; ++i) {
    auto status = client_->StreamStatus();
    if (status.ok() && *status == "ACTIVE") break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  // More events, and kill -9 while they are being appended.
  std::thread producer([&] { EXPECT_EQ(Produce(4000, 2), 0); });
  std::this_thread::sleep_for(milliseconds(700));
  TakeAnswers();
  server_->Kill9();
  producer.join();
  // The restart resumes exactly: after the rest of the stream, every valid
  // record is in the log once.
  ASSERT_NO_FATAL_FAILURE(StartRun());
  ASSERT_EQ(Produce(2000, 3), 0);
  const uint64_t total = 3000 + 4000 + 2000;
  const auto deadline2 = Clock::now() + seconds(60);
  uint64_t got = 0;
  while ((got = SpeedTotal()) < total && Clock::now() < deadline2) {
    TakeAnswers();
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(got, total) << "every valid record read once";
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(SpeedTotal(), total) << "and none twice";
  TakeAnswers();
  // POSTs are refused: the stream is the source.
  auto post = http_->Post("/v1/events", "{}\n", "application/x-ndjson");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 409) << post->body;

  // The shard -> partition map, and the stream read back.
  std::map<int, std::vector<std::string>> shards_of;  // partition -> shard ids, in id order
  {
    std::istringstream in(ReadFile(Data() / "kinesis" / "STATE"));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string word, id;
      int p = 0;
      if (f >> word >> id >> p && word == "shard") shards_of[p].push_back(id);
    }
  }
  size_t mapped = 0;
  for (const auto& [p, ids] : shards_of) mapped += ids.size();
  EXPECT_EQ(mapped, 6u) << "4 shards, then the split's 2 children";
  const auto stream = ReadStream();
  Db db;
  db.Exec(
      "CREATE TABLE events (p INTEGER, off INTEGER, zipcode INTEGER, ProductName TEXT NOT NULL, price REAL, "
      "timestamp INTEGER NOT NULL)");
  simdjson::dom::parser parser;
  uint64_t valid = 0, invalid = 0;
  for (const auto& [p, ids] : shards_of) {
    uint64_t off = 0;
    for (const std::string& id : ids) {
      auto it = stream.find(id);
      ASSERT_NE(it, stream.end()) << id;
      for (const KinesisRecord& r : it->second) {
        simdjson::dom::element doc;
        std::string_view name, ts_text;
        if (parser.parse(r.data).get(doc) != simdjson::SUCCESS || !doc.is_object() ||
            doc["ProductName"].get(name) != simdjson::SUCCESS || doc["timestamp"].get(ts_text) != simdjson::SUCCESS) {
          ++invalid;
          continue;
        }
        int64_t zip = 0;
        double price = 0;
        auto ts = ParseTimestamp(ts_text);
        ASSERT_TRUE(ts.has_value()) << r.data;
        ASSERT_EQ(doc["zipcode"].get(zip), simdjson::SUCCESS) << r.data;
        ASSERT_EQ(doc["price"].get(price), simdjson::SUCCESS) << r.data;
        db.Exec("INSERT INTO events VALUES (" + std::to_string(p) + ", " + std::to_string(off++) + ", " +
                std::to_string(zip) + ", " + SqlString(name) + ", " + Shortest(price) + ", " + std::to_string(*ts) +
                ")");
        ++valid;
      }
    }
  }
  EXPECT_EQ(valid, total);
  EXPECT_EQ(invalid, 3u);
  // Every answer against SQLite over exactly the events it covers.
  int compared = 0;
  for (const Answer& a : answers_) {
    for (const ViewCase& c : ExampleViewCases()) {
      if (c.view != a.view) continue;
      std::string sql = c.sql;
      sql.replace(sql.find("{cover}"), 7, Cover(a.speed));
      const auto diffs = CompareView(db.get(), sql, c.cols, a.tsv);
      EXPECT_TRUE(diffs.empty()) << a.view << " at S=" << Cover(a.speed) << ": " << diffs.front();
      ++compared;
    }
  }
  EXPECT_GE(compared, 10);
  // Dead letters: the three records, with shard and sequence number.
  const std::string rejects = ReadFile(Data() / "rejects" / "rejects.jsonl");
  size_t lines = 0;
  for (const std::string& l : Split(rejects, '\n')) {
    if (l.empty()) continue;
    ++lines;
    EXPECT_NE(l.find("kinesis://events shard shardId-"), std::string::npos) << l;
    EXPECT_NE(l.find(" sequence number "), std::string::npos) << l;
  }
  EXPECT_GE(lines, 3u);
  std::printf("KinesisRun: %d answers compared, %llu events, %llu dead letters lines, %zu shards mapped\n", compared,
              static_cast<unsigned long long>(valid), static_cast<unsigned long long>(lines), mapped);
}

}  // namespace
}  // namespace lf::test
