// Constants of the master-dataset segment files: the raw segment (zstd
// NDJSON) and its typed columnar sidecar. The prose specification a reader
// can be implemented from is docs/formats/master_segment.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lf::segment_format {

// Segment files live in this subdirectory of the master directory.
inline constexpr char kSegmentDir[] = "segments";
// Offsets in file names are zero-padded to 20 decimal digits (all of uint64).
inline constexpr int kOffsetDigits = 20;
// "p<partition>-<from>-<to>" + one of these suffixes. The sidecar's name
// also carries the schema fingerprint as 16 lower-case hex digits:
// "p0-<from>-<to>.<fingerprint>.cols".
inline constexpr char kRawSuffix[] = ".ndjson.zst";
inline constexpr char kColsSuffix[] = ".cols";

// --- Raw segment -----------------------------------------------------------
// One zstd frame (content checksum on) of NDJSON: exactly (to - from) lines,
// each ending in '\n', line i being the event at offset from + i.

// --- Columnar sidecar --------------------------------------------------------
// All integers little-endian. Layout:
//   header | row group 0 | ... | row group n-1 | trailer | tail
inline constexpr char kColsMagic[8] = {'L', 'F', 'C', 'O', 'L', 'S', '\0', '\0'};
inline constexpr char kColsTailMagic[8] = {'L', 'F', 'C', 'E', 'N', 'D', '\0', '\0'};
inline constexpr uint32_t kColsVersion = 1;

// Header: fixed part, then per column {u8 type, u8 not_null, u16 name length,
// name bytes}, zero padding to a multiple of 8, then u64 xxh64 (seed 0) of
// every header byte before it.
inline constexpr size_t kHeaderFixedSize = 56;
// Offsets of the fixed header fields.
inline constexpr size_t kHeaderMagic = 0;         // char[8]
inline constexpr size_t kHeaderVersion = 8;       // u32
inline constexpr size_t kHeaderLength = 12;       // u32: whole header including its checksum
inline constexpr size_t kHeaderFingerprint = 16;  // u64 schema fingerprint
inline constexpr size_t kHeaderPartition = 24;    // u32
inline constexpr size_t kHeaderColumns = 28;      // u32 column count
inline constexpr size_t kHeaderFrom = 32;         // u64
inline constexpr size_t kHeaderTo = 40;           // u64
inline constexpr size_t kHeaderGroupRows = 48;    // u32 most rows in one row group
inline constexpr size_t kHeaderReserved = 52;     // u32, 0

// Tail: the last 24 bytes of the file.
inline constexpr size_t kTailSize = 24;  // u64 trailer offset, u64 trailer length, char[8] kColsTailMagic

// Trailer: u64 rows, u64 group count, u64 reject count, then per group
// {u32 rows, u32 0, u64 body bytes, u64 xxh64 of the body (seed 0)}, then per
// rejected event {u64 offset, u32 reject reason, u32 0}, then u64 xxh64 of
// every trailer byte before it.
inline constexpr size_t kTrailerFixedSize = 24;
inline constexpr size_t kGroupEntrySize = 24;
inline constexpr size_t kRejectEntrySize = 16;

// A row group body: one column chunk per column, in schema order, each
// starting at a multiple of 8 bytes from the body start. A chunk starts with
// a 16-byte chunk header:
//   u8 validity, u8 encoding, u8 width, u8 0, u32 aux, u64 base
// then, if validity == kValidityBytes, one byte per row (0 = NULL), padded to
// 8; then the encoding's data, padded to 8.
inline constexpr size_t kChunkHeaderSize = 16;

enum Validity : uint8_t {
  kValidityAll = 0,    // no NULLs; no validity bytes
  kValidityNone = 1,   // every row NULL; no validity bytes
  kValidityBytes = 2,  // rows bytes follow, 0 = NULL, 1 = valid
};

enum Encoding : uint8_t {
  // BOOLEAN/INT/BIGINT/TIMESTAMP: value = base + (unsigned little-endian of
  // `width` bytes per row) modulo 2^64; width 0, 1, 2, 4 or 8; width 0 means
  // every row equals base (no data bytes).
  kEncodingIntFor = 1,
  // DOUBLE: rows IEEE-754 binary64 values.
  kEncodingDoublePlain = 2,
  // TEXT: (rows + 1) u32 offsets (first 0, non-decreasing), then the bytes.
  kEncodingTextPlain = 3,
  // TEXT: aux = dictionary size D; (D + 1) u32 offsets and the entries'
  // bytes, padded to 8; then rows codes of `width` (1, 2 or 4) bytes, < D
  // (0 for NULL rows).
  kEncodingTextDict = 4,
};

// Default and limits of row groups.
inline constexpr uint32_t kDefaultGroupRows = 64 * 1024;
inline constexpr uint32_t kMaxGroupRows = 1 << 20;
// A row group is closed early once its encoded data reaches this size, which
// bounds a reader's buffer and keeps text offsets well inside u32.
inline constexpr size_t kGroupByteBudget = 32 << 20;
// Text columns use a dictionary only with at most this many distinct values.
inline constexpr uint32_t kMaxDictEntries = 1 << 16;

}  // namespace lf::segment_format
