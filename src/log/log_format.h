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
//     [8,12)  u32 format version: 2 (written), 1 (still read)
//     [12,16) u32 partition
//     [16,24) u64 base offset: the offset of the segment's first record
//     [24,28) u32 flags, zero in version 1
//     [28,32) u32 header checksum: low 32 bits of XXH3_64bits(header[0,28))
//   record   := u32 checksum | u32 length | payload[length]
//     checksum: low 32 bits of XXH3_64bits over the 4 length bytes and the
//     payload (seed 0). Records follow each other without padding.
//   version 1: a record's payload is one event; the n-th record of a
//     segment has offset base + n.
//   version 2: a record is a *batch* (all the events of one append, so a
//     torn append leaves none of them), its payload
//       u32 count | u8 producer id length (0: none) | producer id |
//       u64 producer seq (only with an id) | count x (u32 length | event)
//     and its events take the next `count` offsets (count may be 0 for a
//     producer's batch without accepted events: it takes no offset).
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
// Written by this build; version 1 segments are still read (never appended to).
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kFirstBatchVersion = 2;
inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 8;
// Writers refuse longer records; readers treat a longer length as damage.
// Version 1: one event per record; version 2: one batch per record.
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;
inline constexpr uint32_t kMaxBatchBytes = 256u << 20;
inline constexpr uint32_t MaxRecordBytes(uint32_t version) {
  return version >= kFirstBatchVersion ? kMaxBatchBytes : kMaxRecordBytes;
}
// A batch's fixed part: u32 count, u8 producer id length.
inline constexpr size_t kBatchHeaderSize = 5;
inline constexpr size_t kMaxProducerId = 64;
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
inline void EncodeHeader(uint32_t partition, uint64_t base_offset, char* dst, uint32_t version = kFormatVersion) {
  std::memset(dst, 0, kHeaderSize);
  std::memcpy(dst, kMagic, sizeof(kMagic));
  PutU32(dst + 8, version);
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
inline RecordCheck DecodeRecord(std::string_view in, std::string_view* payload, size_t* size,
                                uint32_t max_bytes = kMaxRecordBytes) {
  if (in.size() < kRecordHeaderSize) return RecordCheck::kShort;
  const uint32_t len = GetU32(in.data() + 4);
  if (len > max_bytes) return RecordCheck::kTooLong;
  if (in.size() - kRecordHeaderSize < len) return RecordCheck::kShort;
  if (GetU32(in.data()) != Checksum(in.data() + 4, 4 + static_cast<size_t>(len))) return RecordCheck::kBadChecksum;
  *payload = in.substr(kRecordHeaderSize, len);
  *size = kRecordHeaderSize + len;
  return RecordCheck::kOk;
}

// ---- version 2 batches ----

// The payload size of a batch of `events` with a producer id of `id_bytes`
// bytes (0: no producer).
inline size_t BatchPayloadSize(size_t id_bytes, size_t event_bytes, size_t events) {
  return kBatchHeaderSize + id_bytes + (id_bytes > 0 ? 8 : 0) + event_bytes + 4 * events;
}

// Writes a batch record (header + payload) into dst, which holds
// kRecordHeaderSize + BatchPayloadSize(...) bytes; events are taken from
// records[begin, end).
template <class Events>
inline size_t EncodeBatch(std::string_view producer_id, uint64_t seq, const Events& records, size_t begin, size_t end,
                          char* dst) {
  char* p = dst + kRecordHeaderSize;
  PutU32(p, static_cast<uint32_t>(end - begin));
  p[4] = static_cast<char>(producer_id.size());
  p += kBatchHeaderSize;
  if (!producer_id.empty()) {
    std::memcpy(p, producer_id.data(), producer_id.size());
    p += producer_id.size();
    PutU64(p, seq);
    p += 8;
  }
  for (size_t i = begin; i < end; ++i) {
    const std::string_view r = records[i];
    PutU32(p, static_cast<uint32_t>(r.size()));
    if (!r.empty()) std::memcpy(p + 4, r.data(), r.size());
    p += 4 + r.size();
  }
  const size_t len = static_cast<size_t>(p - dst) - kRecordHeaderSize;
  PutU32(dst + 4, static_cast<uint32_t>(len));
  PutU32(dst, Checksum(dst + 4, 4 + len));
  return kRecordHeaderSize + len;
}

// A decoded batch payload: its producer tag and its events, read in order
// with NextEvent.
struct BatchView {
  uint32_t count = 0;
  std::string_view producer_id;  // empty: no producer
  uint64_t producer_seq = 0;
  std::string_view events;  // count x (u32 length | event)
};

// Checks the structure of a (checksummed) batch payload: false when the
// counts and lengths do not exactly fill it.
inline bool DecodeBatch(std::string_view payload, BatchView* out) {
  if (payload.size() < kBatchHeaderSize) return false;
  out->count = GetU32(payload.data());
  const size_t id_len = static_cast<unsigned char>(payload[4]);
  if (id_len > kMaxProducerId) return false;
  size_t pos = kBatchHeaderSize;
  if (id_len > 0) {
    if (payload.size() < pos + id_len + 8) return false;
    out->producer_id = payload.substr(pos, id_len);
    out->producer_seq = GetU64(payload.data() + pos + id_len);
    pos += id_len + 8;
  } else {
    out->producer_id = {};
    out->producer_seq = 0;
  }
  out->events = payload.substr(pos);
  // Walk the lengths once: they must fill the payload exactly.
  size_t q = 0;
  for (uint32_t i = 0; i < out->count; ++i) {
    if (out->events.size() - q < 4) return false;
    const uint32_t len = GetU32(out->events.data() + q);
    if (out->events.size() - q - 4 < len) return false;
    q += 4 + len;
  }
  return q == out->events.size();
}

// The event at *pos of a validated BatchView's `events`; advances *pos.
inline std::string_view NextEvent(std::string_view events, size_t* pos) {
  const uint32_t len = GetU32(events.data() + *pos);
  std::string_view e = events.substr(*pos + 4, len);
  *pos += 4 + len;
  return e;
}

}  // namespace lf::logfmt
