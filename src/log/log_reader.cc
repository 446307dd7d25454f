// Segment header validation and the chunked record cursor.
#include "log/log_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace lf {

namespace {
constexpr size_t kChunkBytes = 256 << 10;
}  // namespace

Status DecodeSegmentHeader(std::string_view bytes, const std::string& name, SegmentHeader* out) {
  using namespace logfmt;
  CHECK(bytes.size() >= kHeaderSize, "caller passes a whole header");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("log segment " + name + " is not a lambdaflow log segment (bad magic)");
  }
  // The version sits at a fixed place in every version, so it is checked
  // before the checksum: a newer header may be laid out differently.
  const uint32_t version = GetU32(bytes.data() + 8);
  if (version > kFormatVersion) {
    return Status::Unimplemented("log segment " + name + " has format version " + std::to_string(version) +
                                 ", newer than this build reads (up to " + std::to_string(kFormatVersion) +
                                 "); it was written by a newer lambdaflow: upgrade to read it");
  }
  if (version == 0) return Status::Corruption("log segment " + name + " has format version 0 (damaged header)");
  if (GetU32(bytes.data() + 28) != Checksum(bytes.data(), 28)) {
    return Status::Corruption("log segment " + name + ": header checksum mismatch");
  }
  out->version = version;
  out->partition = GetU32(bytes.data() + 12);
  out->base_offset = GetU64(bytes.data() + 16);
  return Status::OK();
}

SegmentCursor::SegmentCursor(const RandomAccessFile& file, uint64_t pos, uint64_t limit, uint32_t version)
    : file_(file), limit_(limit), max_bytes_(logfmt::MaxRecordBytes(version)), buf_pos_(pos), record_pos_(pos) {}

Status SegmentCursor::Fill(size_t n) {
  const uint64_t remaining_in_file = limit_ > buf_pos_ ? limit_ - buf_pos_ : 0;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, kChunkBytes), remaining_in_file));
  if (end_ - begin_ >= want) return Status::OK();
  if (cap_ < want) {
    auto bigger = std::make_unique<char[]>(want);
    if (end_ > begin_) std::memcpy(bigger.get(), buf_.get() + begin_, end_ - begin_);
    buf_ = std::move(bigger);
    cap_ = want;
  } else if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
  }
  end_ -= begin_;
  begin_ = 0;
  while (end_ < want) {
    ASSIGN_OR_RETURN(size_t got, file_.Read(buf_pos_ + end_, want - end_, buf_.get() + end_));
    if (got == 0) break;  // the file is shorter than the limit
    end_ += got;
  }
  return Status::OK();
}

Result<SegmentCursor::Outcome> SegmentCursor::Next(std::string_view* payload) {
  using namespace logfmt;
  record_pos_ = buf_pos_;
  if (buf_pos_ >= limit_) return Outcome::kEnd;
  if (end_ - begin_ < kRecordHeaderSize) RETURN_IF_ERROR(Fill(kRecordHeaderSize));
  if (end_ - begin_ >= kRecordHeaderSize) {
    const uint32_t len = GetU32(buf_.get() + begin_ + 4);
    const size_t need = kRecordHeaderSize + std::min(len, max_bytes_);
    if (end_ - begin_ < need) RETURN_IF_ERROR(Fill(need));
  }
  size_t size = 0;
  damage_ = DecodeRecord(std::string_view(buf_.get() + begin_, end_ - begin_), payload, &size, max_bytes_);
  if (damage_ != RecordCheck::kOk) return Outcome::kDamaged;
  begin_ += size;
  buf_pos_ += size;
  return Outcome::kRecord;
}

Result<std::optional<uint64_t>> FindValidRecordAfter(const RandomAccessFile& file, uint64_t from, uint64_t limit,
                                                     uint32_t version) {
  const uint32_t max_bytes = logfmt::MaxRecordBytes(version);
  if (from >= limit) return std::optional<uint64_t>();
  std::string rest(static_cast<size_t>(limit - from), '\0');
  size_t filled = 0;
  while (filled < rest.size()) {
    ASSIGN_OR_RETURN(size_t got, file.Read(from + filled, rest.size() - filled, rest.data() + filled));
    if (got == 0) break;
    filled += got;
  }
  const std::string_view all(rest.data(), filled);
  for (size_t q = 0; q + logfmt::kRecordHeaderSize <= all.size(); ++q) {
    std::string_view payload;
    size_t size;
    if (logfmt::DecodeRecord(all.substr(q), &payload, &size, max_bytes) == logfmt::RecordCheck::kOk) {
      return std::optional<uint64_t>(from + q);
    }
  }
  return std::optional<uint64_t>();
}

}  // namespace lf
