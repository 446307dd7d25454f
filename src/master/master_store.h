// MasterStore: the immutable master dataset, the batch layer's source of
// truth. Sealed segments of the log (write-once files) plus one MANIFEST
// that says which exist, replaced atomically. Formats:
// docs/formats/master_segment.md, docs/formats/manifest.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

namespace lf {

struct MasterStoreOptions {
  int zstd_level = 3;
  uint32_t row_group_rows = 64 * 1024;
  // How events are decoded into sidecar rows; should match ingest's
  // options. max_line_bytes may be at most 8 MiB.
  DecoderOptions decoder;
  // One line per notable event for the operator's log (a sidecar rebuilt and
  // why, historical events that no longer decode). May be empty. Called from
  // the thread doing the work, never concurrently for one store.
  std::function<void(const std::string& line)> log;
  // Every historical event that does not decode with the current schema,
  // found while sealing or rebuilding a sidecar. May be empty; same threading
  // as `log`.
  std::function<void(const SegmentInfo& seg, uint64_t offset, const Reject& reject)> on_reject;
};

// What ScanSegment did.
struct SegmentScanStats {
  uint64_t rows = 0;      // rows handed to the callback
  uint64_t rejected = 0;  // events of the segment without a row (see ScanSegment)
  bool rebuilt = false;   // the sidecar was (re)built from the raw segment
};

// The master dataset in one directory of a FileSystem (a local directory or,
// through the same interface, an object store):
//
//   <dir>/MANIFEST                                   the committed state
//   <dir>/segments/p<P>-<from>-<to>.ndjson.zst       raw events, the truth
//   <dir>/segments/p<P>-<from>-<to>.<schema>.cols    typed columns, derived
//
// Only the MANIFEST is ever replaced (WriteFileAtomic); segment files are
// written once under a name fixed by their range, and what is committed is
// exactly what the manifest names: nothing depends on renaming a data file
// or listing a directory (listing is used only by CollectGarbage).
//
// Durability of Seal: both files are written, synced and their directory
// synced before the new manifest is published, so a manifest never names a
// file that a crash can take away. A crash before the publish leaves
// orphans that a later Seal of the same range overwrites and
// CollectGarbage removes.
//
// Schema changes: sidecars are named by the schema fingerprint. Opening with
// a different schema keeps every segment (raw events are schema-free) and
// points the manifest at sidecars for the new fingerprint, which scans
// build on first use; the change is persisted by the next Seal.
//
// One writer per directory (one MasterStore in one process); readers in
// other processes may open the directory and scan.
//
// Thread-safe: Seal, Snapshot, scans and CollectGarbage may be called from
// any threads at once. Seals of different partitions write their files in
// parallel; manifest replacements are serialized.
class MasterStore {
 public:
  // Opens (or creates, when there is no MANIFEST) the dataset in `dir` for
  // `partitions` partitions. A manifest with more partitions is
  // InvalidArgument; one with fewer gains empty ones. A damaged MANIFEST is
  // Corruption naming the file.
  static Result<std::unique_ptr<MasterStore>> Open(FileSystem* fs, const std::string& dir, const StreamSchema& schema,
                                                   int partitions, MasterStoreOptions options = {});
  ~MasterStore();
  MasterStore(const MasterStore&) = delete;
  MasterStore& operator=(const MasterStore&) = delete;

  // A consistent copy of the current manifest.
  Manifest Snapshot() const;

  // Sets the first offset of a partition that has no segment yet (for logs
  // that do not start at 0); InvalidArgument once it has one.
  Status SetFirstOffset(int partition, uint64_t first);

  // Seals events [from, from + records.size()) of `partition`, each record
  // one event's JSON text (no '\n', not blank: InvalidArgument). `from` must
  // be the partition's sealed watermark, else InvalidArgument, except that
  // re-sealing exactly an already sealed range is an OK no-op. Writes the
  // raw segment and sidecar durably, then publishes the new manifest.
  // Events that do not decode with the schema are sealed all the same (the
  // raw data is the truth) and reported through options.on_reject.
  Status Seal(int partition, uint64_t from, const std::vector<std::string_view>& records);
  // Seals the range [from, to) of `partition` holding `records` in offset
  // order, records.size() <= to - from: an external log's offsets may have
  // gaps (transaction markers, compaction), so a range's coverage is its
  // positions, not its record count. The dense case (records.size() ==
  // to - from) is the Seal above; a gapped range is not implemented yet in
  // this store (Unimplemented naming the range).
  Status Seal(int partition, uint64_t from, uint64_t to, const std::vector<std::string_view>& records);

  // Hands the segment's rows, in offset order, to `fn` in batches of the
  // stream schema's types (batch capacity Batch::kCapacity). The batch and
  // its text are valid only during the call. Reads the sidecar; a missing,
  // stale or damaged sidecar is rebuilt from the raw segment first (logged),
  // also midway through a scan (the scan resumes at the next row, so no row
  // is handed out twice). An event that does not decode with the current
  // schema has no row: it is counted in stats->rejected and was reported
  // (with its offset) when the sidecar was built. A damaged raw segment
  // (missing, checksum mismatch, zstd error, wrong line count) is Corruption
  // naming the segment and its range: never skipped. A non-OK status from
  // `fn` stops the scan and is returned.
  Status ScanSegment(const SegmentInfo& seg, const std::function<Status(const Batch&)>& fn,
                     SegmentScanStats* stats = nullptr) const;

  // Hands the segment's raw events to `fn` in offset order, after checking
  // the raw file's size and checksum against `seg`. Errors as ScanSegment.
  Status ScanRaw(const SegmentInfo& seg,
                 const std::function<Status(uint64_t offset, std::string_view event)>& fn) const;

  // Checks a segment completely: the raw file against the manifest, and the
  // sidecar's every checksum (rebuilding it if needed, like a scan).
  Status VerifySegment(const SegmentInfo& seg) const;
  // Checks only the raw file's size and checksum against the manifest (no
  // decompression): cheap proof that the events are intact.
  Status VerifyRawChecksum(const SegmentInfo& seg) const;

  // Removes files of the dataset that the manifest does not name: segment
  // files of crashed seals or of older schemas, and a leftover MANIFEST.tmp.
  // Files of seals in progress are kept. Returns how many were removed.
  Result<size_t> CollectGarbage();

  const std::string& dir() const { return dir_; }
  uint64_t schema_fingerprint() const { return fingerprint_; }

 private:
  MasterStore(FileSystem* fs, std::string dir, const StreamSchema& schema, MasterStoreOptions options,
              Manifest manifest);
  std::string PathOf(const std::string& name) const;
  void Log(const std::string& line) const;
  // Builds the sidecar of `seg` from its raw file.
  Status RebuildSidecar(const SegmentInfo& seg, const std::string& why) const;
  Status PublishLocked(const Manifest& next);

  FileSystem* const fs_;
  const std::string dir_;
  const StreamSchema schema_;
  const uint64_t fingerprint_;
  const MasterStoreOptions options_;

  // Lock order: partition_mu_[p] -> publish_mu_ -> mu_; rebuild_mu_ alone
  // or -> mu_; log_mu_ innermost.
  std::vector<std::unique_ptr<Mutex>> partition_mu_;  // one Seal per partition at a time
  Mutex publish_mu_;                                  // serializes manifest replacement and GC
  mutable Mutex rebuild_mu_;                          // one sidecar rebuild at a time
  mutable Mutex log_mu_;                              // serializes the callbacks
  mutable Mutex mu_ ACQUIRED_AFTER(publish_mu_);
  Manifest manifest_ GUARDED_BY(mu_);                             // replaced only under publish_mu_ as well
  mutable std::multiset<std::string> in_flight_ GUARDED_BY(mu_);  // files being written
  mutable std::vector<std::pair<std::string, uint64_t>> built_ GUARDED_BY(mu_);  // rebuilt sidecar hashes
};

}  // namespace lf
