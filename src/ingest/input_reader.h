// Reading NDJSON inputs (a file, "-" for stdin, or a zstd-compressed *.zst
// file) as chunks of whole lines, each followed by enough readable padding
// for JsonDecoder to parse the lines in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ingest/json_decoder.h"

namespace lf {

// A view of one chunk: whole lines, the last one possibly without '\n' (at
// the end of the input, or for an over-long line, see InputReader).
struct LineChunk {
  const char* data = nullptr;
  size_t size = 0;
  size_t padded_capacity = 0;  // bytes readable from `data`; >= size + kJsonPadding
  uint64_t first_line_no = 0;  // 1-based number of the chunk's first line
};

// A reusable buffer that InputReader::Next fills with one chunk. Its memory
// is allocated on first use and kept (grown only for a line longer than the
// buffer), so rotating a few ChunkBuffers touches no fresh memory per chunk.
// Movable, not copyable. A buffer is owned by whoever holds it: the reader
// writes it only inside Next(); consumers may read it from any thread until
// they hand it back to Next().
class ChunkBuffer {
 public:
  ChunkBuffer() = default;
  ChunkBuffer(const ChunkBuffer&) = delete;
  ChunkBuffer& operator=(const ChunkBuffer&) = delete;
  ChunkBuffer(ChunkBuffer&&) = default;
  ChunkBuffer& operator=(ChunkBuffer&&) = default;

  // The chunk from the last successful Next().
  const LineChunk& chunk() const { return chunk_; }
  // Bytes allocated (without padding).
  size_t capacity() const { return capacity_; }

 private:
  friend class InputReader;
  // Makes room for `n` bytes (plus padding), keeping the first `keep`.
  void Reserve(size_t n, size_t keep);

  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  LineChunk chunk_;
};

// Splits a chunk into lines with memchr. Lines exclude their '\n' (a '\r'
// before it is left for the decoder) and carry their padded capacity.
class LineSplitter {
 public:
  explicit LineSplitter(const LineChunk& chunk)
      : pos_(chunk.data),
        end_(chunk.data + chunk.size),
        limit_(chunk.data + chunk.padded_capacity),
        line_no_(chunk.first_line_no) {}

  // The next line; false when the chunk is exhausted.
  bool Next(std::string_view* line, size_t* padded_capacity, uint64_t* line_no);

 private:
  const char* pos_;
  const char* const end_;
  const char* const limit_;
  uint64_t line_no_;
};

struct InputReaderOptions {
  // Lines longer than this are cut (see InputReader) and rejected by the
  // decoder; should equal DecoderOptions::max_line_bytes.
  size_t max_line_bytes = 1 << 20;
  // Size of each chunk buffer; one read() asks for this much.
  size_t chunk_bytes = 4 << 20;
};

// Hands out an input as chunks of complete lines.
//
// Each call of Next() fills a caller-owned ChunkBuffer, so that several
// chunks can be in flight: typically one thread calls Next() with buffers
// that worker threads return after decoding. The reader keeps only the
// unfinished tail of the last read (copied into the next chunk), a 1 MiB
// input buffer for .zst, and its file descriptor.
//
// Chunks end at the last '\n' of what has been read, so a chunk is as large
// as the buffer for files, and may be smaller for pipes (Next returns as soon
// as a read brought at least one complete line, rather than waiting for a
// full buffer). A line longer than the buffer grows that buffer, up to
// max_line_bytes + 2 bytes. A line longer still is delivered alone, as a
// chunk of its first max_line_bytes + 2 bytes without '\n' (too long for the
// decoder even after it drops a trailing '\r'), and the rest of the line is
// read and discarded: memory stays bounded whatever the input. The final
// line counts even without '\n'.
//
// Not thread-safe: one thread calls Next(). The buffers it fills are
// independent of each other and of the reader.
class InputReader {
 public:
  // `path` is a file, "-" for stdin (never closed by the reader), or a file
  // ending in ".zst", read through zstd's streaming decompressor.
  static Result<std::unique_ptr<InputReader>> Open(const std::string& path, InputReaderOptions opts = {});
  ~InputReader();
  InputReader(const InputReader&) = delete;
  InputReader& operator=(const InputReader&) = delete;

  // Fills `buffer` with the next chunk (see buffer->chunk()). Returns false
  // at the end of the input, or an IOError / Corruption (bad or truncated
  // zstd data) naming the path. After an error or the end, further calls
  // return false.
  Result<bool> Next(ChunkBuffer* buffer);

  // Bytes read from the file (compressed bytes for .zst).
  uint64_t bytes_read() const;
  // Bytes of line data produced (after decompression), including skipped
  // parts of over-long lines.
  uint64_t bytes_decoded() const { return bytes_decoded_; }
  const std::string& path() const { return path_; }

  class Source;  // reads bytes from the file; plain or zstd (in the .cc file)

 private:
  InputReader(std::string path, InputReaderOptions opts, std::unique_ptr<Source> source);
  // Reads up to `n` bytes into `dst`; 0 means the end of the input.
  Result<size_t> Read(char* dst, size_t n);
  // Delivers bytes [0, size) of `buffer` as a chunk.
  void Deliver(ChunkBuffer* buffer, size_t size, size_t filled);

  const std::string path_;
  const InputReaderOptions opts_;
  const size_t hard_cap_;  // max_line_bytes + 2: longer lines are cut to this
  std::unique_ptr<Source> source_;
  std::string carry_;      // the start of an unfinished line, for the next chunk
  bool skipping_ = false;  // discarding the rest of an over-long line
  bool done_ = false;
  uint64_t next_line_no_ = 1;
  uint64_t bytes_decoded_ = 0;
};

}  // namespace lf
