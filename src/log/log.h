// The embedded log: the durable, partitioned, offset-addressed record of
// every accepted event, on top of FileSystem. Format: log_format.h and
// docs/formats/log.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "log/producer_table.h"

namespace lf {

enum class FsyncPolicy {
  kAlways,    // every Append is fsynced before it returns
  kInterval,  // group commit by a background syncer (see Log)
  kNone,      // acknowledged once handed to the OS; a machine crash may lose it
};

// "always", "interval" or "none"; InvalidArgument naming the choices otherwise.
Result<FsyncPolicy> ParseFsyncPolicy(std::string_view name);

struct LogOptions {
  int partitions = 1;
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  // kInterval: consecutive syncs start at least this far apart, so an
  // Append waits at most about this long plus one fsync.
  int fsync_interval_ms = 5;
  // A segment is sealed and a new one started once the next record would
  // take it past this size (a segment always holds at least one record).
  uint64_t segment_bytes = 64 << 20;
  // Per partition, the offset below which the master dataset holds every
  // event (its sealed watermark); empty: 0. Recovery checks the log against
  // it: the log never ends below it (then Open fails, see restart_at_sealed),
  // nor starts above it, and damaged or missing segments wholly below it are
  // dropped (the master dataset holds their events), as reclaiming them would.
  std::vector<uint64_t> sealed = {};
  // When a partition's log ends below its sealed watermark (its segment
  // files were truncated or deleted): instead of failing, move its segment
  // files aside (renamed *.log.lost) and start the partition at the sealed
  // watermark. Events acknowledged above it that only the log held are lost.
  bool restart_at_sealed = false;
};

struct OffsetRange {
  int partition = 0;
  uint64_t from = 0, to = 0;  // [from, to)
};

// What an append did.
struct AppendOutcome {
  OffsetRange range;
  // The producer's batch was its last one again (a retry): nothing was
  // appended, `range` is what the batch was given the first time.
  bool duplicate = false;
};

// What recovery did to open the log.
struct LogRecoveryReport {
  // One line per repair, naming partition, segment, byte position, offsets.
  std::vector<std::string> notes;
  uint64_t truncated_bytes = 0;  // over all partitions
};

// Owns the segment files of `dir` (one sub-directory per partition) and one
// background syncer thread (kInterval only).
//
// Each Append call is one record in the log (a batch, format version 2):
// after a crash either all of its events are there or none is. An append
// may carry a producer tag (ProducerBatch): the log keeps every producer's
// last batch (ProducerTable), recovered with the log and checkpointed in
// the partition's PRODUCERS file when segments are reclaimed, and answers a
// retry of it with the original offsets instead of appending it again.
//
// Offsets, per partition (named as counts: one past the last such record),
// always synced <= written <= appended, where
//   appended: offsets assigned to records encoded into the write buffer;
//   written:  records handed to the OS (Flush): readable, lost on a machine crash;
//   synced:   records fsynced: survive a machine crash.
// Every Append call writes its records before returning, so outside a call
// appended == written. The acknowledged end, end_offset(), is `synced`
// under kAlways and kInterval and `written` under kNone; Read serves only
// acknowledged records, so readers never see what a crash may take back.
//
// Append contract: records get contiguous offsets in call order; the call
// returns once they are acknowledged under the policy. kAlways: the caller
// fsyncs before returning (concurrent callers are serialized). kInterval:
// the caller waits for the syncer, which syncs every partition with written
// but unsynced records, starting a sync as soon as one is wanted but never
// sooner than fsync_interval_ms after the previous one started: all callers
// that arrive meanwhile share one fsync. kNone: returns after the write.
// AppendNoWait + WaitDurable split the same call so that one thread can keep
// many batches in flight (the way to full speed under kInterval).
//
// Failures: a failed write is undone (the segment is truncated back) and the
// partition stays writable; if that is impossible, or an fsync fails (after
// which the OS may have dropped the data), the partition refuses every
// later append with an error naming the cause: reopen the log to recover.
// Records of a failed call may still be present after a reopen (they were
// appended, never acknowledged).
//
// Thread-safe: all methods may be called concurrently. Per partition, a
// writer mutex serializes Append, sync and roll; a separate segment-list
// mutex lets Read and ReclaimBelow run without waiting for writes.
class Log {
 public:
  // Opens or creates the log in `dir`, recovering each partition: a torn
  // tail is truncated and described in *report (may be null); anything else
  // wrong is an error (Corruption, naming partition, segment, byte position
  // and offsets).
  static Result<std::unique_ptr<Log>> Open(FileSystem* fs, const std::string& dir, const LogOptions& opts,
                                           LogRecoveryReport* report);
  ~Log();  // Close()s if needed
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends records to one partition and returns their offsets once they are
  // acknowledged (see the class comment).
  Result<OffsetRange> Append(int partition, const std::vector<std::string_view>& records);
  // Appends and writes without waiting for durability; the records are
  // acknowledged once end_offset(partition) passes them: under kInterval by
  // the syncer, under kAlways only by a WaitDurable, a later Append or Close.
  Result<OffsetRange> AppendNoWait(int partition, const std::vector<std::string_view>& records);
  // The same with a producer tag (may be null): ProducerTable's rule decides.
  // A duplicate is answered without appending (wait for its range.to to be
  // durable before acknowledging it); an out-of-order seq is Conflict. With a
  // producer, the records are one record of at most kMaxBatchBytes, else
  // InvalidArgument (without one, a larger append is split).
  Result<AppendOutcome> AppendNoWait(int partition, const std::vector<std::string_view>& records,
                                     const ProducerBatch* producer);
  // Makes everything written to `partition` durable now (under kAlways and
  // kInterval; nothing under kNone), also event-less producer batches, whose
  // durability no offset tracks.
  Status SyncNow(int partition);
  // The producer's last batch as the log knows it (written, maybe not yet
  // durable); nullopt for an unknown producer.
  std::optional<ProducerLast> FindProducer(int partition, std::string_view id) const;
  // Waits until the records of `partition` below `offset` are acknowledged
  // (syncing itself under kAlways). Error if they never will be (failed
  // sync, closed log).
  Status WaitDurable(int partition, uint64_t offset);

  uint64_t end_offset(int partition) const;    // one past the last acknowledged record
  uint64_t start_offset(int partition) const;  // first offset still held (after reclaim)
  int partitions() const { return static_cast<int>(parts_.size()); }

  // Calls fn(offset, bytes) for records [from, to) of `partition` in order
  // (the view is valid during the call); stops at the first non-OK status fn
  // returns and returns it. NotFound if `from` was reclaimed, OutOfRange if
  // `to` > end_offset(), Corruption (with position) on a bad record.
  Status Read(int partition, uint64_t from, uint64_t to,
              const std::function<Status(uint64_t, std::string_view)>& fn) const;

  // Deletes the segment files whose records all lie below `offset` (they
  // were sealed into the master dataset). The last segment is always kept.
  Status ReclaimBelow(int partition, uint64_t offset);

  // Stops the syncer after a final sync of every partition (under every
  // policy) and closes the files. Later appends fail; reads keep working.
  Status Close();

 private:
  struct Segment;
  struct Partition;

  Log(FileSystem* fs, std::string dir, const LogOptions& opts);

  Status Recover(Partition& p, LogRecoveryReport* report);
  Status CreateSegmentLocked(Partition& p, uint64_t base);
  Status RecoverSegments(Partition& p, uint64_t sealed, LogRecoveryReport* report);
  Status WriteLocked(Partition& p, const std::vector<std::string_view>& records, const ProducerBatch* producer,
                     AppendOutcome* out);
  Status WriteBatchLocked(Partition& p, const std::vector<std::string_view>& records, size_t begin, size_t end,
                          size_t bytes, const ProducerBatch* producer);
  Status RollLocked(Partition& p);
  Status SyncLocked(Partition& p);
  Status WriteFailedLocked(Partition& p, Status cause);
  Status Unwritable(Partition& p, const Status& cause);
  Result<Partition*> Find(int partition) const;
  void WakeSyncer();
  void SyncerLoop();

  FileSystem* const fs_;
  const std::string dir_;
  const LogOptions opts_;
  std::vector<std::unique_ptr<Partition>> parts_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_wanted_ = false;  // guarded by sync_mu_
  bool stop_ = false;         // guarded by sync_mu_
  std::atomic<bool> closed_{false};
  std::thread syncer_;
};

}  // namespace lf
