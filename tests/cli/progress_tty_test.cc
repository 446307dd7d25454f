// The progress line of long commands, seen the way a person sees it: the
// real binary under a pseudo-terminal draws it (and erases it at the end);
// with standard error in a pipe or a file, or with --quiet, nothing of it
// appears. Label: integration.
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "testing/oracle_support.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test {
namespace {

const std::string kBin = LAMBDAFLOW_BIN;

struct PtyRun {
  std::string output;  // everything the terminal received
  int exit_code = -1;
};

// Runs `cmd` with /bin/sh on a fresh pseudo-terminal (its stdin, stdout and
// stderr), `env` (e.g. "LAMBDAFLOW_PROGRESS_MS=0", or "") exported first.
PtyRun RunUnderPty(const std::string& cmd, const std::string& env = "") {
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty: " << std::strerror(errno);
    return {};
  }
  if (pid == 0) {
    const std::string script = (env.empty() ? "" : "export " + env + "; ") + "exec " + cmd;
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  PtyRun run;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(master, buf, sizeof(buf));
    if (n > 0) {
      run.output.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO once the child side is closed
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A redrawn line: carriage return then the label (a terminal's "\r\n" line
// ends are not that).
bool HasProgressLine(const std::string& out, const std::string& label) { return Has(out, "\r" + label + ": "); }

class ProgressTty : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = (dir_.path() / "events.ndjson").string();
    data_ = (dir_.path() / "data").string();
    ASSERT_EQ(RunShell(kBin + " produce --quiet --count 20000 > " + ShellQuote(events_)), 0);
  }
  TempDir dir_{"lf-progress"};
  std::string events_, data_;
};

TEST_F(ProgressTty, ProduceDrawsAtTheDefaultPaceWithAnEta) {
  // 4000 events at 8000/s: half a second, drawn about twice.
  const PtyRun r = RunUnderPty(kBin + " produce --count 4000 --rate 8000 > /dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(HasProgressLine(r.output, "produce")) << r.output;
  EXPECT_TRUE(Has(r.output, " events (")) << r.output;
  EXPECT_TRUE(Has(r.output, "%, ETA ")) << r.output;
  // Erased at the end: the terminal is left clean for what comes next.
  EXPECT_EQ(r.output.substr(r.output.size() - 4), "\r\x1b[K") << r.output;
}

TEST_F(ProgressTty, IngestEvalAndBatchDrawTheirLine) {
  // Each redraw tick draws: short work shows its line too.
  const std::string env = "LAMBDAFLOW_PROGRESS_MS=0";
  PtyRun r = RunUnderPty(kBin + " ingest --views " + ShellQuote(LF_EXAMPLE_VIEWS) + " --data " + ShellQuote(data_) +
                             " " + ShellQuote(events_),
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(HasProgressLine(r.output, "ingest")) << r.output;
  // The input's size is known, and all of it was counted by the last draw.
  EXPECT_TRUE(Has(r.output, "20,000 events (")) << r.output;
  EXPECT_TRUE(Has(r.output, "100%")) << r.output;
  EXPECT_TRUE(Has(r.output, "lambdaflow ingest: 20000 accepted")) << r.output;

  r = RunUnderPty(kBin + " batch --data " + ShellQuote(data_), env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(HasProgressLine(r.output, "batch")) << r.output;
  EXPECT_TRUE(Has(r.output, "20,000 rows (")) << r.output;
  EXPECT_TRUE(Has(r.output, "lambdaflow batch: ")) << r.output;

  r = RunUnderPty(kBin + " eval --views " + ShellQuote(LF_EXAMPLE_VIEWS) + " " + ShellQuote(events_) + " > /dev/null",
                  env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(HasProgressLine(r.output, "eval")) << r.output;
  EXPECT_TRUE(Has(r.output, "20,000 events (")) << r.output;
  EXPECT_TRUE(Has(r.output, "100%")) << r.output;
}

TEST_F(ProgressTty, QuietDrawsNothing) {
  const std::string env = "LAMBDAFLOW_PROGRESS_MS=0";
  PtyRun r = RunUnderPty(kBin + " ingest --quiet --views " + ShellQuote(LF_EXAMPLE_VIEWS) + " --data " +
                             ShellQuote(data_) + " " + ShellQuote(events_),
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(Has(r.output, "\x1b[K")) << r.output;
  EXPECT_FALSE(HasProgressLine(r.output, "ingest")) << r.output;
  EXPECT_TRUE(Has(r.output, "lambdaflow ingest: 20000 accepted")) << r.output;
  r = RunUnderPty(kBin + " produce -q --count 4000 --rate 8000 > /dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST_F(ProgressTty, StandardErrorInAPipeOrAFileGetsNoProgress) {
  const std::string err = (dir_.path() / "stderr.txt").string();
  const std::string env = "LAMBDAFLOW_PROGRESS_MS=0 ";
  ASSERT_EQ(RunShell(env + kBin + " ingest --views " + ShellQuote(LF_EXAMPLE_VIEWS) + " --data " + ShellQuote(data_) +
                     " " + ShellQuote(events_) + " 2>&1 | cat > " + ShellQuote(err)),
            0);
  std::string text = ReadFile(err);
  EXPECT_FALSE(Has(text, "\r")) << text;
  EXPECT_TRUE(Has(text, "lambdaflow ingest: 20000 accepted")) << text;
  ASSERT_EQ(RunShell(env + kBin + " batch --data " + ShellQuote(data_) + " 2> " + ShellQuote(err)), 0);
  text = ReadFile(err);
  EXPECT_FALSE(Has(text, "\r")) << text;
  EXPECT_TRUE(Has(text, "lambdaflow batch: ")) << text;
  ASSERT_EQ(RunShell(env + kBin + " produce --count 4000 --rate 8000 2> " + ShellQuote(err) + " > /dev/null"), 0);
  EXPECT_EQ(ReadFile(err), "");
}

}  // namespace
}  // namespace lf::test
