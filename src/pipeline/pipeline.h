// The running engine of `lambdaflow run`: one data directory, and the
// threads that make the lambda architecture live on it —
//
//   ingest   Accept(): validates an NDJSON body and appends the accepted
//            events to the log (called from the HTTP handlers, concurrently);
//   speed    every micro-batch: consumes the log from the speed watermark,
//            merges the micro-batch into the served states, closes buckets
//            at segment boundaries and hands them to the archiver, and swaps
//            in each new batch version, dropping the buckets it covers;
//   archiver seals exactly the closed buckets' ranges into master segments;
//   batch    recomputes every view from the master dataset when there are
//            new segments, at most once per batch interval;
//   source   with PipelineOptions::source (a Kafka topic) instead of ingest:
//            the source thread reads the topic into an in-memory tail, which
//            the speed layer and the archiver read instead of the log
//            (pipeline_source.cc, source/source_feed.h).
//
// Served answers are finalize(batch[0, W) ⊕ speed[W, S)) with the W and S
// they report. After any stop, Start resumes: the served batch version is
// loaded and the speed layer replays [W, end) from the master dataset and
// the log (with a source: from the master dataset, then the topic from the
// sealed watermark on).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "batch/batch_layer.h"
#include "common/file_system.h"
#include "common/histogram.h"
#include "common/mutex.h"
#include "common/status.h"
#include "engine/data_dir.h"
#include "ingest/json_decoder.h"
#include "plan/view_plan.h"
#include "serving/served_views.h"
#include "source/log_source.h"
#include "source/record_reader.h"
#include "source/source_feed.h"
#include "speed/speed_layer.h"

namespace lf {

// The rebalance callbacks of a consumer-group member (`run --group`): the
// caller's KafkaSource (KafkaSourceOptions::membership) forwards to these,
// which the pipeline sets before its source is first polled and clears
// when it stops (pipeline_ownership.cc).
struct GroupMembership {
  Mutex mu;
  std::function<Result<std::vector<PartitionStart>>(const std::vector<uint32_t>& gained)> on_gain GUARDED_BY(mu);
  std::function<void(const std::vector<uint32_t>& revoked, bool lost)> on_lose GUARDED_BY(mu);
  // What the source's callbacks call.
  Result<std::vector<PartitionStart>> Gain(const std::vector<uint32_t>& gained);
  void Lose(const std::vector<uint32_t>& revoked, bool lost);
};

struct PipelineOptions {
  DataDirOptions dir;                               // log, fsync policy, seal_events, decoder
  std::chrono::milliseconds seal_age{10'000};       // a segment is cut once its first event is this old
  std::chrono::milliseconds batch_interval{5'000};  // minimum time between batch runs' starts
  std::chrono::milliseconds micro_batch{20};        // the speed layer's micro-batch interval
  int batch_threads = 0;                            // 0: one per core
  // Backpressure: while more closed buckets than this wait for the archiver,
  // Accept answers Unavailable (HTTP 503 + Retry-After), so that the speed
  // layer's memory stays bounded when sealing cannot keep up.
  size_t max_unsealed_buckets = 8;
  // HTTP ingest without `?partition=`: the column whose value picks each
  // event's partition (murmur2 of its text, as `produce --to kafka://` keys
  // by zipcode); empty: one partition per request, round-robin. Integer and
  // text columns only; a NULL key goes to the request's round-robin
  // partition.
  std::string partition_by;
  // The time and memory budget of every query and whole-view read.
  QueryLimits query_limits;
  // The stream's external log (`run --source kafka://...`), opened by the
  // caller, or null for the embedded log fed by Accept. Its partition count
  // must be the data directory's; `dir.source` must name it (the data
  // directory records it). With a source, Accept is refused (Conflict) and
  // a source thread feeds the speed layer and the archiver
  // (source/source_feed.h; pipeline_source.cc).
  std::shared_ptr<LogSource> source;
  SourceFeedOptions feed;
  // Not null: this process is a member of the source's consumer group
  // (docs/formats/ownership.md): it owns no partition at start, and seals,
  // batch-computes and speed-serves only what the group gives it.
  std::shared_ptr<GroupMembership> member;
  // Not empty: the embedded log is fed by a feeder of this process
  // (`run --source kinesis://...`, kinesis_feeder.h) through
  // AcceptFromFeeder, and Accept (HTTP ingest) is refused (Conflict) with
  // this as the reason.
  std::string http_ingest_refused;
  // Operator log lines (runs, swaps, errors). May be empty.
  std::function<void(const std::string& line)> log;
};

// The result of one Accept.
struct AcceptReport {
  uint64_t accepted = 0;
  std::vector<Reject> rejects;  // line numbers count from 1 within the body
  OffsetRange offsets;          // of the accepted events; from == to when none
  // Every partition the body was appended to, in partition order, with its
  // range (one entry unless the body was split by `partition_by`); `offsets`
  // is meaningful only when there is one.
  std::vector<OffsetRange> ranges;
  // A producer's retry of its last batch: nothing was appended (nor
  // dead-lettered again); `offsets` are what the batch was given first.
  bool duplicate = false;
};

struct PipelineStats {
  uint64_t accepted = 0, rejected = 0;  // with a source, `accepted` counts the records read from it
  uint64_t batch_runs = 0, batch_failures = 0;
  uint64_t micro_batches = 0;
  uint64_t segments_sealed = 0;
  size_t speed_buckets = 0;
  uint64_t speed_events_handed_over = 0;  // consumed as ingest decoded them
  uint64_t speed_events_decoded = 0;      // read back from the log and decoded
  size_t speed_memory = 0;
  size_t served_memory = 0;
  // Per partition: the log's end (with a source: the partition's high
  // watermark as last asked, at least what was read), the sealed watermark.
  std::vector<uint64_t> log_end, sealed;
  // With a source: its description, its partitions' states (positions, high
  // watermarks, pauses, retention loss) and its transient errors.
  std::string source;
  std::vector<SourcePartitionState> source_partitions;
  uint64_t source_transient_errors = 0;
  std::string source_last_transient_error;
  std::string last_error;  // of the batch or archiver loop; empty when none
  // A group member (PipelineOptions::member): per partition whether this
  // process owns it now, and the partitions gained, revoked (a cooperative
  // rebalance or a clean leave) and lost (expelled, found fenced) so far.
  // Empty / zero otherwise.
  std::vector<bool> owned;
  uint64_t partitions_gained = 0, partitions_revoked = 0, partitions_lost = 0;
};

// What one partition of an answer covers (several workers, ownership.md).
struct PartitionCoverage {
  int partition = 0;
  uint64_t epoch = 0;  // the owner epoch of the partition's latest manifest version this process knows
  uint64_t batch = 0;  // W[p]
  uint64_t speed = 0;  // S[p]
};

// One view over the partitions this process owns: their batch pieces ⊕
// their speed state, with per partition its epoch, W and S.
struct OwnedViewState {
  std::unique_ptr<ViewState> state;           // Serialize() gives a view_state.md image
  std::vector<PartitionCoverage> partitions;  // one per owned partition, ascending
};

// One partition's batch-only state, from the version its chain names.
struct PartitionBatchState {
  int partition = 0;
  uint64_t batch = 0;    // W[p]
  uint64_t version = 0;  // the number of the version its chain names; 0: none
  std::unique_ptr<ViewState> state;
};

class Pipeline {
 public:
  // Opens (creating when needed) the data directory and starts every
  // thread; returns once the served views cover the whole log.
  static Result<std::unique_ptr<Pipeline>> Start(FileSystem* fs, const std::string& dir, const std::string& views_path,
                                                 PipelineOptions options);
  ~Pipeline();  // Stop()s

  // Stops the threads (a running batch recompute finishes first) and closes
  // the log after a final sync. Accept fails afterwards; reads keep working.
  Status Stop();

  // Validates `body` (NDJSON) and appends the valid lines, in order, to the
  // log as one record (all or nothing after a crash); returns once they are
  // durable under the fsync policy. Rejected lines go to the dead-letter
  // store. Unavailable when the log cannot take writes (then nothing of the
  // body was acknowledged).
  //
  // With a producer (idempotent producers, log/producer_table.h): a retry of
  // the producer's last batch (same seq) is answered with the offsets it was
  // given, once they are durable, and not appended again; a seq that is
  // neither the last nor the next is Conflict (HTTP 409); the seq is stored
  // with the batch in the log, even when no line of it was accepted.
  //
  // The partition: `partition` if given (InvalidArgument when out of
  // range); else, with `partition_by`, each line's key's (the body is split
  // into one append per partition, each all or nothing; with a producer,
  // every partition gets the batch's seq, so that seqs stay contiguous per
  // partition); else the producer id's hash (a retry lands where the first
  // try did); else the next partition round-robin.
  Result<AcceptReport> Accept(std::string_view body, const std::optional<ProducerBatch>& producer = std::nullopt,
                              std::optional<int> partition = std::nullopt);
  // Accept for a feeder of the embedded log (PipelineOptions::
  // http_ingest_refused): one partition, a producer tag, and each rejected
  // line goes to the dead letters as input `rejects_input(line)` (e.g. the
  // Kinesis shard and sequence number).
  Result<AcceptReport> AcceptFromFeeder(std::string_view body, const ProducerBatch& producer, int partition,
                                        const std::function<std::string(uint64_t line)>& rejects_input);
  int partitions() const { return dir_->partitions(); }
  // The external source read (kafka://...), or empty for the embedded log.
  std::string source() const { return feed_ ? feed_->Describe() : std::string(); }
  const std::string& partition_by() const { return options_.partition_by; }

  const ServedViews& served() const { return *served_; }
  const sql::Catalog& catalog() const { return dir_->catalog(); }
  const std::string& data_path() const { return dir_->path(); }
  // The data directory (for a feeder of its embedded log).
  DataDir* data_dir() { return dir_.get(); }
  // The dead-letter store (engine/dead_letters.h reads its latest lines).
  std::string rejects_path() const { return dir_->rejects_path(); }
  FileSystem* file_system() const { return fs_; }
  PipelineStats stats() const;
  // Durations of the speed loop's micro-batches and of published batch runs.
  const Histogram& micro_batch_seconds() const { return micro_batch_seconds_; }
  const Histogram& batch_run_seconds() const { return batch_run_seconds_; }

  // For a query gathered from several workers (ownership.md §5): view
  // `view` (an index of served()) over the partitions this process owns —
  // batch ⊕ speed, taken together with their epochs, W and S under the
  // speed loop's lock. Without a consumer group every partition is owned.
  Result<OwnedViewState> OwnedState(size_t view) const;
  // Partition p's batch-only state of `view` from the version p's manifest
  // chain names now (re-read from the store; pieces cached by key).
  Result<PartitionBatchState> PartitionBatchOnly(size_t view, int partition) const;
  // What the last swap of a batch version read (for tests and the log).
  struct SwapStats {
    uint64_t pieces_read = 0;    // pieces read from the store
    uint64_t pieces_total = 0;   // pieces the version lists for the served partitions
    bool delta = false;          // only the new pieces were read and combined in
    double read_seconds = 0;     // reading and combining them (batch thread)
    double install_seconds = 0;  // combining into the served batch part, copying it, merging the speed state
  };
  SwapStats last_swap() const;

  // Test hooks: run one micro-batch, or one batch recompute and its swap,
  // now (on the calling thread; only while the loops are paused, see
  // PipelineOptions: a zero micro_batch / batch_interval of -1 ms disables
  // the corresponding loop).
  Status RunMicroBatchForTesting();
  Status RunBatchForTesting();

 private:
  Result<AcceptReport> AcceptImpl(std::string_view body, const std::optional<ProducerBatch>& producer,
                                  std::optional<int> partition,
                                  const std::function<std::string(uint64_t line)>* rejects_input);
  // A batch version read for the speed thread to swap in (pipeline_batch.cc).
  struct PendingVersion {
    BatchVersion version;
    // delta: `states` hold only the version's pieces beyond the batch part
    // `base` (BatchPart::id) covers; else every piece of the version.
    bool delta = false;
    uint64_t base = 0;
    ViewStates states;
    SwapStats stats;
  };
  // The served batch part: per view the ⊕ of the pieces of the version
  // served, for the partitions `in` (every partition, or a member's own),
  // each up to `to[p]`. Changed by the speed thread under speed_mu_; its
  // descriptor (id, to, in) is read by the batch thread under
  // batch_part_mu_.
  struct BatchPart {
    uint64_t id = 0;  // 0: nothing loaded yet
    std::vector<uint64_t> to;
    std::vector<bool> in;
    ViewStates states;
    // Per partition in `in`: the pieces (every view) its states hold, as the
    // latest version lists them (to rebuild `states` when one is lost).
    std::vector<std::vector<VersionPiece>> pieces;
  };
  // A member's partition owned elsewhere: its batch-only states from the
  // version its own chain names (another worker's, or this one's before it
  // lost it), served with S[p] = W[p].
  struct OtherPartition {
    std::string key;  // the version's key; empty: no version
    uint64_t number = 0;
    uint64_t watermark = 0;  // W[p]
    std::vector<VersionPiece> pieces;
    ViewStates states;
  };
  // Read by the batch thread, installed by the speed thread: `delta` adds
  // `states` to the partition's states of version `base_key`.
  struct PendingOther {
    int partition = 0;
    bool delta = false;
    std::string base_key;
    OtherPartition other;
  };

  Pipeline(FileSystem* fs, PipelineOptions options);
  Status Init(const std::string& dir, const std::string& views_path);
  Result<std::optional<PendingVersion>> LoadServableVersion();
  // Reads every piece of `version` (a full load).
  Result<PendingVersion> LoadVersion(const BatchVersion& version, const std::vector<bool>& partitions);
  // Reads what swapping `version` in needs: only its pieces beyond the
  // served batch part when the others are those (or merges of those),
  // else every piece (LoadVersion).
  Result<PendingVersion> PrepareVersion(const BatchVersion& version);
  Status InstallVersion(PendingVersion pending);
  // Serves a copy of the batch part ⊕ the other partitions' batch-only
  // states ⊕ the speed state; W from them, S from the speed layer, the
  // rest of `coverage` as given. Under speed_mu_.
  void ServeBatchPart(Coverage coverage);
  // A member: partition p's batch part as its chain names it now — reusing
  // `have` (its states of version have->key) when the new version only
  // adds pieces to it (then the result is a delta).
  Result<PendingOther> ReadOther(int p, const OtherPartition* have) const;
  // A member's batch thread: the other partitions whose chains name a new
  // version, read for the speed thread to install.
  void RefreshOthers();
  void InstallOthers(std::vector<PendingOther> others);
  // Rebuilds the batch part's states from the pieces of the partitions in
  // it (after one left). Under speed_mu_.
  Status RebuildBatchPart();
  // Partition p's pieces of `v` for this process's plans, `view` set to the
  // plan's index (a version may list its views in another order).
  std::vector<VersionPiece> PlanPieces(const BatchVersion& v, int p) const;
  // Appends `records` (with their decoded `rows`, may be empty) to
  // partition `p`; fills `range` and `duplicate`. With `wait`, returns once
  // the range is durable (a duplicate: always).
  Status AppendTo(int p, const std::vector<std::string_view>& records, std::vector<std::unique_ptr<Batch>> rows,
                  const std::optional<ProducerBatch>& producer, bool wait, OffsetRange* range, bool* duplicate);
  // pipeline_source.cc: with an external source, the checks before the
  // speed layer is rebuilt (partition count, a new directory's first
  // offsets), the source thread started at the speed watermark, sealing a
  // closed range from the source's tail, and the dead letters: the records
  // the speed layer could not decode are held by offset and written once
  // their range is sealed (so a restart, which replays the unsealed range,
  // does not write them twice).
  Status PrepareSource();
  Status StartSource();
  // pipeline_ownership.cc: a group member's rebalances, and what its batch
  // loop and version swaps do differently.
  Result<std::vector<PartitionStart>> OnGain(const std::vector<uint32_t>& gained);
  void OnLose(const std::vector<uint32_t>& revoked, bool lost);
  // Serves the current batch version's states ⊕ the speed layer again
  // (after a partition's speed state changed). Under speed_mu_.
  Status ReinstallServed();
  // Before a member swaps in `v`: false when it misses what the speed layer
  // dropped for an owned partition (a run that began before a gain; the
  // next run covers it); else drops the speed state of every partition not
  // owned to v's W (served from the batch version alone, S[p] = W[p]).
  bool PrepareMemberSwap(const BatchVersion& v);
  // The partitions a member's next batch run covers and their sealed
  // watermarks now; empty when there is nothing new for them.
  std::vector<int> MemberBatchPartitions(std::vector<uint64_t>* run_sealed);
  // Fills PipelineStats' group member fields.
  void AddMemberStats(PipelineStats* s) const;
  Status SealFromSource(const OffsetRange& r);
  void HoldReject(int partition, uint64_t offset, const Reject& reject);
  Status MicroBatch();
  Status RunBatch();
  void SpeedLoop();
  void ArchiverLoop();
  void BatchLoop();
  void LogLine(const std::string& line) const;
  bool Stopping() const;
  // Waits until `deadline` or until Stop, whichever comes first.
  void SleepUnlessStopped(std::chrono::steady_clock::time_point deadline) REQUIRES(mu_);

  FileSystem* const fs_;
  const PipelineOptions options_;
  std::unique_ptr<DataDir> dir_;
  std::vector<std::unique_ptr<ViewPlan>> owned_plans_;
  std::vector<const ViewPlan*> plans_;
  std::unique_ptr<BatchLayer> batch_;
  DecodedRows decoded_;                // rows ingest decoded, for the speed layer
  std::unique_ptr<SpeedLayer> speed_;  // speed thread only
  // What the speed layer and the archiver read: the embedded log or the
  // source's tail.
  std::unique_ptr<RecordReader> log_reader_;
  std::unique_ptr<SourceFeed> feed_;
  const RecordReader* reader_ = nullptr;
  std::unique_ptr<ServedViews> served_;

  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::optional<PendingVersion> pending_ GUARDED_BY(mu_);  // from the batch loop
  std::deque<OffsetRange> to_seal_ GUARDED_BY(mu_);
  std::string last_error_ GUARDED_BY(mu_);
  std::optional<BatchVersion> served_version_;  // speed thread only
  BatchPart batch_part_;                        // under speed_mu_
  std::map<int, OtherPartition> others_;        // under speed_mu_ (members only)
  std::vector<PendingOther> pending_others_ GUARDED_BY(mu_);
  mutable Mutex batch_part_mu_;
  uint64_t batch_part_id_ GUARDED_BY(batch_part_mu_) = 0;
  std::vector<uint64_t> batch_part_to_ GUARDED_BY(batch_part_mu_);
  std::vector<bool> batch_part_in_ GUARDED_BY(batch_part_mu_);
  SwapStats last_swap_ GUARDED_BY(batch_part_mu_);
  mutable Mutex speed_mu_;  // one micro-batch or swap at a time
  // Sealing a segment and a batch run each need a few hundred MB for a
  // while (records, compressed and columnar files; states, images): they
  // take turns, so that peak memory is the larger of the two, not the sum.
  Mutex heavy_mu_;

  Mutex decoders_mu_;
  std::vector<std::unique_ptr<JsonDecoder>> decoders_ GUARDED_BY(decoders_mu_);  // free ones
  Mutex rejects_mu_;
  Mutex held_rejects_mu_;
  std::map<std::pair<int, uint64_t>, Reject> held_rejects_ GUARDED_BY(held_rejects_mu_);  // (partition, offset)
  int partition_column_ = -1;                // of options_.partition_by in the schema
  std::atomic<uint64_t> next_partition_{0};  // round-robin

  std::atomic<uint64_t> accepted_{0}, rejected_{0}, batch_runs_{0}, batch_failures_{0}, micro_batches_{0},
      segments_sealed_{0};
  std::atomic<size_t> speed_buckets_{0}, speed_memory_{0};
  std::atomic<uint64_t> speed_handed_over_{0}, speed_decoded_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> partitions_gained_{0}, partitions_revoked_{0}, partitions_lost_{0};
  Histogram micro_batch_seconds_{Histogram::LatencyBounds()};
  Histogram batch_run_seconds_{Histogram::LatencyBounds()};

  std::thread speed_thread_, archiver_thread_, batch_thread_;
  std::chrono::steady_clock::time_point next_gc_;
  // A member's last batch run: the partitions and their sealed watermarks
  // (batch thread only).
  std::vector<int> last_run_partitions_;
  std::vector<uint64_t> last_run_sealed_;  // the batch thread's next garbage collection
};

}  // namespace lf
