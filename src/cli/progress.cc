// The progress line of long commands; see progress.h.
#include "cli/progress.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace lf::cli {

std::string GroupDigits(uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

std::string GroupRounded(double v) {
  const long long r = std::llround(v);
  return r < 0 ? "-" + GroupDigits(static_cast<uint64_t>(-(r + 1)) + 1) : GroupDigits(static_cast<uint64_t>(r));
}

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof(buf), "%.0f B", bytes);
  else
    std::snprintf(buf, sizeof(buf), bytes < 10 ? "%.2f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

std::string HumanDuration(double seconds) {
  const auto s = static_cast<long long>(std::ceil(std::max(0.0, seconds)));
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof(buf), "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string FormatProgress(std::string_view label, std::string_view unit, const ProgressSample& s, double elapsed_s) {
  const double secs = std::max(elapsed_s, 1e-9);
  std::string line(label);
  line += ": " + GroupDigits(s.events) + " " + std::string(unit);
  line += " (" + GroupDigits(static_cast<uint64_t>(std::llround(static_cast<double>(s.events) / secs))) + "/s)";
  if (s.bytes > 0 || s.total_bytes > 0)
    line += ", " + HumanBytes(static_cast<double>(s.bytes)) + " (" + HumanBytes(static_cast<double>(s.bytes) / secs) +
            "/s)";
  // The known size counts down: bytes if known, else events.
  double done = 0, total = 0;
  if (s.total_bytes > 0) {
    done = static_cast<double>(s.bytes);
    total = static_cast<double>(s.total_bytes);
  } else if (s.total_events > 0) {
    done = static_cast<double>(s.events);
    total = static_cast<double>(s.total_events);
  }
  if (total > 0) {
    done = std::min(done, total);
    char pct[16];
    std::snprintf(pct, sizeof(pct), ", %.0f%%", std::floor(100 * done / total));
    line += pct;
    if (done > 0 && done < total) line += ", ETA " + HumanDuration((total - done) * secs / done);
  }
  return line;
}

ProgressLine::ProgressLine(std::string label, std::string unit, const ProgressCounters* counters, Clock clock,
                           Writer out, double interval_s)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      counters_(counters),
      clock_(std::move(clock)),
      out_(std::move(out)),
      interval_s_(interval_s),
      start_(clock_()),
      last_draw_(start_) {}

void ProgressLine::Tick() {
  const double now = clock_();
  if (now - last_draw_ < interval_s_) return;
  last_draw_ = now;
  ProgressSample s;
  s.events = counters_->events.load(std::memory_order_relaxed);
  s.bytes = counters_->bytes.load(std::memory_order_relaxed);
  s.total_events = counters_->total_events.load(std::memory_order_relaxed);
  s.total_bytes = counters_->total_bytes.load(std::memory_order_relaxed);
  out_("\r" + FormatProgress(label_, unit_, s, now - start_) + "\x1b[K");
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (drawn_) out_("\r\x1b[K");
  drawn_ = false;
}

bool ProgressWanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO) == 1; }

uint64_t KnownInputBytes(const std::vector<std::string>& inputs) {
  uint64_t total = 0;
  if (inputs.empty()) return 0;
  for (const auto& input : inputs) {
    struct stat st;
    const bool zst = input.size() >= 4 && input.compare(input.size() - 4, 4, ".zst") == 0;
    if (input == "-" || zst || ::stat(input.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

double ProgressIntervalFromEnv() {
  const char* v = std::getenv("LAMBDAFLOW_PROGRESS_MS");
  if (!v || !*v) return kProgressInterval;
  char* end = nullptr;
  const double ms = std::strtod(v, &end);
  return *end == '\0' && ms >= 0 ? ms / 1000 : kProgressInterval;
}

StderrProgress::StderrProgress(std::string label, std::string unit, const ProgressCounters* counters, bool enabled) {
  if (!enabled) return;
  const double interval = ProgressIntervalFromEnv();
  const auto wake = std::chrono::milliseconds(std::clamp<int64_t>(static_cast<int64_t>(interval * 1000), 1, 50));
  line_ = std::make_unique<ProgressLine>(
      std::move(label), std::move(unit), counters,
      [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); },
      [](std::string_view s) {
        std::fwrite(s.data(), 1, s.size(), stderr);
        std::fflush(stderr);
      },
      interval);
  thread_ = std::thread([this, wake] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, wake, [this] { return stop_; })) line_->Tick();
  });
}

StderrProgress::~StderrProgress() { Stop(); }

void StderrProgress::Stop() {
  if (!line_) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  line_->Tick();  // the last state, if due, before it is erased
  line_->Finish();
  line_.reset();
}

}  // namespace lf::cli
