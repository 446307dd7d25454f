// The typed columnar sidecar of a master segment (".cols"): the segment's
// events decoded with the stream schema, in row groups, built for scans that
// cost little more than a memcpy per column. Layout and checksums:
// docs/formats/master_segment.md, constants: segment_format.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "common/vector.h"
#include "ingest/json_decoder.h"
#include "ingest/schema.h"

namespace lf {

// What a sidecar is expected to hold: anything else is stale.
struct ColumnFileKey {
  uint64_t schema_fingerprint = 0;
  int partition = 0;
  uint64_t from = 0;
  uint64_t to = 0;
};

// An event of the segment that did not decode with the schema (so has no
// row): its offset and why.
struct ColumnFileReject {
  uint64_t offset = 0;
  RejectReason reason = RejectReason::kMalformedJson;
};

// Streams a sidecar into a WritableFile: rows arrive in offset order as
// batches of the schema's types, are encoded one row group at a time (memory
// is one row group's data), and Finish() writes the trailer. The output is a
// function of (schema, key, rows, rejects, group_rows) only, so a rebuild
// writes identical bytes. Does not Sync or Close the file. Not thread-safe.
class ColumnFileWriter {
 public:
  ColumnFileWriter(const StreamSchema& schema, const ColumnFileKey& key, uint32_t group_rows, WritableFile* out);
  ~ColumnFileWriter();
  ColumnFileWriter(const ColumnFileWriter&) = delete;
  ColumnFileWriter& operator=(const ColumnFileWriter&) = delete;

  // Appends the batch's rows (copied; the batch may be reused at once).
  Status Add(const Batch& batch) { return Add(batch, 0, batch.size); }
  // Appends rows [begin, end) of the batch (copied).
  Status Add(const Batch& batch, size_t begin, size_t end);
  void AddReject(const ColumnFileReject& reject) { rejects_.push_back(reject); }
  // Flushes the last row group and writes trailer and tail.
  Status Finish();

  uint64_t rows() const { return rows_; }
  // Bytes written and their xxh64; final after Finish().
  uint64_t bytes() const { return bytes_; }
  uint64_t hash() const;

 private:
  struct ColumnBuilder;
  Status Write(std::string_view data);
  Status FlushGroup();

  const StreamSchema schema_;
  const ColumnFileKey key_;
  const uint32_t group_rows_;
  WritableFile* const out_;
  std::vector<std::unique_ptr<ColumnBuilder>> cols_;
  uint32_t group_size_ = 0;  // rows in the open group
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
  struct GroupEntry {
    uint32_t rows;
    uint64_t bytes, hash;
  };
  std::vector<GroupEntry> groups_;
  std::vector<ColumnFileReject> rejects_;
  std::string body_;  // scratch for one encoded group
  struct HashState;
  std::unique_ptr<HashState> hash_;
  Status status_;  // first write error; sticky
};

// Reads a sidecar row group by row group into caller batches. Open checks
// header, tail and trailer (so a truncated or foreign file is refused before
// any row is read); each row group's checksum is checked when it is loaded,
// before any of its rows is handed out. Memory: one row group's bytes plus
// small per-group tables, reused. Not thread-safe (one reader per scan);
// many readers of one file may run in parallel.
class ColumnFileReader {
 public:
  // Errors: Corruption for damage (naming `path` and what is wrong);
  // InvalidArgument if the file is intact but stale (another schema, range,
  // or format version); IOError and NotFound as the file system reports.
  static Result<std::unique_ptr<ColumnFileReader>> Open(FileSystem* fs, const std::string& path,
                                                        const StreamSchema& schema, const ColumnFileKey& key);
  // The same over a file already open (an object of the store); `path`
  // names it in messages.
  static Result<std::unique_ptr<ColumnFileReader>> Open(std::unique_ptr<RandomAccessFile> file, const std::string& path,
                                                        const StreamSchema& schema, const ColumnFileKey& key);
  ~ColumnFileReader();
  ColumnFileReader(const ColumnFileReader&) = delete;
  ColumnFileReader& operator=(const ColumnFileReader&) = delete;

  uint64_t rows() const { return rows_; }
  const std::vector<ColumnFileReject>& rejects() const { return rejects_; }

  // Continues reading at row `row` (0 <= row <= rows()).
  void SeekToRow(uint64_t row);
  // Fills `batch` (initialized with the schema's types) with the next up to
  // batch->capacity() rows and returns true, or returns false at the end.
  // Text values point into the reader's buffer and stay valid until the next
  // call; batch->arena is not used. Corruption if the row group is damaged.
  Result<bool> Next(Batch* batch);
  // Reads and checks every row group (without decoding): for verification.
  Status VerifyAll();

 private:
  struct Chunk;
  struct Group {
    uint32_t rows;
    uint64_t offset, bytes, hash, first_row;
  };
  ColumnFileReader(std::unique_ptr<RandomAccessFile> file, std::string path, std::vector<TypeId> types);
  Status LoadGroup(size_t g);
  Status ParseGroup(size_t g);

  std::unique_ptr<RandomAccessFile> file_;
  const std::string path_;
  const std::vector<TypeId> types_;
  uint64_t rows_ = 0;
  std::vector<Group> groups_;
  std::vector<ColumnFileReject> rejects_;
  size_t group_ = 0;       // the group of the next row
  uint32_t in_group_ = 0;  // the next row's index in it
  size_t loaded_ = SIZE_MAX;
  std::unique_ptr<char[]> buf_;
  size_t buf_cap_ = 0;
  std::vector<Chunk> chunks_;  // per column, pointers into buf_
};

}  // namespace lf
