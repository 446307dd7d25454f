// A short in-memory history of the pipeline's figures, sampled once a
// second, so that a dashboard opened now has a past to chart: events
// accepted and rejected per second, freshness, the watermarks W and S per
// partition and their lag, batch runs and swaps, micro-batch durations.
// `GET /v1/history?since=T` answers History::Json (README, "HTTP API").
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "pipeline/pipeline.h"

namespace lf {

// The pipeline at one moment; counters are totals since the process started
// (the durations those of the pipeline's histograms: count and sum).
struct HistorySample {
  int64_t t_ms = 0;  // wall clock, ms since the epoch
  uint64_t accepted = 0, rejected = 0;
  uint64_t micro_batches = 0;
  double micro_batch_seconds = 0;
  uint64_t batch_runs = 0;
  double batch_run_seconds = 0;
  std::optional<uint64_t> batch_version;
  int64_t freshness_ms = 0;
  std::vector<uint64_t> log_end, batch, speed;  // per partition: log end, W, S
  // A group member (run --group): the partitions owned, and the rebalances
  // so far (partitions gained, revoked, lost).
  std::optional<std::vector<uint32_t>> owned;
  uint64_t gained = 0, revoked = 0, lost = 0;
};

// `p` as of `now_ms`.
HistorySample SamplePipeline(const Pipeline& p, int64_t now_ms);

// The last `capacity` samples, each with the rates since the sample before
// it. Thread-safe.
class History {
 public:
  static constexpr size_t kDefaultCapacity = 600;  // 10 minutes at one a second

  explicit History(size_t capacity = kDefaultCapacity);

  void Add(const HistorySample& s);
  size_t size() const;

  // {"interval_ms": n, "capacity": n, "samples": [...]}: the samples taken
  // after `since_ms` (0: all), oldest first. Each sample:
  //   {"t": ms, "accepted": n, "rejected": n,
  //    "accepted_per_s": x, "rejected_per_s": x,        (null for the first)
  //    "freshness_ms": n, "log_end": [..], "batch": [..], "speed": [..],
  //    "lag": [S - W per partition], "batch_version": n|null, "batch_runs": n,
  //    "batch_run_ms": x|null  (batch runs ended since the sample before: their mean duration)
  //    "micro_batches_per_s": x, "micro_batch_ms": x|null  (their mean duration),
  //    with run --group also "owned": [partitions], "rebalances":
  //    {"gained": n, "revoked": n, "lost": n} (totals since start)}
  std::string Json(int64_t since_ms, int64_t interval_ms = 1000) const;

 private:
  struct Entry {
    HistorySample sample;
    std::string json;  // rendered once, when added
  };
  const size_t capacity_;
  mutable Mutex mu_;
  std::deque<Entry> entries_ GUARDED_BY(mu_);
};

// Adds a sample to a History every `interval` on its own thread (the first
// at once) until Stop() or destruction.
class HistoryRecorder {
 public:
  HistoryRecorder(std::function<HistorySample()> sample, History* history,
                  std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~HistoryRecorder();
  HistoryRecorder(const HistoryRecorder&) = delete;
  HistoryRecorder& operator=(const HistoryRecorder&) = delete;

  void Stop();

 private:
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace lf
