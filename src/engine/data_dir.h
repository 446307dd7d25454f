// A lambdaflow data directory, opened: the format marker, the views file in
// force, the embedded log, the dead-letter store, and the shared store
// (in the directory, or elsewhere with --store) with the master dataset and
// the batch versions. docs/formats/data_dir.md describes the layout. The
// CLI and the server open the engine through this one class.
//
// One writer at a time: Open takes an exclusive lock on DIR/LOCK unless
// opened read-only; a second writer is refused with a clear message. A
// writer also claims every partition of the shared store (a new owner
// epoch): a second process writing the same store from another data
// directory fences the first one. Read-only openers (query, status,
// rejects) only read the latest manifest versions and do not open the log.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "batch/batch_version.h"
#include "common/file_system.h"
#include "ingest/json_decoder.h"
#include "log/log.h"
#include "master/master_store.h"
#include "sql/binder.h"

namespace lf {

struct DataDirOptions {
  // The partition count: recorded in the format marker when the directory
  // is created (1 when 0 is asked); an existing directory keeps its count,
  // and asking for a different one (not 0) is an error naming both.
  // `log.partitions` is ignored: Open sets it from this.
  int partitions = 0;
  LogOptions log;
  // The archiver seals the log into master segments of this many events
  // (the last, partial one only when asked to seal everything).
  uint64_t seal_events = 1'000'000;
  DecoderOptions decoder;
  // The views to use when neither a views file is given nor one is stored
  // (`run` with no arguments uses the example views); empty: an error.
  std::string default_views_text;
  // The stream's external log (e.g. "kafka topic events"), empty for the
  // embedded log. Recorded in DIR/SOURCE on first use; a directory reads
  // one stream for life (its offsets are that log's), so a different
  // source, or none for a directory that has one, is an error. With a
  // source the embedded log is not opened (log() is null).
  std::string source;
  // The shared store (master segments, manifest chains, batch versions):
  // a directory, or s3://BUCKET/PREFIX (store/shared_store.h); empty: the
  // data directory itself.
  std::string store;
  // An S3 store's local cache of segments (DIR/cache): its bound in bytes
  // (0: no cache). How many processes write the store at once (an S3 store
  // that ignores conditional writes is refused for more than one).
  uint64_t store_cache_bytes = 1ull << 30;
  int store_writers = 1;
  // False for a worker of a consumer group (`run --group`): the master store
  // is opened owning nothing; partitions are claimed as the group assigns
  // them (MasterStoreOptions::claim_all_at_open, docs/formats/ownership.md).
  bool claim_all_at_open = true;
  // Open the store without claiming its partitions, even when the data
  // directory is opened for writing (`status`, which reads the log's end).
  bool read_only_store = false;
  // Operator log lines of the master dataset (migration, fencing, rebuilt
  // sidecars); may be empty.
  std::function<void(const std::string&)> operator_log;
};

class DataDir {
 public:
  // Opens DIR (creating it when `create`). `views_path`, if not empty, is
  // the views file to use: it is stored in DIR on first use and replaces
  // the stored one when it differs (views are recomputed from the master
  // dataset at the next batch run). Without it the stored one is used.
  static Result<std::unique_ptr<DataDir>> Open(FileSystem* fs, const std::string& dir, const std::string& views_path,
                                               bool read_only, const DataDirOptions& options = {});
  ~DataDir();

  const std::string& path() const { return dir_; }
  const sql::Catalog& catalog() const { return catalog_; }
  int stream() const { return stream_; }
  const StreamSchema& schema() const { return catalog_.streams[static_cast<size_t>(stream_)]; }
  const std::string& views_text() const { return views_text_; }
  bool read_only() const { return read_only_; }
  // The partition count recorded at the directory's creation.
  int partitions() const { return partitions_; }

  // The external source recorded in the directory (empty: the embedded log),
  // and whether this Open recorded it (a new directory of that source).
  const std::string& source() const { return source_; }
  bool source_created() const { return source_created_; }
  // The log; null when read-only or reading an external source. Opening
  // recovers it (see Log::Open).
  Log* log() { return log_.get(); }
  const LogRecoveryReport& log_recovery() const { return recovery_; }
  MasterStore* master() { return master_.get(); }
  VersionStore& versions() { return *versions_; }
  ObjectStore* store() { return store_.get(); }
  // The shared store's directory or s3:// URL (the data directory unless --store).
  const std::string& store_path() const { return store_path_; }
  FileSystem* fs() { return fs_; }
  const DataDirOptions& options() const { return options_; }
  std::string rejects_path() const;

  // Seals log records into master segments of options().seal_events, the
  // last partial one too when `all`, then reclaims sealed log segments.
  // Idempotent and crash-safe: what is sealed is read from the manifest.
  // Returns the number of events sealed.
  Result<uint64_t> Seal(bool all);
  // Seals the log records of `partition` from its sealed watermark to `to`
  // as one master segment (nothing when already sealed to `to`), then
  // reclaims sealed log segments. `run`'s archiver seals exactly the ranges
  // the speed layer closed its buckets at.
  Status SealRange(int partition, uint64_t to);

  // Appends rejected lines to the dead-letter store (JSON lines) durably.
  Status AppendRejects(const std::string& input, const std::vector<Reject>& rejects);

 private:
  DataDir() = default;
  // Reads DIR/SOURCE and, for a writer, checks it against options_.source
  // (recording it in a new directory).
  Status CheckSource();
  FileSystem* fs_ = nullptr;
  std::string dir_;
  bool read_only_ = true;
  DataDirOptions options_;
  int lock_fd_ = -1;
  std::string views_text_;
  sql::Catalog catalog_;
  int stream_ = 0;
  int partitions_ = 1;
  std::string source_;
  bool source_created_ = false;
  LogRecoveryReport recovery_;
  std::unique_ptr<Log> log_;
  std::string store_path_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<MasterStore> master_;
  std::unique_ptr<VersionStore> versions_;
  std::unique_ptr<WritableFile> rejects_;
};

}  // namespace lf
