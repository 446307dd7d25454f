// LogSource: the seam every external log plugs into (Kafka now; the
// embedded log and Kinesis-fed partitions later). A source has numbered
// partitions of offset-addressed records. lambdaflow, not the source,
// decides where reading starts: Assign gives each partition an explicit
// start offset taken from lambdaflow's own manifests and speed state, never
// from offsets the source keeps for consumers.
//
// Coverage. Position(p) is the consumer's position: every offset of p below
// it was delivered by Poll or does not exist. Offsets need not be dense
// (Kafka's transaction markers and compaction leave gaps), so the position
// may be above the last delivered offset + 1; W[p] and S[p] are positions.
//
// Errors. Transient trouble (a broker down, a timeout) is not an error: the
// source retries by itself and reports it in health(). Poll fails only when
// reading cannot go on without losing data: OutOfRange when the partition
// no longer holds the start offset (retention deleted records never read),
// naming the partition and the lost range.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf {

struct SourceRecord {
  uint32_t partition = 0;
  uint64_t offset = 0;
  std::string_view key;
  std::string_view value;
  int64_t timestamp_ms = -1;  // the source's timestamp, -1 when it has none
};

// Records polled from a source. The views in records() stay valid until
// Clear() or destruction: the batch keeps the source's buffers alive.
class RecordBatch {
 public:
  const std::vector<SourceRecord>& records() const { return records_; }
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  void Clear() {
    records_.clear();
    owners_.clear();
  }
  // For sources: adds a record whose bytes `owner` keeps alive.
  void Add(const SourceRecord& r, std::shared_ptr<void> owner) {
    records_.push_back(r);
    owners_.push_back(std::move(owner));
  }

 private:
  std::vector<SourceRecord> records_;
  std::vector<std::shared_ptr<void>> owners_;
};

struct PartitionStart {
  uint32_t partition = 0;
  uint64_t offset = 0;
};

// What a partition holds now: offsets [log_start, high_watermark).
struct PartitionBounds {
  uint64_t log_start = 0;
  uint64_t high_watermark = 0;
};

struct SourceHealth {
  uint64_t transient_errors = 0;  // broker disconnects, timeouts, ... (retried by the source)
  std::string last_transient_error;
};

// Not thread-safe: one thread assigns, polls and asks positions.
class LogSource {
 public:
  virtual ~LogSource() = default;

  virtual uint32_t partition_count() const = 0;
  // Reads exactly these partitions from now on, each from its offset
  // (replacing any previous assignment; an empty list stops reading).
  virtual Status Assign(const std::vector<PartitionStart>& starts) = 0;
  // Appends up to `max_records` records to *out, waiting up to `timeout`
  // for the first. Records of one partition come in offset order. OK with
  // none when nothing arrived in time. On error, the records already
  // appended are valid and their positions counted.
  virtual Status Poll(size_t max_records, std::chrono::milliseconds timeout, RecordBatch* out) = 0;
  // The position of an assigned partition (see the file comment).
  virtual Result<uint64_t> Position(uint32_t partition) const = 0;
  // Asks the source what partition `partition` holds now. Unlike the other
  // methods, may be called from any thread, concurrently with them (the
  // source thread polls while another one watches the high watermarks).
  virtual Result<PartitionBounds> Bounds(uint32_t partition, std::chrono::milliseconds timeout) = 0;
  // The high watermarks of `partitions` (in that order), asked in as few
  // requests as the source allows; callable from any thread, like Bounds.
  virtual Result<std::vector<uint64_t>> HighWatermarks(const std::vector<uint32_t>& partitions,
                                                       std::chrono::milliseconds timeout) {
    std::vector<uint64_t> out;
    for (uint32_t p : partitions) {
      ASSIGN_OR_RETURN(PartitionBounds b, Bounds(p, timeout));
      out.push_back(b.high_watermark);
    }
    return out;
  }
  // Stops (pause) or restarts fetching of assigned partitions, keeping
  // their positions: backpressure while the unsealed tail is over budget.
  virtual Status Pause(const std::vector<uint32_t>& partitions, bool pause) = 0;
  // Tells the source that `partition` is sealed below `offset`, for the
  // source's own lag tools only (Kafka: an asynchronous commit to the
  // group); lambdaflow never reads it back. Best effort.
  virtual void CommitAsync(uint32_t partition, uint64_t offset) = 0;
  virtual SourceHealth health() const = 0;
  // For messages: "kafka://host:9092/events".
  virtual std::string Describe() const = 0;
};

}  // namespace lf
