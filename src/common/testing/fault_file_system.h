// FaultFileSystem: an in-memory FileSystem for tests that loses what was not
// made durable when told to "crash", and fails on purpose.
//
// Model. Files are inodes referenced by directory entries. Each inode holds
// its current bytes and the bytes it held at its last Sync (normally a
// prefix of the current bytes: the unsynced tail). Each directory holds its
// current entries and the entries as of its last SyncDir, so a creation,
// rename or removal survives a crash only once its directory was synced.
// Writable handles buffer appends until Flush (the "OS" sees them then), like
// the POSIX file. DropUnsynced() is a machine crash at this instant: every
// directory reverts to its synced entries (directories and files that are no
// longer reachable disappear), every file reverts to its synced bytes, and
// every open handle becomes dead (each later call on it fails), so a process
// still holding them cannot write "after the crash".
//
// Faults. FailAfter and FailRandomly make chosen operations return IOError;
// SetCapacity makes writes past a total byte budget fail with ENOSPC after
// writing what fits (a short write, as the kernel does). Randomness (torn
// tails, random failures) comes from one RNG seeded in the constructor.
//
// Thread-safe: one mutex guards the whole file system, handles included.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/file_system.h"

namespace lf {

class FaultFileSystem final : public FileSystem {
 public:
  // Operation kinds, a bit mask for targeting injected failures.
  enum Op : uint32_t {
    kCreate = 1u << 0,    // NewWritableFile, NewAppendableFile, CreateDirs
    kAppend = 1u << 1,    // WritableFile::Append
    kFlush = 1u << 2,     // WritableFile::Flush (also inside Sync and Close): bytes reach the OS
    kSync = 1u << 3,      // WritableFile::Sync, after its flush
    kSyncDir = 1u << 4,   // FileSystem::SyncDir
    kRename = 1u << 5,    // FileSystem::Rename
    kRemove = 1u << 6,    // FileSystem::Remove
    kTruncate = 1u << 7,  // FileSystem::Truncate
    kRead = 1u << 8,      // RandomAccessFile::Read, NewRandomAccessFile
    kLink = 1u << 9,      // FileSystem::Link
    kAllWrites = kCreate | kAppend | kFlush | kSync | kSyncDir | kRename | kRemove | kTruncate | kLink,
  };

  explicit FaultFileSystem(uint64_t seed = 1);
  ~FaultFileSystem() override;
  FaultFileSystem(const FaultFileSystem&) = delete;
  FaultFileSystem& operator=(const FaultFileSystem&) = delete;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  // Renames files (not directories).
  Status Rename(const std::string& from, const std::string& to) override;
  // Links files (not directories); AlreadyExists when `to` exists.
  Status Link(const std::string& from, const std::string& to) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;

  // Simulates a machine crash (see the file comment). With `torn_writes`,
  // each file keeps a random prefix of its unsynced tail instead of none of
  // it, as a disk that wrote part of a request does.
  void DropUnsynced(bool torn_writes = false);

  // The first `n` later operations of the kinds in `ops` succeed; every one
  // after them fails with IOError until ClearFaults().
  void FailAfter(uint64_t n, uint32_t ops = kAllWrites);
  // Each later operation of the kinds in `ops` fails with probability `p`.
  void FailRandomly(double p, uint32_t ops = kAllWrites);
  // Total file bytes the disk holds; a flush beyond it writes what fits and
  // fails with ENOSPC. 0 = unlimited.
  void SetCapacity(uint64_t bytes);
  void ClearFaults();
  // How many operations failed on purpose so far (ENOSPC included).
  uint64_t injected_failures() const;
  // Bytes held by all files reachable from the directory tree.
  uint64_t bytes_used() const;

  struct State;  // shared with open handles

 private:
  std::shared_ptr<State> state_;
};

}  // namespace lf
