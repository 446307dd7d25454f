#include "engine/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/format.h"
#include "common/record_buffer.h"
#include "store/shared_store.h"

namespace lf {
namespace {

// The record buffer of a seal is sized for records of this many bytes, up
// to kSealReserveMaxBytes (larger seals grow it as they go).
constexpr uint64_t kSealBytesPerRecordHint = 128;
constexpr uint64_t kSealReserveMaxBytes = uint64_t{256} << 20;
constexpr const char* kFormatFile = "FORMAT";
constexpr const char* kFormatLine = "lambdaflow data directory, format 1\n";
// The second line of the marker of a directory of more than one partition
// (a directory of one partition has the format line only, as before).
constexpr const char* kPartitionsPrefix = "partitions ";
constexpr int kMaxDirPartitions = 1024;

// The partition count a marker records: 1 without a partitions line; -1 when
// the marker is not a format-1 marker; -2 when its partitions line is bad.
int MarkerPartitions(const std::string& marker) {
  const size_t n = std::strlen(kFormatLine);
  if (marker.compare(0, n, kFormatLine) != 0) return -1;
  if (marker.size() == n) return 1;
  const std::string rest = marker.substr(n);
  const size_t m = std::strlen(kPartitionsPrefix);
  if (rest.size() < m + 2 || rest.compare(0, m, kPartitionsPrefix) != 0 || rest.back() != '\n') return -2;
  int count = 0;
  for (size_t i = m; i + 1 < rest.size(); ++i) {
    const char c = rest[i];
    if (c < '0' || c > '9' || count > kMaxDirPartitions) return -2;
    count = count * 10 + (c - '0');
  }
  return count >= 2 && count <= kMaxDirPartitions ? count : -2;
}

std::string MarkerText(int partitions) {
  std::string s = kFormatLine;
  if (partitions > 1) s += kPartitionsPrefix + std::to_string(partitions) + "\n";
  return s;
}
constexpr const char* kViewsFile = "views.sql";
constexpr const char* kStoreFile = "STORE";

// Whether the directory holds events or results: a master MANIFEST (either
// layout), a batch version, or a log segment with records.
bool HoldsData(FileSystem* fs, const std::string& dir) {
  for (const char* marker : {"master/MANIFEST", "batch/CURRENT", "manifest"}) {
    auto e = fs->Exists(JoinPath(dir, marker));
    if (!e.ok() || *e) return true;
  }
  const std::string log = JoinPath(dir, "log");
  auto parts = fs->ListDir(log);
  if (!parts.ok()) return false;
  for (const auto& part : *parts) {
    auto files = fs->ListDir(JoinPath(log, part));
    if (!files.ok()) continue;
    for (const auto& f : *files) {
      auto size = fs->FileSize(JoinPath(JoinPath(log, part), f));
      if (f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0 && (!size.ok() || *size > 32)) return true;
    }
  }
  return false;
}

}  // namespace

std::string DataDir::rejects_path() const { return JoinPath(JoinPath(dir_, "rejects"), "rejects.jsonl"); }

Result<std::unique_ptr<DataDir>> DataDir::Open(FileSystem* fs, const std::string& dir, const std::string& views_path,
                                               bool read_only, const DataDirOptions& options) {
  std::unique_ptr<DataDir> d(new DataDir());
  d->fs_ = fs;
  d->dir_ = dir;
  d->read_only_ = read_only;
  d->options_ = options;
  const std::string format_path = JoinPath(dir, kFormatFile);
  if (!read_only) {
    // One writer per directory (local file systems: an advisory lock),
    // taken before anything is written, so that even the creation of a new
    // directory is one writer's.
    RETURN_IF_ERROR(fs->CreateDirs(dir));
    std::string lock_path = JoinPath(dir, "LOCK");
    d->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->lock_fd_ < 0) {
      const Status st = Status::FromErrno(errno, "cannot open " + lock_path);
      return Status::IOError(st.message() + "; the data directory must be a directory this user can write");
    }
    if (::flock(d->lock_fd_, LOCK_EX | LOCK_NB) != 0)
      return Status::IOError("'" + dir +
                             "' is in use by another lambdaflow process (ingest, batch or run); "
                             "wait for it to finish");
  }
  ASSIGN_OR_RETURN(bool has_format, fs->Exists(format_path));
  if (!has_format) {
    if (read_only)
      return Status::NotFound("'" + dir + "' is not a lambdaflow data directory (no " + kFormatFile +
                              "); create one with `lambdaflow ingest --data " + dir + " --views VIEWS.sql ...`");
    // Only the lock and a temporary file of a creation that crashed may be
    // there; anything else means this is somebody else's directory.
    ASSIGN_OR_RETURN(auto entries, fs->ListDir(dir));
    for (const auto& e : entries) {
      if (e == "LOCK") continue;
      if (e.rfind("FORMAT.", 0) == 0) {
        RETURN_IF_ERROR(fs->Remove(JoinPath(dir, e)));
        continue;
      }
      return Status::InvalidArgument("'" + dir +
                                     "' is not empty and is not a lambdaflow data directory; "
                                     "choose a new or empty directory");
    }
    if (options.partitions < 0 || options.partitions > kMaxDirPartitions)
      return Status::InvalidArgument("--partitions must be in [1, " + std::to_string(kMaxDirPartitions) + "], got " +
                                     std::to_string(options.partitions));
    d->partitions_ = std::max(1, options.partitions);
    RETURN_IF_ERROR(fs->WriteFileAtomic(format_path, MarkerText(d->partitions_)));
  } else {
    ASSIGN_OR_RETURN(std::string format, fs->ReadFile(format_path));
    const int recorded = MarkerPartitions(format);
    if (recorded == -2)
      return Status::Corruption(format_path +
                                ": its partitions line is damaged; restore the file from a backup, or "
                                "write 'partitions N' (N = the number of log/p* directories) as its second line");
    if (recorded > 0) {
      d->partitions_ = recorded;
      if (options.partitions != 0 && options.partitions != recorded)
        return Status::InvalidArgument("'" + dir + "' has " + std::to_string(recorded) +
                                       " partitions (fixed when it was created), but --partitions " +
                                       std::to_string(options.partitions) +
                                       " was asked for: a data directory's partition count cannot change (offsets "
                                       "would change meaning); drop --partitions, or use a new data directory");
    } else {
      if (format.rfind("lambdaflow data directory, format ", 0) == 0)
        return Status::Unimplemented("'" + dir + "' was written by another lambdaflow version (" +
                                     format.substr(0, format.size() - 1) + "); this one reads format 1");
      return Status::Corruption(format_path +
                                ": not a lambdaflow format marker (damaged); restore it from a backup, "
                                "or write the line '" +
                                std::string(kFormatLine, std::strlen(kFormatLine) - 1) +
                                "' into it if this is a lambdaflow data directory");
    }
  }
  // The views file in force.
  const std::string stored_views = JoinPath(dir, kViewsFile);
  ASSIGN_OR_RETURN(bool has_views, fs->Exists(stored_views));
  if (!views_path.empty()) {
    std::unique_ptr<FileSystem> posix = NewPosixFileSystem();
    auto text = posix->ReadFile(views_path);
    if (!text.ok()) return Status::IOError("cannot read views file '" + views_path + "': " + text.status().message());
    d->views_text_ = *text;
    ASSIGN_OR_RETURN(d->catalog_, sql::CompileViews(d->views_text_, views_path));
    bool changed = true;
    if (has_views) {
      ASSIGN_OR_RETURN(std::string old, fs->ReadFile(stored_views));
      changed = old != d->views_text_;
    }
    if (changed && !read_only) RETURN_IF_ERROR(fs->WriteFileAtomic(stored_views, d->views_text_));
  } else if (!has_views && has_format && !read_only && HoldsData(fs, dir)) {
    return Status::NotFound(stored_views + " is missing, but '" + dir +
                            "' holds events: its views cannot be guessed. Pass the views file it was built with "
                            "(--views VIEWS.sql); it is stored again");
  } else if (!has_views && !options.default_views_text.empty()) {
    d->views_text_ = options.default_views_text;
    ASSIGN_OR_RETURN(d->catalog_, sql::CompileViews(d->views_text_, "example views"));
    if (!read_only) RETURN_IF_ERROR(fs->WriteFileAtomic(stored_views, d->views_text_));
  } else {
    if (!has_views)
      return Status::NotFound("'" + dir +
                              "' has no views file yet (nothing was ingested); pass --views VIEWS.sql "
                              "to ingest or batch");
    ASSIGN_OR_RETURN(d->views_text_, fs->ReadFile(stored_views));
    auto catalog = sql::CompileViews(d->views_text_, stored_views);
    if (!catalog.ok() || catalog->streams.size() != 1) {
      // The stored file is data of the directory: damaged, not a usage error.
      const std::string why = catalog.ok() ? "it declares " + std::to_string(catalog->streams.size()) +
                                                 " streams, a data directory holds one"
                                           : catalog.status().message();
      return Status::Corruption("the stored views file " + stored_views + " is damaged (" + why +
                                "); pass the views file this directory was built with (--views VIEWS.sql)");
    }
    d->catalog_ = std::move(catalog).value();
  }
  if (d->catalog_.streams.size() != 1)
    return Status::InvalidArgument((views_path.empty() ? std::string("the views") : views_path) +
                                   ": a data directory holds one stream; the views file declares " +
                                   std::to_string(d->catalog_.streams.size()));
  d->stream_ = 0;
  const int partitions = d->partitions_;
  d->options_.log.partitions = partitions;
  // The shared store: the data directory itself unless --store names
  // another. In the data directory it also holds the previous release's
  // layout (master/MANIFEST, master/segments/, batch/CURRENT), migrated into
  // the manifest chains on the first writer's open.
  //
  // A store elsewhere is recorded in DIR/STORE by the first writer given
  // --store: later openers without --store use it (a forgotten flag must
  // not read an empty store), and another --store is refused.
  auto absolute = [](const std::string& p) {
    std::error_code ec;
    const std::filesystem::path a = std::filesystem::absolute(p, ec);
    return (ec ? std::filesystem::path(p) : a).lexically_normal().string();
  };
  const std::string dir_abs = absolute(dir);
  std::string store = options.store.empty() ? std::string() : absolute(options.store);
  if (IsS3Store(options.store)) {
    store = options.store;
    while (store.size() > 5 && store.back() == '/') store.pop_back();
  }
  if (store == dir_abs) store.clear();
  const std::string store_file = JoinPath(dir, kStoreFile);
  ASSIGN_OR_RETURN(bool has_store_file, fs->Exists(store_file));
  if (has_store_file) {
    ASSIGN_OR_RETURN(std::string recorded, fs->ReadFile(store_file));
    while (!recorded.empty() && (recorded.back() == '\n' || recorded.back() == '\r')) recorded.pop_back();
    if (recorded.empty() || (recorded[0] != '/' && !IsS3Store(recorded)))
      return Status::Corruption(store_file +
                                ": not an absolute path or s3:// URL of the store; write the store's directory "
                                "or URL into it (one line)");
    if (store.empty() && !options.store.empty())
      return Status::InvalidArgument("'" + dir + "' uses the store " + recorded + " (recorded in " + store_file +
                                     "), not the data directory itself; pass --store " + recorded);
    if (!store.empty() && store != recorded)
      return Status::InvalidArgument("'" + dir + "' uses the store " + recorded + " (recorded in " + store_file +
                                     "), not " + store + ": pass --store " + recorded +
                                     " (after moving the store, write its new directory into " + store_file + ")");
    store = recorded;
  } else if (!store.empty()) {
    ASSIGN_OR_RETURN(bool dir_has_chains, fs->Exists(JoinPath(dir, "manifest")));
    if (dir_has_chains)
      return Status::InvalidArgument("'" + dir + "' keeps its store in the data directory itself (" +
                                     JoinPath(dir, "manifest") + " exists); drop --store " + options.store);
    ASSIGN_OR_RETURN(bool legacy, fs->Exists(JoinPath(dir, "master/MANIFEST")));
    if (legacy)
      return Status::InvalidArgument("'" + dir +
                                     "' holds a master dataset of the previous layout (master/MANIFEST), which "
                                     "can only be migrated in place: run once without --store (its segments "
                                     "are not copied), and keep the store in the data directory");
    if (!read_only && !options.read_only_store) RETURN_IF_ERROR(fs->WriteFileAtomic(store_file, store + "\n"));
  }
  d->store_path_ = store.empty() ? dir : store;
  const bool store_in_dir = store.empty();
  const bool s3 = IsS3Store(store);
  const std::string master_dir = JoinPath(dir, "master");
  ASSIGN_OR_RETURN(bool has_manifest, fs->Exists(JoinPath(master_dir, "MANIFEST")));
  ASSIGN_OR_RETURN(bool has_chains, fs->Exists(JoinPath(d->store_path_, "manifest")));
  if (read_only && !s3) {
    ASSIGN_OR_RETURN(bool store_exists, fs->Exists(d->store_path_));
    if (!store_exists)
      return Status::NotFound("the store '" + d->store_path_ + "' does not exist; pass the --store that `run` uses");
  }
  // Chains lost while the store holds segments: refused, unless the log
  // still holds every event from offset 0 and no batch version exists (the
  // segments are then leftovers of a first seal that crashed before its
  // manifest was written, and sealing again writes them anew).
  size_t orphan_segments = 0;
  if (!has_manifest && !has_chains && !s3) {
    for (const std::string& seg_dir : {JoinPath(master_dir, "segments"), JoinPath(d->store_path_, "segments")}) {
      auto parts = fs->ListDir(seg_dir);
      if (!parts.ok()) continue;
      for (const auto& n : *parts) {
        if (n.size() > 11 && n.compare(n.size() - 11, 11, ".ndjson.zst") == 0) ++orphan_segments;
        auto inner = fs->ListDir(JoinPath(seg_dir, n));
        if (!inner.ok()) continue;
        for (const auto& f : *inner)
          if (f.size() > 11 && f.compare(f.size() - 11, 11, ".ndjson.zst") == 0) ++orphan_segments;
      }
    }
    ASSIGN_OR_RETURN(bool has_version, fs->Exists(JoinPath(JoinPath(d->store_path_, "batch"), "CURRENT")));
    if (!has_version) {
      auto batches = fs->ListDir(JoinPath(d->store_path_, "batch"));
      has_version = batches.ok() && !batches->empty();
    }
    if (orphan_segments > 0 && has_version) {
      return Status::Corruption("the manifest chains (" + JoinPath(d->store_path_, "manifest") +
                                ") are missing, but the store holds " + std::to_string(orphan_segments) +
                                " segments and a batch version: the record of which segments are committed is lost; "
                                "restore the manifest/ folder from a backup");
    }
  }
  SharedStoreOptions sopts;
  sopts.writer = !read_only && !options.read_only_store;
  sopts.writers = options.store_writers;
  sopts.cache_dir = JoinPath(dir, "cache");
  sopts.cache_bytes = read_only ? 0 : options.store_cache_bytes;  // readers leave DIR as it is
  sopts.log = options.operator_log;
  ASSIGN_OR_RETURN(d->store_, OpenSharedStore(fs, d->store_path_, sopts));
  MasterStoreOptions mopts;
  mopts.decoder = options.decoder;
  mopts.claim_all_at_open = options.claim_all_at_open;
  mopts.log = options.operator_log;
  // Level 1: sealing runs beside ingest; it halves compression time for
  // about 10% more bytes than level 3.
  mopts.zstd_level = 1;
  if (store_in_dir) {
    mopts.legacy_master_prefix = "master";
    mopts.legacy_batch_prefix = "batch";
  }
  // Read first; a writer claims the store's partitions only once the rest
  // of the directory (the log) has opened, so that a process that cannot
  // start does not fence the one that owns the store.
  ASSIGN_OR_RETURN(d->master_, MasterStore::Open(d->store_.get(), d->schema(), partitions, mopts));
  RETURN_IF_ERROR(d->CheckSource());
  // A Kinesis stream is read into the embedded log (one partition per
  // shard); a Kafka topic is the log itself.
  const bool source_into_log = d->source_.rfind("kinesis stream ", 0) == 0;
  if (!read_only && (d->source_.empty() || source_into_log)) {
    // The log is recovered against the sealed watermark: it never ends below it.
    LogOptions lopts = d->options_.log;
    lopts.sealed = d->master_->Snapshot().sealed;
    auto log = Log::Open(fs, JoinPath(dir, "log"), lopts, &d->recovery_);
    if (!log.ok() && orphan_segments > 0) {
      return Status::Corruption(log.status().message() + " (the manifest chains in " + d->store_path_ +
                                " are missing while " + std::to_string(orphan_segments) +
                                " segments exist: restore the manifest/ folder from a backup first)");
    }
    if (!log.ok()) return log.status();
    d->log_ = std::move(log).value();
    for (int p = 0; orphan_segments > 0 && p < d->log_->partitions(); ++p) {
      if (d->log_->start_offset(p) > 0) {
        return Status::Corruption("the manifest chains (" + JoinPath(d->store_path_, "manifest") +
                                  ") are missing, but the store holds " + std::to_string(orphan_segments) +
                                  " segments and log partition " + std::to_string(p) + " starts at offset " +
                                  std::to_string(d->log_->start_offset(p)) +
                                  ": events below it are only in those segments, and which of them are committed is "
                                  "lost with the manifests; restore the manifest/ folder from a backup");
      }
    }
  }
  if (!read_only && !options.read_only_store) {
    mopts.writer_id = UniqueWriterId();
    d->master_.reset();
    ASSIGN_OR_RETURN(d->master_, MasterStore::Open(d->store_.get(), d->schema(), partitions, mopts));
  }
  d->versions_ = std::make_unique<VersionStore>(d->master_.get());
  return d;
}

Status DataDir::CheckSource() {
  const std::string path = JoinPath(dir_, "SOURCE");
  ASSIGN_OR_RETURN(bool has_source, fs_->Exists(path));
  if (has_source) {
    ASSIGN_OR_RETURN(std::string text, fs_->ReadFile(path));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    source_ = text;
  }
  if (read_only_) return Status::OK();
  const std::string& wanted = options_.source;
  if (has_source && wanted != source_)
    return Status::InvalidArgument(
        "'" + dir_ + "' reads the " + source_ + (wanted.empty() ? "" : ", not the " + wanted) +
        ": a data directory reads one stream for life (its offsets are that log's). " +
        (wanted.empty() ? "Run it with --source naming that topic" : "Use a new data directory for the other stream"));
  if (!has_source && !wanted.empty()) {
    ASSIGN_OR_RETURN(bool has_log, fs_->Exists(JoinPath(dir_, "log")));
    // A worker of a group (run --group) joins a store that the group's
    // other workers already fill from the same topic: the segments it finds
    // there are theirs, not this directory's embedded log. (Whether it
    // sees them at open depended on timing: a late joiner was refused now
    // and then.)
    const bool store_is_the_groups = !options_.claim_all_at_open;
    if (has_log || (!store_is_the_groups && !master_->Snapshot().segments.empty()))
      return Status::InvalidArgument("'" + dir_ +
                                     "' holds events of the embedded log (POST /v1/events); it cannot read the " +
                                     wanted + " (offsets would change meaning): use a new data directory");
    RETURN_IF_ERROR(fs_->WriteFileAtomic(path, wanted + "\n"));
    source_ = wanted;
    source_created_ = true;
  }
  return Status::OK();
}

DataDir::~DataDir() {
  if (rejects_) (void)rejects_->Close();
  if (log_) (void)log_->Close();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<uint64_t> DataDir::Seal(bool all) {
  if (!log_) return Status::Internal("Seal on a read-only data directory");
  uint64_t sealed_events = 0;
  for (int p = 0; p < log_->partitions(); ++p) {
    while (true) {
      const uint64_t from = master_->Snapshot().sealed[static_cast<size_t>(p)];
      const uint64_t end = log_->end_offset(p);
      if (end <= from) break;
      const uint64_t n = std::min(end - from, options_.seal_events);
      if (n < options_.seal_events && !all) break;
      RETURN_IF_ERROR(SealRange(p, from + n));
      sealed_events += n;
    }
    RETURN_IF_ERROR(log_->ReclaimBelow(p, master_->Snapshot().sealed[static_cast<size_t>(p)]));
  }
  return sealed_events;
}

Status DataDir::SealRange(int p, uint64_t to) {
  if (!log_) return Status::Internal("Seal on a read-only data directory");
  const uint64_t from = master_->Snapshot().sealed[static_cast<size_t>(p)];
  if (to <= from) return Status::OK();
  if (from < log_->start_offset(p)) {
    return Status::Corruption("log partition " + std::to_string(p) + " starts at " +
                              std::to_string(log_->start_offset(p)) + " but the master dataset is sealed only to " +
                              std::to_string(from));
  }
  // Records are copied out of the log: views are valid only per call. The
  // buffer is sized for 128-byte records (seed events take ~95) so that a
  // seal of 1M events does not copy ~100 MB over and over while it grows.
  RecordBuffer records;
  const uint64_t reserve = std::min(to - from, kSealReserveMaxBytes / kSealBytesPerRecordHint);
  records.Reserve(reserve, reserve * kSealBytesPerRecordHint);
  RETURN_IF_ERROR(log_->Read(p, from, to, [&](uint64_t, std::string_view rec) {
    records.Add(rec);
    return Status::OK();
  }));
  RETURN_IF_ERROR(master_->Seal(p, from, records.views()));
  return log_->ReclaimBelow(p, to);
}

Status DataDir::AppendRejects(const std::string& input, const std::vector<Reject>& rejects) {
  if (rejects.empty()) return Status::OK();
  if (!rejects_) {
    RETURN_IF_ERROR(fs_->CreateDirs(DirName(rejects_path())));
    ASSIGN_OR_RETURN(rejects_, fs_->NewAppendableFile(rejects_path()));
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string out;
  for (const auto& r : rejects) AppendRejectJsonLine(r, input, now, &out);
  RETURN_IF_ERROR(rejects_->Append(out));
  return rejects_->Sync();
}

}  // namespace lf
