#include "store/caching_object_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace lf {
namespace {

constexpr const char* kObjectsDir = "objects";
constexpr const char* kTmpDir = "tmp";

// Writes the remote object and, for a cacheable key, a local copy that
// becomes a cache entry once the remote Commit succeeded.
class WriteThroughWriter final : public ObjectWriter {
 public:
  WriteThroughWriter(CachingObjectStore* cache, std::string key, std::unique_ptr<ObjectWriter> remote)
      : cache_(cache), key_(std::move(key)), remote_(std::move(remote)) {
    if (!cache_->Cacheable(key_)) return;
    tmp_path_ = cache_->NewTempPath();
    auto f = cache_->fs()->NewWritableFile(tmp_path_);
    if (f.ok()) local_ = std::move(f).value();
  }
  ~WriteThroughWriter() override { DropLocal(); }

  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(remote_->Append(data));
    if (local_) {
      // The cache is an optimisation: a local failure (or an object too big
      // to keep) only drops the local copy.
      if (local_->size() + data.size() > cache_->capacity() / 4 || !local_->Append(data).ok()) DropLocal();
    }
    return Status::OK();
  }
  Status Commit() override {
    Status st = remote_->Commit();
    if (st.ok() && local_ && local_->Sync().ok() && local_->Close().ok()) {
      const uint64_t size = local_->size();
      local_.reset();
      cache_->Admit(key_, tmp_path_, size);
      tmp_path_.clear();
    }
    DropLocal();
    return st;
  }
  void Abort() override {
    remote_->Abort();
    DropLocal();
  }
  uint64_t size() const override { return remote_->size(); }

 private:
  void DropLocal() {
    if (local_) (void)local_->Close();
    local_.reset();
    if (!tmp_path_.empty()) (void)cache_->fs()->Remove(tmp_path_);
    tmp_path_.clear();
  }
  CachingObjectStore* const cache_;
  const std::string key_;
  std::unique_ptr<ObjectWriter> remote_;
  std::unique_ptr<WritableFile> local_;
  std::string tmp_path_;
};

// Reads an uncached object by ranged GETs of at least `chunk` bytes, keeping
// the last chunk (sequential scans send one GET per chunk, not per read).
class ReadAheadReader final : public RandomAccessFile {
 public:
  ReadAheadReader(ObjectStore* store, std::string key, uint64_t size, uint64_t chunk)
      : store_(store), key_(std::move(key)), size_(size), chunk_(chunk) {}
  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    if (offset >= size_) return size_t{0};
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    std::lock_guard<std::mutex> l(mu_);
    if (offset < buf_offset_ || offset + n > buf_offset_ + buf_.size()) {
      if (n >= chunk_) {
        ASSIGN_OR_RETURN(std::string got, store_->GetRange(key_, offset, n));
        std::memcpy(scratch, got.data(), got.size());
        return got.size();
      }
      ASSIGN_OR_RETURN(buf_, store_->GetRange(key_, offset, chunk_));
      buf_offset_ = offset;
    }
    const size_t have = static_cast<size_t>(std::min<uint64_t>(n, buf_offset_ + buf_.size() - offset));
    std::memcpy(scratch, buf_.data() + (offset - buf_offset_), have);
    return have;
  }
  uint64_t size() const override { return size_; }

 private:
  ObjectStore* const store_;
  const std::string key_;
  const uint64_t size_;
  const uint64_t chunk_;
  mutable std::mutex mu_;
  mutable std::string buf_;
  mutable uint64_t buf_offset_ = 0;
};

}  // namespace

Result<std::unique_ptr<CachingObjectStore>> CachingObjectStore::Open(std::unique_ptr<ObjectStore> remote,
                                                                     FileSystem* fs, std::string dir,
                                                                     SegmentCacheOptions options) {
  std::unique_ptr<CachingObjectStore> s(new CachingObjectStore(std::move(remote), fs, std::move(dir), options));
  if (options.chunk_bytes == 0) return Status::InvalidArgument("segment cache: chunk_bytes must be positive");
  if (options.capacity_bytes == 0) return s;
  const std::string tmp = JoinPath(s->dir_, kTmpDir);
  RETURN_IF_ERROR(fs->CreateDirs(tmp));
  RETURN_IF_ERROR(fs->CreateDirs(JoinPath(s->dir_, kObjectsDir)));
  // Temporary files of a process that crashed are never entries.
  ASSIGN_OR_RETURN(std::vector<std::string> leftovers, fs->ListDir(tmp));
  // (A file is named <pid>-<n>; another process sharing the cache, e.g. a
  // query beside `run`, may be writing its own.)
  for (const auto& f : leftovers) {
    const long pid = std::strtol(f.c_str(), nullptr, 10);
    if (pid > 0 && pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;
    RETURN_IF_ERROR(fs->Remove(JoinPath(tmp, f)));
  }
  RETURN_IF_ERROR(s->LoadIndex(""));
  std::lock_guard<std::mutex> l(s->mu_);
  s->EvictOverCapacityLocked();
  return s;
}

Status CachingObjectStore::LoadIndex(const std::string& rel) {
  const std::string dir = JoinPath(JoinPath(dir_, kObjectsDir), rel);
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir));
  for (const auto& n : names) {
    const std::string key = rel.empty() ? n : rel + "/" + n;
    const std::string path = JoinPath(dir, n);
    auto inner = fs_->ListDir(path);
    if (inner.ok()) {
      RETURN_IF_ERROR(LoadIndex(key));
      continue;
    }
    ASSIGN_OR_RETURN(uint64_t size, fs_->FileSize(path));
    std::lock_guard<std::mutex> l(mu_);
    entries_[key] = Entry{size, ++clock_};
    total_ += size;
  }
  return Status::OK();
}

bool CachingObjectStore::Cacheable(const std::string& key) const {
  return options_.capacity_bytes > 0 && key.rfind(options_.cached_prefix, 0) == 0;
}

std::string CachingObjectStore::PathOf(const std::string& key) const {
  return JoinPath(JoinPath(dir_, kObjectsDir), key);
}

std::string CachingObjectStore::NewTempPath() {
  std::lock_guard<std::mutex> l(mu_);
  return JoinPath(JoinPath(dir_, kTmpDir), std::to_string(::getpid()) + "-" + std::to_string(++tmp_seq_));
}

std::string CachingObjectStore::Lookup(const std::string& key) {
  if (!Cacheable(key)) return "";
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++misses_;
    return "";
  }
  ++hits_;
  it->second.last_use = ++clock_;
  return PathOf(key);
}

void CachingObjectStore::Admit(const std::string& key, const std::string& tmp_path, uint64_t size) {
  const std::string path = PathOf(key);
  if (size > options_.capacity_bytes || !fs_->CreateDirs(DirName(path)).ok() || !fs_->Rename(tmp_path, path).ok()) {
    (void)fs_->Remove(tmp_path);
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = entries_.try_emplace(key);
  if (!inserted) total_ -= it->second.size;
  it->second = Entry{size, ++clock_};
  total_ += size;
  EvictOverCapacityLocked();
}

void CachingObjectStore::EvictOverCapacityLocked() {
  while (total_ > options_.capacity_bytes && !entries_.empty()) {
    auto victim = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.last_use < victim->second.last_use) victim = it;
    (void)fs_->Remove(PathOf(victim->first));
    total_ -= victim->second.size;
    entries_.erase(victim);
  }
}

void CachingObjectStore::Evict(const std::string& key) {
  if (!Cacheable(key)) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  (void)fs_->Remove(PathOf(key));
  total_ -= it->second.size;
  entries_.erase(it);
}

Result<std::string> CachingObjectStore::Download(const std::string& key, uint64_t size) {
  const std::string tmp = NewTempPath();
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, fs_->NewWritableFile(tmp));
    for (uint64_t off = 0; off < size;) {
      ASSIGN_OR_RETURN(std::string got, remote_->GetRange(key, off, std::min(options_.chunk_bytes, size - off)));
      if (got.empty()) return Status::Corruption(Describe() + "/" + key + ": shorter than its size");
      RETURN_IF_ERROR(f->Append(got));
      off += got.size();
    }
    RETURN_IF_ERROR(f->Sync());
    return f->Close();
  }();
  if (!st.ok()) {
    (void)fs_->Remove(tmp);
    return st;
  }
  Admit(key, tmp, size);
  return PathOf(key);
}

Result<std::unique_ptr<ObjectWriter>> CachingObjectStore::NewObject(const std::string& key) {
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> w, remote_->NewObject(key));
  return std::unique_ptr<ObjectWriter>(std::make_unique<WriteThroughWriter>(this, key, std::move(w)));
}

Result<std::string> CachingObjectStore::Get(const std::string& key) {
  const std::string path = Lookup(key);
  if (!path.empty()) {
    auto data = fs_->ReadFile(path);
    if (data.ok()) return data;
    Evict(key);
  }
  return remote_->Get(key);
}

Result<std::string> CachingObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  const std::string path = Lookup(key);
  if (!path.empty()) {
    auto file = fs_->NewRandomAccessFile(path);
    if (file.ok()) {
      std::string out(
          static_cast<size_t>(std::min<uint64_t>(length, (*file)->size() > offset ? (*file)->size() - offset : 0)),
          '\0');
      auto n = (*file)->Read(offset, out.size(), out.data());
      if (n.ok()) {
        out.resize(*n);
        return out;
      }
    }
    Evict(key);
  }
  return remote_->GetRange(key, offset, length);
}

Result<uint64_t> CachingObjectStore::Size(const std::string& key) {
  const std::string path = Lookup(key);
  if (!path.empty()) {
    auto size = fs_->FileSize(path);
    if (size.ok()) return size;
    Evict(key);
  }
  return remote_->Size(key);
}

Status CachingObjectStore::Replace(const std::string& key, std::string_view data) {
  Evict(key);
  return remote_->Replace(key, data);
}

Status CachingObjectStore::Delete(const std::string& key) {
  Evict(key);
  return remote_->Delete(key);
}

Result<std::vector<std::string>> CachingObjectStore::List(const std::string& prefix) { return remote_->List(prefix); }

Result<std::unique_ptr<RandomAccessFile>> CachingObjectStore::NewReader(const std::string& key) {
  std::string path = Lookup(key);
  if (!path.empty()) {
    auto file = fs_->NewRandomAccessFile(path);
    if (file.ok()) return file;
    Evict(key);
  }
  ASSIGN_OR_RETURN(uint64_t size, remote_->Size(key));
  if (Cacheable(key) && size <= options_.capacity_bytes / 4) {
    auto downloaded = Download(key, size);
    if (downloaded.ok()) {
      auto file = fs_->NewRandomAccessFile(*downloaded);
      if (file.ok()) return file;
    } else if (downloaded.status().code() == StatusCode::kNotFound) {
      return downloaded.status();
    }
  }
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<ReadAheadReader>(remote_.get(), key, size, options_.chunk_bytes));
}

uint64_t CachingObjectStore::cached_bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return total_;
}
uint64_t CachingObjectStore::hits() const {
  std::lock_guard<std::mutex> l(mu_);
  return hits_;
}
uint64_t CachingObjectStore::misses() const {
  std::lock_guard<std::mutex> l(mu_);
  return misses_;
}

}  // namespace lf
