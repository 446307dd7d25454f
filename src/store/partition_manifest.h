// PartitionManifest: one version of a partition's manifest chain, the
// record that says what is committed for partition P: its sealed master
// segments (offset ranges, sizes, checksums), how far they reach, the batch
// version that covers a prefix of them, and who wrote it under which owner
// epoch. The byte format (text, checksummed) is specified in
// docs/formats/store.md; the chain protocol is manifest_chain.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf {

inline constexpr std::string_view kPartitionManifestMagic = "lambdaflow-partition-manifest";
inline constexpr int kPartitionManifestFormatVersion = 1;
inline constexpr size_t kMaxWriterIdBytes = 128;

// A sealed master segment of the partition: offsets [from, to), holding
// `events` records (fewer than to - from where the source has offset gaps,
// e.g. Kafka's transaction markers or compaction), stored as object `key`
// of `bytes` bytes with xxh64 `xxh64`.
struct SegmentEntry {
  uint64_t from = 0;
  uint64_t to = 0;
  uint64_t events = 0;
  std::string key;
  uint64_t bytes = 0;
  uint64_t xxh64 = 0;

  bool operator==(const SegmentEntry&) const = default;
};

// What a version commits. Invariants (checked by Validate): segments are
// sorted and contiguous, the first starts at `start`, the last ends at
// `sealed` (start == sealed when there are none); start <= batch_watermark
// <= sealed; batch_key names the batch version covering [start,
// batch_watermark), empty when there is none.
struct PartitionContent {
  uint64_t start = 0;
  uint64_t sealed = 0;
  uint64_t batch_watermark = 0;
  std::string batch_key;
  std::vector<SegmentEntry> segments;

  Status Validate() const;
  bool operator==(const PartitionContent&) const = default;
};

// A writer id as manifest versions, worker records and partials carry it:
// [A-Za-z0-9._:-]{1,128}.
bool ValidWriterId(std::string_view id);

struct PartitionManifest {
  uint32_t partition = 0;
  uint64_t version = 0;    // >= 1
  uint64_t previous = 0;   // version - 1: the version this one was built on (0 for the first)
  uint64_t epoch = 0;      // the owner epoch it was written under; never decreases along the chain
  std::string writer;      // the writer's id, [A-Za-z0-9._:-]{1,128}
  uint64_t nonce = 0;      // random per publish attempt: tells a writer its own version after a lost answer
  int64_t created_ms = 0;  // wall clock of the writer, for garbage collection's grace period
  PartitionContent content;

  bool operator==(const PartitionManifest&) const = default;
};

// The object key of version `version` of partition `partition`:
// "manifest/p<P>/<version, 20 digits>".
std::string ManifestVersionKey(uint32_t partition, uint64_t version);
// The key of the partition's latest-version hint: "manifest/p<P>/latest".
std::string ManifestHintKey(uint32_t partition);
// "manifest/p<P>/": the prefix of every object of the partition's chain.
std::string ManifestPrefix(uint32_t partition);

std::string EncodePartitionManifest(const PartitionManifest& m);
// Decodes and validates an encoded version; Corruption (naming `where`)
// for any damage, Unimplemented for a newer format version.
Result<PartitionManifest> DecodePartitionManifest(std::string_view data, std::string_view where);

}  // namespace lf
