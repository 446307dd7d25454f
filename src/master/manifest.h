// The manifest of the master dataset: which sealed segments exist, per
// partition how far the dataset reaches, and the encoding of all that as the
// MANIFEST file (docs/formats/manifest.md). Pure data and functions; the
// store that reads and replaces the file is master_store.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/schema.h"

namespace lf {

// One sealed segment: events [from, to) of `partition`. File names are
// relative to the master directory ("segments/p0-...ndjson.zst").
struct SegmentInfo {
  int partition = 0;
  uint64_t from = 0;
  uint64_t to = 0;
  uint64_t events = 0;  // always to - from
  std::string raw_name;
  uint64_t raw_bytes = 0;  // size of the raw (compressed) file
  uint64_t raw_hash = 0;   // xxh64 (seed 0) of the raw file's bytes
  std::string cols_name;   // the sidecar for the manifest's schema fingerprint
  uint64_t cols_hash = 0;  // xxh64 of the sidecar file; 0 = not known (built lazily, see MasterStore)

  bool operator==(const SegmentInfo&) const = default;
};

// The committed state of the master dataset (a value: copy freely).
//
// Invariants (checked by ValidateManifest, so by every decode): per
// partition p, the segments of p sorted by `from` are contiguous from
// first[p] to sealed[p] with no gap and no overlap (so every offset in
// [first[p], sealed[p]) is in exactly one segment); segments are sorted by
// (partition, from); names are the canonical names of their ranges.
struct Manifest {
  uint64_t generation = 0;          // +1 on every replacement; 0 = nothing committed yet
  uint64_t schema_fingerprint = 0;  // SchemaFingerprint of the stream the sidecars were built for
  std::vector<uint64_t> first;      // per partition: its first offset (usually 0)
  std::vector<uint64_t> sealed;     // per partition: the sealed watermark
  std::vector<SegmentInfo> segments;

  int partitions() const { return static_cast<int>(sealed.size()); }
  bool operator==(const Manifest&) const = default;
};

// A fingerprint of what decoding depends on: column names, types and NOT
// NULL flags, in order (not the stream's name). xxh64 of a canonical text.
uint64_t SchemaFingerprint(const StreamSchema& schema);

// "segments/p<partition>-<from:020>-<to:020>.ndjson.zst".
std::string RawSegmentName(int partition, uint64_t from, uint64_t to);
// "segments/p<partition>-<from:020>-<to:020>.<fingerprint:016x>.cols".
std::string ColsSegmentName(int partition, uint64_t from, uint64_t to, uint64_t schema_fingerprint);
// "partition 0 [1000, 2000)", for messages.
std::string SegmentLabel(const SegmentInfo& seg);

// Checks the invariants above; Corruption naming the offending ranges.
Status ValidateManifest(const Manifest& m);

// The MANIFEST text of `m` (which must be valid).
std::string EncodeManifest(const Manifest& m);
// Parses and validates a MANIFEST. `file_name` is used in messages. A
// damaged file is Corruption; a valid one written by a newer format version
// is Unimplemented; neither is ever partially read.
Result<Manifest> DecodeManifest(std::string_view data, const std::string& file_name);

}  // namespace lf
