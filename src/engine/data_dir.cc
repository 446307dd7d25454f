#include "engine/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/format.h"

namespace lf {
namespace {

constexpr const char* kFormatFile = "FORMAT";
constexpr const char* kFormatLine = "lambdaflow data directory, format 1\n";
constexpr const char* kViewsFile = "views.sql";

}  // namespace

std::string DataDir::batch_dir() const { return JoinPath(dir_, "batch"); }
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
    if (d->lock_fd_ < 0) return Status::FromErrno(errno, "cannot open " + lock_path);
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
    RETURN_IF_ERROR(fs->WriteFileAtomic(format_path, kFormatLine));
  } else {
    ASSIGN_OR_RETURN(std::string format, fs->ReadFile(format_path));
    if (format != kFormatLine) {
      if (format.rfind("lambdaflow data directory, format ", 0) == 0)
        return Status::Unimplemented("'" + dir + "' was written by another lambdaflow version (" +
                                     format.substr(0, format.size() - 1) + "); this one reads format 1");
      return Status::Corruption(format_path + ": not a lambdaflow format marker");
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
    ASSIGN_OR_RETURN(d->catalog_, sql::CompileViews(d->views_text_, stored_views));
  }
  if (d->catalog_.streams.size() != 1)
    return Status::InvalidArgument("a data directory holds one stream; the views file declares " +
                                   std::to_string(d->catalog_.streams.size()));
  d->stream_ = 0;
  const int partitions = options.log.partitions;
  if (!read_only) {
    ASSIGN_OR_RETURN(d->log_, Log::Open(fs, JoinPath(dir, "log"), options.log, &d->recovery_));
  }
  MasterStoreOptions mopts;
  mopts.decoder = options.decoder;
  // Level 1: sealing runs beside ingest; it halves compression time for
  // about 10% more bytes than level 3.
  mopts.zstd_level = 1;
  ASSIGN_OR_RETURN(d->master_, MasterStore::Open(fs, JoinPath(dir, "master"), d->schema(), partitions, mopts));
  d->versions_ = std::make_unique<VersionStore>(fs, d->batch_dir());
  return d;
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
  // Records are copied out of the log: views are valid only per call.
  std::string storage;
  std::vector<size_t> ends;
  RETURN_IF_ERROR(log_->Read(p, from, to, [&](uint64_t, std::string_view rec) {
    storage.append(rec);
    ends.push_back(storage.size());
    return Status::OK();
  }));
  std::vector<std::string_view> records;
  size_t begin = 0;
  for (size_t e : ends) {
    records.emplace_back(storage.data() + begin, e - begin);
    begin = e;
  }
  RETURN_IF_ERROR(master_->Seal(p, from, records));
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
