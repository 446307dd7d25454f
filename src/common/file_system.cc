// The non-virtual FileSystem helpers, path helpers, and the POSIX file
// system. errno becomes a Status in exactly one place (Errno below), always
// naming the operation and the path.
#include "common/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lf {

Result<std::string> FileSystem::ReadFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, NewRandomAccessFile(path));
  std::string out;
  out.resize(file->size());
  size_t filled = 0;
  while (true) {
    if (filled == out.size()) out.resize(std::max<size_t>(out.size() * 2, 4096));
    const size_t want = out.size() - filled;
    ASSIGN_OR_RETURN(size_t n, file->Read(filled, want, out.data() + filled));
    filled += n;
    if (n < want) break;  // the file may have grown since size() was taken: read until a short read
  }
  out.resize(filled);
  return out;
}

Status FileSystem::WriteFileAtomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, NewWritableFile(tmp));
    RETURN_IF_ERROR(file->Append(data));
    RETURN_IF_ERROR(file->Sync());
    RETURN_IF_ERROR(file->Close());
    return Rename(tmp, path);
  }();
  if (!st.ok()) {
    (void)Remove(tmp);  // best effort; a leftover .tmp is never read as the real file
    return st;
  }
  return SyncDir(DirName(path));
}

Status FileSystem::WriteFileDurable(const std::string& path, std::string_view data) {
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, NewWritableFile(path));
  RETURN_IF_ERROR(file->Append(data));
  RETURN_IF_ERROR(file->Sync());
  RETURN_IF_ERROR(file->Close());
  // The file is durable only once its directory entry is.
  return SyncDir(DirName(path));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += b;
  return out;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  std::string_view dir = path.substr(0, slash);
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return std::string(dir);
}

namespace {

Status Errno(std::string_view op, const std::string& path) {
  const int err = errno;
  std::string context(op);
  context += ' ';
  context += path;
  return Status::FromErrno(err, context);
}

// Retries a system call interrupted by a signal.
template <typename F>
auto RetryEintr(F f) {
  while (true) {
    auto r = f();
    if (r >= 0 || errno != EINTR) return r;
  }
}

Status SyncFd(int fd, const std::string& path) {
#if defined(__linux__)
  if (RetryEintr([&] { return ::fdatasync(fd); }) != 0) return Errno("fdatasync", path);
#else
  if (RetryEintr([&] { return ::fsync(fd); }) != 0) return Errno("fsync", path);
#endif
  return Status::OK();
}

// Appends go to a 1 MiB buffer; appends that would not fit, and appends of
// at least 64 KiB when the buffer is empty, are written directly. After a failed
// write the file is broken: the unwritten bytes are dropped and every later
// call returns the same error (the caller must reopen and recover).
class PosixWritableFile final : public WritableFile {
 public:
  static constexpr size_t kBufferBytes = 1 << 20;
  static constexpr size_t kDirectWriteBytes = 64 << 10;

  PosixWritableFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), pos_(size) {
    buf_.reserve(kBufferBytes);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)Close();
  }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(error_);
    // Large appends to an empty buffer (the log's batches) skip the copy.
    if (buf_.empty() && data.size() >= kDirectWriteBytes) return WriteRaw(data);
    if (buf_.size() + data.size() <= kBufferBytes) {
      buf_.append(data);
      return Status::OK();
    }
    RETURN_IF_ERROR(Flush());
    if (data.size() < kBufferBytes) {
      buf_.append(data);
      return Status::OK();
    }
    return WriteRaw(data);
  }

  Status Flush() override {
    RETURN_IF_ERROR(error_);
    if (buf_.empty()) return Status::OK();
    Status st = WriteRaw(buf_);
    buf_.clear();
    return st;
  }

  Status Sync() override {
    RETURN_IF_ERROR(Flush());
    Status st = SyncFd(fd_, path_);
    if (!st.ok()) error_ = st;  // after a failed fsync the kernel may have dropped the dirty pages
    return st;
  }

  Status Close() override {
    if (fd_ < 0) return error_;
    Status st = Flush();
    if (::close(fd_) != 0 && st.ok()) st = Errno("close", path_);
    fd_ = -1;
    if (error_.ok() && !st.ok()) error_ = st;
    return st;
  }

  uint64_t size() const override { return pos_ + buf_.size(); }

 private:
  Status WriteRaw(std::string_view data) {
    if (fd_ < 0) return Status::IOError("write " + path_ + ": file is closed");
    while (!data.empty()) {
      const ssize_t n = RetryEintr([&] { return ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(pos_)); });
      if (n < 0) {
        error_ = Errno("write", path_);  // ENOSPC reads "write <path>: No space left on device"
        buf_.clear();
        return error_;
      }
      pos_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  const std::string path_;
  int fd_;
  uint64_t pos_;  // bytes in the file (written to the OS)
  std::string buf_;
  Status error_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  PosixRandomAccessFile(const PosixRandomAccessFile&) = delete;
  PosixRandomAccessFile& operator=(const PosixRandomAccessFile&) = delete;

  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r =
          RetryEintr([&] { return ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done)); });
      if (r < 0) return Errno("read", path_);
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  // The current size (the file may be growing).
  uint64_t size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return 0;
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = RetryEintr([&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); });
    if (fd < 0) return Errno("create", path);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd, 0));
  }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    const int fd = RetryEintr([&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644); });
    if (fd < 0) return Errno("open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = Errno("stat", path);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    const int fd = RetryEintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound("open " + path + ": No such file or directory");
      return Errno("open", path);
    }
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(path, fd));
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Errno("stat", path);
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound("stat " + path + ": No such file or directory");
      return Errno("stat", path);
    }
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return Status::NotFound("opendir " + dir + ": No such file or directory");
      return Errno("opendir", dir);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
      errno = 0;
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) {
      errno = err;
      return Errno("readdir", dir);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Status CreateDirs(const std::string& dir) override {
    if (dir.empty()) return Status::OK();
    for (size_t i = 1; i <= dir.size(); ++i) {
      if (i < dir.size() && dir[i] != '/') continue;
      const std::string prefix = dir.substr(0, i);
      if (::mkdir(prefix.c_str(), 0755) == 0 || errno == EEXIST) continue;
      return Errno("mkdir", prefix);
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return Errno("stat", dir);
    if (!S_ISDIR(st.st_mode)) return Status::IOError("mkdir " + dir + ": exists and is not a directory");
    return Status::OK();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return Status::OK();
    if (errno == EISDIR || errno == EPERM) {
      if (::rmdir(path.c_str()) == 0) return Status::OK();
      return Errno("rmdir", path);
    }
    if (errno == ENOENT) return Status::NotFound("remove " + path + ": No such file or directory");
    return Errno("remove", path);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename", from + " -> " + to);
    return Status::OK();
  }

  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) == 0) return Status::OK();
    if (errno == EEXIST) return Status::AlreadyExists("link " + from + " -> " + to + ": File exists");
    if (errno == ENOENT) return Status::NotFound("link " + from + " -> " + to + ": No such file or directory");
    return Errno("link", from + " -> " + to);
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    if (RetryEintr([&] { return ::truncate(path.c_str(), static_cast<off_t>(size)); }) != 0) {
      return Errno("truncate", path);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = RetryEintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return Errno("open", dir);
    Status st;
    if (RetryEintr([&] { return ::fsync(fd); }) != 0) st = Errno("fsync", dir);
    ::close(fd);
    return st;
  }
};

}  // namespace

std::unique_ptr<FileSystem> NewPosixFileSystem() { return std::make_unique<PosixFileSystem>(); }

}  // namespace lf
