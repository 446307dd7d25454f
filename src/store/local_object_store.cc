// The object store on a local directory (see the header for the protocol).
#include "store/local_object_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

namespace lf {

namespace {

std::string ProcessNonce() {
  std::random_device rd;
  const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%d-%016llx", static_cast<int>(::getpid()), static_cast<unsigned long long>(r));
  return buf;
}

class LocalObjectWriter final : public ObjectWriter {
 public:
  LocalObjectWriter(LocalObjectStore* store, std::string key, std::string temp, std::unique_ptr<WritableFile> file)
      : store_(store), key_(std::move(key)), temp_(std::move(temp)), file_(std::move(file)) {}
  ~LocalObjectWriter() override { Abort(); }
  LocalObjectWriter(const LocalObjectWriter&) = delete;
  LocalObjectWriter& operator=(const LocalObjectWriter&) = delete;

  Status Append(std::string_view data) override {
    if (!file_) return Status::Internal("append to object " + key_ + ": the writer is finished");
    return file_->Append(data);
  }

  Status Commit() override { return CommitAs(/*durable=*/true); }
  Status CommitDerived() override { return CommitAs(/*durable=*/false); }

  Status CommitAs(bool durable) {
    if (!file_) return Status::Internal("commit object " + key_ + ": the writer is finished");
    Status st = CommitLocked(durable);
    file_.reset();
    // Linked or not, the temp name goes: a linked object keeps its own name.
    (void)store_->fs()->Remove(temp_);
    return st;
  }

  void Abort() override {
    if (!file_) return;
    (void)file_->Close();
    file_.reset();
    (void)store_->fs()->Remove(temp_);
  }

  uint64_t size() const override { return file_ ? file_->size() : 0; }

 private:
  Status CommitLocked(bool durable) {
    FileSystem* fs = store_->fs();
    if (durable) RETURN_IF_ERROR(file_->Sync());
    RETURN_IF_ERROR(file_->Close());
    const std::string final_path = JoinPath(store_->root(), key_);
    const std::string dir = DirName(final_path);
    RETURN_IF_ERROR(store_->EnsureDirDurable(dir));
    Status link = fs->Link(temp_, final_path);
    if (link.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("object " + key_ + " in " + store_->Describe() + " already exists");
    }
    RETURN_IF_ERROR(link);
    return durable ? fs->SyncDir(dir) : Status::OK();
  }

  LocalObjectStore* const store_;
  const std::string key_;
  const std::string temp_;
  std::unique_ptr<WritableFile> file_;  // null once committed or aborted
};

}  // namespace

LocalObjectStore::LocalObjectStore(FileSystem* fs, std::string root)
    : fs_(fs), root_(std::move(root)), tmp_dir_(JoinPath(root_, ".tmp")), nonce_(ProcessNonce()) {}

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(FileSystem* fs, std::string root) {
  if (root.empty()) return Status::InvalidArgument("object store: the directory name is empty");
  std::unique_ptr<LocalObjectStore> store(new LocalObjectStore(fs, std::move(root)));
  RETURN_IF_ERROR(fs->CreateDirs(store->root_));
  RETURN_IF_ERROR(fs->SyncDir(DirName(store->root_)));
  RETURN_IF_ERROR(fs->CreateDirs(store->tmp_dir_));
  RETURN_IF_ERROR(fs->SyncDir(store->root_));
  store->known_dirs_.insert(store->root_);
  store->known_dirs_.insert(store->tmp_dir_);
  return store;
}

std::string LocalObjectStore::NewTempPath() {
  std::lock_guard<std::mutex> l(mu_);
  return JoinPath(tmp_dir_, nonce_ + "-" + std::to_string(next_temp_++));
}

Status LocalObjectStore::EnsureDirDurable(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  if (known_dirs_.count(dir)) return Status::OK();
  // Create and sync from the top down: a directory entry is durable only
  // once its parent is synced.
  std::vector<std::string> chain;
  for (std::string d = dir; !known_dirs_.count(d) && d.size() > root_.size(); d = DirName(d)) chain.push_back(d);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    RETURN_IF_ERROR(fs_->CreateDirs(*it));
    RETURN_IF_ERROR(fs_->SyncDir(DirName(*it)));
    known_dirs_.insert(*it);
  }
  return Status::OK();
}

Result<std::unique_ptr<ObjectWriter>> LocalObjectStore::NewObject(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  const std::string temp = NewTempPath();
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_->NewWritableFile(temp));
  return std::unique_ptr<ObjectWriter>(std::make_unique<LocalObjectWriter>(this, key, temp, std::move(file)));
}

Result<std::string> LocalObjectStore::Get(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  return fs_->ReadFile(JoinPath(root_, key));
}

Result<std::string> LocalObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(ValidateKey(key));
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, fs_->NewRandomAccessFile(JoinPath(root_, key)));
  const uint64_t size = file->size();
  if (offset >= size) return std::string();
  std::string out(static_cast<size_t>(std::min(length, size - offset)), '\0');
  ASSIGN_OR_RETURN(size_t n, file->Read(offset, out.size(), out.data()));
  out.resize(n);
  return out;
}

Result<uint64_t> LocalObjectStore::Size(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  return fs_->FileSize(JoinPath(root_, key));
}

Result<std::unique_ptr<RandomAccessFile>> LocalObjectStore::NewReader(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  return fs_->NewRandomAccessFile(JoinPath(root_, key));
}

Status LocalObjectStore::Replace(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateKey(key));
  const std::string final_path = JoinPath(root_, key);
  const std::string temp = NewTempPath();
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_->NewWritableFile(temp));
    RETURN_IF_ERROR(file->Append(data));
    // Not synced: Replace is for hints, which may be stale, missing or
    // damaged after a crash without harm (readers check them); two fsyncs
    // per manifest publish saved.
    RETURN_IF_ERROR(file->Close());
    RETURN_IF_ERROR(EnsureDirDurable(DirName(final_path)));
    return fs_->Rename(temp, final_path);
  }();
  if (!st.ok()) (void)fs_->Remove(temp);
  return st;
}

Status LocalObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = JoinPath(root_, key);
  Status st = fs_->Remove(path);
  if (st.code() == StatusCode::kNotFound) return Status::OK();
  RETURN_IF_ERROR(st);
  return fs_->SyncDir(DirName(path));
}

Status LocalObjectStore::ListInto(const std::string& dir, const std::string& rel, const std::string& prefix,
                                  std::vector<std::string>* out) {
  auto names = fs_->ListDir(dir);
  if (!names.ok()) return names.status().code() == StatusCode::kNotFound ? Status::OK() : names.status();
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.') continue;  // temp files, never objects
    const std::string key = rel.empty() ? name : rel + "/" + name;
    // Descend only where keys with the prefix can be.
    const size_t common = std::min(key.size(), prefix.size());
    if (key.compare(0, common, prefix, 0, common) != 0) continue;
    const std::string path = JoinPath(dir, name);
    auto sub = fs_->ListDir(path);
    if (sub.ok()) {
      RETURN_IF_ERROR(ListInto(path, key, prefix, out));
    } else if (key.size() >= prefix.size()) {
      out->push_back(key);
    }
  }
  return Status::OK();
}

Result<std::vector<std::string>> LocalObjectStore::List(const std::string& prefix) {
  std::vector<std::string> keys;
  RETURN_IF_ERROR(ListInto(root_, "", prefix, &keys));
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace lf
