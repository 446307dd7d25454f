// The embedded log's on-disk format: constants and the byte-level encoding
// of segment headers and records. docs/formats/log.md specifies the same in
// prose, for writers of independent readers.
//
//   <dir>/p<partition>/<base offset, 20 decimal digits>.log   one segment file
//
//   segment  := header record*
//   header   := (32 bytes, little-endian)
//     [0,5)   magic "LFLOG"
//     [5,8)   zero
//     [8,12)  u32 format version (kFormatVersion)
//     [12,16) u32 partition
//     [16,24) u64 base offset: the offset of the segment's first record
//     [24,28) u32 flags, zero in version 1
//     [28,32) u32 header checksum: low 32 bits of XXH3_64bits(header[0,28))
//   record   := u32 checksum | u32 length | payload[length]
//     checksum: low 32 bits of XXH3_64bits over the 4 length bytes and the
//     payload (seed 0). Records follow each other without padding; the n-th
//     record of a segment has offset base + n.
//
// A damaged record is a torn tail (truncated on recovery) only if it is in
// the last segment and no valid record starts anywhere after it in the file;
// otherwise it is corruption. See docs/formats/log.md.
#pragma once

#include <xxhash.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace lf::logfmt {

inline constexpr char kMagic[5] = {'L', 'F', 'L', 'O', 'G'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 8;
// Writers refuse longer records; readers treat a longer length as damage.
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;
// Segment file names: 20 zero-padded decimal digits of the base offset + this.
inline constexpr std::string_view kSegmentSuffix = ".log";
inline constexpr size_t kSegmentNameDigits = 20;

inline void PutU32(char* dst, uint32_t v) {
  if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(dst, &v, 4);
}
inline void PutU64(char* dst, uint64_t v) {
  if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(dst, &v, 8);
}
inline uint32_t GetU32(const char* src) {
  uint32_t v;
  std::memcpy(&v, src, 4);
  if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap32(v);
  return v;
}
inline uint64_t GetU64(const char* src) {
  uint64_t v;
  std::memcpy(&v, src, 8);
  if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap64(v);
  return v;
}

inline uint32_t Checksum(const char* data, size_t n) { return static_cast<uint32_t>(XXH3_64bits(data, n)); }

// Writes a complete header into dst[0, kHeaderSize).
inline void EncodeHeader(uint32_t partition, uint64_t base_offset, char* dst) {
  std::memset(dst, 0, kHeaderSize);
  std::memcpy(dst, kMagic, sizeof(kMagic));
  PutU32(dst + 8, kFormatVersion);
  PutU32(dst + 12, partition);
  PutU64(dst + 16, base_offset);
  PutU32(dst + 28, Checksum(dst, 28));
}

// Encodes one record into dst (kRecordHeaderSize + payload.size() bytes).
inline void EncodeRecord(std::string_view payload, char* dst) {
  PutU32(dst + 4, static_cast<uint32_t>(payload.size()));
  if (!payload.empty()) std::memcpy(dst + kRecordHeaderSize, payload.data(), payload.size());
  PutU32(dst, Checksum(dst + 4, 4 + payload.size()));
}

enum class RecordCheck {
  kOk,
  kShort,        // the header or the payload extends past the end of the data
  kTooLong,      // length above kMaxRecordBytes
  kBadChecksum,  // includes zero-filled space: its checksum field never matches
};

inline const char* RecordCheckName(RecordCheck c) {
  switch (c) {
    case RecordCheck::kOk:
      return "ok";
    case RecordCheck::kShort:
      return "record extends past the end of the file";
    case RecordCheck::kTooLong:
      return "record length above the maximum";
    case RecordCheck::kBadChecksum:
      return "record checksum mismatch";
  }
  return "?";
}

// Decodes the record at the front of `in`. On kOk sets *payload (a view into
// `in`) and *size (header + payload bytes).
inline RecordCheck DecodeRecord(std::string_view in, std::string_view* payload, size_t* size) {
  if (in.size() < kRecordHeaderSize) return RecordCheck::kShort;
  const uint32_t len = GetU32(in.data() + 4);
  if (len > kMaxRecordBytes) return RecordCheck::kTooLong;
  if (in.size() - kRecordHeaderSize < len) return RecordCheck::kShort;
  if (GetU32(in.data()) != Checksum(in.data() + 4, 4 + static_cast<size_t>(len))) return RecordCheck::kBadChecksum;
  *payload = in.substr(kRecordHeaderSize, len);
  *size = kRecordHeaderSize + len;
  return RecordCheck::kOk;
}

}  // namespace lf::logfmt
