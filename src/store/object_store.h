// ObjectStore: the seam for everything several lambdaflow processes share
// (master segments, partition manifests, batch versions, the workers'
// directory). Its operations are the ones object storage offers, so a local
// directory (local_object_store.h) and S3 implement the same contract:
//
// - Objects are written once, under names the writer makes unique (a
//   segment named by its offset range, a version by its number). A write
//   never replaces an object: PutIfAbsent/Commit fail with AlreadyExists
//   when the name is taken (S3: PUT or CompleteMultipartUpload with
//   `If-None-Match: *`, answered 412), so of two writers the first wins.
// - An object is visible whole or not at all, and durable once its write
//   returned OK. A write that failed or crashed half-way leaves nothing a
//   reader can see under the name.
// - There is no rename, and nothing lists objects to learn what is
//   committed: a manifest (manifest_chain.h) names what exists. List exists
//   for garbage collection and debugging only.
// - Replace is the one overwrite, for hints that may be stale or missing
//   without harm (the latest-manifest hint); nothing a reader trusts is
//   written with it.
// - Delete is for garbage collection, of objects no kept manifest names and
//   older than a grace period.
//
// Keys are relative, '/'-separated names of components made of
// [A-Za-z0-9._-], none empty, none starting with '.' (ValidateKey).
//
// Thread-safety: implementations are thread-safe; an ObjectWriter is used
// by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace lf {

// An object being written: bytes are appended, then the object is
// published under its key by Commit (create-if-absent) or dropped by Abort
// (also what destroying an uncommitted writer does). Big objects stream
// through it (S3: a multipart upload) instead of being held in memory.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  // Publishes the object, durable when OK. AlreadyExists when an object of
  // that key exists (the appended bytes are discarded, the existing object
  // is unchanged). After Commit, whatever its outcome, the writer is done.
  virtual Status Commit() = 0;
  // Commit for derived data that can be rebuilt from durable objects: the
  // object is published as by Commit, but neither its bytes nor its name
  // need be durable when this returns (a crash may leave it missing,
  // short or zero-filled; its readers must detect that and rebuild it).
  // Saves the syncs of a local directory; by default it is Commit.
  virtual Status CommitDerived() { return Commit(); }
  virtual void Abort() = 0;
  // Bytes appended so far.
  virtual uint64_t size() const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Result<std::unique_ptr<ObjectWriter>> NewObject(const std::string& key) = 0;
  // The whole object; NotFound when absent.
  virtual Result<std::string> Get(const std::string& key) = 0;
  // Up to `length` bytes from `offset` (fewer at the object's end, none past
  // it); NotFound when absent. S3: a ranged GET.
  virtual Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) = 0;
  // The object's size; NotFound when absent. S3: HEAD.
  virtual Result<uint64_t> Size(const std::string& key) = 0;
  // Atomically replaces (or creates) a small object, last writer wins.
  // Only for hints a reader checks (see the file comment).
  virtual Status Replace(const std::string& key, std::string_view data) = 0;
  // Removes the object, durably; OK when it is already absent (as S3's DELETE).
  virtual Status Delete(const std::string& key) = 0;
  // Keys starting with `prefix`, sorted. Garbage collection and debugging
  // only: never to learn what is committed.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;
  // Where the store is, for messages: "directory /srv/store", "s3://b/p".
  virtual std::string Describe() const = 0;
  // The object opened for reads at any offset (NotFound when absent). The
  // default reads through Size and GetRange (S3: HEAD, then ranged GETs);
  // a local store opens the file once.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewReader(const std::string& key);

  // Writes `data` under `key` if no object has that key (first writer
  // wins); AlreadyExists otherwise.
  Status PutIfAbsent(const std::string& key, std::string_view data);
  // Writes an object under a key unique by construction: like PutIfAbsent,
  // but an existing object with exactly these bytes is success (a retried
  // write whose answer was lost), and one with other bytes is
  // AlreadyExists. Never overwrites.
  Status Put(const std::string& key, std::string_view data);
  // Whether an object of that key exists.
  Result<bool> Exists(const std::string& key);
};

// A WritableFile that appends to an ObjectWriter, for code written against
// files (segment builders). Sync and Close do nothing: the object becomes
// durable and visible only by Commit of the writer, which the caller does.
class ObjectWritableFile final : public WritableFile {
 public:
  explicit ObjectWritableFile(ObjectWriter* writer) : writer_(writer) {}
  Status Append(std::string_view data) override { return writer_->Append(data); }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  uint64_t size() const override { return writer_->size(); }

 private:
  ObjectWriter* const writer_;
};

// OK when `key` is a valid object key (see the file comment), else
// InvalidArgument naming the key and the rule it breaks.
Status ValidateKey(std::string_view key);

}  // namespace lf
