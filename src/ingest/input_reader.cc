// InputReader: POSIX reads (or zstd streaming decompression) into rotating
// caller-owned chunk buffers. See input_reader.h for the chunking contract.
#include "ingest/input_reader.h"

#include <emmintrin.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace lf {
namespace {

constexpr size_t kZstdInputBytes = 1 << 20;

// Counts '\n' bytes sixteen at a time with SSE2 (part of every x86-64):
// each compare yields 0xff (-1) per matching byte, subtracted into per-byte
// counters that are summed with SAD before they could overflow.
uint64_t CountNewlines(const char* p, size_t n) {
  const __m128i newline = _mm_set1_epi8('\n');
  uint64_t count = 0;
  size_t i = 0;
  while (i + 16 <= n) {
    __m128i acc = _mm_setzero_si128();
    size_t blocks = std::min<size_t>((n - i) / 16, 255);
    for (size_t k = 0; k < blocks; ++k, i += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, newline));
    }
    __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
    count += static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

}  // namespace

// Where the bytes come from. Read() returns 0 only at the end of the input.
class InputReader::Source {
 public:
  virtual ~Source() = default;
  virtual Result<size_t> Read(char* dst, size_t n) = 0;
  virtual uint64_t bytes_read() const = 0;
};

namespace {

// A file descriptor; closes it unless it is stdin.
class FdSource final : public InputReader::Source {
 public:
  FdSource(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, dst, n);
      if (got >= 0) {
        bytes_read_ += static_cast<uint64_t>(got);
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) return Status::FromErrno(errno, "read " + name_);
    }
  }
  uint64_t bytes_read() const override { return bytes_read_; }

 private:
  const int fd_;
  const bool owned_;
  const std::string name_;
  uint64_t bytes_read_ = 0;
};

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Streaming zstd decompression of another source; concatenated frames are
// one stream. Input that ends inside a frame is reported as corruption.
class ZstdSource final : public InputReader::Source {
 public:
  ZstdSource(std::unique_ptr<Source> file, ZSTD_DCtx* dctx, std::string name)
      : file_(std::move(file)),
        dctx_(dctx),
        name_(std::move(name)),
        in_(std::make_unique_for_overwrite<char[]>(kZstdInputBytes)) {}

  Result<size_t> Read(char* dst, size_t n) override {
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos < out.size) {
      if (in_pos_ == in_size_ && !file_eof_) {
        ASSIGN_OR_RETURN(size_t got, file_->Read(in_.get(), kZstdInputBytes));
        in_pos_ = 0;
        in_size_ = got;
        file_eof_ = got == 0;
      }
      const bool no_input = in_pos_ == in_size_;
      if (no_input && frame_done_) break;  // clean end of the stream
      ZSTD_inBuffer in{in_.get(), in_size_, in_pos_};
      const size_t out_before = out.pos;
      size_t ret = ZSTD_decompressStream(dctx_.get(), &out, &in);
      if (ZSTD_isError(ret)) return Status::Corruption(name_ + ": bad zstd data: " + ZSTD_getErrorName(ret));
      const bool progress = in.pos != in_pos_ || out.pos != out_before;
      in_pos_ = in.pos;
      if (progress) frame_done_ = ret == 0;
      if (no_input && !progress) {
        // The file has ended and the decoder has nothing more to give.
        if (ret != 0) return Status::Corruption(name_ + ": truncated zstd data (the file ends inside a frame)");
        frame_done_ = true;
        break;
      }
    }
    return out.pos;
  }
  uint64_t bytes_read() const override { return file_->bytes_read(); }

 private:
  std::unique_ptr<Source> file_;
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx_;
  const std::string name_;
  std::unique_ptr<char[]> in_;
  size_t in_pos_ = 0;
  size_t in_size_ = 0;
  bool file_eof_ = false;
  bool frame_done_ = true;  // between frames (an empty file is an empty stream)
};

}  // namespace

void ChunkBuffer::Reserve(size_t n, size_t keep) {
  if (capacity_ >= n) return;
  auto bigger = std::make_unique_for_overwrite<char[]>(n + kJsonPadding);
  if (keep > 0) std::memcpy(bigger.get(), data_.get(), keep);
  data_ = std::move(bigger);
  capacity_ = n;
}

bool LineSplitter::Next(std::string_view* line, size_t* padded_capacity, uint64_t* line_no) {
  if (pos_ >= end_) return false;
  const char* nl = static_cast<const char*>(std::memchr(pos_, '\n', static_cast<size_t>(end_ - pos_)));
  const char* stop = nl != nullptr ? nl : end_;
  *line = std::string_view(pos_, static_cast<size_t>(stop - pos_));
  *padded_capacity = static_cast<size_t>(limit_ - pos_);
  *line_no = line_no_++;
  pos_ = nl != nullptr ? nl + 1 : end_;
  return true;
}

Result<std::unique_ptr<InputReader>> InputReader::Open(const std::string& path, InputReaderOptions opts) {
  if (opts.chunk_bytes == 0) return Status::InvalidArgument("InputReader: chunk_bytes must be positive");
  std::unique_ptr<Source> source;
  if (path == "-") {
    source = std::make_unique<FdSource>(STDIN_FILENO, /*owned=*/false, "stdin");
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    source = std::make_unique<FdSource>(fd, /*owned=*/true, path);
  }
  if (path.size() > 4 && path.ends_with(".zst")) {
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    if (dctx == nullptr) return Status::Internal("open " + path + ": cannot create a zstd decompression context");
    source = std::make_unique<ZstdSource>(std::move(source), dctx, path);
  }
  return std::unique_ptr<InputReader>(new InputReader(path, opts, std::move(source)));
}

InputReader::InputReader(std::string path, InputReaderOptions opts, std::unique_ptr<Source> source)
    : path_(std::move(path)), opts_(opts), hard_cap_(opts.max_line_bytes + 2), source_(std::move(source)) {}

InputReader::~InputReader() = default;

uint64_t InputReader::bytes_read() const { return source_->bytes_read(); }

Result<size_t> InputReader::Read(char* dst, size_t n) {
  Result<size_t> got = source_->Read(dst, n);
  if (!got.ok()) {
    done_ = true;
    return got;
  }
  bytes_decoded_ += *got;
  return got;
}

void InputReader::Deliver(ChunkBuffer* buffer, size_t size, size_t filled) {
  char* d = buffer->data_.get();
  // Bytes past `filled` may never have been written; make the padding defined.
  std::memset(d + filled, ' ', kJsonPadding);
  uint64_t lines = CountNewlines(d, size);
  if (size > 0 && d[size - 1] != '\n') ++lines;  // last line of the input, or a cut over-long line
  buffer->chunk_ = LineChunk{d, size, buffer->capacity_ + kJsonPadding, next_line_no_};
  next_line_no_ += lines;
}

Result<bool> InputReader::Next(ChunkBuffer* buffer) {
  if (done_) return false;
  buffer->Reserve(std::max(opts_.chunk_bytes, carry_.size()), 0);
  char* d = buffer->data_.get();
  size_t len = 0;
  size_t scanned = 0;  // [0, scanned) holds no '\n'

  if (skipping_) {
    // Discard the rest of an over-long line, up to and including its '\n'.
    while (true) {
      ASSIGN_OR_RETURN(size_t n, Read(d, buffer->capacity_));
      if (n == 0) {
        done_ = true;
        return false;
      }
      const char* nl = static_cast<const char*>(std::memchr(d, '\n', n));
      if (nl != nullptr) {
        len = static_cast<size_t>(d + n - (nl + 1));
        std::memmove(d, nl + 1, len);
        skipping_ = false;
        break;
      }
    }
  } else {
    len = carry_.size();
    std::memcpy(d, carry_.data(), len);
    scanned = len;  // the carry is an unfinished line
    carry_.clear();
  }

  while (true) {
    if (scanned < len) {
      const char* nl = static_cast<const char*>(memrchr(d + scanned, '\n', len - scanned));
      if (nl != nullptr) {
        size_t end = static_cast<size_t>(nl - d) + 1;
        carry_.assign(d + end, len - end);
        Deliver(buffer, end, len);
        return true;
      }
      scanned = len;
    }
    if (len == buffer->capacity_) {
      // The buffer holds part of a single line.
      if (len >= hard_cap_) {
        Deliver(buffer, hard_cap_, len);
        skipping_ = true;
        return true;
      }
      buffer->Reserve(std::min(2 * buffer->capacity_, hard_cap_), len);
      d = buffer->data_.get();
    }
    ASSIGN_OR_RETURN(size_t n, Read(d + len, buffer->capacity_ - len));
    if (n == 0) {
      done_ = true;
      if (len == 0) return false;
      Deliver(buffer, len, len);
      return true;
    }
    len += n;
  }
}

}  // namespace lf
