// Batch view versions: what one batch run publishes. A version is a folder
// `batch/v<number, 20 digits>/` of write-once files — per view the TSV of
// its rows and the serialized view state (keys + aggregate states, which
// the serving layer loads and merges with the speed layer) — plus the
// version manifest `VERSION`, and one pointer `batch/CURRENT` replaced
// atomically. docs/formats/batch_view.md specifies the files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

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

  const VersionView* FindView(std::string_view name) const;
};

std::string EncodeVersion(const BatchVersion& v);
Result<BatchVersion> DecodeVersion(std::string_view data, const std::string& file_name);

// The file names of a view's files inside its version folder.
std::string TsvFileName(const std::string& view);
std::string StateFileName(const std::string& view);

// The `batch/` folder. Thread-safe for readers; one publisher at a time.
class VersionStore {
 public:
  VersionStore(FileSystem* fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  // The version CURRENT points to; nullopt before the first publish.
  Result<std::optional<BatchVersion>> Current() const;
  std::string VersionDir(uint64_t number) const;
  // Writes `files` (name, bytes) and the version manifest into a new
  // version folder, then points CURRENT at it; keeps the newest `keep`
  // versions and deletes older ones.
  Status Publish(const BatchVersion& version, const std::vector<std::pair<std::string, std::string>>& files,
                 int keep = 3);
  // Reads a view file of a version and checks its size and checksum.
  Result<std::string> ReadViewFile(const BatchVersion& version, const VersionView& view, bool state) const;

 private:
  FileSystem* const fs_;
  const std::string dir_;
};

}  // namespace lf
