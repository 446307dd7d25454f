// Batch view versions: what one batch run publishes. A version is a set of
// write-once objects under one key prefix in the shared store — per view
// the TSV of its rows and the serialized view state (keys + aggregate
// states, which the serving layer loads and merges with the speed layer) —
// plus the version manifest `VERSION`; the partitions' manifest chains name
// it. docs/formats/batch_view.md specifies the files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "master/master_store.h"
#include "store/object_store.h"

namespace lf {

struct VersionView {
  std::string name;
  uint64_t plan_fingerprint = 0;
  uint64_t groups = 0;  // groups in the state
  uint64_t rows = 0;    // rows in the TSV (after HAVING)
  uint64_t tsv_bytes = 0, tsv_hash = 0;
  uint64_t state_bytes = 0, state_hash = 0;
};

struct VersionSegment {
  int partition = 0;
  uint64_t from = 0, to = 0, raw_hash = 0;
  bool operator==(const VersionSegment&) const = default;
};

struct BatchVersion {
  uint64_t number = 0;
  int64_t created_ms = 0;   // wall clock, ms since the epoch
  uint64_t views_hash = 0;  // xxh64 of the views file text
  uint64_t schema_fingerprint = 0;
  std::vector<uint64_t> watermark;  // W per partition: every offset below is included
  std::vector<VersionSegment> segments;
  std::vector<VersionView> views;
  std::vector<std::pair<std::string, double>> timings;  // phase -> seconds
  std::string key;                                      // where it is in the store (not part of the encoding)

  const VersionView* FindView(std::string_view name) const;
};

std::string EncodeVersion(const BatchVersion& v);
Result<BatchVersion> DecodeVersion(std::string_view data, const std::string& file_name);

// The file names of a view's files inside its version folder.
std::string TsvFileName(const std::string& view);
std::string StateFileName(const std::string& view);

// The batch versions in the shared store. A version is written once under a
// unique key prefix ("batch/v<number>-<created ms>-<random>/"), its view
// files first and its VERSION last, then published in every partition's
// manifest chain (MasterStore::PublishBatch); nothing is renamed or
// replaced. Old versions go with the master dataset's garbage collection.
// Thread-safe for readers; one publisher at a time.
class VersionStore {
 public:
  // `master` (and its store) must outlive this.
  explicit VersionStore(MasterStore* master) : store_(master->store()), master_(master) {}

  // The version the partitions' manifests name (the newest when they
  // differ); nullopt before the first publish. A named version that is
  // missing or damaged is Corruption.
  Result<std::optional<BatchVersion>> Current() const;
  // The version under `key`.
  Result<BatchVersion> Read(const std::string& key) const;
  // Writes `files` (name, bytes) and the version manifest under a new key
  // (set in version->key), then publishes it in every partition's chain.
  // Fenced when another writer owns a partition (published for the others).
  Status Publish(BatchVersion* version, const std::vector<std::pair<std::string, std::string>>& files);
  // Reads a view file of a version and checks its size and checksum.
  Result<std::string> ReadViewFile(const BatchVersion& version, const VersionView& view, bool state) const;

 private:
  static std::string NewVersionKey(uint64_t number);

  ObjectStore* const store_;
  MasterStore* const master_;
};

}  // namespace lf
