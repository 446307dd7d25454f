// In-memory crash- and fault-simulating FileSystem (see the header for the model).
#include "common/testing/fault_file_system.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>

namespace lf {

namespace {

struct Inode {
  std::string data;
  // data[0, synced_len) is what the last Sync made durable, unless
  // `synced_override` holds it (after a truncation or overwrite below it).
  size_t synced_len = 0;
  std::optional<std::string> synced_override;

  void Sync() {
    synced_len = data.size();
    synced_override.reset();
  }
  // Called before bytes at or after `pos` change or disappear.
  void PreserveSyncedFrom(size_t pos) {
    if (!synced_override && pos < synced_len) synced_override = data.substr(0, synced_len);
  }
};

struct Entry {
  std::shared_ptr<Inode> file;  // null for a directory
};

struct Dir {
  std::map<std::string, Entry> entries;
  std::map<std::string, Entry> synced;
};

// "a//b/./c/" -> "a/b/c"; "/x/" -> "/x"; "" -> ".".
std::string Normalize(const std::string& path) {
  const bool abs = !path.empty() && path[0] == '/';
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    i = j + 1;
  }
  std::string out = abs ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

bool IsRoot(const std::string& p) { return p == "/" || p == "."; }

std::string Parent(const std::string& p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

std::string Base(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string Child(const std::string& dir, const std::string& name) {
  if (dir == ".") return name;
  if (dir == "/") return "/" + name;
  return dir + "/" + name;
}

Status NoEntry(std::string_view op, const std::string& path) {
  return Status::NotFound(std::string(op) + " " + path + ": No such file or directory");
}

const char* OpName(uint32_t op) {
  switch (op) {
    case FaultFileSystem::kCreate:
      return "create";
    case FaultFileSystem::kAppend:
      return "append";
    case FaultFileSystem::kFlush:
      return "write";
    case FaultFileSystem::kSync:
      return "sync";
    case FaultFileSystem::kSyncDir:
      return "syncdir";
    case FaultFileSystem::kRename:
      return "rename";
    case FaultFileSystem::kRemove:
      return "remove";
    case FaultFileSystem::kTruncate:
      return "truncate";
    case FaultFileSystem::kRead:
      return "read";
    case FaultFileSystem::kLink:
      return "link";
  }
  return "op";
}

}  // namespace

struct FaultFileSystem::State {
  mutable std::mutex mu;
  std::map<std::string, Dir> dirs;  // by normalized path; the roots always exist
  uint64_t epoch = 0;               // bumped by each crash; handles from older epochs are dead
  std::mt19937_64 rng;
  uint64_t fail_after_left = 0;
  uint32_t fail_after_ops = 0;
  double fail_p = 0;
  uint32_t fail_p_ops = 0;
  uint64_t capacity = 0;
  uint64_t injected = 0;

  explicit State(uint64_t seed) : rng(seed) {
    dirs["/"];
    dirs["."];
  }

  // Whether an operation of kind `op` on `path` fails now. Requires mu.
  Status Fault(uint32_t op, const std::string& path) {
    bool fail = false;
    if (fail_after_ops & op) {
      if (fail_after_left > 0) {
        --fail_after_left;
      } else {
        fail = true;
      }
    }
    if (!fail && (fail_p_ops & op) && std::uniform_real_distribution<double>(0, 1)(rng) < fail_p) fail = true;
    if (!fail) return Status::OK();
    ++injected;
    return Status::IOError(std::string("injected fault: ") + OpName(op) + " " + path);
  }

  Dir* FindDir(const std::string& norm) {
    auto it = dirs.find(norm);
    return it == dirs.end() ? nullptr : &it->second;
  }

  // The entry for a normalized path, or null.
  Entry* FindEntry(const std::string& norm) {
    if (IsRoot(norm)) return nullptr;
    Dir* d = FindDir(Parent(norm));
    if (d == nullptr) return nullptr;
    auto it = d->entries.find(Base(norm));
    return it == d->entries.end() ? nullptr : &it->second;
  }

  std::shared_ptr<Inode> FindFile(const std::string& norm) {
    Entry* e = FindEntry(norm);
    return e == nullptr ? nullptr : e->file;
  }

  uint64_t Used() const {
    std::set<const Inode*> seen;
    uint64_t total = 0;
    for (const auto& [path, dir] : dirs) {
      for (const auto& [name, e] : dir.entries) {
        if (e.file && seen.insert(e.file.get()).second) total += e.file->data.size();
      }
    }
    return total;
  }

  Result<std::shared_ptr<Inode>> OpenForWrite(const std::string& path, bool truncate) {
    RETURN_IF_ERROR(Fault(kCreate, path));
    const std::string norm = Normalize(path);
    Dir* parent = FindDir(Parent(norm));
    if (parent == nullptr || IsRoot(norm)) return NoEntry("create", path);
    auto it = parent->entries.find(Base(norm));
    if (it != parent->entries.end()) {
      if (!it->second.file) return Status::IOError("create " + path + ": Is a directory");
      if (truncate) {
        it->second.file->PreserveSyncedFrom(0);
        it->second.file->data.clear();
      }
      return it->second.file;
    }
    auto inode = std::make_shared<Inode>();
    parent->entries[Base(norm)] = Entry{inode};
    return inode;
  }
};

namespace {

using State = FaultFileSystem::State;

Status DeadHandle(const std::string& path) {
  return Status::IOError("file " + path + ": handle opened before a simulated crash");
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(std::shared_ptr<State> st, std::shared_ptr<Inode> inode, std::string path, uint64_t epoch)
      : st_(std::move(st)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        epoch_(epoch),
        pos_(inode_->data.size()) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> l(st_->mu);
    RETURN_IF_ERROR(CheckLocked());
    RETURN_IF_ERROR(st_->Fault(FaultFileSystem::kAppend, path_));
    buf_.append(data);
    return Status::OK();
  }
  Status Flush() override {
    std::lock_guard<std::mutex> l(st_->mu);
    return FlushLocked();
  }
  Status Sync() override {
    std::lock_guard<std::mutex> l(st_->mu);
    RETURN_IF_ERROR(FlushLocked());
    Status s = st_->Fault(FaultFileSystem::kSync, path_);
    if (!s.ok()) {
      error_ = s;  // like fsync on Linux: the outcome of the dirty data is unknown, never retry
      return s;
    }
    inode_->Sync();
    return Status::OK();
  }
  Status Close() override {
    std::lock_guard<std::mutex> l(st_->mu);
    if (closed_) return error_;
    Status s = FlushLocked();
    closed_ = true;
    return s;
  }
  uint64_t size() const override {
    std::lock_guard<std::mutex> l(st_->mu);
    return pos_ + buf_.size();
  }

 private:
  Status CheckLocked() const {
    if (epoch_ != st_->epoch) return DeadHandle(path_);
    if (closed_) return Status::IOError("write " + path_ + ": file is closed");
    return error_;
  }

  Status FlushLocked() {
    RETURN_IF_ERROR(CheckLocked());
    if (buf_.empty()) return Status::OK();
    Status s = st_->Fault(FaultFileSystem::kFlush, path_);
    if (!s.ok()) return Fail(s);
    size_t n = buf_.size();
    bool nospace = false;
    if (st_->capacity > 0) {
      const uint64_t used = st_->Used();
      const uint64_t room = st_->capacity > used ? st_->capacity - used : 0;
      if (n > room) {
        n = static_cast<size_t>(room);
        nospace = true;
      }
    }
    std::string& d = inode_->data;
    inode_->PreserveSyncedFrom(pos_);
    if (d.size() < pos_ + n) d.resize(pos_ + n, '\0');
    std::memcpy(d.data() + pos_, buf_.data(), n);
    pos_ += n;
    if (nospace) {
      ++st_->injected;
      return Fail(Status::FromErrno(ENOSPC, "write " + path_));
    }
    buf_.clear();
    return Status::OK();
  }

  // A failed write leaves the file broken, as the POSIX file does.
  Status Fail(Status s) {
    buf_.clear();
    error_ = s;
    return s;
  }

  const std::shared_ptr<State> st_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t epoch_;
  uint64_t pos_;
  std::string buf_;
  bool closed_ = false;
  Status error_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(std::shared_ptr<State> st, std::shared_ptr<Inode> inode, std::string path, uint64_t epoch)
      : st_(std::move(st)), inode_(std::move(inode)), path_(std::move(path)), epoch_(epoch) {}

  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    std::lock_guard<std::mutex> l(st_->mu);
    if (epoch_ != st_->epoch) return DeadHandle(path_);
    RETURN_IF_ERROR(st_->Fault(FaultFileSystem::kRead, path_));
    const std::string& d = inode_->data;
    if (offset >= d.size()) return size_t{0};
    const size_t k = std::min<uint64_t>(n, d.size() - offset);
    std::memcpy(scratch, d.data() + offset, k);
    return k;
  }
  uint64_t size() const override {
    std::lock_guard<std::mutex> l(st_->mu);
    return inode_->data.size();
  }

 private:
  const std::shared_ptr<State> st_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t epoch_;
};

}  // namespace

FaultFileSystem::FaultFileSystem(uint64_t seed) : state_(std::make_shared<State>(seed)) {}
FaultFileSystem::~FaultFileSystem() = default;

Result<std::unique_ptr<WritableFile>> FaultFileSystem::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, state_->OpenForWrite(path, /*truncate=*/true));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(state_, inode, path, state_->epoch));
}

Result<std::unique_ptr<WritableFile>> FaultFileSystem::NewAppendableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, state_->OpenForWrite(path, /*truncate=*/false));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(state_, inode, path, state_->epoch));
}

Result<std::unique_ptr<RandomAccessFile>> FaultFileSystem::NewRandomAccessFile(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  RETURN_IF_ERROR(state_->Fault(kRead, path));
  std::shared_ptr<Inode> inode = state_->FindFile(Normalize(path));
  if (!inode) return NoEntry("open", path);
  return std::unique_ptr<RandomAccessFile>(std::make_unique<FaultRandomAccessFile>(state_, inode, path, state_->epoch));
}

Result<bool> FaultFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  const std::string norm = Normalize(path);
  return state_->FindDir(norm) != nullptr || state_->FindEntry(norm) != nullptr;
}

Result<uint64_t> FaultFileSystem::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  std::shared_ptr<Inode> inode = state_->FindFile(Normalize(path));
  if (!inode) return NoEntry("stat", path);
  return static_cast<uint64_t>(inode->data.size());
}

Result<std::vector<std::string>> FaultFileSystem::ListDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  Dir* d = state_->FindDir(Normalize(dir));
  if (d == nullptr) return NoEntry("opendir", dir);
  std::vector<std::string> names;
  for (const auto& [name, e] : d->entries) names.push_back(name);
  return names;
}

Status FaultFileSystem::CreateDirs(const std::string& dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  const std::string norm = Normalize(dir);
  std::vector<std::string> chain;
  for (std::string p = norm; !IsRoot(p); p = Parent(p)) chain.push_back(p);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (state_->FindDir(*it) != nullptr) continue;
    RETURN_IF_ERROR(state_->Fault(kCreate, *it));
    Dir* parent = state_->FindDir(Parent(*it));
    auto e = parent->entries.find(Base(*it));
    if (e != parent->entries.end()) return Status::IOError("mkdir " + *it + ": exists and is not a directory");
    parent->entries[Base(*it)] = Entry{};
    state_->dirs[*it];
  }
  return Status::OK();
}

Status FaultFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> l(state_->mu);
  RETURN_IF_ERROR(state_->Fault(kRemove, path));
  const std::string norm = Normalize(path);
  Entry* e = state_->FindEntry(norm);
  if (e == nullptr) return NoEntry("remove", path);
  if (!e->file) {
    if (!state_->FindDir(norm)->entries.empty()) return Status::IOError("rmdir " + path + ": Directory not empty");
    state_->dirs.erase(norm);
  }
  state_->FindDir(Parent(norm))->entries.erase(Base(norm));
  return Status::OK();
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(state_->mu);
  RETURN_IF_ERROR(state_->Fault(kRename, from));
  const std::string nf = Normalize(from);
  const std::string nt = Normalize(to);
  Entry* e = state_->FindEntry(nf);
  if (e == nullptr) return NoEntry("rename", from);
  if (!e->file) return Status::Unimplemented("rename " + from + ": directories cannot be renamed here");
  Dir* to_dir = state_->FindDir(Parent(nt));
  if (to_dir == nullptr || IsRoot(nt)) return NoEntry("rename", to);
  auto existing = to_dir->entries.find(Base(nt));
  if (existing != to_dir->entries.end() && !existing->second.file) {
    return Status::IOError("rename " + from + " -> " + to + ": Is a directory");
  }
  Entry moved = *e;
  state_->FindDir(Parent(nf))->entries.erase(Base(nf));
  to_dir->entries[Base(nt)] = std::move(moved);
  return Status::OK();
}

Status FaultFileSystem::Link(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(state_->mu);
  RETURN_IF_ERROR(state_->Fault(kLink, to));
  const std::string nt = Normalize(to);
  Entry* e = state_->FindEntry(Normalize(from));
  if (e == nullptr) return NoEntry("link", from);
  if (!e->file) return Status::Unimplemented("link " + from + ": directories cannot be linked");
  Dir* to_dir = state_->FindDir(Parent(nt));
  if (to_dir == nullptr || IsRoot(nt)) return NoEntry("link", to);
  if (to_dir->entries.count(Base(nt))) return Status::AlreadyExists("link " + from + " -> " + to + ": File exists");
  to_dir->entries[Base(nt)] = Entry{e->file};
  return Status::OK();
}

Status FaultFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(state_->mu);
  RETURN_IF_ERROR(state_->Fault(kTruncate, path));
  std::shared_ptr<Inode> inode = state_->FindFile(Normalize(path));
  if (!inode) return NoEntry("truncate", path);
  inode->PreserveSyncedFrom(static_cast<size_t>(size));
  inode->data.resize(static_cast<size_t>(size), '\0');
  return Status::OK();
}

Status FaultFileSystem::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(state_->mu);
  RETURN_IF_ERROR(state_->Fault(kSyncDir, dir));
  Dir* d = state_->FindDir(Normalize(dir));
  if (d == nullptr) return NoEntry("open", dir);
  d->synced = d->entries;
  return Status::OK();
}

void FaultFileSystem::DropUnsynced(bool torn_writes) {
  State& s = *state_;
  std::lock_guard<std::mutex> l(s.mu);
  for (auto& [path, dir] : s.dirs) dir.entries = dir.synced;
  // Keep the directories still reachable from a root through synced entries.
  std::set<std::string> live = {"/", "."};
  std::vector<std::string> todo = {"/", "."};
  while (!todo.empty()) {
    const std::string p = todo.back();
    todo.pop_back();
    auto it = s.dirs.find(p);
    if (it == s.dirs.end()) continue;
    for (const auto& [name, e] : it->second.entries) {
      if (!e.file && live.insert(Child(p, name)).second) todo.push_back(Child(p, name));
    }
  }
  for (auto it = s.dirs.begin(); it != s.dirs.end();) {
    it = live.count(it->first) ? std::next(it) : s.dirs.erase(it);
  }
  // Drop entries naming directories that did not survive (never synced inside a synced parent).
  for (auto& [path, dir] : s.dirs) {
    for (auto it = dir.entries.begin(); it != dir.entries.end();) {
      it = (!it->second.file && !live.count(Child(path, it->first))) ? dir.entries.erase(it) : std::next(it);
    }
    dir.synced = dir.entries;
  }
  std::set<Inode*> seen;
  for (auto& [path, dir] : s.dirs) {
    for (auto& [name, e] : dir.entries) {
      if (!e.file || !seen.insert(e.file.get()).second) continue;
      Inode& f = *e.file;
      if (f.synced_override) {
        f.data = *f.synced_override;
      } else {
        const size_t tail = f.data.size() - f.synced_len;
        const size_t keep = torn_writes && tail > 0 ? static_cast<size_t>(s.rng() % (tail + 1)) : 0;
        f.data.resize(f.synced_len + keep);
      }
      f.Sync();
    }
  }
  ++s.epoch;
}

void FaultFileSystem::FailAfter(uint64_t n, uint32_t ops) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->fail_after_left = n;
  state_->fail_after_ops = ops;
}

void FaultFileSystem::FailRandomly(double p, uint32_t ops) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->fail_p = p;
  state_->fail_p_ops = ops;
}

void FaultFileSystem::SetCapacity(uint64_t bytes) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->capacity = bytes;
}

void FaultFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->fail_after_ops = 0;
  state_->fail_p_ops = 0;
  state_->fail_p = 0;
  state_->capacity = 0;
}

uint64_t FaultFileSystem::injected_failures() const {
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->injected;
}

uint64_t FaultFileSystem::bytes_used() const {
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->Used();
}

}  // namespace lf
