// Idempotent producers against the real `lambdaflow run` (issue 10, Deliver
// 4 and 5): the headers' rule over HTTP, and a producer whose server is
// killed with SIGKILL at seeded random moments while a batch is in flight,
// which retries that batch after the restart. The log must hold every
// batch exactly once: the answers' offsets tile [0, N) with no gap and no
// overlap, the log ends at N, and a view counting events per id (an
// independent oracle: the ids the test sent) finds each id once.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr const char* kViews =
    "CREATE STREAM events (id BIGINT NOT NULL, batch BIGINT NOT NULL);\n"
    "CREATE VIEW by_id AS SELECT id, COUNT(*) AS n FROM events GROUP BY id;\n"
    "CREATE VIEW total AS SELECT COUNT(*) AS n FROM events;\n";

std::string Body(int64_t batch, int64_t first, int64_t n) {
  std::string b;
  for (int64_t i = first; i < first + n; ++i)
    b += "{\"id\":" + std::to_string(i) + ",\"batch\":" + std::to_string(batch) + "}\n";
  return b;
}

struct Answer {
  int status = 0;  // 0: no answer
  int64_t from = -1, to = -1;
  bool duplicate = false;
  std::string body;
};

int64_t Field(const std::string& body, const std::string& key) {
  const size_t p = body.find("\"" + key + "\":");
  if (p == std::string::npos) return -1;
  return std::stoll(body.substr(p + key.size() + 3));
}

Answer Post(const std::string& host, int port, const std::string& body, const std::string& id, const std::string& seq) {
  httplib::Client c(host, port);
  c.set_read_timeout(30);
  httplib::Headers h;
  if (!id.empty()) h.emplace("X-Producer-Id", id);
  if (!seq.empty()) h.emplace("X-Producer-Seq", seq);
  auto res = c.Post("/v1/events", h, body, "application/x-ndjson");
  Answer a;
  if (!res) return a;
  a.status = res->status;
  a.body = res->body;
  a.from = Field(res->body, "from");
  a.to = Field(res->body, "to");
  a.duplicate = res->body.find("\"duplicate\":true") != std::string::npos;
  return a;
}

std::unique_ptr<ServerProcess> StartServer(const fs::path& tmp, const fs::path& views,
                                           const std::vector<std::string>& extra = {}) {
  std::string error;
  std::vector<std::string> args = {"run", "--data", (tmp / "data").string(), "--views", views.string()};
  for (const char* flag :
       {"--listen", "127.0.0.1:0", "--batch-interval", "1", "--seal-age", "0.2", "--seal-events", "20000"})
    args.push_back(flag);
  args.insert(args.end(), extra.begin(), extra.end());
  auto s = ServerProcess::Start(LAMBDAFLOW_BIN, args, tmp / "server.err", milliseconds(30000), &error);
  EXPECT_NE(s, nullptr) << error;
  return s;
}

TEST(ProducerRetry, HeadersRuleOverHttp) {
  TempDir tmp("lf-producer");
  WriteFile(tmp.path() / "views.sql", kViews);
  auto s = StartServer(tmp.path(), tmp.path() / "views.sql");
  ASSERT_NE(s, nullptr);
  const std::string body = Body(0, 0, 5);
  Answer a = Post(s->host(), s->port(), body, "p", "0");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.from, 0);
  EXPECT_EQ(a.to, 5);
  EXPECT_FALSE(a.duplicate);
  Answer again = Post(s->host(), s->port(), body, "p", "0");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.duplicate) << again.body;
  EXPECT_EQ(again.from, 0);
  EXPECT_EQ(again.to, 5);
  Answer skip = Post(s->host(), s->port(), body, "p", "2");
  EXPECT_EQ(skip.status, 409) << skip.body;
  EXPECT_NE(skip.body.find("send seq 1"), std::string::npos) << skip.body;
  EXPECT_EQ(Post(s->host(), s->port(), body, "p", "").status, 400);
  EXPECT_EQ(Post(s->host(), s->port(), body, "", "1").status, 400);
  EXPECT_EQ(Post(s->host(), s->port(), body, std::string(65, 'x'), "1").status, 400);
  EXPECT_EQ(Post(s->host(), s->port(), body, "p", "x1").status, 400);
  Answer next = Post(s->host(), s->port(), Body(1, 5, 3), "p", "1");
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.from, 5);
  EXPECT_EQ(next.to, 8);
  // Without the headers, a body is appended every time.
  Answer plain = Post(s->host(), s->port(), Body(2, 8, 1), "", "");
  EXPECT_EQ(plain.from, 8);
  // After a restart, the table is recovered from the log.
  s->Kill9();
  s = StartServer(tmp.path(), tmp.path() / "views.sql");
  ASSERT_NE(s, nullptr);
  Answer after = Post(s->host(), s->port(), Body(1, 5, 3), "p", "1");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(after.duplicate) << after.body;
  EXPECT_EQ(after.from, 5);
  EXPECT_EQ(after.to, 8);
}

// Deliver 4 + 5 and finding 14: kill -9 while a batch is in flight, retry it
// after the restart, and count.
TEST(ProducerRetry, KillNineWhileSendingThenRetryIsExactlyOnce) {
  TempDir tmp("lf-producer-kill");
  WriteFile(tmp.path() / "views.sql", kViews);
  const uint64_t seed = 20261206;
  std::mt19937_64 rng(seed);
  constexpr int64_t kBatch = 1500;
  constexpr int kKills = 6;
  int64_t seq = 0;       // of the batch in flight
  int64_t expected = 0;  // events acknowledged so far = the next batch's first id
  std::vector<std::pair<int64_t, int64_t>> ranges;
  int duplicates = 0;
  for (int round = 0; round <= kKills; ++round) {
    auto s = StartServer(tmp.path(), tmp.path() / "views.sql");
    ASSERT_NE(s, nullptr) << "seed " << seed << " round " << round;
    // A sender that runs until its server dies (or, in the last round, for 20 batches).
    std::atomic<bool> stop{false};
    std::string sender_error;
    std::thread sender([&] {
      for (int sent = 0; !stop.load() && (round < kKills || sent < 20); ++sent) {
        Answer a = Post(s->host(), s->port(), Body(seq, expected, kBatch), "producer-kill", std::to_string(seq));
        if (a.status == 0) return;  // killed: retried after the restart
        if (a.status == 503) {      // backpressure: the same batch again, shortly
          std::this_thread::sleep_for(milliseconds(100));
          --sent;
          continue;
        }
        if (a.status != 200) {
          sender_error = a.body;
          return;
        }
        if (a.from != expected || a.to != expected + kBatch) {
          sender_error = "batch " + std::to_string(seq) + " got offsets " + a.body;
          return;
        }
        if (a.duplicate) ++duplicates;
        ranges.push_back({a.from, a.to});
        expected += kBatch;
        ++seq;
      }
    });
    if (round < kKills) {
      std::this_thread::sleep_for(milliseconds(50 + static_cast<int64_t>(rng() % 400)));
      s->Kill9();
    }
    sender.join();
    ASSERT_TRUE(sender_error.empty()) << "seed " << seed << " round " << round << ": " << sender_error;
    if (round == kKills) {
      std::string how;
      EXPECT_EQ(s->Terminate(milliseconds(30000), &how), 0) << how;
    }
  }
  ASSERT_GT(expected, 0);
  // The offsets tile [0, expected).
  for (size_t i = 0; i < ranges.size(); ++i)
    EXPECT_EQ(ranges[i].first, static_cast<int64_t>(i) * kBatch) << "batch " << i;
  // The log ends exactly there, and every id is in it once.
  const fs::path dir = tmp.path() / "data";
  const std::string bin = LAMBDAFLOW_BIN;
  const std::string status_out = (tmp.path() / "status.json").string();
  ASSERT_EQ(RunShell(bin + " status --data " + ShellQuote(dir.string()) + " --format json > " + status_out), 0);
  const std::string status = ReadFile(status_out);
  EXPECT_NE(status.find("\"log_end\":[" + std::to_string(expected) + "]"), std::string::npos) << status;
  const std::string tsv = (tmp.path() / "by_id.tsv").string();
  ASSERT_EQ(RunShell(bin + " batch --data " + ShellQuote(dir.string()) + " > /dev/null 2>&1"), 0);
  ASSERT_EQ(
      RunShell(bin + " query --data " + ShellQuote(dir.string()) + " by_id --format tsv > " + tsv + " 2>/dev/null"), 0);
  const auto lines = Split(ReadFile(tsv), '\n');
  std::vector<int> seen(static_cast<size_t>(expected), 0);
  int64_t rows = 0, bad = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto cols = Split(lines[i], '\t');
    ASSERT_EQ(cols.size(), 2u) << lines[i];
    const int64_t id = std::stoll(cols[0]), n = std::stoll(cols[1]);
    ASSERT_TRUE(id >= 0 && id < expected) << "id " << id << " was never acknowledged";
    seen[static_cast<size_t>(id)] += static_cast<int>(n);
    ++rows;
    if (n != 1) ++bad;
  }
  EXPECT_EQ(rows, expected) << "seed " << seed;
  EXPECT_EQ(bad, 0) << "ids counted more than once; seed " << seed;
  std::printf("producer kill test: %lld events in %zu batches over %d kills, %d retries answered as duplicates\n",
              static_cast<long long>(expected), ranges.size(), kKills, duplicates);
}

// The same over 4 partitions with each body split by its ids' murmur2
// (--partition-by id): a kill may land between two partitions' appends of
// one batch; its retry completes the batch and doubles no part of it (every
// partition takes every seq). Each answer accounts for the whole batch; the
// partitions' ends sum to the events acknowledged; every id is counted once.
TEST(ProducerRetry, KillNineWhileSendingSplitByKeyIsExactlyOnce) {
  TempDir tmp("lf-producer-kill-split");
  WriteFile(tmp.path() / "views.sql", kViews);
  const uint64_t seed = 20261207;
  std::mt19937_64 rng(seed);
  constexpr int64_t kBatch = 1500;
  constexpr int kKills = 5;
  const std::vector<std::string> flags = {"--partitions", "4", "--partition-by", "id", "--fsync-interval-ms", "20"};
  int64_t seq = 0, expected = 0;
  int duplicates = 0, batches = 0;
  for (int round = 0; round <= kKills; ++round) {
    auto s = StartServer(tmp.path(), tmp.path() / "views.sql",
                         round == 0 ? flags : std::vector<std::string>{"--partition-by", "id"});
    ASSERT_NE(s, nullptr) << "seed " << seed << " round " << round;
    std::atomic<bool> stop{false};
    std::string sender_error;
    std::thread sender([&] {
      for (int sent = 0; !stop.load() && (round < kKills || sent < 20); ++sent) {
        Answer a = Post(s->host(), s->port(), Body(seq, expected, kBatch), "producer-split", std::to_string(seq));
        if (a.status == 0) return;
        if (a.status == 503) {
          std::this_thread::sleep_for(milliseconds(100));
          --sent;
          continue;
        }
        if (a.status != 200) {
          sender_error = a.body;
          return;
        }
        if (Field(a.body, "accepted") != kBatch || a.body.find("\"ranges\":[") == std::string::npos) {
          sender_error = "batch " + std::to_string(seq) + ": " + a.body;
          return;
        }
        if (a.duplicate) ++duplicates;
        expected += kBatch;
        ++seq;
        ++batches;
      }
    });
    if (round < kKills) {
      std::this_thread::sleep_for(milliseconds(50 + static_cast<int64_t>(rng() % 400)));
      s->Kill9();
    }
    sender.join();
    ASSERT_TRUE(sender_error.empty()) << "seed " << seed << " round " << round << ": " << sender_error;
    if (round == kKills) {
      std::string how;
      EXPECT_EQ(s->Terminate(milliseconds(30000), &how), 0) << how;
    }
  }
  ASSERT_GT(expected, 0);
  const fs::path dir = tmp.path() / "data";
  const std::string bin = LAMBDAFLOW_BIN;
  const std::string status_out = (tmp.path() / "status.json").string();
  ASSERT_EQ(RunShell(bin + " status --data " + ShellQuote(dir.string()) + " --format json > " + status_out), 0);
  const std::string status = ReadFile(status_out);
  const size_t at = status.find("\"log_end\":[");
  ASSERT_NE(at, std::string::npos) << status;
  const auto ends = Split(status.substr(at + 11, status.find(']', at) - at - 11), ',');
  ASSERT_EQ(ends.size(), 4u) << status;
  int64_t total = 0;
  for (const auto& e : ends) {
    EXPECT_GT(std::stoll(e), 0) << "a partition got no events: " << status;
    total += std::stoll(e);
  }
  EXPECT_EQ(total, expected) << status;
  const std::string tsv = (tmp.path() / "by_id.tsv").string();
  ASSERT_EQ(RunShell(bin + " batch --data " + ShellQuote(dir.string()) + " > /dev/null 2>&1"), 0);
  ASSERT_EQ(
      RunShell(bin + " query --data " + ShellQuote(dir.string()) + " by_id --format tsv > " + tsv + " 2>/dev/null"), 0);
  const auto lines = Split(ReadFile(tsv), '\n');
  int64_t rows = 0, bad = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto cols = Split(lines[i], '\t');
    ASSERT_EQ(cols.size(), 2u) << lines[i];
    const int64_t id = std::stoll(cols[0]), n = std::stoll(cols[1]);
    ASSERT_TRUE(id >= 0 && id < expected) << "id " << id << " was never acknowledged";
    ++rows;
    if (n != 1) ++bad;
  }
  EXPECT_EQ(rows, expected) << "seed " << seed;
  EXPECT_EQ(bad, 0) << "ids counted more than once; seed " << seed;
  std::printf(
      "producer kill test, split by key over 4 partitions: %lld events in %d batches over %d kills, %d "
      "retries answered as duplicates\n",
      static_cast<long long>(expected), batches, kKills, duplicates);
}

// Finding 14: a request killed while it is being appended leaves all of its
// events or none, never a prefix (without producer headers: nothing to
// retry, so the log end must stay a multiple of the body's events).
TEST(ProducerRetry, KilledRequestLeavesNoPrefix) {
  TempDir tmp("lf-torn-request");
  WriteFile(tmp.path() / "views.sql", kViews);
  constexpr int64_t kEvents = 60000;  // ~2 MB: its write to the log takes a while
  const std::string body = Body(0, 0, kEvents);
  std::mt19937_64 rng(77);
  int64_t complete = 0;
  constexpr int kRounds = 12;
  for (int round = 0; round < kRounds; ++round) {
    auto s = StartServer(tmp.path(), tmp.path() / "views.sql");
    ASSERT_NE(s, nullptr);
    httplib::Client c(s->host(), s->port());
    auto st = c.Get("/v1/status");
    ASSERT_TRUE(st);
    const size_t at = st->body.find("\"log_end\":[");
    ASSERT_NE(at, std::string::npos) << st->body;
    const int64_t end = std::stoll(st->body.substr(at + 11));
    ASSERT_EQ(end % kEvents, 0) << "a prefix of a killed request survived: log end " << end << " in round " << round;
    complete = end / kEvents;
    std::thread sender([&] { (void)Post(s->host(), s->port(), body, "", ""); });
    std::this_thread::sleep_for(std::chrono::microseconds(5000 + rng() % 60000));
    s->Kill9();
    sender.join();
  }
  std::printf("torn request test: %lld of %d killed requests were complete in the log\n",
              static_cast<long long>(complete), kRounds - 1);
}

}  // namespace
}  // namespace lf::test
