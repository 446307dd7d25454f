// SourceFeed: the source thread of `run --source kafka://...`. It owns the
// LogSource, polls it and appends what arrives to the SourceTail, from which
// the speed layer and the archiver read (record_reader.h). Where each
// partition starts is lambdaflow's decision (its sealed or speed watermark),
// never the source's committed offsets.
//
//   backpressure  a partition whose tail holds more than max_tail_bytes is
//                 paused at the source and resumed below half of it, so
//                 that memory stays bounded while sealing is behind;
//   retention     a partition whose start offset the source no longer holds
//                 (at startup, from Bounds, or later, OutOfRange from Poll)
//                 is reported loudly — its state says lost, with the range,
//                 and the log line names both — and is not read any more:
//                 never a silent jump over lost events;
//   freshness     a second thread asks the high watermark of every partition
//                 every watermark_interval; once the tail's position reaches
//                 a high watermark asked at time t, the partition is known
//                 complete up to t. While brokers are down no answer comes,
//                 and the freshness reported from CaughtUpMs grows truthfully;
//   commits       Sealed(p, to) frees the sealed range of the tail and
//                 commits `to` asynchronously (for lag tools only).
//
// Transient trouble (a broker down) is retried by the source; the feed goes
// on by itself once it answers again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "source/log_source.h"
#include "source/source_tail.h"

namespace lf {

struct SourceFeedOptions {
  // Per partition: the unsealed tail's budget (see the file comment).
  size_t max_tail_bytes = size_t{256} << 20;
  std::chrono::milliseconds watermark_interval{100};
  std::chrono::milliseconds poll_timeout{50};
  // False for a consumer-group member (`run --group`): nothing is assigned
  // at Start; the group's rebalances assign partitions (the source's
  // on_gain answers where each starts, after ResetPartition) and every
  // partition starts inactive.
  bool assign_all = true;
  // Operator log lines (retention loss, pauses). May be empty.
  std::function<void(const std::string& line)> log;
};

// What a partition of the source looks like now.
struct SourcePartitionState {
  uint64_t position = 0;        // the tail's coverage
  uint64_t high_watermark = 0;  // as last asked (0 before the first answer)
  uint64_t log_start = 0;
  int64_t high_watermark_ms = 0;  // wall clock of that answer
  bool paused = false;
  bool lost = false;  // retention deleted [lost_from, lost_to) before it was read
  uint64_t lost_from = 0, lost_to = 0;
  std::string lost_message;
};

class SourceFeed {
 public:
  // Starts reading partition p of `source` at `starts[p]` (one per
  // partition of the source): checks every partition's bounds first (a
  // start below the log start is reported lost and not read), assigns the
  // others and starts the threads.
  static Result<std::unique_ptr<SourceFeed>> Start(std::shared_ptr<LogSource> source,
                                                   const std::vector<uint64_t>& starts, SourceFeedOptions options);
  ~SourceFeed();  // Stop()s
  void Stop();

  const SourceTail& tail() const { return tail_; }
  std::string Describe() const { return describe_; }

  // [from, to) of `partition` is sealed and published: frees it from the
  // tail (resuming the partition if it was paused for it) and commits `to`.
  void Sealed(int partition, uint64_t to);

  // The wall-clock time up to which every partition is known complete at
  // the positions `speed` (see the file comment): the oldest of the
  // partitions' times.
  // Only active partitions count (see ResetPartition).
  int64_t CaughtUpMs(const std::vector<uint64_t>& speed);
  // A member's partition gained (`active`: read from `start` on) or lost
  // (inactive: not read; its tail is emptied and positioned at `start`).
  void ResetPartition(int partition, uint64_t start, bool active);

  std::vector<SourcePartitionState> partitions() const;
  SourceHealth health() const;
  uint64_t records_read() const { return records_read_.load(); }

 private:
  SourceFeed(std::shared_ptr<LogSource> source, SourceFeedOptions options);
  void PollLoop();
  void WatermarkLoop();
  // Retention loss found at `position` of `partition`: marks it lost with the
  // source's message and logs it.
  void MarkLost(int partition, uint64_t position, uint64_t log_start, const std::string& message) EXCLUDES(mu_);
  // Assigns every partition not lost at the tail's positions.
  Status AssignReadable();
  void LogLine(const std::string& line) const;

  const std::shared_ptr<LogSource> source_;
  const SourceFeedOptions options_;
  const std::string describe_;
  SourceTail tail_;

  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<SourcePartitionState> state_ GUARDED_BY(mu_);
  // Per partition, (time asked, high watermark) not yet reached by the speed
  // layer, oldest first; and the time each partition is known complete to.
  std::vector<std::deque<std::pair<int64_t, uint64_t>>> asked_ GUARDED_BY(mu_);
  std::vector<int64_t> complete_ms_ GUARDED_BY(mu_);
  std::vector<bool> active_ GUARDED_BY(mu_);
  std::vector<std::pair<int, uint64_t>> to_commit_ GUARDED_BY(mu_);
  SourceHealth health_ GUARDED_BY(mu_);
  std::atomic<uint64_t> records_read_{0};
  std::thread poll_thread_, watermark_thread_;
};

}  // namespace lf
