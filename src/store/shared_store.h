// OpenSharedStore: the shared store named by `--store` (object_store.h), as
// the engine opens it — a local directory (LocalObjectStore), or
// `s3://BUCKET/PREFIX` (S3ObjectStore, configured by AWS's environment
// variables, aws/aws_config.h) behind a bounded local disk cache of
// segments (CachingObjectStore) in the data directory.
//
// A writer of an S3 store first probes whether it honours conditional
// writes (S3ObjectStore::ProbeConditionalWrites): when it overwrites
// silently, several writers are refused and one goes on with a warning
// (CheckConditionalWrites).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/file_system.h"
#include "store/object_store.h"

namespace lf {

// Whether `store` names an S3 store (starts with "s3://").
bool IsS3Store(const std::string& store);

struct SharedStoreOptions {
  // Whether this process writes the store (then an S3 store is probed).
  bool writer = false;
  // How many processes write the store at once (1 but for several workers).
  int writers = 1;
  // The local segment cache of an S3 store: its directory and bound
  // (0: no cache).
  std::string cache_dir;
  uint64_t cache_bytes = 1ull << 30;
  // Operator log lines (the probe's warning); may be empty.
  std::function<void(const std::string&)> log;
};

// `store` is a local directory (absolute) or an s3:// URL.
Result<std::unique_ptr<ObjectStore>> OpenSharedStore(FileSystem* fs, const std::string& store,
                                                     const SharedStoreOptions& options);

}  // namespace lf
