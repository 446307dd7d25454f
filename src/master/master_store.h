// MasterStore: the immutable master dataset, the batch layer's source of
// truth, kept in the shared store (store/object_store.h): write-once
// segment objects under unique names, and per partition a manifest chain
// (store/manifest_chain.h) whose versions say which segments are committed,
// how far the partition is sealed and which batch version covers a prefix
// of it. Formats: docs/formats/store.md (layout, chain),
// docs/formats/master_segment.md (segment bytes), docs/formats/manifest.md
// (the previous release's MANIFEST, read once to migrate).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/vector.h"
#include "ingest/json_decoder.h"
#include "ingest/schema.h"
#include "master/manifest.h"
#include "store/manifest_chain.h"
#include "store/object_store.h"

namespace lf {

struct MasterStoreOptions {
  int zstd_level = 3;
  uint32_t row_group_rows = 64 * 1024;
  // How events are decoded into sidecar rows; should match ingest's
  // options. max_line_bytes may be at most 8 MiB.
  DecoderOptions decoder;
  // One line per notable event for the operator's log (a sidecar rebuilt and
  // why, historical events that no longer decode, a migration, fencing).
  // May be empty. Called from the thread doing the work, never concurrently
  // for one store.
  std::function<void(const std::string& line)> log;
  // Every historical event that does not decode with the current schema,
  // found while sealing or rebuilding a sidecar: `index` is the event's
  // position in the segment (its offset is seg.from + index only when the
  // segment is dense, seg.events == seg.to - seg.from; see
  // HistoricalEventLabel). May be empty; same threading as `log`.
  std::function<void(const SegmentInfo& seg, uint64_t index, const Reject& reject)> on_reject;

  // The writer's id ([A-Za-z0-9._:-]{1,128}, unique per process: host, pid,
  // random). Not empty: Open claims every partition (a new owner epoch) and
  // this store publishes under it. Empty: a read-only opener that only
  // reads the latest versions (Seal and PublishBatch are refused).
  std::string writer_id;
  // Wall-clock milliseconds (versions' created_ms, garbage collection's
  // grace period); the system clock when empty.
  std::function<int64_t()> now_ms;
  // Where the previous release's master directory is in the store
  // ("master": its MANIFEST is the object "master/MANIFEST", its segments
  // "master/segments/..."), and its batch folder ("batch": "batch/CURRENT").
  // A partition whose chain is empty starts from them (the writer records
  // them as chain version 1, once; segments are not copied). Empty: none.
  std::string legacy_master_prefix;
  std::string legacy_batch_prefix;
  // At most this many rows offered by OfferRows are held (per store) until
  // a seal takes them; offers beyond it are dropped (those events are then
  // decoded again when sealed).
  uint64_t offered_rows_limit = 2u << 20;
  // A writer claims every partition at Open (one process owns them all).
  // False: a writer of a consumer group, which owns nothing at Open and
  // gains and loses partitions at run time with Claim and Release
  // (docs/formats/ownership.md).
  bool claim_all_at_open = true;
};

// What ScanSegment did.
struct SegmentScanStats {
  uint64_t rows = 0;      // rows handed to the callback
  uint64_t rejected = 0;  // events of the segment without a row (see ScanSegment)
  bool rebuilt = false;   // the sidecar was (re)built from the raw segment
};

// A partition's batch reference: the batch version covering [first, W).
struct BatchRef {
  uint64_t watermark = 0;
  std::string key;  // the version's key prefix; empty: none
};

// What CollectGarbage removed.
struct GarbageReport {
  uint64_t versions = 0;  // manifest versions pruned
  uint64_t objects = 0;   // orphan segments, sidecars and batch files deleted
};

// "event 3 of partition 0 [100, 110)" for an event of a gapped segment
// (fewer events than offsets), "offset 103 of partition 0" for a dense one.
std::string HistoricalEventLabel(const SegmentInfo& seg, uint64_t index);

// The object keys of segments: raw
// "segments/p<P>/<from:20>-<to:20>-<created ms>-<random 8 hex>.ndjson.zst";
// the sidecar for a schema fingerprint is the raw key with ".ndjson.zst"
// replaced by ".<fingerprint:16 hex>.cols" (also for the previous release's
// "master/segments/p<P>-<from>-<to>.ndjson.zst", whose sidecars keep their
// names).
std::string SidecarKey(const std::string& raw_key, uint64_t schema_fingerprint);

// Thread-safe: Seal, PublishBatch, Snapshot, scans and CollectGarbage may be
// called from any threads at once. Seals of different partitions run in
// parallel; one partition's publishes are serialized.
class MasterStore {
 public:
  // Opens the dataset in `store` for `partitions` partitions: reads each
  // partition's latest manifest version (migrating the previous release's
  // MANIFEST where a chain is empty and options name it) and, for a writer,
  // claims every partition. A chain whose latest version is damaged is
  // Corruption naming the object. `store` must outlive the MasterStore.
  static Result<std::unique_ptr<MasterStore>> Open(ObjectStore* store, const StreamSchema& schema, int partitions,
                                                   MasterStoreOptions options = {});
  // The same on a LocalObjectStore in directory `dir` of `fs` (owned by the
  // MasterStore), as a writer with a fresh id unless options name one.
  static Result<std::unique_ptr<MasterStore>> Open(FileSystem* fs, const std::string& dir, const StreamSchema& schema,
                                                   int partitions, MasterStoreOptions options = {});
  ~MasterStore();
  MasterStore(const MasterStore&) = delete;
  MasterStore& operator=(const MasterStore&) = delete;

  // A consistent copy of the committed state: per partition first, sealed
  // and the segments (a view of the chains' latest versions this store
  // knows; `generation` is the sum of their version numbers).
  Manifest Snapshot() const;
  // Per partition, the batch version its latest manifest names.
  std::vector<BatchRef> BatchRefs() const;

  // Sets the first offset of a partition that has no segment yet (for logs
  // that do not start at 0); InvalidArgument once it has one.
  Status SetFirstOffset(int partition, uint64_t first);

  // Seals events [from, from + records.size()) of `partition`, each record
  // one event's JSON text (no '\n', not blank: InvalidArgument). `from` must
  // be the partition's sealed watermark, else InvalidArgument, except that
  // re-sealing exactly an already sealed range is an OK no-op. Writes the
  // raw segment and its sidecar as new objects, then publishes the
  // partition's next manifest version naming them. Events that do not
  // decode with the schema are sealed all the same (the raw data is the
  // truth) and reported through options.on_reject. Fenced when another
  // writer claimed the partition (this one never writes it again).
  Status Seal(int partition, uint64_t from, const std::vector<std::string_view>& records);
  // The same for a range [from, to) of a source with offset gaps (Kafka's
  // transaction markers, compaction): records.size() <= to - from, the
  // records in offset order; an event's offset is then not known from its
  // index (see HistoricalEventLabel).
  Status Seal(int partition, uint64_t from, uint64_t to, const std::vector<std::string_view>& records);

  // Offers the rows decoded from events [from, from + rows) of `partition`
  // (all batches' rows in offset order, one row per event, decoded with
  // this store's schema and options.decoder, as ingest validates them), so
  // that a later Seal of a range they cover builds the sidecar from them
  // instead of decoding the events again. Only an optimization: a seal of
  // a range not wholly covered decodes as before. Rows below the sealed
  // watermark are dropped; so are offers beyond options.offered_rows_limit.
  void OfferRows(int partition, uint64_t from, std::vector<std::unique_ptr<Batch>> rows);
  // Rows offered and not yet taken by a seal or dropped (for tests).
  uint64_t offered_rows() const;

  // Publishes, in the chains of `only` (empty: every partition), the batch
  // version `key` covering [first[p], watermark[p]) (watermark[p] <=
  // sealed[p]). Partitions another writer owns are skipped; those this
  // writer lost too, and the result is then Fenced naming them, after the
  // others were published.
  Status PublishBatch(const std::vector<uint64_t>& watermark, const std::string& key,
                      const std::vector<int>& only = {});

  // Non-empty once another writer claimed the partition: why this one
  // stopped writing it.
  std::string FencedReason(int partition) const;

  // Ownership at run time (a writer; docs/formats/ownership.md). Claim
  // takes partition p: publishes its latest content again under epoch
  // latest + 1 and returns that version, whose sealed offset is where the
  // new owner's source starts. Fenced when another writer claimed the same
  // or a higher epoch first. Claiming a partition already owned (and not
  // fenced) is an OK no-op returning the current version.
  Result<PartitionManifest> Claim(int partition);
  // Gives partition p up (a rebalance revoked it): nothing is published
  // (the next owner's Claim fences this writer anyway); Seal and
  // PublishBatch no longer write it.
  void Release(int partition);
  // Re-reads partition p's latest version from the store (for a partition
  // this process does not own: its sealed offset and batch version as its
  // owner last published them) and returns it.
  Result<PartitionManifest> Refresh(int partition);
  // The partition is this writer's to publish: claimed, not released, not
  // fenced.
  bool Owns(int partition) const;
  // The partitions Owns(), ascending.
  std::vector<int> Owned() const;
  // The owner epoch of partition p's latest version this store knows.
  uint64_t Epoch(int partition) const;
  bool writer() const { return !options_.writer_id.empty(); }
  const std::string& writer_id() const { return options_.writer_id; }

  // Hands the segment's rows, in offset order, to `fn` in batches of the
  // stream schema's types (batch capacity Batch::kCapacity). The batch and
  // its text are valid only during the call. Reads the sidecar; a missing,
  // stale or damaged sidecar is rebuilt from the raw segment first (logged),
  // also midway through a scan (the scan resumes at the next row, so no row
  // is handed out twice). An event that does not decode with the current
  // schema has no row: it is counted in stats->rejected and was reported
  // when the sidecar was built. A damaged raw segment (missing, checksum
  // mismatch, zstd error, wrong line count) is Corruption naming the
  // segment and its range: never skipped. A non-OK status from `fn` stops
  // the scan and is returned.
  Status ScanSegment(const SegmentInfo& seg, const std::function<Status(const Batch&)>& fn,
                     SegmentScanStats* stats = nullptr) const;

  // Hands the segment's raw events to `fn` in order, after checking the
  // raw object's size and checksum against `seg`. `offset` is seg.from +
  // the event's index: the event's offset in a dense segment, only its
  // position in a gapped one. Errors as ScanSegment.
  Status ScanRaw(const SegmentInfo& seg,
                 const std::function<Status(uint64_t offset, std::string_view event)>& fn) const;

  // Checks a segment completely: the raw object against the manifest, and
  // the sidecar's every checksum (rebuilding it if needed, like a scan).
  Status VerifySegment(const SegmentInfo& seg) const;
  // Checks only the raw object's size and checksum against the manifest (no
  // decompression): cheap proof that the events are intact.
  Status VerifyRawChecksum(const SegmentInfo& seg) const;

  // Garbage collection (writers only): prunes each chain to its newest
  // `keep_versions` versions (older than `grace_ms`), then deletes objects
  // under segments/, batch/ and the previous release's folders that no kept
  // version names, that are older than `grace_ms` (by the time in their
  // name; the previous release's names carry none and count as old) and
  // that no seal or rebuild of this process is writing. `references`, when
  // given, names the objects outside its folder a kept batch version uses
  // (its pieces written by older versions: batch/batch_version.h); they are
  // kept too, and an error from it stops the collection before anything of
  // batch/ is deleted.
  using BatchReferences = std::function<Result<std::vector<std::string>>(const std::string& version_key)>;
  Result<GarbageReport> CollectGarbage(uint64_t keep_versions = 16, int64_t grace_ms = 10 * 60 * 1000,
                                       const BatchReferences& references = {});

  ObjectStore* store() const { return store_; }
  uint64_t schema_fingerprint() const { return fingerprint_; }
  int partitions() const { return static_cast<int>(chains_.size()); }

 private:
  MasterStore(ObjectStore* store, const StreamSchema& schema, MasterStoreOptions options);
  Status OpenPartitions(int partitions);
  // The content of partition p in the previous release's layout; nullopt
  // when there is none.
  Result<std::optional<PartitionContent>> LegacyContent(int p);
  void Log(const std::string& line) const;
  int64_t NowMs() const;
  std::string NewSegmentKey(int partition, uint64_t from, uint64_t to);
  SegmentInfo ToSegmentInfo(int partition, const SegmentEntry& e) const;
  // Builds the sidecar of `seg` from its raw object.
  Status RebuildSidecar(const SegmentInfo& seg, const std::string& why) const;
  struct Offered {
    uint64_t from = 0, to = 0;  // offsets of the rows
    std::vector<std::unique_ptr<Batch>> batches;
  };
  // The offered rows covering [from, to) of partition p in offset order, or
  // none when they do not cover it all; drops those below `to` from the
  // held ones (a straddling entry stays, shared).
  std::vector<std::shared_ptr<const Offered>> TakeOffered(int p, uint64_t from, uint64_t to);
  // Publishes `next` as partition p's next version. Caller holds
  // partition_mu_[p]. Fenced marks the partition lost.
  Status PublishLocked(int p, PartitionContent next);

  ObjectStore* store_;
  std::unique_ptr<FileSystem> owned_fs_;  // for the FileSystem overload of Open
  std::unique_ptr<ObjectStore> owned_store_;
  const StreamSchema schema_;
  const uint64_t fingerprint_;
  const MasterStoreOptions options_;
  bool migrated_any_ = false;

  // Lock order: partition_mu_[p] -> mu_; rebuild_mu_ alone or -> mu_;
  // log_mu_ innermost.
  std::vector<std::unique_ptr<Mutex>> partition_mu_;    // one Seal or publish per partition at a time
  std::vector<std::unique_ptr<ManifestChain>> chains_;  // chains_[p] used under partition_mu_[p]
  mutable Mutex rebuild_mu_;                            // one sidecar rebuild at a time
  mutable Mutex log_mu_;                                // serializes the callbacks
  mutable Mutex mu_;
  std::vector<PartitionManifest> latest_ GUARDED_BY(mu_);         // per partition: the base of its next publish
  std::vector<std::string> fenced_ GUARDED_BY(mu_);               // per partition: why it was lost; empty: not lost
  std::vector<bool> owned_ GUARDED_BY(mu_);                       // per partition: claimed and not released
  mutable std::multiset<std::string> in_flight_ GUARDED_BY(mu_);  // objects being written
  uint64_t next_nonce_ GUARDED_BY(mu_) = 0;
  mutable Mutex offered_mu_;                                                                 // alone
  std::vector<std::deque<std::shared_ptr<const Offered>>> offered_ GUARDED_BY(offered_mu_);  // per partition
  uint64_t offered_rows_ GUARDED_BY(offered_mu_) = 0;
};

}  // namespace lf
