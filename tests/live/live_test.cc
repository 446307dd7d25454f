// Live tests: the real `lambdaflow run` server, fed over HTTP while it is
// queried, against SQLite over exactly the events each answer covers.
//
// The lambda equation (the README, "Concepts" and "HTTP API"): every answer carries
// "watermarks": {"batch": [W], "speed": [S]} and must equal the view
// recomputed over the log's events [0, S). A producer thread POSTs seeded
// random NDJSON bodies (1-200 lines, a few invalid lines of predictable
// rejection) and records every accepted event under the log offset the answer
// gives it. A query thread asks the server (whole views as JSON and TSV, key
// lookups, filters, ?order_by=&limit=, POST /v1/query), waits until the
// producer has recorded every offset below the answer's S (an answer may
// include events whose POST answer has not arrived yet), and compares the rows
// with SQLite over exactly those events.
//
// LiveEquation: the above while batch versions come and go (small segments,
//   a short batch interval): at least 120 answers, at least 3 batch versions,
//   W <= S, S never decreasing, some answers merging both layers (0 < W < S);
//   at the end S reaches every acknowledged event and SIGTERM exits 0.
// LiveEquationPartitions: the same over 4 partitions (--partitions=4), the
//   producer sending half its bodies with ?partition=P and the others
//   round-robin; W and S per partition, the oracle over the union of
//   [0, S[p]). LiveEquationPartitionByKey: 4 partitions, each body split by
//   murmur2 of k (--partition-by=k), the producer checking every range
//   against its own murmur2 of the keys.
// KillAndRestart (6 seeds, each with another fsync policy; seeds 3 to 5
//   over 4 partitions, restarted without --partitions, seed 5 split by key):
//   the same, then
//   kill -9 at a seeded random moment while a POST may be in flight; restart
//   on the same data directory: the log holds every acknowledged event, and
//   beyond them a prefix of the in-flight POST's valid lines (that prefix
//   extends the offset -> event map); answers taken before the kill are
//   checked against it too; then production and comparison go on (at least
//   25 answers after the restart).
// HttpErrors: the error answers of the README's HTTP API, each a JSON
//   {"error", "detail"} with the right status and a useful detail.
// KeyLookupValidatesOrderByAndLimit: a key lookup refuses a bad order_by or
//   limit like the other paths do.
// SigtermWithIdleKeepAliveConnection: SIGTERM ends the server within 5 s
//   while a client holds an idle keep-alive connection.
//
// Comparison (tests/testing/oracle_support.h): integers, text and timestamps
// exactly; MIN/MAX of doubles exactly; SUM/AVG of doubles within 1e-9
// relative plus 1e-12 of the sum of absolute values; APPROX_COUNT_DISTINCT
// within 5% (+1) of COUNT(DISTINCT).
//
// A failing test keeps its temporary directory (data directory, views file,
// the servers' stderr) and prints the servers' stderr.

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "live/live_checker.h"
#include "live/live_events.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

// Built a second time as s3_live_test (tests/aws): the same tests with the
// shared store on S3 (s3rver behind the shim), plus an S3 outage.
#ifdef LF_LIVE_STORE_S3
#include <cstdlib>

#include "aws/s3_emulator.h"
#endif

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test::live {
namespace {

// ---------------------------------------------------------------------------
// The fixture: a temporary directory, the views file, the server processes.

class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(LAMBDAFLOW_BIN)) << LAMBDAFLOW_BIN;
    dir_ = std::make_unique<TempDir>("lf-live");
    WriteFile(dir_->path() / "views.sql", kViews);
#ifdef LF_LIVE_STORE_S3
    std::string skip, error;
    s3_ = S3Emulator::Start(false, &skip, &error);
    if (!s3_ && !skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(s3_, nullptr) << error;
    // `run` reads AWS's own variables (the child inherits them).
    const aws::AwsConfig c = s3_->Config();
    ::setenv("AWS_ACCESS_KEY_ID", c.credentials.access_key_id.c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", c.credentials.secret_access_key.c_str(), 1);
    ::setenv("AWS_REGION", c.region.c_str(), 1);
    ::setenv("AWS_ENDPOINT_URL_S3", c.s3_endpoint->Url("").c_str(), 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    // Sealing to S3 takes several round trips per segment, and the S3
    // outage stops it for seconds: the backlog allowed before POSTs are
    // answered 503 is raised, so that what is tested is sealing and batch
    // runs under an outage, not the producer's resends.
    store_flags_ = {"--store", s3_->Url("live"), "--max-unsealed-segments=1000"};
#endif
  }

  void TearDown() override {
    if (server_) server_->Kill9();
    if (HasFailure()) {
      for (int i = 1; i <= starts_; ++i) {
        std::string text = ReadFile(StderrPath(i));
        if (text.size() > 20000) text = "...\n" + text.substr(text.size() - 20000);
        std::fprintf(stderr, "---- stderr of server start %d (%s):\n%s----\n", i, StderrPath(i).c_str(), text.c_str());
      }
    }
    server_.reset();
    dir_.reset();
#ifdef LF_LIVE_STORE_S3
    s3_.reset();
#endif
  }

  fs::path StderrPath(int start) const { return dir_->path() / ("server-" + std::to_string(start) + ".stderr"); }
  fs::path DataDir() const { return dir_->path() / "data"; }

  // Starts `lambdaflow run` on the data directory with small segments and a
  // short batch interval (plus `extra` flags); fails the test if it does not
  // come up.
  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "run", "--data", DataDir().string(), "--views", (dir_->path() / "views.sql").string(), "--listen=127.0.0.1:0"};
    for (const char* flag : {"--seal-events=400", "--seal-age=0.2", "--batch-interval=0.3", "--micro-batch-ms=10"})
      args.push_back(flag);
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), store_flags_.begin(), store_flags_.end());
    std::string error;
    server_ = ServerProcess::Start(LAMBDAFLOW_BIN, args, StderrPath(++starts_), milliseconds(10000), &error);
    ASSERT_NE(server_, nullptr) << "lambdaflow run did not start: " << error;
  }

  // Stops the server with SIGTERM; it must exit 0.
  void StopServer() {
    std::string how;
    EXPECT_EQ(server_->Terminate(milliseconds(15000), &how), 0) << "lambdaflow run after SIGTERM: " << how;
    server_.reset();
  }

  // Once the producer stopped: the answers reach S = every acknowledged
  // event, and then equal SQLite over all of them.
  void CheckCatchUp(Checker& checker, Ledger& ledger) {
    auto client = NewClient(*server_);
    const std::vector<uint64_t> acked = ledger.prefixes();
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    while (checker.last_s_all() != acked && Clock::now() < deadline) {
      Query q;
      q.view = "totals";
      q.path = "/v1/views/totals";
      q.oracle_sql = "SELECT * FROM (" + View("totals").inner + ")";
      q.cols = View("totals").cols;
      q.what = "GET " + q.path;
      ASSERT_TRUE(checker.Ask(*client, q, false)) << checker.error();
      if (checker.last_s_all() != acked) std::this_thread::sleep_for(milliseconds(20));
    }
    ASSERT_EQ(checker.last_s_all(), acked) << "the speed watermark did not reach the acknowledged events";
    for (const auto& v : Views()) {
      Query q;
      q.view = v.name;
      q.path = "/v1/views/" + v.name;
      q.oracle_sql = "SELECT * FROM (" + v.inner + ")" + (v.order.empty() ? "" : " ORDER BY " + v.order);
      q.cols = v.cols;
      q.what = "GET " + q.path + " (at the end)";
      ASSERT_TRUE(checker.Ask(*client, q, false)) << checker.error();
    }
  }

  void RunLiveEquation(uint64_t seed, ProduceMode mode, const std::vector<std::string>& flags);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  int starts_ = 0;
  // Flags naming the shared store (none: the data directory).
  std::vector<std::string> store_flags_;
  // Called once, 1.5 s into RunLiveEquation (while producing and querying).
  std::function<void()> during_run_;
#ifdef LF_LIVE_STORE_S3
  std::unique_ptr<S3Emulator> s3_;
#endif
};

// Sets the flag and joins the threads when the scope ends, also on a failed
// ASSERT. The producer is added first and joined first: it finishes the POST
// it is sending and records its answer, then closes the ledger itself. The
// ledger is not closed before that: a query answered meanwhile may cover
// that POST's events, and waits for the producer to record them (closing
// the ledger early made it fail "the answer covers the log up to S=... but
// only ... events were acknowledged" although the POST was acknowledged).
class Joiner {
 public:
  Joiner(std::atomic<bool>& stop, Ledger& ledger) : stop_(stop), ledger_(ledger) {}
  ~Joiner() { Join(); }
  void Add(std::thread t) { threads_.push_back(std::move(t)); }
  void Join() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
    ledger_.Close();
  }

 private:
  std::atomic<bool>& stop_;
  Ledger& ledger_;
  std::vector<std::thread> threads_;
};

// The live equation over `mode`'s partitions (server flags `flags`).
void LiveTest::RunLiveEquation(uint64_t kSeed, ProduceMode mode, const std::vector<std::string>& flags) {
  const auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  Ledger ledger(mode.partitions);
  Checker checker(ledger, kSeed + 1, "seed " + std::to_string(kSeed) + ", data " + DataDir().string());
  EventGen gen(kSeed);
  Rng pacing(kSeed + 2);
  ProducerState produced(mode.partitions);
  std::atomic<bool> stop{false}, killed{false};
  {
    Joiner joiner(stop, ledger);
    joiner.Add(std::thread([&] { Produce(*server_, gen, pacing, ledger, stop, killed, &produced, mode); }));
    joiner.Add(std::thread([&] { QueryLoop(*server_, checker, stop, killed, false); }));
    // At least 120 answers over at least 3 batch versions and 5 s; at most 40 s.
    while (Clock::now() - start < std::chrono::seconds(40) && checker.failures() == 0 &&
           (checker.compared() < 120 || checker.num_versions() < 3 || Clock::now() - start < std::chrono::seconds(5))) {
      if (during_run_ && Clock::now() - start > milliseconds(1500)) {
        during_run_();
        during_run_ = nullptr;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    joiner.Join();
  }
  ASSERT_EQ(checker.failures(), 0);
  EXPECT_GE(checker.compared(), 120);
  EXPECT_GE(checker.num_versions(), 3u) << "batch versions seen";
  EXPECT_GT(checker.merged(), 0) << "no answer merged the batch and the speed layer (0 < W < S)";
  EXPECT_GT(produced.rejected, 0u);
  // Every kind of query was compared, and not only over empty answers.
  std::string kinds;
  for (const auto& [kind, counts] : checker.kinds()) {
    kinds += "; " + (kind.empty() ? std::string("final") : kind) + " " + std::to_string(counts.first) + " (" +
             std::to_string(counts.second) + " with rows)";
    EXPECT_GT(counts.second, 0) << "no answer of kind '" << kind << "' had rows";
  }
  EXPECT_EQ(checker.kinds().size(), 11u) << kinds;
  ASSERT_NO_FATAL_FAILURE(CheckCatchUp(checker, ledger));
  StopServer();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "LiveEquation (%d partitions%s): %d posts (%d answers 503, resent), %llu events accepted, %llu rejected; %d "
      "answers compared (%d merging both layers), %zu batch versions, %.1f s\n",
      mode.partitions, mode.by_key ? ", by key" : "", produced.posts, produced.busy,
      static_cast<unsigned long long>(produced.accepted), static_cast<unsigned long long>(produced.rejected),
      checker.compared(), checker.merged(), checker.num_versions(), secs);
  std::printf("LiveEquation: answers by kind%s\n", kinds.c_str());
  // Every partition got events.
  for (int p = 0; p < mode.partitions; ++p) EXPECT_GT(ledger.prefix(p), 0u) << "partition " << p;
}

TEST_F(LiveTest, LiveEquation) { RunLiveEquation(0x11fe0001, {}, {}); }

// Four partitions: ?partition=P and round-robin requests; the equation per
// partition and over their union.
TEST_F(LiveTest, LiveEquationPartitions) { RunLiveEquation(0x11fe0002, {.partitions = 4}, {"--partitions=4"}); }

#ifdef LF_LIVE_STORE_S3
// S3 unavailable for a while: the shim answers the next 40 requests for
// batch versions and then the next 120 requests of any kind 503, more than
// the client's retries absorb, so batch runs and seals fail and are
// retried; serving goes on (every answer compared meanwhile), and once S3
// answers again the batch versions go on with nothing lost.
TEST_F(LiveTest, S3Outage) {
  during_run_ = [this] {
    ASSERT_TRUE(s3_->FailNext(40, 503, "", "live/batch/"));
    ASSERT_TRUE(s3_->FailNext(120, 503));
  };
  RunLiveEquation(0x11fe0009, {.partitions = 2}, {"--partitions=2"});
  // The outage was felt: a batch run failed (and the next ones were tried
  // again), and so, most likely, did a seal; the equation above held
  // throughout and at the end.
  const std::string log = ReadFile(StderrPath(1));
  const bool seal_retried = log.find("archiver: sealing") != std::string::npos;
  size_t failed_at = log.find("lambdaflow run: batch: Unavailable");
  if (failed_at == std::string::npos) failed_at = log.find("lambdaflow run: batch: IO");
  EXPECT_NE(failed_at, std::string::npos) << "no batch run failed during the outage:\n" << log;
  const bool version_after =
      failed_at != std::string::npos && log.find("lambdaflow run: batch: version", failed_at) != std::string::npos;
  std::printf(
      "S3Outage: a seal failed and was retried: %s; a batch run failed: %s; a version was published after: %s\n",
      seal_retried ? "yes" : "no", failed_at != std::string::npos ? "yes" : "no", version_after ? "yes" : "no");
}
#endif

#ifndef LF_LIVE_STORE_S3
// Four partitions, each body split by murmur2 of k (as `produce --to
// kafka://` keys by zipcode).
TEST_F(LiveTest, LiveEquationPartitionByKey) {
  RunLiveEquation(0x11fe0003, {.partitions = 4, .by_key = true}, {"--partitions=4", "--partition-by=k"});
}

// LiveTest with a seed number.
#endif

class LiveSeeded : public LiveTest, public ::testing::WithParamInterface<int> {};

TEST_P(LiveSeeded, KillAndRestart) {
  const uint64_t seed = 0x4b111000u + static_cast<uint64_t>(GetParam());
  // Per seed a different fsync policy, so that the kill also lands between
  // an append and its acknowledgement (a long group-commit window).
  const std::vector<std::vector<std::string>> policies = {
      {}, {"--fsync", "always"}, {"--fsync", "interval", "--fsync-interval-ms", "40"}};
  std::vector<std::string> flags = policies[static_cast<size_t>(GetParam()) % policies.size()];
  // Seeds from 3 on: four partitions (given at creation only; the restart
  // keeps the directory's count); seed 5 splits bodies by key.
  const ProduceMode mode{.partitions = GetParam() >= 3 ? 4 : 1, .by_key = GetParam() == 5};
  std::vector<std::string> first_flags = flags;
  if (mode.partitions > 1) first_flags.push_back("--partitions=" + std::to_string(mode.partitions));
  if (mode.by_key) {
    first_flags.push_back("--partition-by=k");
    flags.push_back("--partition-by=k");
  }
  const auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartServer(first_flags));
  Ledger ledger(mode.partitions);
  const std::string context = "seed " + std::to_string(seed) + ", data " + DataDir().string();
  Checker checker(ledger, seed + 1, context);
  EventGen gen(seed);
  Rng pacing(seed + 2);
  const milliseconds kill_after(pacing.Int(300, 1500));
  ProducerState produced(mode.partitions);
  Clock::time_point kill_time;

  // Phase 1: produce and query, then kill -9 at a seeded moment.
  {
    std::atomic<bool> stop{false}, killed{false};
    Joiner joiner(stop, ledger);
    joiner.Add(std::thread([&] { Produce(*server_, gen, pacing, ledger, stop, killed, &produced, mode); }));
    joiner.Add(std::thread([&] { QueryLoop(*server_, checker, stop, killed, true); }));
    std::this_thread::sleep_for(kill_after);
    killed = true;
    kill_time = Clock::now();
    server_->Kill9();
    joiner.Join();
  }
  ASSERT_EQ(checker.failures(), 0);
  const std::vector<uint64_t> acked_by_partition = ledger.prefixes();
  ASSERT_EQ(acked_by_partition, produced.next_from);
  uint64_t acked = 0;
  for (uint64_t a : acked_by_partition) acked += a;
  const ProducerState at_kill = produced;
  const int answers_before = checker.compared();

  // Restart on the same data directory: every acknowledged event is in the
  // log; beyond them, at most a prefix of the in-flight POST's valid lines,
  // all in one partition (its ?partition= if it had one).
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  std::vector<uint64_t> log_end;
  {
    auto client = NewClient(*server_);
    auto res = client->Get("/v1/status");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array ends;
    ASSERT_FALSE(parser.parse(res->body).get(doc) || doc["log_end"].get(ends) ||
                 ends.size() != static_cast<size_t>(mode.partitions))
        << res->body;
    for (simdjson::dom::element e : ends) {
      uint64_t end = 0;
      ASSERT_FALSE(e.get(end)) << res->body;
      log_end.push_back(end);
    }
  }
  // Per partition, the in-flight events it may hold beyond the acknowledged
  // ones: all of them (one partition; which one, unless ?partition= said),
  // or, split by key, that partition's part (its keys' events, plus the
  // NULL keys' if it was the request's round-robin partition): each
  // partition's part is one record, there in full or not at all.
  uint64_t kept_count = 0;
  ledger.Reopen();
  std::optional<int> kept_partition;
  for (int p = 0; p < mode.partitions; ++p) {
    const uint64_t end = log_end[static_cast<size_t>(p)], had = acked_by_partition[static_cast<size_t>(p)];
    ASSERT_GE(end, had) << context << ": acknowledged events of partition " << p << " were lost";
    if (end == had) continue;
    std::vector<Event> kept;
    if (mode.by_key) {
      std::vector<Event> keyed, with_nulls;
      for (const Event& e : produced.in_flight) {
        const bool mine = e.k && KeyPartition(std::to_string(*e.k), mode.partitions) == p;
        if (mine) keyed.push_back(e);
        if (mine || !e.k) with_nulls.push_back(e);
      }
      if (end - had == keyed.size()) {
        kept = keyed;
      } else {
        ASSERT_EQ(end - had, with_nulls.size()) << context << ": partition " << p << " holds " << end - had
                                                << " unacknowledged events, not the in-flight body's part for it";
        kept = with_nulls;
      }
    } else {
      ASSERT_FALSE(kept_partition) << context << ": partitions " << *kept_partition << " and " << p
                                   << " both hold unacknowledged events";
      if (produced.in_flight_partition) {
        ASSERT_EQ(p, *produced.in_flight_partition) << context;
      }
      kept_partition = p;
      ASSERT_LE(end - had, produced.in_flight.size())
          << context << ": the log has more events than were acknowledged plus the in-flight POST's";
      kept.assign(produced.in_flight.begin(), produced.in_flight.begin() + static_cast<ptrdiff_t>(end - had));
    }
    kept_count += kept.size();
    ASSERT_TRUE(ledger.Record(p, had, kept));
  }
  ASSERT_LE(kept_count, produced.in_flight.size()) << context;
  produced.next_from = log_end;
  checker.CompareDeferred();
  checker.ResetS();

  // Phase 2: produce and query on; the first answer already covers every
  // acknowledged event.
  const int before_restart = checker.compared();
  {
    std::atomic<bool> stop{false}, killed{false};
    auto client = NewClient(*server_);
    Query q = checker.Next();
    ASSERT_TRUE(checker.Ask(*client, q, false)) << checker.error();
    for (int p = 0; p < mode.partitions; ++p)
      EXPECT_GE(checker.last_s_all()[static_cast<size_t>(p)], acked_by_partition[static_cast<size_t>(p)])
          << context << ": " << q.what << " after the restart, partition " << p;
    Joiner joiner(stop, ledger);
    joiner.Add(std::thread([&] { Produce(*server_, gen, pacing, ledger, stop, killed, &produced, mode); }));
    joiner.Add(std::thread([&] { QueryLoop(*server_, checker, stop, killed, false); }));
    const auto phase2 = Clock::now();
    while (Clock::now() - phase2 < std::chrono::seconds(30) && checker.failures() == 0 &&
           (checker.compared() - before_restart < 25 || Clock::now() - phase2 < milliseconds(800)))
      std::this_thread::sleep_for(milliseconds(20));
    joiner.Join();
  }
  ASSERT_EQ(checker.failures(), 0);
  EXPECT_GE(checker.compared() - before_restart, 25);
  ASSERT_NO_FATAL_FAILURE(CheckCatchUp(checker, ledger));
  StopServer();
  // Times relative to the kill (negative: before it).
  auto at = [&](Clock::time_point t) {
    if (t == Clock::time_point{}) return std::string("none");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f ms", std::chrono::duration<double, std::milli>(t - kill_time).count());
    return std::string(buf);
  };
  std::printf(
      "KillAndRestart seed %llu (%s, %d partitions%s): killed at %lld ms; last POST answer at %s, unanswered POST sent "
      "at %s "
      "(relative to the kill); %llu events acknowledged, %zu in flight of which %llu kept; %d answers compared "
      "before the kill (%d of them after the restart), %d after; %.1f s\n",
      static_cast<unsigned long long>(seed),
      flags.empty() || flags[0] != "--fsync" ? "default fsync" : flags[1].c_str(), mode.partitions,
      mode.by_key ? ", by key" : "", static_cast<long long>(kill_after.count()), at(at_kill.last_answer).c_str(),
      at(at_kill.in_flight_sent).c_str(), static_cast<unsigned long long>(acked), at_kill.in_flight.size(),
      static_cast<unsigned long long>(kept_count), answers_before, before_restart - answers_before,
      checker.compared() - before_restart, std::chrono::duration<double>(Clock::now() - start).count());
}

#ifdef LF_LIVE_STORE_S3
// On S3: one partition with the default fsync, four with fsync always.
INSTANTIATE_TEST_SUITE_P(Seeds, LiveSeeded, ::testing::Values(0, 4));
#else
INSTANTIATE_TEST_SUITE_P(Seeds, LiveSeeded, ::testing::Range(0, 6));
#endif

#ifndef LF_LIVE_STORE_S3
// ---------------------------------------------------------------------------
// Error answers.

// `res` is an error answer: `status`, JSON {"error": code, "detail": ...}
// whose detail contains each of `details`.
void ExpectError(const httplib::Result& res, int status, const std::string& code,
                 const std::vector<std::string>& details, const std::string& what) {
  ASSERT_TRUE(res) << what << ": " << httplib::to_string(res.error());
  if (res->status != status) {
    ADD_FAILURE() << what << ": status " << res->status << ", expected " << status << " " << code
                  << "; body: " << res->body;
    return;
  }
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("application/json", 0), 0u)
      << what << ": Content-Type " << res->get_header_value("Content-Type");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  std::string_view error, detail;
  ASSERT_FALSE(parser.parse(res->body).get(doc) || doc.get(obj) || doc["error"].get(error) || doc["detail"].get(detail))
      << what << ": not a JSON {\"error\", \"detail\"}: " << res->body;
  EXPECT_EQ(obj.size(), 2u) << what << ": " << res->body;
  EXPECT_EQ(error, code) << what << ": " << res->body;
  EXPECT_GE(detail.size(), 10u) << what << ": detail too short to help: " << res->body;
  for (const auto& d : details) EXPECT_NE(detail.find(d), std::string_view::npos) << what << ": " << res->body;
}

TEST_F(LiveTest, HttpErrors) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--max-body-bytes", "4096"}));
  auto client = NewClient(*server_);

  ExpectError(client->Post("/v1/query", "{\"sql\": ", "application/json"), 400, "bad_request", {"sql"},
              "POST /v1/query, malformed JSON");
  ExpectError(client->Post("/v1/query", "{\"query\": \"SELECT * FROM by_k\"}", "application/json"), 400, "bad_request",
              {"sql"}, "POST /v1/query, JSON without \"sql\"");
  ExpectError(client->Post("/v1/query", "{\"sql\": \"SELECT k\\nFROM by_k\\nWHERE k = = 1\"}", "application/json"), 400,
              "bad_request", {"3:11"}, "POST /v1/query, bad SQL on line 3");
  ExpectError(client->Post("/v1/query", "SELECT k FROM by_k WHER k = 1", "text/plain"), 400, "bad_request", {"1:"},
              "POST /v1/query, bad SQL as text/plain");
  ExpectError(client->Post("/v1/query", "{\"sql\": \"SELECT zz FROM by_k\"}", "application/json"), 400, "bad_request",
              {"1:8", "zz"}, "POST /v1/query, unknown column");
  ExpectError(client->Get("/v1/views/nope"), 404, "not_found", {"nope"}, "GET /v1/views/nope");
  ExpectError(client->Post("/v1/query", "{\"sql\": \"SELECT * FROM nope\"}", "application/json"), 404, "not_found",
              {"nope", "1:15"}, "POST /v1/query FROM nope");
  ExpectError(client->Get("/v1/views/by_k?k=notanumber"), 400, "bad_request", {"notanumber", "k"},
              "GET /v1/views/by_k?k=notanumber");
  ExpectError(client->Get("/v1/views/revenue?hour=noon"), 400, "bad_request", {"noon", "hour"},
              "GET /v1/views/revenue?hour=noon");
  ExpectError(client->Get("/v1/views/by_k?nosuchcolumn=1"), 400, "bad_request", {"nosuchcolumn"},
              "GET /v1/views/by_k?nosuchcolumn=1");
  ExpectError(client->Get("/v1/views/by_k?order_by=zz"), 400, "bad_request", {"zz"}, "GET ?order_by=zz");
  ExpectError(client->Get("/v1/views/by_k?limit=-1"), 400, "bad_request", {"-1"}, "GET ?limit=-1");
  ExpectError(client->Get("/v1/views/by_k?format=xml"), 400, "bad_request", {"xml"}, "GET ?format=xml");
  ExpectError(client->Get("/v2/nothing/here"), 404, "not_found", {"/v2/nothing/here"}, "GET an unknown path");
  ExpectError(client->Delete("/v1/events"), 405, "method_not_allowed", {"DELETE", "POST"}, "DELETE /v1/events");

  // An empty body accepts nothing: offsets from == to == the log's end (0).
  auto empty = client->Post("/v1/events", "", "application/x-ndjson");
  ASSERT_TRUE(empty) << httplib::to_string(empty.error());
  EXPECT_EQ(empty->status, 200) << empty->body;
  EXPECT_NE(empty->body.find("\"accepted\":0"), std::string::npos) << empty->body;
  EXPECT_NE(empty->body.find("\"offsets\":{\"partition\":0,\"from\":0,\"to\":0}"), std::string::npos) << empty->body;

  // A body over --max-body-bytes: 413, and nothing of it in the log.
  std::string line = "{\"k\":1,\"name\":\"product1\",\"v\":5,\"price\":1.25,\"ts\":\"2014-11-01 19:35:41.158\"}\n";
  std::string big, small;
  while (big.size() + line.size() <= 6000) big += line;
  while (small.size() + line.size() <= 4096) small += line;
  ExpectError(client->Post("/v1/events", big, "application/x-ndjson"), 413, "payload_too_large", {"4096"},
              "POST /v1/events of " + std::to_string(big.size()) + " bytes");
  auto fresh = NewClient(*server_);  // the server may close the connection after a 413
  auto res = fresh->Post("/v1/events", small, "application/x-ndjson");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const uint64_t lines_in_small = small.size() / line.size();
  EXPECT_NE(res->body.find("\"offsets\":{\"partition\":0,\"from\":0,\"to\":" + std::to_string(lines_in_small) + "}"),
            std::string::npos)
      << "the 413 body must not have been appended: " << res->body;

  // The error answers did not stop the server.
  res = fresh->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  client.reset();
  fresh.reset();
  StopServer();
}

// A filter on all the key columns is a key lookup; it must still refuse what
// the other paths refuse: an unknown order_by column, a malformed limit.
TEST_F(LiveTest, KeyLookupValidatesOrderByAndLimit) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto client = NewClient(*server_);
  ExpectError(client->Get("/v1/views/by_k?order_by=zz"), 400, "bad_request", {"zz"}, "GET by_k?order_by=zz");
  ExpectError(client->Get("/v1/views/by_k?k=1&order_by=zz"), 400, "bad_request", {"zz"},
              "GET by_k?k=1&order_by=zz (a key lookup)");
  ExpectError(client->Get("/v1/views/by_k?limit=abc"), 400, "bad_request", {"abc"}, "GET by_k?limit=abc");
  ExpectError(client->Get("/v1/views/by_k?k=1&limit=abc"), 400, "bad_request", {"abc"},
              "GET by_k?k=1&limit=abc (a key lookup)");
  ExpectError(client->Get("/v1/views/by_k?k=1&limit=-1"), 400, "bad_request", {"-1"},
              "GET by_k?k=1&limit=-1 (a key lookup)");
  client.reset();
  StopServer();
}

// SIGTERM ends the server promptly, also while a client holds an idle
// keep-alive connection (as browsers, `produce --to` and load balancers do).
TEST_F(LiveTest, SigtermWithIdleKeepAliveConnection) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto client = NewClient(*server_);
  auto res = client->Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200);
  const auto start = Clock::now();
  std::string how;
  EXPECT_EQ(server_->Terminate(milliseconds(5000), &how), 0) << "lambdaflow run after SIGTERM: " << how;
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(secs, 5.0) << "SIGTERM took " << secs << " s with an idle keep-alive connection open";
}

#endif  // LF_LIVE_STORE_S3

}  // namespace
}  // namespace lf::test::live
