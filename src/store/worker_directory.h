// WorkerDirectory: how the workers of one consumer group (`run --group`)
// find each other through the shared store. Each worker keeps one small
// object `workers/<writer id>` (each ':' of the id as '_') with its HTTP address, the partitions it owns
// and their owner epochs, and when it last said so; it replaces the object
// when its partitions change and every few seconds (a heartbeat), and
// deletes it when it stops cleanly. Readers list the `workers/` prefix —
// when a query needs a partition it does not own, never per event — and
// cache the answer for a moment.
//
// The directory is a hint, not the truth: the truth about who owns a
// partition is the latest epoch in its manifest chain
// (store/manifest_chain.h). A record may be stale (a worker that was killed
// keeps its object until it ages out; a worker that lost a partition may
// still list it), so a reader takes, for each partition, the fresh record
// with the highest epoch, and a partial state fetched from it carries its
// epoch, which the reader compares with the chain's
// (docs/formats/ownership.md).
//
// Format of the object (text, one field per line):
//
//   lambdaflow-worker 1
//   writer <writer id>
//   address <host:port>
//   updated_ms <wall-clock ms>
//   partition <p> <epoch>        (one line per owned partition, ascending)
//   end
//
// Thread-safe: the store is; this class keeps no state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/object_store.h"

namespace lf {

struct WorkerRecord {
  std::string writer_id;  // [A-Za-z0-9._:-]{1,128}, as in manifest versions
  std::string address;    // host:port of its HTTP API
  int64_t updated_ms = 0;
  std::map<uint32_t, uint64_t> partitions;  // owned partition -> owner epoch
};

// The object's bytes, and back. Parse: Corruption naming `what` and the line.
std::string FormatWorkerRecord(const WorkerRecord& r);
Result<WorkerRecord> ParseWorkerRecord(std::string_view text, const std::string& what);

// Who to ask for a partition: the worker and the epoch it claimed.
struct PartitionOwner {
  std::string writer_id;
  std::string address;
  uint64_t epoch = 0;
};

class WorkerDirectory {
 public:
  // `store` must outlive the directory.
  explicit WorkerDirectory(ObjectStore* store) : store_(store) {}

  static constexpr char kPrefix[] = "workers/";
  // The record's key: the writer id with each ':' (not allowed in object
  // keys) as '_'.
  static std::string Key(const std::string& writer_id) {
    std::string key = kPrefix + writer_id;
    for (char& c : key)
      if (c == ':') c = '_';
    return key;
  }

  // Replaces this worker's record (InvalidArgument for a bad writer id or
  // an address with a newline).
  Status Publish(const WorkerRecord& r);
  // Deletes this worker's record (a clean stop); OK when absent.
  Status Remove(const std::string& writer_id);
  // Every record in the store. A record that does not parse (a foreign
  // object, a half-written one on a store without atomic replace) is
  // skipped and named in *skipped (may be null).
  Result<std::vector<WorkerRecord>> List(std::vector<std::string>* skipped = nullptr);

  // For each partition, the owner among `records` updated at or after
  // `now_ms - max_age_ms`, with the highest epoch (ties: the later update).
  static std::map<uint32_t, PartitionOwner> Owners(const std::vector<WorkerRecord>& records, int64_t now_ms,
                                                   int64_t max_age_ms);

 private:
  ObjectStore* const store_;
};

}  // namespace lf
