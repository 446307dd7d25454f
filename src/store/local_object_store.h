// LocalObjectStore: the ObjectStore on a directory, through the FileSystem
// interface (so crash tests run it on the fault-injecting file system).
//
// Layout: the object `a/b/c` is the file `<root>/a/b/c`; objects being
// written are files `<root>/.tmp/<process nonce>-<n>` (keys never start
// with '.', so no key can name them and List skips them).
//
// Create-if-absent is a hard link: the temp file is written and fsynced,
// then `link(temp, final)` gives it its name only if the name is free
// (EEXIST otherwise: the first writer wins, atomically, also between
// processes), then the final name's directory is fsynced and the temp name
// removed. A crash at any point leaves either no object or the whole
// object; a torn temp file is never visible under a key. A directory
// created for a key is made durable (its parent fsynced) before the object
// is linked into it. A crash may leave temp names behind: garbage that is
// never read, removable once older than the grace period.
//
// Replace (the hint overwrite) writes a temp file and renames it over the
// name: readers see the old or the new bytes. It does not fsync: after a
// machine crash a hint may be stale, missing or damaged, which readers
// tolerate by contract.
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/file_system.h"
#include "store/object_store.h"

namespace lf {

class LocalObjectStore final : public ObjectStore {
 public:
  // Opens (creating if needed) the store in directory `root` of `fs`, which
  // must outlive the store.
  static Result<std::unique_ptr<LocalObjectStore>> Open(FileSystem* fs, std::string root);

  Result<std::unique_ptr<ObjectWriter>> NewObject(const std::string& key) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(const std::string& key) override;
  Result<std::unique_ptr<RandomAccessFile>> NewReader(const std::string& key) override;
  Status Replace(const std::string& key, std::string_view data) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<std::string>> List(const std::string& prefix) override;
  std::string Describe() const override { return "directory " + root_; }

  // Used by the writer (not part of the store's interface).
  Status EnsureDirDurable(const std::string& dir);
  FileSystem* fs() const { return fs_; }
  const std::string& root() const { return root_; }

 private:
  LocalObjectStore(FileSystem* fs, std::string root);
  std::string NewTempPath();
  Status ListInto(const std::string& dir, const std::string& rel, const std::string& prefix,
                  std::vector<std::string>* out);

  FileSystem* const fs_;
  const std::string root_;
  const std::string tmp_dir_;
  const std::string nonce_;  // makes temp names unique between processes sharing the directory
  std::mutex mu_;
  uint64_t next_temp_ = 0;            // guarded by mu_
  std::set<std::string> known_dirs_;  // durable directories; guarded by mu_
};

}  // namespace lf
