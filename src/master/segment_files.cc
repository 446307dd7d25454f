// Segment building (zstd streaming compression, bulk JSON decoding into the
// sidecar) and raw segment reading (verify, then streaming decompression).
#include "master/segment_files.h"

#include <xxhash.h>
#include <zstd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

namespace lf {
namespace {

// Lines are decoded and compressed in chunks of about this size.
constexpr size_t kChunkBytes = 1 << 20;
// Raw files are read in pieces of this size.
constexpr size_t kReadBytes = 1 << 20;

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

// Streams NDJSON through zstd into a WritableFile, hashing what it writes.
class RawSegmentWriter::Impl {
 public:
  Impl(WritableFile* out, int level) : out_(out), cctx_(ZSTD_createCCtx()), out_buf_(ZSTD_CStreamOutSize()) {
    CHECK(cctx_ != nullptr, "ZSTD_createCCtx failed");
    ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_checksumFlag, 1);
    XXH64_reset(hash_, 0);
    in_.reserve(kChunkBytes + 4096);
  }
  ~Impl() { XXH64_freeState(hash_); }

  Status AddLine(std::string_view line) {
    in_.append(line);
    in_.push_back('\n');
    if (in_.size() >= kChunkBytes) return Compress(ZSTD_e_continue);
    return Status::OK();
  }
  Status Finish() { return Compress(ZSTD_e_end); }
  uint64_t bytes() const { return bytes_; }
  uint64_t hash() const { return XXH64_digest(hash_); }

 private:
  Status Compress(ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{in_.data(), in_.size(), 0};
    while (true) {
      ZSTD_outBuffer out{out_buf_.data(), out_buf_.size(), 0};
      size_t left = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
      if (ZSTD_isError(left)) return Status::Internal(std::string("zstd compression: ") + ZSTD_getErrorName(left));
      if (out.pos > 0) {
        std::string_view data(out_buf_.data(), out.pos);
        RETURN_IF_ERROR(out_->Append(data));
        XXH64_update(hash_, data.data(), data.size());
        bytes_ += data.size();
      }
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
    in_.clear();
    return Status::OK();
  }

  WritableFile* const out_;
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx_;
  std::string in_;
  std::vector<char> out_buf_;
  XXH64_state_t* hash_ = XXH64_createState();
  uint64_t bytes_ = 0;
};

RawSegmentWriter::RawSegmentWriter(WritableFile* out, int zstd_level)
    : impl_(std::make_unique<Impl>(out, zstd_level)) {}
RawSegmentWriter::~RawSegmentWriter() = default;
Status RawSegmentWriter::Add(std::string_view event) { return impl_->AddLine(event); }
Status RawSegmentWriter::Finish() { return impl_->Finish(); }
uint64_t RawSegmentWriter::bytes() const { return impl_->bytes(); }
uint64_t RawSegmentWriter::hash() const { return impl_->hash(); }

SegmentBuilder::SegmentBuilder(const StreamSchema& schema, const ColumnFileKey& key, uint32_t group_rows,
                               int zstd_level, const DecoderOptions& decoder, WritableFile* raw, WritableFile* cols,
                               HistoricalRejectFn on_reject)
    : key_(key),
      raw_(raw ? std::make_unique<RawSegmentWriter>(raw, zstd_level) : nullptr),
      cols_(schema, key, group_rows, cols),
      decoder_(schema, decoder),
      batch_(schema.types()),
      on_reject_(std::move(on_reject)),
      next_offset_(key.from) {
  chunk_.reserve(kChunkBytes + 64 * 1024);
}

SegmentBuilder::~SegmentBuilder() = default;

uint64_t SegmentBuilder::raw_bytes() const { return raw_ ? raw_->bytes() : 0; }
uint64_t SegmentBuilder::raw_hash() const { return raw_ ? raw_->hash() : 0; }

Status SegmentBuilder::Add(std::string_view event) {
  CHECK(next_offset_ < key_.to, "more events than the segment's range");
  const uint64_t offset = next_offset_++;
  if (raw_) RETURN_IF_ERROR(raw_->Add(event));
  if (IsBlank(event)) {
    // DecodeMany skips blank lines silently; they are rejects here.
    Reject r;
    r.reason = RejectReason::kMalformedJson;
    r.detail = "blank line";
    cols_.AddReject({offset, r.reason});
    ++rejected_;
    if (on_reject_) on_reject_(offset, r);
    return Status::OK();
  }
  chunk_.append(event);
  chunk_.push_back('\n');
  chunk_offsets_.push_back(offset);
  if (chunk_.size() >= kChunkBytes) return FlushDecode();
  return Status::OK();
}

Status SegmentBuilder::AddRawOnly(std::string_view event) {
  CHECK(next_offset_ < key_.to, "more events than the segment's range");
  ++next_offset_;
  if (raw_) RETURN_IF_ERROR(raw_->Add(event));
  return Status::OK();
}

Status SegmentBuilder::FlushDecode() {
  const size_t size = chunk_.size();
  chunk_.append(kJsonPadding, ' ');
  size_t pos = 0;
  uint64_t line_no = 1;  // 1-based index into chunk_offsets_
  while (pos < size) {
    if (batch_.full()) {
      RETURN_IF_ERROR(cols_.Add(batch_));
      batch_.Clear();
    }
    uint64_t lines = 0;
    rejects_.clear();
    pos +=
        decoder_.DecodeMany(chunk_.data() + pos, size - pos, chunk_.size() - pos, line_no, &batch_, &rejects_, &lines);
    for (const Reject& r : rejects_) {
      const uint64_t offset = chunk_offsets_[r.line - 1];
      cols_.AddReject({offset, r.reason});
      ++rejected_;
      if (on_reject_) on_reject_(offset, r);
    }
    line_no += lines;
  }
  chunk_.clear();
  chunk_offsets_.clear();
  return Status::OK();
}

Status SegmentBuilder::Finish() {
  // A source with offset gaps (Kafka) gives fewer events than the range.
  CHECK(next_offset_ <= key_.to, "more events than the segment's range");
  RETURN_IF_ERROR(FlushDecode());
  if (batch_.size > 0) RETURN_IF_ERROR(cols_.Add(batch_));
  batch_.Clear();
  if (raw_) RETURN_IF_ERROR(raw_->Finish());
  return cols_.Finish();
}

Status ReadRawSegment(FileSystem* fs, const std::string& path, const SegmentInfo& seg,
                      const std::function<Status(uint64_t offset, std::string_view event)>& fn) {
  return ReadRawSegment(fs->NewRandomAccessFile(path), seg, fn);
}

Status ReadRawSegment(Result<std::unique_ptr<RandomAccessFile>> opened, const SegmentInfo& seg,
                      const std::function<Status(uint64_t offset, std::string_view event)>& fn) {
  const std::string what = "raw segment " + seg.raw_name + " (" + SegmentLabel(seg) + ")";
  auto corrupt = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
  if (!opened.ok() && opened.status().code() == StatusCode::kNotFound) return corrupt("file is missing");
  ASSIGN_OR_RETURN(auto file, std::move(opened));
  if (file->size() != seg.raw_bytes) {
    return corrupt("size is " + std::to_string(file->size()) + " bytes, the manifest says " +
                   std::to_string(seg.raw_bytes));
  }
  auto buf = std::make_unique_for_overwrite<char[]>(kReadBytes);
  // Pass 1: checksum of the compressed bytes.
  {
    XXH64_state_t* st = XXH64_createState();
    XXH64_reset(st, 0);
    Status s;
    for (uint64_t off = 0; off < seg.raw_bytes && s.ok();) {
      auto got = file->Read(off, kReadBytes, buf.get());
      if (!got.ok()) {
        s = got.status();
      } else if (*got == 0) {
        s = corrupt("short read");
      } else {
        XXH64_update(st, buf.get(), *got);
        off += *got;
      }
    }
    uint64_t h = XXH64_digest(st);
    XXH64_freeState(st);
    RETURN_IF_ERROR(s);
    if (h != seg.raw_hash)
      return corrupt("checksum mismatch (manifest " + Hex16(seg.raw_hash) + ", file " + Hex16(h) + ")");
  }
  // Pass 2: decompress and split lines. `lines` holds decompressed bytes;
  // [0, filled) are not yet handed out.
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  CHECK(dctx != nullptr, "ZSTD_createDCtx failed");
  std::string lines(kReadBytes, '\0');
  size_t filled = 0;
  uint64_t offset = seg.from;
  size_t last_ret = 1;
  for (uint64_t off = 0; off < seg.raw_bytes;) {
    ASSIGN_OR_RETURN(size_t got, file->Read(off, kReadBytes, buf.get()));
    if (got == 0) return corrupt("short read");
    off += got;
    ZSTD_inBuffer in{buf.get(), got, 0};
    while (true) {
      if (filled == lines.size()) lines.resize(lines.size() * 2);  // a line longer than the buffer
      ZSTD_outBuffer out{lines.data() + filled, lines.size() - filled, 0};
      last_ret = ZSTD_decompressStream(dctx.get(), &out, &in);
      if (ZSTD_isError(last_ret)) return corrupt(std::string("bad zstd data: ") + ZSTD_getErrorName(last_ret));
      filled += out.pos;
      size_t start = 0;
      while (true) {
        const char* nl = static_cast<const char*>(std::memchr(lines.data() + start, '\n', filled - start));
        if (nl == nullptr) break;
        if (offset >= seg.from + seg.events) return corrupt("more lines than the manifest's event count");
        size_t end = static_cast<size_t>(nl - lines.data());
        RETURN_IF_ERROR(fn(offset++, std::string_view(lines.data() + start, end - start)));
        start = end + 1;
      }
      std::memmove(lines.data(), lines.data() + start, filled - start);
      filled -= start;
      if (last_ret == 0 && in.pos < in.size) return corrupt("data after the zstd frame");
      // Done with this input once it is consumed and zstd had room to spare
      // (a full output buffer may mean more output is pending).
      if (in.pos == in.size && out.pos < out.size) break;
    }
  }
  if (last_ret != 0) return corrupt("truncated zstd frame");
  if (filled != 0) return corrupt("last line has no newline");
  if (offset != seg.from + seg.events) {
    return corrupt("holds " + std::to_string(offset - seg.from) + " lines, the manifest says " +
                   std::to_string(seg.events));
  }
  return Status::OK();
}

}  // namespace lf
