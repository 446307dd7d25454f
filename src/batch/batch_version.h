// Batch view versions: what one batch run publishes. A version is a set of
// write-once objects in the shared store plus the version manifest
// `VERSION` under one key prefix; the partitions' manifest chains name it.
// Format 2 (docs/formats/batch_view.md) lists per view its *pieces*: state
// objects each covering one view over ONE partition's sealed segments
// [from, to), possibly written by an older version and only referenced by
// this one; a view's state is the ⊕ of its pieces. The TSV of a whole view
// is written only when asked (`batch --full`, `--tsv`, the first version).
// Format 1 (one state and one TSV per view over every partition) is still
// read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "master/master_store.h"
#include "plan/view_plan.h"
#include "store/object_store.h"

namespace lf {

struct VersionView {
  std::string name;
  uint64_t plan_fingerprint = 0;
  // The TSV of the whole view, when the version wrote one (format 1: always).
  bool has_tsv = false;
  uint64_t rows = 0;  // rows in the TSV (after HAVING)
  uint64_t tsv_bytes = 0, tsv_hash = 0;
  // Format 1 only: the one state over every partition (also as a piece).
  uint64_t groups = 0;
  uint64_t state_bytes = 0, state_hash = 0;
};

struct VersionSegment {
  int partition = 0;
  uint64_t from = 0, to = 0, raw_hash = 0;
  bool operator==(const VersionSegment&) const = default;
};

// One write-once state object: one view over one partition's sealed
// segments [from, to) (docs/formats/view_state.md image).
struct VersionPiece {
  size_t view = 0;    // index into BatchVersion::views
  int partition = 0;  // -1: a format-1 state over several partitions (cannot be split)
  uint64_t from = 0, to = 0;
  uint64_t groups = 0, bytes = 0, hash = 0;  // hash: XXH3-64 of the object
  std::string key;                           // the object's full key in the store
  bool operator==(const VersionPiece&) const = default;
};

struct BatchVersion {
  int format = 2;  // of the VERSION it was read from (1 or 2); Encode writes this one
  uint64_t number = 0;
  int64_t created_ms = 0;   // wall clock, ms since the epoch
  uint64_t views_hash = 0;  // xxh64 of the views file text
  uint64_t schema_fingerprint = 0;
  std::vector<uint64_t> watermark;  // W per partition: every offset below is included
  std::vector<VersionSegment> segments;
  std::vector<VersionView> views;
  std::vector<VersionPiece> pieces;  // format 1: synthesized from its state files
  // Computed from the raw segments (`batch --full`): its pieces are not
  // derived from earlier pieces, so a reader holding those reloads.
  bool full = false;
  std::vector<std::pair<std::string, double>> timings;  // phase -> seconds
  std::string key;                                      // where it is in the store (not part of the encoding)

  const VersionView* FindView(std::string_view name) const;
  // The view's index in `views`, or -1.
  int ViewIndex(std::string_view name) const;
  // The pieces of view `view` for `partition`, ascending by `from`.
  std::vector<const VersionPiece*> PiecesOf(size_t view, int partition) const;
  // Every piece of view `view` (every partition).
  std::vector<const VersionPiece*> PiecesOf(size_t view) const;
};

// Encodes `v` in format v.format (1 only for tests of the old format).
std::string EncodeVersion(const BatchVersion& v);
// `key` is the version's key prefix (format 1's state files are under it).
Result<BatchVersion> DecodeVersion(std::string_view data, const std::string& file_name, const std::string& key = "");

// The file names of a view's files inside its version folder.
std::string TsvFileName(const std::string& view);
std::string StateFileName(const std::string& view);  // format 1
std::string PieceFileName(const std::string& view, int partition, uint64_t from, uint64_t to);

// One partition's batch part, as its own manifest chain names it.
struct PartitionBatch {
  int partition = 0;
  uint64_t watermark = 0;                          // W[p] (the partition's first offset without a version)
  std::optional<BatchVersion> version;             // the version p's chain names; nullopt: none
  std::vector<std::unique_ptr<ViewState>> states;  // per plan asked for: ⊕ of p's pieces
};

// The batch versions in the shared store. A version is written once under a
// unique key prefix ("batch/v<number>-<created ms>-<random>/"), its pieces
// (and TSVs) first and its VERSION last, then published in the manifest
// chains of the partitions it computed (MasterStore::PublishBatch); nothing
// is renamed or replaced. Each partition's current batch part is the one
// its own chain names. Old versions and pieces no kept version names go with
// garbage collection (CollectGarbage here follows the pieces).
// Thread-safe for readers; one publisher at a time.
class VersionStore {
 public:
  // `master` (and its store) must outlive this.
  explicit VersionStore(MasterStore* master) : store_(master->store()), master_(master) {}

  // The newest version the partitions' manifests name; nullopt before the
  // first publish. A named version that is missing or damaged is Corruption.
  Result<std::optional<BatchVersion>> Current() const;
  // Per partition the version its chain names (nullopt where none), each
  // distinct version read once.
  Result<std::vector<std::optional<BatchVersion>>> CurrentByPartition() const;
  // The version under `key`.
  Result<BatchVersion> Read(const std::string& key) const;
  // A fresh, unique key prefix for version `number`.
  static std::string NewVersionKey(uint64_t number);
  // Writes `files` (name under version->key, bytes) and the version
  // manifest, then publishes it in the chains of `partitions` (empty: every
  // partition this writer owns). version->key must be set (NewVersionKey).
  // Fenced when another writer owns a partition (published for the others).
  Status Publish(const BatchVersion& version, const std::vector<std::pair<std::string, std::string>>& files,
                 const std::vector<int>& partitions = {});
  // Writes one file (a piece or TSV) under version.key before Publish, so
  // that a run need not hold every image until the end. A version folder
  // without its VERSION is an orphan that garbage collection removes.
  Status PutFile(const BatchVersion& version, const std::string& name, std::string_view data);
  // Reads a format-1 state (state=true) or a TSV of a version and checks
  // its size and checksum.
  Result<std::string> ReadViewFile(const BatchVersion& version, const VersionView& view, bool state) const;
  // A piece's bytes, checked against its size and hash (Corruption naming
  // the object otherwise).
  Result<std::string> ReadPiece(const VersionPiece& piece) const;
  // ⊕ of the given pieces of one view of `plan`.
  Result<std::unique_ptr<ViewState>> ReadPieces(const ViewPlan& plan,
                                                const std::vector<const VersionPiece*>& pieces) const;
  // Partition p's state per plan from the version p's chain names.
  // NotFound when a plan's view is missing from it or changed (recompute);
  // Conflict for a format-1 version over several partitions.
  Result<PartitionBatch> ReadPartition(int p, const std::vector<const ViewPlan*>& plans) const;
  // Per plan, the ⊕ over every partition of the pieces the chains' versions
  // hold for it (`by_partition` from CurrentByPartition). NotFound as
  // ReadPartition.
  Result<std::vector<std::unique_ptr<ViewState>>> ReadDataset(
      const std::vector<std::optional<BatchVersion>>& by_partition, const std::vector<const ViewPlan*>& plans) const;
  // The objects outside its own folder a version references (its pieces
  // written by older versions), for garbage collection.
  Result<std::vector<std::string>> References(const std::string& key) const;
  // MasterStore::CollectGarbage, keeping the pieces every kept version
  // references.
  Result<GarbageReport> CollectGarbage(uint64_t keep_versions = 16, int64_t grace_ms = 10 * 60 * 1000);

 private:
  ObjectStore* const store_;
  MasterStore* const master_;
};

// The pieces of `by_partition` for view `name` with plan fingerprint
// `fingerprint`, over every partition (a format-1 state over several
// partitions once, when every partition names that version). NotFound when
// a partition's version lacks the view or computed it with another plan.
Result<std::vector<const VersionPiece*>> DatasetPieces(const std::vector<std::optional<BatchVersion>>& by_partition,
                                                       const std::string& name, uint64_t fingerprint);

}  // namespace lf
