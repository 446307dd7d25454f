// Crash and damage tests: the real `lambdaflow` binary, run as a child
// process, killed with SIGKILL at seeded random moments, and its data
// directory then checked against the lambda equation (the README, "Concepts").
//
// IngestBatchQueryEqualsEval: the happy path end to end (two ingests with
//   bad lines, batch, re-batch, `batch --full`, an incremental batch), every
//   view's TSV against `lambdaflow eval` over the accepted events.
// KillNineDuringIngestSealAndBatch: per seed, kill -9 during ingest (which
//   seals as it goes), during batch, or twice in a row; restart from the
//   log's end and finish; then (a) the master dataset holds every input event
//   exactly once and in order, byte for byte, (b) status reports
//   log_end = sealed = batch_watermark = input size, (c) every view equals
//   eval over the whole input, plus an independent per-product count.
// KillDuringFirstIngestLeavesUsableDir: the states a kill leaves while the
//   data directory is being created must not make it unusable.
// SecondWriterRefused, CorruptVersionFileDetected, CorruptRawSegmentRefused:
//   one shape of damage or misuse each.
//
// Eval and query TSVs are compared byte for byte: the seed-shaped prices are
// multiples of 1/4, so every sum is exact in any order.
//
// A failing test keeps its temporary directory and prints its path (and the
// seed); a passing one removes it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "testing/oracle_support.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif
#ifndef LF_EXAMPLE_VIEWS
#error "LF_EXAMPLE_VIEWS must name examples/views.sql"
#endif

namespace {

namespace fs = std::filesystem;
using lf::test::ReadFile;
using lf::test::WriteFile;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Files.

// Splits NDJSON text into lines without their '\n'.
std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines, size_t from = 0, size_t to = SIZE_MAX) {
  std::string out;
  for (size_t i = from; i < std::min(to, lines.size()); ++i) out += lines[i] + "\n";
  return out;
}

// Inverts one bit in the middle of a file.
void FlipByte(const fs::path& p) {
  std::string data = ReadFile(p);
  ASSERT_FALSE(data.empty()) << p;
  data[data.size() / 2] ^= 0x10;
  WriteFile(p, data);
}

// Decompresses a whole zstd file (one or more frames).
bool Unzstd(const fs::path& p, std::string* out) {
  const std::string in = ReadFile(p);
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_initDStream(d);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::vector<char> buf(ZSTD_DStreamOutSize());
  size_t ret = 0;
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    ret = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(ret)) break;
    out->append(buf.data(), ob.pos);
  }
  ZSTD_freeDStream(d);
  return !in.empty() && !ZSTD_isError(ret) && ret == 0;
}

// Temporary directories of the shared test library, kept when a test fails.
struct TempDir : lf::test::TempDir {
  explicit TempDir(const char* tag) : lf::test::TempDir(std::string("lf-crash-") + tag) {}
};

// ---------------------------------------------------------------------------
// Child processes: lambdaflow with piped stdout/stderr (and optionally stdin).

class Child {
 public:
  explicit Child(const std::vector<std::string>& args, bool pipe_stdin = false) {
    int out[2], err[2], in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) std::abort();
    if (pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) std::abort();
    std::vector<std::string> argv_s = {LAMBDAFLOW_BIN};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      int stdin_fd = pipe_stdin ? in[0] : ::open("/dev/null", O_RDONLY);
      ::dup2(stdin_fd, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (pipe_stdin) {
      ::close(in[0]);
      in_fd_ = in[1];
    }
  }
  ~Child() {
    if (!reaped_) {
      Kill();
      Wait();
    }
    CloseStdin();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool WriteStdin(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(in_fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void CloseStdin() {
    if (in_fd_ >= 0) ::close(in_fd_);
    in_fd_ = -1;
  }

  // Collects output until `done()` holds, both pipes reach EOF, or the
  // deadline passes. Returns done().
  bool Pump(
      Clock::time_point deadline, const std::function<bool()>& done = [] { return false; }) {
    while (!done() && (out_fd_ >= 0 || err_fd_ >= 0)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
      int r = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) std::abort();
      Drain(fds[0], &out_fd_, &out_);
      Drain(fds[1], &err_fd_, &err_);
    }
    return done();
  }

  void Kill() {
    if (!reaped_) ::kill(pid_, SIGKILL);
  }

  // Reads to EOF and reaps; the exit code, or 128 + signal.
  int Wait() {
    Pump(Clock::time_point::max());
    if (!reaped_) {
      while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return 128 + WTERMSIG(status_);
  }
  bool Killed() const { return reaped_ && WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL; }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  // The last `acked N` among complete lines of stdout (0 if none), checking
  // that the acknowledged offsets never go back.
  uint64_t LastAcked() const {
    uint64_t last = 0;
    size_t pos = 0, nl;
    while ((nl = out_.find('\n', pos)) != std::string::npos) {
      std::string_view line(out_.data() + pos, nl - pos);
      if (line.rfind("acked ", 0) == 0) {
        uint64_t n = std::stoull(std::string(line.substr(6)));
        EXPECT_GE(n, last) << "acknowledged offsets went back";
        last = n;
      }
      pos = nl + 1;
    }
    return last;
  }
  size_t AckLines() const {
    size_t n = 0;
    for (size_t pos = 0; (pos = out_.find("acked ", pos)) != std::string::npos; ++pos) ++n;
    return n;
  }

 private:
  static void Drain(const pollfd& p, int* fd, std::string* into) {
    if (*fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) return;
    char buf[65536];
    ssize_t n = ::read(*fd, buf, sizeof buf);
    if (n > 0) {
      into->append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      ::close(*fd);
      *fd = -1;
    }
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1, in_fd_ = -1;
  std::string out_, err_;
  int status_ = 0;
  bool reaped_ = false;
};

struct Ran {
  int code;
  std::string out, err;
};

Ran RunLf(const std::vector<std::string>& args) {
  Child c(args);
  int code = c.Wait();
  return {code, c.out(), c.err()};
}

std::string Describe(const std::vector<std::string>& args, const Ran& r) {
  std::string s = "lambdaflow";
  for (const auto& a : args) s += " " + a;
  return s + "\n  exit " + std::to_string(r.code) + "\n  stderr: " + r.err;
}

#define RUN_OK(var, ...)                                  \
  Ran var;                                                \
  {                                                       \
    const std::vector<std::string> args_ = {__VA_ARGS__}; \
    var = RunLf(args_);                                   \
    ASSERT_EQ(var.code, 0) << Describe(args_, var);       \
  }

// ---------------------------------------------------------------------------
// The views, status, master dataset and oracle.

std::vector<std::string> ViewNames(const fs::path& views_sql) {
  const std::string text = ReadFile(views_sql);
  std::regex re(R"(CREATE\s+VIEW\s+(\w+))", std::regex::icase);
  std::vector<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) names.push_back((*it)[1]);
  return names;
}

// The one-partition watermark `"key":[n]` of status JSON; nullopt if null or absent.
std::optional<uint64_t> JsonWatermark(const std::string& json, const std::string& key) {
  const std::string pat = "\"" + key + "\":[";
  size_t pos = json.find(pat);
  if (pos == std::string::npos) return std::nullopt;
  pos += pat.size();
  size_t end = json.find(']', pos);
  if (end == std::string::npos || end == pos || json.find(',', pos) < end) return std::nullopt;
  return std::stoull(json.substr(pos, end - pos));
}

struct StatusJson {
  std::string text;
  std::optional<uint64_t> log_end, sealed, batch_watermark;
};

StatusJson ReadStatus(const fs::path& dir) {
  const std::vector<std::string> args = {"status", "--data", dir.string(), "--format", "json"};
  Ran r = RunLf(args);
  EXPECT_EQ(r.code, 0) << Describe(args, r);
  return {r.out, JsonWatermark(r.out, "log_end"), JsonWatermark(r.out, "sealed"),
          JsonWatermark(r.out, "batch_watermark")};
}

void ExpectStatusCovers(const fs::path& dir, uint64_t n) {
  StatusJson s = ReadStatus(dir);
  EXPECT_EQ(s.log_end, n) << s.text;
  EXPECT_EQ(s.sealed, n) << s.text;
  EXPECT_EQ(s.batch_watermark, n) << s.text;
}

// The latest version of partition 0's manifest chain (the highest-numbered
// object in manifest/p0/; tests may list, lambdaflow does not).
std::string LatestManifestVersion(const fs::path& dir) {
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "manifest" / "p0", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 20 && name > best) best = name;
  }
  return best.empty() ? "" : ReadFile(dir / "manifest" / "p0" / best);
}

// The raw events of the master dataset, concatenated in offset order from
// the segments the latest manifest version names; checks the ranges tile
// [0, sealed).
void ExpectMasterHolds(const fs::path& dir, const std::string& expected, uint64_t n) {
  const std::string manifest = LatestManifestVersion(dir);
  ASSERT_FALSE(manifest.empty()) << "no manifest version";
  std::string all;
  uint64_t next = 0;
  bool saw_partition = false;
  for (const std::string& line : SplitLines(manifest)) {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "start") {
      uint64_t first = 1;
      in >> first;
      EXPECT_EQ(first, 0u) << line;
    } else if (kind == "sealed") {
      uint64_t sealed = 0;
      in >> sealed;
      EXPECT_EQ(sealed, n) << line;
      saw_partition = true;
    } else if (kind == "segment") {
      uint64_t from, to, events;
      std::string key;
      in >> from >> to >> events >> key;
      ASSERT_EQ(from, next) << "segments do not tile the offsets: " << line;
      EXPECT_EQ(events, to - from) << line;
      std::string raw;
      ASSERT_TRUE(Unzstd(dir / key, &raw)) << "cannot decompress " << key;
      EXPECT_EQ(static_cast<uint64_t>(std::count(raw.begin(), raw.end(), '\n')), to - from) << key;
      all += raw;
      next = to;
    }
  }
  EXPECT_TRUE(saw_partition) << manifest;
  EXPECT_EQ(next, n) << "segments end at " << next;
  if (all != expected) {
    const auto got = SplitLines(all), want = SplitLines(expected);
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    ADD_FAILURE() << "master dataset differs from the input at event " << i << " (master has " << got.size()
                  << " events, input " << want.size() << ")\n  master: " << (i < got.size() ? got[i] : "<end>")
                  << "\n  input:  " << (i < want.size() ? want[i] : "<end>");
  }
}

// Runs `eval` over `input` into `out_dir`.
void Eval(const fs::path& input, const fs::path& out_dir) {
  RUN_OK(r, "eval", "--views", LF_EXAMPLE_VIEWS, "--out", out_dir.string(), input.string());
}

// Every view's query TSV equals eval's; the revenue view's counts also
// equal a count of our own over the input lines.
void ExpectViewsMatch(const fs::path& dir, const fs::path& eval_dir, const std::vector<std::string>& input_lines) {
  for (const std::string& view : ViewNames(LF_EXAMPLE_VIEWS)) {
    RUN_OK(q, "query", "--data", dir.string(), view, "--format", "tsv");
    const std::string want = ReadFile(eval_dir / (view + ".tsv"));
    ASSERT_FALSE(want.empty()) << "eval wrote no " << view << ".tsv";
    EXPECT_TRUE(q.out == want) << "view " << view << " differs from eval (" << q.out.size() << " vs " << want.size()
                               << " bytes); query stderr: " << q.err;
    if (view != "revenue_by_product") continue;
    std::map<std::string, uint64_t> ours;
    const std::string key = "\"ProductName\":\"";
    for (const std::string& line : input_lines) {
      size_t p = line.find(key);
      ASSERT_NE(p, std::string::npos) << line;
      p += key.size();
      ++ours[line.substr(p, line.find('"', p) - p)];
    }
    std::map<std::string, uint64_t> theirs;
    const auto rows = SplitLines(q.out);
    for (size_t i = 1; i < rows.size(); ++i) {
      const size_t tab = rows[i].find('\t');
      theirs[rows[i].substr(0, tab)] = std::stoull(rows[i].substr(tab + 1));
    }
    EXPECT_EQ(theirs, ours) << "per-product order counts";
  }
}

std::vector<std::string> Produce(uint64_t count, uint64_t seed) {
  const std::vector<std::string> args = {"produce", "--count", std::to_string(count), "--seed", std::to_string(seed)};
  Ran r = RunLf(args);
  EXPECT_EQ(r.code, 0) << Describe(args, r);
  auto lines = SplitLines(r.out);
  EXPECT_EQ(lines.size(), count);
  return lines;
}

std::vector<std::string> IngestArgs(const fs::path& dir, const fs::path& input, const std::string& fsync = "interval",
                                    uint64_t seal_events = 20000) {
  return {"ingest",      "--data",  dir.string(), "--views",       LF_EXAMPLE_VIEWS,
          "--progress",  "--fsync", fsync,        "--seal-events", std::to_string(seal_events),
          input.string()};
}

// ---------------------------------------------------------------------------

TEST(Crash, IngestBatchQueryEqualsEval) {
  TempDir tmp("e2e");
  const fs::path dir = tmp.path() / "data";
  std::vector<std::string> events = Produce(200000, 42);
  const std::vector<std::string> bad = {
      "{\"zipcode\":1,\"ProductName\":\"p\"",  // truncated JSON
      "not json at all",
      R"({"zipcode":"x","ProductName":"p","price":1,"timestamp":"2014-11-01 19:35:41.158"})",  // mistyped
      R"({"zipcode":1,"ProductName":"p","price":1,"timestamp":"yesterday"})",                  // bad timestamp
  };
  // Two parts, two bad lines in each.
  std::string part1 = JoinLines(events, 0, 50000) + bad[0] + "\n" + JoinLines(events, 50000, 100000) + bad[1] + "\n";
  std::string part2 = bad[2] + "\n" + JoinLines(events, 100000, 150000) + bad[3] + "\n" + JoinLines(events, 150000);
  WriteFile(tmp.path() / "part1.ndjson", part1);
  WriteFile(tmp.path() / "part2.ndjson", part2);
  WriteFile(tmp.path() / "accepted.ndjson", JoinLines(events));
  RUN_OK(i1, "ingest", "--data", dir.string(), "--views", LF_EXAMPLE_VIEWS, "--seal-events", "30000",
         (tmp.path() / "part1.ndjson").string());
  RUN_OK(i2, "ingest", "--data", dir.string(), (tmp.path() / "part2.ndjson").string());
  RUN_OK(rej, "rejects", "--data", dir.string());
  EXPECT_EQ(SplitLines(rej.out).size(), bad.size()) << rej.out;
  EXPECT_EQ(ReadStatus(dir).log_end, events.size());

  RUN_OK(b1, "batch", "--data", dir.string());
  Eval(tmp.path() / "accepted.ndjson", tmp.path() / "eval1");
  ExpectViewsMatch(dir, tmp.path() / "eval1", events);
  ExpectStatusCovers(dir, events.size());
  ExpectMasterHolds(dir, JoinLines(events), events.size());

  // No new data: the reused state gives the same answer; so does --full.
  RUN_OK(b2, "batch", "--data", dir.string());
  ExpectViewsMatch(dir, tmp.path() / "eval1", events);
  RUN_OK(b3, "batch", "--data", dir.string(), "--full");
  ExpectViewsMatch(dir, tmp.path() / "eval1", events);
  ExpectStatusCovers(dir, events.size());

  // 1% more: the incremental path.
  std::vector<std::string> more = Produce(2000, 43);
  WriteFile(tmp.path() / "more.ndjson", JoinLines(more));
  events.insert(events.end(), more.begin(), more.end());
  WriteFile(tmp.path() / "accepted2.ndjson", JoinLines(events));
  RUN_OK(i3, "ingest", "--data", dir.string(), (tmp.path() / "more.ndjson").string());
  RUN_OK(b4, "batch", "--data", dir.string());
  std::smatch m;
  if (std::regex_search(b4.err, m, std::regex(R"((\d+) reused)"))) {
    EXPECT_GT(std::stoull(m[1]), 0u) << "the incremental batch reused nothing: " << b4.err;
  }
  Eval(tmp.path() / "accepted2.ndjson", tmp.path() / "eval2");
  ExpectViewsMatch(dir, tmp.path() / "eval2", events);
  ExpectStatusCovers(dir, events.size());
  ExpectMasterHolds(dir, JoinLines(events), events.size());
}

// How one iteration crashes.
enum class Plan { kIngest, kBatch, kIngestTwice, kIngestThenBatch };

const char* PlanName(Plan p) {
  switch (p) {
    case Plan::kIngest:
      return "kill ingest";
    case Plan::kBatch:
      return "kill batch";
    case Plan::kIngestTwice:
      return "kill ingest, kill the restarted ingest";
    case Plan::kIngestThenBatch:
      return "kill ingest, kill the batch";
  }
  return "?";
}

struct Timing {
  double ingest_secs_per_event;
  double batch_secs_per_event;
};

// Starts `args`, kills it at a seeded moment (a random delay within the
// expected run time, or after a random number of `acked` lines), drains its
// output and reaps it. Returns the last acknowledged offset it printed
// (output printed before the kill counts: it was acknowledged).
uint64_t RunAndKill(const std::vector<std::string>& args, double expected_secs, std::mt19937_64& rng, int* kills,
                    std::string* what) {
  Child c(args);
  const bool by_acks = args[0] == "ingest" && rng() % 3 == 0;
  if (by_acks) {
    // An `acked` line per input chunk (some MB): a handful per run.
    const size_t k = 1 + rng() % 3;
    c.Pump(Clock::now() + std::chrono::seconds(30), [&] { return c.AckLines() >= k; });
    std::uniform_int_distribution<int> us(0, 20000);
    c.Pump(Clock::now() + std::chrono::microseconds(us(rng)));
    *what = "after " + std::to_string(k) + " acks";
  } else {
    std::uniform_real_distribution<double> delay(0, expected_secs);
    const double d = delay(rng);
    c.Pump(Clock::now() + std::chrono::microseconds(static_cast<int64_t>(d * 1e6)));
    *what = "after " + std::to_string(static_cast<int>(d * 1000)) + " ms";
  }
  c.Kill();
  const int code = c.Wait();
  if (c.Killed()) {
    ++*kills;
    *what += " (killed)";
  } else {
    EXPECT_EQ(code, 0) << "not killed, but failed: " << c.err();
    *what += " (had finished)";
  }
  return c.LastAcked();
}

constexpr uint64_t kSeal = 20000;

// One seeded iteration in `work`: crash as planned, restart, finish, check.
// `log` tells what happened (for the failure message and the test's output).
void CrashIteration(uint64_t seed, const fs::path& work, const Timing& timing, int* kills, std::string* log) {
  std::mt19937_64 rng(seed);
  const fs::path dir = work / "data";
  fs::create_directories(work);
  const uint64_t n = 50000 + rng() % 150001;
  const Plan plan = std::array{Plan::kIngest, Plan::kIngest,      Plan::kIngest,         Plan::kBatch,
                               Plan::kBatch,  Plan::kIngestTwice, Plan::kIngestThenBatch}[rng() % 7];
  const std::string fsync = std::array{"always", "interval", "none"}[rng() % 3];
  // For batch kills, sometimes leave all the sealing to the batch.
  const uint64_t ingest_seal = plan == Plan::kBatch && rng() % 2 ? 1000000 : kSeal;
  const std::vector<std::string> lines = Produce(n, seed);
  const std::string input = JoinLines(lines);
  WriteFile(work / "input.ndjson", input);
  const double ingest_secs = static_cast<double>(n) * timing.ingest_secs_per_event;
  const double batch_secs = static_cast<double>(n) * timing.batch_secs_per_event;
  *log = std::string(PlanName(plan)) + ", " + std::to_string(n) + " events, fsync " + fsync;

  // Ingests input lines [L, n), L the log's end (checked against the last
  // acknowledged offset); killed if `kill`, else run to completion. Sets
  // *ok unless an assertion failed.
  uint64_t acked = 0;
  auto resume_ingest = [&](bool kill, bool* ok) {
    *ok = false;
    // Killed before the directory existed: nothing to ask status about.
    StatusJson s{"(no data directory yet)", 0, 0, std::nullopt};
    if (fs::exists(dir / "FORMAT")) s = ReadStatus(dir);
    ASSERT_TRUE(s.log_end.has_value()) << s.text;
    const uint64_t L = *s.log_end;
    ASSERT_GE(L, acked) << "acknowledged events were lost: " << s.text;
    ASSERT_LE(L, n) << s.text;
    *log += "; restart at " + std::to_string(L);
    *ok = L == n;
    if (*ok) return;
    const fs::path rest = work / ("rest-" + std::to_string(L) + ".ndjson");
    WriteFile(rest, JoinLines(lines, L));
    const auto args = IngestArgs(dir, rest, fsync, kSeal);
    if (kill) {
      std::string what;
      acked = std::max(acked,
                       RunAndKill(args, static_cast<double>(n - L) * timing.ingest_secs_per_event, rng, kills, &what));
      *log += ", ingest " + what + " acked " + std::to_string(acked);
    } else {
      Ran r = RunLf(args);
      ASSERT_EQ(r.code, 0) << Describe(args, r);
    }
    *ok = true;
  };
  bool ok = false;
  const std::vector<std::string> batch_args = {"batch", "--data", dir.string(), "--seal-events", std::to_string(kSeal)};

  if (plan == Plan::kBatch) {
    Ran r = RunLf(IngestArgs(dir, work / "input.ndjson", fsync, ingest_seal));
    ASSERT_EQ(r.code, 0) << r.err;
    acked = n;
  } else {
    std::string what;
    acked = RunAndKill(IngestArgs(dir, work / "input.ndjson", fsync), ingest_secs, rng, kills, &what);
    *log += ": ingest " + what + " acked " + std::to_string(acked);
    if (plan == Plan::kIngestTwice) {
      resume_ingest(/*kill=*/true, &ok);
      if (!ok) return;
    }
  }
  if (plan == Plan::kBatch || plan == Plan::kIngestThenBatch) {
    if (plan == Plan::kIngestThenBatch) {
      resume_ingest(/*kill=*/false, &ok);
      if (!ok) return;
    }
    std::string what;
    RunAndKill(batch_args, batch_secs, rng, kills, &what);
    *log += ", batch " + what;
  }
  resume_ingest(/*kill=*/false, &ok);
  if (!ok) return;
  Ran b = RunLf(batch_args);
  ASSERT_EQ(b.code, 0) << Describe(batch_args, b);

  ExpectMasterHolds(dir, input, n);
  ExpectStatusCovers(dir, n);
  Eval(work / "input.ndjson", work / "eval");
  ExpectViewsMatch(dir, work / "eval", lines);
}

int FailuresSoFar() {
  const ::testing::TestResult* r = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int failed = 0;
  for (int i = 0; i < r->total_part_count(); ++i) failed += r->GetTestPartResult(i).failed();
  return failed;
}

TEST(Crash, KillNineDuringIngestSealAndBatch) {
  constexpr int kIterations = 24;
  TempDir tmp("kill");
  const auto started = Clock::now();

  // Calibrate the kill windows on this machine.
  Timing timing;
  {
    const fs::path dir = tmp.path() / "calibrate";
    const uint64_t n = 150000;
    WriteFile(tmp.path() / "calibrate.ndjson", JoinLines(Produce(n, 1)));
    auto t0 = Clock::now();
    Ran i = RunLf(IngestArgs(dir, tmp.path() / "calibrate.ndjson"));
    ASSERT_EQ(i.code, 0) << i.err;
    auto t1 = Clock::now();
    RUN_OK(b, "batch", "--data", dir.string(), "--seal-events", std::to_string(kSeal));
    auto t2 = Clock::now();
    timing.ingest_secs_per_event = std::chrono::duration<double>(t1 - t0).count() / n;
    timing.batch_secs_per_event = std::chrono::duration<double>(t2 - t1).count() / n;
    fs::remove_all(dir);
    fs::remove(tmp.path() / "calibrate.ndjson");
  }

  // Every seed runs even when an earlier one failed: a failing seed keeps
  // its directory, the others clean up.
  int kills = 0, failed_seeds = 0;
  for (int iter = 0; iter < kIterations; ++iter) {
    const uint64_t seed = 1000 + static_cast<uint64_t>(iter);
    const fs::path work = tmp.path() / ("seed-" + std::to_string(seed));
    const int before = FailuresSoFar();
    std::string log;
    {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", data dir " + (work / "data").string());
      CrashIteration(seed, work, timing, &kills, &log);
    }
    const bool ok = FailuresSoFar() == before;
    std::printf("[ %s seed %llu ] %s\n", ok ? "    ok" : "FAILED", static_cast<unsigned long long>(seed), log.c_str());
    if (ok) {
      fs::remove_all(work);
    } else {
      ++failed_seeds;
      std::printf("  kept %s\n", work.c_str());
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("%d kills landed mid-run; %d of %d seeds failed; %.1f s\n", kills, failed_seeds, kIterations, secs);
  EXPECT_GE(kills, kIterations / 2) << "too few kills hit a running process";
}

// A kill while the first ingest creates the directory leaves either a
// FORMAT.tmp (before the rename) or a FORMAT without views.sql. Both must
// leave the directory usable: status reports an empty log, ingest proceeds.
TEST(Crash, KillDuringFirstIngestLeavesUsableDir) {
  TempDir tmp("create");
  const std::vector<std::string> lines = Produce(1000, 7);
  WriteFile(tmp.path() / "in.ndjson", JoinLines(lines));
  RUN_OK(full, "ingest", "--data", (tmp.path() / "ref").string(), "--views", LF_EXAMPLE_VIEWS,
         (tmp.path() / "in.ndjson").string());
  const std::string format = ReadFile(tmp.path() / "ref" / "FORMAT");
  ASSERT_FALSE(format.empty());

  for (const char* leftover : {"FORMAT.tmp", "FORMAT"}) {
    SCOPED_TRACE(std::string("directory holding only ") + leftover);
    const fs::path dir = tmp.path() / (std::string("only-") + leftover);
    fs::create_directories(dir);
    const bool renamed = leftover == std::string("FORMAT");
    // Before the rename the temp file may hold any prefix of the marker.
    WriteFile(dir / leftover, renamed ? format : format.substr(0, format.size() / 2));
    const std::vector<std::string> sargs = {"status", "--data", dir.string(), "--format", "json"};
    Ran s = RunLf(sargs);
    if (renamed) {
      EXPECT_EQ(s.code, 0) << Describe(sargs, s);
      EXPECT_EQ(JsonWatermark(s.out, "log_end"), 0u) << s.out;
    }
    const auto iargs = IngestArgs(dir, tmp.path() / "in.ndjson");
    Ran i = RunLf(iargs);
    EXPECT_EQ(i.code, 0) << Describe(iargs, i);
    if (i.code == 0) {
      EXPECT_EQ(ReadStatus(dir).log_end, lines.size());
    }
  }
}

TEST(Crash, SecondWriterRefused) {
  TempDir tmp("lock");
  const fs::path dir = tmp.path() / "data";
  const std::vector<std::string> lines = Produce(10200, 9);
  WriteFile(tmp.path() / "first.ndjson", JoinLines(lines, 0, 10000));
  RUN_OK(i0, "ingest", "--data", dir.string(), "--views", LF_EXAMPLE_VIEWS, (tmp.path() / "first.ndjson").string());
  RUN_OK(b0, "batch", "--data", dir.string());
  RUN_OK(q0, "query", "--data", dir.string(), "revenue_by_product", "--format", "tsv");

  // An ingest that holds the directory while it waits on its stdin.
  Child holder({"ingest", "--data", dir.string(), "--progress", "-"}, /*pipe_stdin=*/true);
  ASSERT_TRUE(holder.WriteStdin(JoinLines(lines, 10000, 10100)));
  ASSERT_TRUE(holder.Pump(Clock::now() + std::chrono::seconds(30), [&] { return holder.AckLines() >= 1; }))
      << "the holding ingest never acknowledged: " << holder.err();

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"ingest", "--data", dir.string(), (tmp.path() / "first.ndjson").string()},
        std::vector<std::string>{"batch", "--data", dir.string()},
        std::vector<std::string>{"batch", "--data", dir.string(), "--full"}}) {
    Ran r = RunLf(args);
    EXPECT_NE(r.code, 0) << Describe(args, r);
    EXPECT_NE(r.err.find("in use"), std::string::npos) << Describe(args, r);
  }
  // Readers still work.
  RUN_OK(q1, "query", "--data", dir.string(), "revenue_by_product", "--format", "tsv");
  EXPECT_EQ(q1.out, q0.out);
  RUN_OK(s1, "status", "--data", dir.string(), "--format", "json");
  EXPECT_EQ(JsonWatermark(s1.out, "batch_watermark"), 10000u) << s1.out;

  ASSERT_TRUE(holder.WriteStdin(JoinLines(lines, 10100)));
  holder.CloseStdin();
  EXPECT_EQ(holder.Wait(), 0) << holder.err();
  EXPECT_EQ(holder.LastAcked(), lines.size());
  EXPECT_EQ(ReadStatus(dir).log_end, lines.size());
  // The refused ingest added nothing.
  RUN_OK(b1, "batch", "--data", dir.string());
  ExpectMasterHolds(dir, JoinLines(lines), lines.size());
}

// The key of the batch version partition 0's latest manifest version names
// ("batch/v...": a folder of the store, here the data directory).
std::string CurrentVersionDir(const fs::path& dir) {
  for (const std::string& line : SplitLines(LatestManifestVersion(dir))) {
    std::istringstream in(line);
    std::string kind, w, key;
    in >> kind >> w >> key;
    if (kind == "batch") return key == "-" ? "" : key;
  }
  return "";
}

// The key of partition 0's segment starting at `from`.
std::string SegmentKey(const fs::path& dir, uint64_t from) {
  for (const std::string& line : SplitLines(LatestManifestVersion(dir))) {
    std::istringstream in(line);
    std::string kind, key;
    uint64_t f = 0, to = 0, events = 0;
    in >> kind >> f >> to >> events >> key;
    if (kind == "segment" && f == from) return key;
  }
  return "";
}

TEST(Crash, CorruptVersionFileDetected) {
  TempDir tmp("version");
  const fs::path dir = tmp.path() / "data";
  const std::vector<std::string> lines = Produce(50000, 11);
  WriteFile(tmp.path() / "in.ndjson", JoinLines(lines));
  RUN_OK(i0, "ingest", "--data", dir.string(), "--views", LF_EXAMPLE_VIEWS, "--seal-events", "20000",
         (tmp.path() / "in.ndjson").string());
  RUN_OK(b0, "batch", "--data", dir.string());
  Eval(tmp.path() / "in.ndjson", tmp.path() / "eval");
  ExpectViewsMatch(dir, tmp.path() / "eval", lines);

  const std::string version = CurrentVersionDir(dir);
  ASSERT_FALSE(version.empty());
  // The view's one piece (of partition 0).
  fs::path state;
  for (const auto& e : fs::directory_iterator(dir / version)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("revenue_by_product.p0-", 0) == 0 && name.size() > 6 && name.substr(name.size() - 6) == ".state")
      state = e.path();
  }
  ASSERT_FALSE(state.empty()) << "no piece of revenue_by_product in " << (dir / version);
  FlipByte(state);
  // The state file is read for anything but the stored TSV of a whole view.
  const std::vector<std::string> qargs = {"query", "--data", dir.string(), "revenue_by_product", "--format", "json"};
  Ran q = RunLf(qargs);
  EXPECT_NE(q.code, 0) << Describe(qargs, q);
  EXPECT_NE(q.err.find(version + "/" + state.filename().string()), std::string::npos) << Describe(qargs, q);
  EXPECT_NE(q.err.find("lambdaflow batch"), std::string::npos) << Describe(qargs, q);
  EXPECT_EQ(q.out, "") << "a damaged view must not print rows";
  // The stored TSV is checked against the version manifest as well.
  const fs::path tsv = dir / version / "revenue_by_product.tsv";
  ASSERT_TRUE(fs::exists(tsv)) << tsv;
  FlipByte(tsv);
  const std::vector<std::string> targs = {"query", "--data", dir.string(), "revenue_by_product", "--format", "tsv"};
  Ran t = RunLf(targs);
  EXPECT_NE(t.code, 0) << Describe(targs, t);
  EXPECT_NE(t.err.find(version + "/revenue_by_product.tsv"), std::string::npos) << Describe(targs, t);
  EXPECT_EQ(t.out, "") << "a damaged view must not print rows";

  RUN_OK(b1, "batch", "--data", dir.string(), "--full");
  ExpectViewsMatch(dir, tmp.path() / "eval", lines);
  ExpectStatusCovers(dir, lines.size());
}

TEST(Crash, CorruptRawSegmentRefused) {
  TempDir tmp("segment");
  const fs::path dir = tmp.path() / "data";
  const std::vector<std::string> lines = Produce(60000, 13);
  WriteFile(tmp.path() / "in.ndjson", JoinLines(lines));
  RUN_OK(i0, "ingest", "--data", dir.string(), "--views", LF_EXAMPLE_VIEWS, "--seal-events", "20000",
         (tmp.path() / "in.ndjson").string());
  // The same segment size for the tail that batch seals: ingest's background
  // sealer may not have sealed any segment before it exits.
  RUN_OK(b0, "batch", "--data", dir.string(), "--seal-events", "20000");
  const std::string version = CurrentVersionDir(dir);

  const fs::path seg = dir / SegmentKey(dir, 20000);
  ASSERT_TRUE(fs::exists(seg)) << seg;
  FlipByte(seg);
  const std::vector<std::string> args = {"batch", "--data", dir.string(), "--full"};
  Ran r = RunLf(args);
  EXPECT_NE(r.code, 0) << "batch --full over a damaged raw segment succeeded\n" << Describe(args, r);
  EXPECT_NE(r.err.find("[20000, 40000)"), std::string::npos) << Describe(args, r);
  EXPECT_EQ(CurrentVersionDir(dir), version) << "a version was published over a damaged segment";
}

}  // namespace
