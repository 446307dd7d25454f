// Writing and reading the files of one master segment: the raw zstd NDJSON
// file (the source of truth) and, built from the same events, its columnar
// sidecar (column_file.h). Formats: docs/formats/master_segment.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "common/vector.h"
#include "ingest/json_decoder.h"
#include "master/column_file.h"
#include "master/manifest.h"

namespace lf {

// Called for every event that does not decode with the schema.
using HistoricalRejectFn = std::function<void(uint64_t offset, const Reject& reject)>;

// Streams a segment's events as NDJSON through zstd into its raw file,
// hashing what it writes. Not thread-safe.
class RawSegmentWriter {
 public:
  RawSegmentWriter(WritableFile* out, int zstd_level);
  ~RawSegmentWriter();
  RawSegmentWriter(const RawSegmentWriter&) = delete;
  RawSegmentWriter& operator=(const RawSegmentWriter&) = delete;

  // The next event (without '\n'; must not contain one).
  Status Add(std::string_view event);
  Status Finish();
  uint64_t bytes() const;
  uint64_t hash() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds a segment's files from its events, given in offset order: the raw
// file (if `raw` is not null) and the sidecar. Decodes with JsonDecoder's
// bulk path; an event that does not decode (or is blank) gets no row, is
// listed in the sidecar's reject list and passed to `on_reject`. Memory is
// bounded by a few MiB of buffers plus one row group. Neither file is
// synced or closed. Not thread-safe.
class SegmentBuilder {
 public:
  SegmentBuilder(const StreamSchema& schema, const ColumnFileKey& key, uint32_t group_rows, int zstd_level,
                 const DecoderOptions& decoder, WritableFile* raw, WritableFile* cols, HistoricalRejectFn on_reject);
  ~SegmentBuilder();
  SegmentBuilder(const SegmentBuilder&) = delete;
  SegmentBuilder& operator=(const SegmentBuilder&) = delete;

  // The next event (without '\n'; must not contain one).
  Status Add(std::string_view event);
  // The next event whose row is already decoded: only the raw file gets
  // it here; its row goes to the sidecar through AddRows, in the same
  // order. A segment's events all come one way or all the other.
  Status AddRawOnly(std::string_view event);
  // Rows [begin, end) of `rows`, decoded before from events given to
  // AddRawOnly, for the sidecar.
  Status AddRows(const Batch& rows, size_t begin, size_t end) { return cols_.Add(rows, begin, end); }
  Status Finish();

  uint64_t events() const { return next_offset_ - key_.from; }
  uint64_t rejected() const { return rejected_; }
  uint64_t raw_bytes() const;
  uint64_t raw_hash() const;
  uint64_t cols_bytes() const { return cols_.bytes(); }
  uint64_t cols_hash() const { return cols_.hash(); }

 private:
  Status FlushDecode();

  const ColumnFileKey key_;
  std::unique_ptr<RawSegmentWriter> raw_;
  ColumnFileWriter cols_;
  JsonDecoder decoder_;
  Batch batch_;
  HistoricalRejectFn on_reject_;
  std::string chunk_;                    // NDJSON lines waiting to be decoded
  std::vector<uint64_t> chunk_offsets_;  // offset of each line in chunk_
  std::vector<Reject> rejects_;          // scratch for DecodeMany
  uint64_t next_offset_;
  uint64_t rejected_ = 0;
};

// Reads the raw file of `seg` at `path`: first checks its size and xxh64
// against the manifest (so nothing is handed out from a damaged file), then
// decompresses it and calls fn(offset, event) for every line in order. A
// missing file, a size or checksum mismatch, bad zstd data or a line count
// other than seg.events is Corruption naming the segment and its range.
Status ReadRawSegment(FileSystem* fs, const std::string& path, const SegmentInfo& seg,
                      const std::function<Status(uint64_t offset, std::string_view event)>& fn);
// The same over the segment's object opened for reads (NotFound: missing).
Status ReadRawSegment(Result<std::unique_ptr<RandomAccessFile>> opened, const SegmentInfo& seg,
                      const std::function<Status(uint64_t offset, std::string_view event)>& fn);

}  // namespace lf
