// CachingObjectStore: an ObjectStore (object_store.h) over a remote one
// (S3) with a bounded local disk cache of the objects that are read again
// and again: the master segments and their sidecars (keys under
// `segments/`). Everything else passes through unchanged.
//
// - Write-through: an object under `segments/` written through NewObject
//   is also written to a local temporary file; once the remote Commit
//   succeeded, the file is synced and renamed into the cache. A failed or
//   aborted write leaves nothing in the cache.
// - Reads: NewReader, GetRange, Get and Size of a cached object are served
//   from the local file. NewReader of an uncached segment object no bigger
//   than a quarter of the cache downloads it by ranged GETs of `chunk`
//   bytes straight to a local file (memory stays one chunk) and serves it
//   from there; a bigger one is read by ranged GETs of at least `chunk`
//   bytes (read-ahead), never whole.
// - Bounded: entries are evicted least recently used first once their
//   bytes exceed the capacity. An open reader keeps its file until it is
//   destroyed, even when evicted (POSIX unlink).
// - Objects are write-once, so a cached copy is never stale; Delete and
//   Replace drop the cached copy first (a rebuilt sidecar is deleted, then
//   written anew).
// - Crash safety: only complete, synced files are renamed into the cache;
//   temporary files of a crashed process are removed at Open, and the
//   index is rebuilt from the directory.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/object_store.h"

namespace lf {

struct SegmentCacheOptions {
  // Total bytes of cached objects; 0 disables the cache (everything passes
  // through).
  uint64_t capacity_bytes = 1ull << 30;
  // The size of a ranged GET when downloading or reading ahead.
  uint64_t chunk_bytes = 8ull << 20;
  // Keys cached (a prefix; "" caches every key, for the contract tests).
  std::string cached_prefix = "segments/";
};

class CachingObjectStore final : public ObjectStore {
 public:
  // `dir` is created when missing. `fs` is the local file system.
  static Result<std::unique_ptr<CachingObjectStore>> Open(std::unique_ptr<ObjectStore> remote, FileSystem* fs,
                                                          std::string dir, SegmentCacheOptions options = {});

  Result<std::unique_ptr<ObjectWriter>> NewObject(const std::string& key) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(const std::string& key) override;
  Status Replace(const std::string& key, std::string_view data) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<std::string>> List(const std::string& prefix) override;
  std::string Describe() const override { return remote_->Describe(); }
  Result<std::unique_ptr<RandomAccessFile>> NewReader(const std::string& key) override;

  ObjectStore* remote() { return remote_.get(); }
  // For tests and benchmarks.
  uint64_t cached_bytes() const;
  uint64_t hits() const;
  uint64_t misses() const;

  // Used by the write-through writer: moves a complete local copy of `key`
  // into the cache (or removes it when it does not fit).
  void Admit(const std::string& key, const std::string& tmp_path, uint64_t size);
  std::string NewTempPath();
  bool Cacheable(const std::string& key) const;
  uint64_t capacity() const { return options_.capacity_bytes; }
  FileSystem* fs() { return fs_; }

 private:
  CachingObjectStore(std::unique_ptr<ObjectStore> remote, FileSystem* fs, std::string dir, SegmentCacheOptions options)
      : remote_(std::move(remote)), fs_(fs), dir_(std::move(dir)), options_(options) {}
  Status LoadIndex(const std::string& rel);
  std::string PathOf(const std::string& key) const;
  // The cached copy's path (touching it as recently used), or "".
  std::string Lookup(const std::string& key);
  void Evict(const std::string& key);
  void EvictOverCapacityLocked();
  Result<std::string> Download(const std::string& key, uint64_t size);

  struct Entry {
    uint64_t size = 0;
    uint64_t last_use = 0;
  };
  const std::unique_ptr<ObjectStore> remote_;
  FileSystem* const fs_;
  const std::string dir_;
  const SegmentCacheOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
  uint64_t total_ = 0;                    // guarded by mu_
  uint64_t clock_ = 0;                    // guarded by mu_
  uint64_t tmp_seq_ = 0;                  // guarded by mu_
  uint64_t hits_ = 0, misses_ = 0;        // guarded by mu_
};

}  // namespace lf
