// The speed layer: incremental view states over the events the served
// batch version does not cover yet. It consumes the log from the batch
// watermark W on, in micro-batches, and keeps per-view partial states in
// buckets aligned to master-segment boundaries: the buckets close where the
// archiver will cut segments (it seals exactly the ranges Poll reports
// closed), so that when a batch version covering W' is published, exactly
// the buckets below W' are dropped — no event counted twice, none missed.
// Memory is bounded by keys × buckets, not by events.
//
// Not thread-safe: one thread (run's speed loop) drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/status.h"
#include "common/vector.h"
#include "ingest/json_decoder.h"
#include "ingest/schema.h"
#include "log/log.h"
#include "master/master_store.h"
#include "plan/view_plan.h"
#include "source/record_reader.h"
#include "speed/decoded_rows.h"

namespace lf {

struct SpeedOptions {
  // A bucket closes once it holds this many events (the archiver's segment
  // size) ...
  uint64_t seal_events = 1'000'000;
  // ... or once its first event was consumed this long ago (0: never).
  std::chrono::milliseconds seal_age{10'000};
  DecoderOptions decoder;
  // Every record that does not decode, with its partition and offset, as
  // it is consumed (for an external log, whose records nobody validated
  // before). May be empty. Records replayed after a restart are reported
  // again.
  std::function<void(int partition, uint64_t offset, const Reject& reject)> on_reject;
};

// Per view, one state (indexed like the plans the layer was made with).
using ViewStates = std::vector<std::unique_ptr<ViewState>>;

ViewStates NewViewStates(const std::vector<const ViewPlan*>& plans);

class SpeedLayer {
 public:
  // `plans` and `decoded` (may be null: every record is decoded from the
  // log) must outlive the layer.
  SpeedLayer(std::vector<const ViewPlan*> plans, const StreamSchema& schema, int partitions, SpeedOptions options,
             DecodedRows* decoded = nullptr);
  ~SpeedLayer();

  // Starts the layer at the batch watermark `batch` (one per partition): one
  // closed bucket per master segment at or above it (scanned from the master
  // dataset), then an open bucket at each partition's sealed watermark, so
  // that the speed watermark is the sealed watermark. Call once, first.
  Status Rebuild(const MasterStore& master, const std::vector<uint64_t>& batch);

  // One micro-batch: consumes the reader's records from the speed watermark
  // to its position into the open buckets and into *delta (fresh states, one
  // per view, holding just this micro-batch), closing buckets at
  // seal_events positions and by age. Appends the ranges of the buckets it
  // closed to *closed, in order: the archiver must seal exactly those. A
  // bucket [from, to) covers positions: where the reader's offsets have
  // gaps it holds fewer than to - from records.
  Status Poll(const RecordReader& reader, ViewStates* delta, std::vector<OffsetRange>* closed);
  // The same over the embedded log (speed/log_record_reader.h).
  Status Poll(const Log& log, ViewStates* delta, std::vector<OffsetRange>* closed);

  // A batch version covering [0, batch) was published: drops the buckets
  // below it. Internal error (nothing dropped) if a watermark falls inside
  // a bucket (it must be a bucket boundary) or beyond the speed watermark.
  Status DropBelow(const std::vector<uint64_t>& batch);

  // states[v] ⊕= every bucket's state of view v.
  void CombineInto(ViewStates* states) const;
  // The same with only partition p's buckets: the partition's partial
  // speed state [W[p], S[p]).
  void CombinePartitionInto(int partition, ViewStates* states) const;
  // The same for one view only: *state ⊕= partition p's buckets of view v
  // (a gathered query asks for one view; the others' merges are not paid).
  void CombinePartitionInto(int partition, size_t view, ViewState* state) const;

  // Ownership changes of a worker (docs/formats/ownership.md). A partition
  // this process lost: its buckets are dropped (nothing of it is served or
  // sealed from here any more) and its speed watermark becomes `position`,
  // the reader's position for it from now on (where its tail was reset).
  void DropPartition(int partition, uint64_t position);
  // A partition this process gained: drops what it held of it, then starts
  // it over like Rebuild does for all — one closed bucket per master
  // segment of the partition at or above `batch` (its batch version's
  // W[p]), its speed watermark at the sealed watermark. The reader must
  // deliver the partition from there on.
  Status RebuildPartition(const MasterStore& master, int partition, uint64_t batch);

  // S per partition: every offset below has been consumed.
  const std::vector<uint64_t>& watermark() const { return speed_; }
  // The start of the oldest bucket per partition (== the batch watermark
  // the layer was started at or last dropped to).
  std::vector<uint64_t> low_watermark() const;
  size_t num_buckets() const { return buckets_.size(); }
  uint64_t events_rejected() const { return rejected_; }
  // Events whose rows came decoded from ingest / were decoded from the log.
  uint64_t events_handed_over() const { return handed_over_; }
  uint64_t events_decoded() const { return decoded_events_; }
  size_t MemoryUsage() const;

 private:
  struct Bucket;
  Bucket* OpenBucket(int partition);
  Status ConsumeRecords(const RecordReader& reader, int partition, uint64_t from, uint64_t to, Bucket* bucket,
                        ViewStates* delta);
  // Reads records [from, to) and consumes their rows into `part`.
  Status DecodeFromLog(const RecordReader& reader, int partition, uint64_t from, uint64_t to, ViewStates* part);
  void Consume(const Batch& batch, ViewStates* part);
  // A closed bucket holding master segment `seg`, scanned.
  Result<std::unique_ptr<Bucket>> SegmentBucket(const MasterStore& master, const SegmentInfo& seg);

  const std::vector<const ViewPlan*> plans_;
  const StreamSchema schema_;
  const SpeedOptions options_;
  DecodedRows* const decoded_;
  JsonDecoder decoder_;
  Batch batch_;
  std::string buffer_;             // records of one read, '\n'-joined and padded
  std::vector<uint64_t> offsets_;  // their offsets, with options_.on_reject
  std::vector<uint64_t> speed_;
  // Oldest first; per partition, contiguous; the last one of a partition
  // is its open bucket.
  std::vector<std::unique_ptr<Bucket>> buckets_;
  uint64_t rejected_ = 0;
  uint64_t handed_over_ = 0, decoded_events_ = 0;
};

}  // namespace lf
