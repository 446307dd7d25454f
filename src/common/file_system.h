// FileSystem: every byte lambdaflow stores goes through this interface, so
// that tests can run on an in-memory file system that loses what was not
// fsynced, or that fails on purpose (see testing/fault_file_system.h).
//
// The storage model is the one object storage also offers: files written
// once (WritableFile, then Sync and Close), read at any offset, and one
// small pointer file replaced atomically (WriteFileAtomic). Append-only
// files (the log) additionally use Truncate during recovery. Link is the
// create-if-absent primitive of the local object store (src/store).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf {

// A file open for appending. Durability contract: Append buffers, Flush
// hands the bytes to the operating system (visible to readers, lost on a
// machine crash), Sync makes everything appended so far durable. Close
// flushes but does not sync. Not thread-safe.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Flush() = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far, including what the file held when opened.
  virtual uint64_t size() const = 0;
};

// A file open for reading at any offset. Thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at `offset` into `scratch`; returns how many were
  // read (fewer only at the end of the file).
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual uint64_t size() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates (or truncates) `path` for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end (creating it if missing).
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;

  virtual Result<bool> Exists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` and its missing parents.
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Gives the file `from` a second name `to` (a hard link), atomically and
  // only if `to` does not exist: when it does, fails with AlreadyExists and
  // changes nothing, so of two processes linking to the same name exactly
  // one wins. Like any creation, durable once `to`'s directory is synced.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Reads a whole file.
  Result<std::string> ReadFile(const std::string& path);
  // Publishes `data` at `path` atomically and durably: write a temporary
  // file beside it, sync, rename over `path`, sync the directory. A crash
  // leaves either the old or the new content, never a mix.
  Status WriteFileAtomic(const std::string& path, std::string_view data);
  // Writes a new immutable file and syncs it (no rename: for files whose
  // name is fixed by their content, such as sealed segments).
  Status WriteFileDurable(const std::string& path, std::string_view data);
};

// The operating system's file system. Thread-safe.
std::unique_ptr<FileSystem> NewPosixFileSystem();

// "a/b" + "c" -> "a/b/c".
std::string JoinPath(std::string_view a, std::string_view b);
// "a/b/c" -> "a/b"; "c" -> ".".
std::string DirName(std::string_view path);

}  // namespace lf
