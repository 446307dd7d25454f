// The progress line of long commands (ingest, batch, eval, produce): events
// and events/s, bytes and bytes/s, percent and ETA when the size is known,
// redrawn in place with '\r' on standard error a few times per second, and
// nothing at all when standard error is not a terminal or with --quiet.
// The work advances a ProgressCounters (common/progress_counters.h); a
// ProgressLine samples it and draws. Clock and output are injected, so the
// drawing is tested without a terminal or a thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/progress_counters.h"

namespace lf::cli {

// Redraws at most this often (seconds); the first draw waits as long, so
// work that ends sooner shows nothing.
inline constexpr double kProgressInterval = 0.25;

struct ProgressSample {
  uint64_t events = 0, bytes = 0;
  uint64_t total_events = 0, total_bytes = 0;  // 0: unknown
};

// One line, e.g. "ingest: 1,234,567 events (812,345/s), 123.4 MB (80.1 MB/s), 45%, ETA 12s".
// `unit` names what events count ("events", "rows"). Bytes are shown when
// any were counted; the percent and ETA come from total_bytes if known,
// else total_events, and are left out when neither is.
std::string FormatProgress(std::string_view label, std::string_view unit, const ProgressSample& s, double elapsed_s);

// "1,234,567"
std::string GroupDigits(uint64_t n);
// A rate or a count given as a double, rounded: "23,809" (negative: "-1,024").
std::string GroupRounded(double v);
// "950 B", "12.3 kB", "123.4 MB", "1.23 GB" (powers of 1000, like the summaries' MB/s).
std::string HumanBytes(double bytes);
// "12s", "3m05s", "2h04m".
std::string HumanDuration(double seconds);

// Samples `counters` and draws on `out`. Not thread-safe: one thread ticks.
class ProgressLine {
 public:
  using Clock = std::function<double()>;  // monotonic seconds
  using Writer = std::function<void(std::string_view)>;

  ProgressLine(std::string label, std::string unit, const ProgressCounters* counters, Clock clock, Writer out,
               double interval_s = kProgressInterval);

  // Draws "\r<line>\x1b[K" if `interval_s` passed since the last draw (or
  // since construction, for the first one).
  void Tick();
  // Erases a drawn line ("\r\x1b[K"), so that the command's summary starts
  // on a clean line; does nothing if nothing was drawn.
  void Finish();

 private:
  const std::string label_, unit_;
  const ProgressCounters* const counters_;
  const Clock clock_;
  const Writer out_;
  const double interval_s_;
  const double start_;
  double last_draw_;
  bool drawn_ = false;
};

// The help of every command's --quiet.
inline constexpr const char* kQuietHelp =
    "No progress line (one is drawn on standard error only when it is a terminal)";

// Whether a command shows progress: standard error is a terminal and the
// user did not ask for --quiet.
bool ProgressWanted(bool quiet);

// Bytes of `inputs` when all of them are regular, uncompressed files (the
// size the progress line can count down); 0 when any is standard input, a
// pipe or a .zst file.
uint64_t KnownInputBytes(const std::vector<std::string>& inputs);

// The redraw period: $LAMBDAFLOW_PROGRESS_MS (milliseconds; 0 draws at every
// tick of the thread, and once more at the end), else kProgressInterval.
double ProgressIntervalFromEnv();

// A ProgressLine on standard error, ticked by its own thread until Stop()
// (or destruction) draws the last state if due and erases it. Draws nothing
// unless `enabled`.
class StderrProgress {
 public:
  StderrProgress(std::string label, std::string unit, const ProgressCounters* counters, bool enabled);
  ~StderrProgress();
  StderrProgress(const StderrProgress&) = delete;
  StderrProgress& operator=(const StderrProgress&) = delete;

  void Stop();

 private:
  std::unique_ptr<ProgressLine> line_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lf::cli
