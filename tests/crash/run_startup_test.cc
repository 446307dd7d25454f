// Startup failures of `lambdaflow run`: the real binary on a data directory
// damaged or made unusable one way per test. `run` must never die on a signal;
// it refuses with exit status 1 (2 for a bad --views file, a usage error) and
// a message that names the file, the problem and what to do, or, where the
// damage is provably harmless, repairs it and serves.
//
// Regression tests of issue 10: finding 10 (SIGSEGV on every startup
// failure), 11 (a log truncated or deleted below the sealed watermark handed
// out acknowledged offsets again), 12 (a missing MANIFEST read as an empty
// master dataset; a missing views.sql silently replaced by the example views).
//
// Each test copies one template directory (events sealed into the master
// dataset, more events only in the log, a batch version) and damages it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif
#ifndef LF_EXAMPLE_VIEWS
#error "LF_EXAMPLE_VIEWS must name examples/views.sql"
#endif

namespace lf::test {
namespace {

namespace fs = std::filesystem;

struct Exit {
  int code = -1;        // exit status; -1 if it died on a signal or was still running
  int signal = 0;       // the signal it died on
  bool served = false;  // it printed "listening" (and was then stopped by the test)
  std::string out, err;
};

std::string Describe(const std::vector<std::string>& args, const Exit& e) {
  std::string s = "lambdaflow";
  for (const auto& a : args) s += " " + a;
  return s + "\n  exit " + std::to_string(e.code) + " signal " + std::to_string(e.signal) +
         (e.served ? " (it served)" : "") + "\n  stderr: " + e.err;
}

// Runs lambdaflow ARGS with stdout and stderr in files. A `run` that starts
// serving is stopped with SIGTERM (served = true); anything still running
// after `timeout` is killed.
Exit RunLf(const std::vector<std::string>& args, const fs::path& scratch,
           std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const fs::path out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  std::vector<std::string> argv_s = {LAMBDAFLOW_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Exit r;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<std::chrono::steady_clock::time_point> served_at;
  bool signalled = false;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    const auto now = std::chrono::steady_clock::now();
    if (!served_at && ReadFile(out).find("listening on") != std::string::npos) {
      r.served = true;
      served_at = now;
    }
    // SIGTERM a little after "listening": `run` prints it before its signal
    // waiter and HTTP loop are up, and a stop that arrives before the loop
    // starts is not seen by it (a race of run's shutdown, not of startup).
    if (served_at && !signalled && now - *served_at > std::chrono::milliseconds(500)) {
      ::kill(pid, SIGTERM);
      signalled = true;
    }
    if (now > deadline || (served_at && now - *served_at > std::chrono::seconds(20))) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

Exit RunServer(const fs::path& dir, const fs::path& scratch, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run", "--data", dir.string(), "--listen", "127.0.0.1:0", "--batch-interval", "600"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunLf(args, scratch);
}

// One template data directory for the whole suite: 2500 events sealed into
// the master dataset (segments of 1000) and covered by a batch version, 500
// more only in the log (one log segment, 00000000000000000000.log).
class RunStartup : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TempDir("lf-startup-template");
    const fs::path t = root_->path();
    Exit p = RunLf({"produce", "--count", "3000", "--seed", "5"}, t);
    ASSERT_EQ(p.code, 0) << p.err;
    const std::string all = p.out;
    size_t cut = 0;
    for (int i = 0; i < 2500; ++i) cut = all.find('\n', cut) + 1;
    WriteFile(t / "a.ndjson", all.substr(0, cut));
    WriteFile(t / "b.ndjson", all.substr(cut));
    const std::string dir = (t / "data").string();
    const std::vector<std::vector<std::string>> steps = {
        {"ingest", "--data", dir, "--views", LF_EXAMPLE_VIEWS, "--seal-age", "0", (t / "a.ndjson").string()},
        {"batch", "--data", dir, "--seal-events", "1000"},
        {"ingest", "--data", dir, "--seal-age", "0", "--seal-events", "1000000", (t / "b.ndjson").string()},
    };
    for (const auto& s : steps) {
      Exit e = RunLf(s, t);
      ASSERT_EQ(e.code, 0) << Describe(s, e);
    }
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(root_, nullptr);
    ASSERT_TRUE(fs::exists(root_->path() / "data" / "FORMAT")) << "the template was not built";
    fs::copy(root_->path() / "data", dir(), fs::copy_options::recursive);
  }

  fs::path dir() const { return tmp_.path() / "data"; }
  fs::path scratch() const { return tmp_.path(); }
  fs::path log_segment() const { return dir() / "log" / "p0" / "00000000000000000000.log"; }

  // `run` refuses: exit `code`, no signal, never served, and stderr holds
  // every one of `words`.
  void ExpectRefused(const Exit& e, int code, const std::vector<std::string>& words) {
    EXPECT_EQ(e.signal, 0) << "run died on a signal\n" << e.err;
    EXPECT_FALSE(e.served) << "run served a damaged directory\n" << e.err;
    EXPECT_EQ(e.code, code) << e.err;
    std::string err = e.err;
    for (char& c : err) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string w : words) {
      for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_NE(err.find(w), std::string::npos) << "no '" << w << "' in:\n" << e.err;
    }
  }

  TempDir tmp_{"lf-startup"};
  static TempDir* root_;
};

TempDir* RunStartup::root_ = nullptr;

TEST_F(RunStartup, IntactDirectoryServes) {
  Exit e = RunServer(dir(), scratch());
  EXPECT_TRUE(e.served) << e.err;
  EXPECT_EQ(e.code, 0) << e.err;
}

// Finding 10: a second `run` on a directory in use.
TEST_F(RunStartup, DirectoryInUse) {
  std::vector<std::string> args = {"run", "--data", dir().string(), "--listen", "127.0.0.1:0"};
  std::vector<char*> argv;
  std::string bin = LAMBDAFLOW_BIN;
  argv.push_back(bin.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const fs::path holder_out = scratch() / "holder.out";
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    const int o = ::open(holder_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 1000 && ReadFile(holder_out).find("listening") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(ReadFile(holder_out).find("listening"), std::string::npos) << "the first run did not start";
  Exit e = RunServer(dir(), scratch());
  ::kill(holder, SIGTERM);
  int status = 0;
  ::waitpid(holder, &status, 0);
  ExpectRefused(e, 1, {dir().string(), "in use", "wait"});
}

// Finding 10: a directory the process may not write.
TEST_F(RunStartup, ReadOnlyDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  fs::permissions(dir(), fs::perms::owner_read | fs::perms::owner_exec);
  Exit e = RunServer(dir(), scratch());
  fs::permissions(dir(), fs::perms::owner_all);
  ExpectRefused(e, 1, {dir().string()});
}

// Finding 10: the data directory path is a file.
TEST_F(RunStartup, DataPathIsAFile) {
  WriteFile(scratch() / "file", "x");
  Exit e = RunServer(scratch() / "file", scratch());
  ExpectRefused(e, 1, {(scratch() / "file").string()});
}

// Finding 10: a log segment with a flipped bit in the middle (mid-log corruption).
TEST_F(RunStartup, DamagedLogSegment) {
  std::string data = ReadFile(log_segment());
  data[data.size() / 3] ^= 0x10;
  WriteFile(log_segment(), data);
  ExpectRefused(RunServer(dir(), scratch()), 1, {"00000000000000000000.log", "corruption", "restore"});
}

// Finding 10: a log segment of a newer format version.
TEST_F(RunStartup, LogSegmentOfNewerVersion) {
  std::string data = ReadFile(log_segment());
  data[8] = 99;
  WriteFile(log_segment(), data);
  ExpectRefused(RunServer(dir(), scratch()), 1, {"00000000000000000000.log", "upgrade"});
}

// A damaged producer checkpoint (log/p0/PRODUCERS).
TEST_F(RunStartup, DamagedProducerCheckpoint) {
  WriteFile(dir() / "log" / "p0" / "PRODUCERS", "lambdaflow-producers 1\nas_of 0\nproducers 0\nchecksum 0\n");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"PRODUCERS", "restore"});
}

// A damaged batch version is not fatal: the views are recomputed from the
// master dataset and served.
TEST_F(RunStartup, DamagedBatchVersionIsRecomputed) {
  int damaged = 0;
  for (const auto& e : fs::directory_iterator(dir() / "batch")) {
    WriteFile(e.path() / "VERSION", "garbage\n");
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  Exit e = RunServer(dir(), scratch());
  EXPECT_TRUE(e.served) << e.err;
  EXPECT_EQ(e.signal, 0) << e.err;
  EXPECT_NE(e.err.find("recomputing"), std::string::npos) << e.err;
}

// Finding 10: a damaged manifest (the latest version of partition 0's chain).
TEST_F(RunStartup, DamagedManifest) {
  fs::path m;
  for (const auto& e : fs::directory_iterator(dir() / "manifest" / "p0"))
    if (e.path().filename().string().size() == 20 && e.path() > m) m = e.path();
  ASSERT_FALSE(m.empty());
  std::string data = ReadFile(m);
  data[data.size() / 2] ^= 0x10;
  WriteFile(m, data);
  ExpectRefused(RunServer(dir(), scratch()), 1, {"manifest/p0/" + m.filename().string(), "restore"});
}

// Finding 10: a damaged or empty FORMAT marker.
TEST_F(RunStartup, DamagedFormatMarker) {
  WriteFile(dir() / "FORMAT", "garbage\n");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"FORMAT", "restore"});
  WriteFile(dir() / "FORMAT", "");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"FORMAT", "restore"});
}

// Finding 10: the stored views file is empty or does not parse.
TEST_F(RunStartup, DamagedStoredViews) {
  WriteFile(dir() / "views.sql", "");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"views.sql", "--views"});
  WriteFile(dir() / "views.sql", "CREATE VIEW broken AS SELEC");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"views.sql", "--views"});
}

// Finding 10: a --views file that is empty or does not parse is a usage error.
TEST_F(RunStartup, BadViewsArgument) {
  WriteFile(scratch() / "empty.sql", "");
  ExpectRefused(RunServer(dir(), scratch(), {"--views", (scratch() / "empty.sql").string()}), 2, {"empty.sql"});
  WriteFile(scratch() / "bad.sql", "CREATE STREAM events (x INT); CREATE VIEW v AS SELECT COUNT(*) FROM nowhere;");
  ExpectRefused(RunServer(dir(), scratch(), {"--views", (scratch() / "bad.sql").string()}), 2, {"bad.sql"});
}

// Finding 11: the log truncated to its header, below the sealed watermark.
TEST_F(RunStartup, LogTruncatedBelowSealedWatermark) {
  fs::resize_file(log_segment(), 32);
  ExpectRefused(RunServer(dir(), scratch()), 1, {"log partition 0", "2500", "sealed", "restore"});
}

// Finding 11, the way out without a backup: the log continues at the sealed
// watermark, never below it.
TEST_F(RunStartup, RestartLogAtSealedContinuesThere) {
  fs::resize_file(log_segment(), 32);
  std::string error;
  auto s = ServerProcess::Start(LAMBDAFLOW_BIN,
                                {"run", "--data", dir().string(), "--listen", "127.0.0.1:0", "--restart-log-at-sealed"},
                                scratch() / "restart.err", std::chrono::milliseconds(30000), &error);
  ASSERT_NE(s, nullptr) << error;
  httplib::Client c(s->host(), s->port());
  auto res = c.Post("/v1/events",
                    R"({"zipcode":95126,"ProductName":"product2","price":16,"timestamp":"2014-11-01 19:35:41.158"})"
                    "\n",
                    "application/x-ndjson");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("\"from\":2500,\"to\":2501"), std::string::npos) << res->body;
  EXPECT_TRUE(fs::exists(log_segment().string() + ".lost"));
  EXPECT_NE(s->StderrText().find("restarted at offset 2500"), std::string::npos) << s->StderrText();
}

// Finding 11: the log's only segment deleted.
TEST_F(RunStartup, LogSegmentDeleted) {
  fs::remove(log_segment());
  ExpectRefused(RunServer(dir(), scratch()), 1, {"log partition 0", "2500", "sealed", "restore"});
}

// Finding 12: the manifests missing while segments exist.
TEST_F(RunStartup, ManifestMissingWithSegments) {
  fs::remove_all(dir() / "manifest");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"manifest", "segments", "restore"});
}

// Finding 12: a deleted views.sql is not replaced by the example views.
TEST_F(RunStartup, StoredViewsMissing) {
  fs::remove(dir() / "views.sql");
  ExpectRefused(RunServer(dir(), scratch()), 1, {"views.sql", "--views"});
  // Naming the views file again is the way out.
  Exit e = RunServer(dir(), scratch(), {"--views", LF_EXAMPLE_VIEWS});
  EXPECT_TRUE(e.served) << e.err;
}

}  // namespace
}  // namespace lf::test
