// Reading log segment files: header validation and a sequential record
// cursor, shared by recovery (Log::Open) and Log::Read. Knows the format
// (log_format.h), not the Log's bookkeeping.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/file_system.h"
#include "common/status.h"
#include "log/log_format.h"

namespace lf {

struct SegmentHeader {
  uint32_t version = 0;
  uint32_t partition = 0;
  uint64_t base_offset = 0;
};

// Checks the kHeaderSize bytes of a segment header. Corruption on a bad
// magic or checksum; Unimplemented (with an upgrade hint) on a format version
// newer than this build reads. `name` is used in messages.
Status DecodeSegmentHeader(std::string_view bytes, const std::string& name, SegmentHeader* out);

// Reads the records of one segment file in order, in large chunks, from a
// starting position up to a limit. Not thread-safe; one per reader.
class SegmentCursor {
 public:
  enum class Outcome { kRecord, kEnd, kDamaged };

  // `version`: the segment's format version (its records' size limit).
  SegmentCursor(const RandomAccessFile& file, uint64_t pos, uint64_t limit, uint32_t version);
  SegmentCursor(const SegmentCursor&) = delete;
  SegmentCursor& operator=(const SegmentCursor&) = delete;

  // kRecord: *payload is the next record's payload, valid until the next
  // call; record_pos() is where it starts. kEnd: the limit was reached
  // exactly. kDamaged: the bytes at record_pos() are no valid record;
  // damage() says why. I/O errors come back as a Status.
  Result<Outcome> Next(std::string_view* payload);

  uint64_t record_pos() const { return record_pos_; }
  logfmt::RecordCheck damage() const { return damage_; }

 private:
  // Makes at least `n` bytes (or all up to the limit) available at buf_[begin_].
  Status Fill(size_t n);

  const RandomAccessFile& file_;
  const uint64_t limit_;
  const uint32_t max_bytes_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0;     // first unread byte in buf_
  size_t end_ = 0;       // one past the last loaded byte in buf_
  uint64_t buf_pos_;     // file position of buf_[begin_]
  uint64_t record_pos_;  // file position of the last record returned (or of the damage)
  logfmt::RecordCheck damage_ = logfmt::RecordCheck::kOk;
};

// The position of the first valid record that starts in (from, limit) of
// `file` at any byte, or nullopt. Used to tell a torn tail (nothing valid
// follows the damage) from mid-log corruption.
Result<std::optional<uint64_t>> FindValidRecordAfter(const RandomAccessFile& file, uint64_t from, uint64_t limit,
                                                     uint32_t version);

}  // namespace lf
