#include "store/shared_store.h"

#include <cstdio>

#include "aws/aws_config.h"
#include "store/caching_object_store.h"
#include "store/local_object_store.h"
#include "store/s3_object_store.h"

namespace lf {

bool IsS3Store(const std::string& store) { return store.rfind("s3://", 0) == 0; }

Result<std::unique_ptr<ObjectStore>> OpenSharedStore(FileSystem* fs, const std::string& store,
                                                     const SharedStoreOptions& options) {
  if (!IsS3Store(store)) {
    ASSIGN_OR_RETURN(std::unique_ptr<LocalObjectStore> local, LocalObjectStore::Open(fs, store));
    return std::unique_ptr<ObjectStore>(std::move(local));
  }
  auto config = aws::AwsConfig::FromEnvironment();
  if (!config.ok())
    return Status::InvalidArgument("--store " + store + ": " + config.status().message() +
                                   " (the S3 store is configured by AWS's environment variables; see the README, "
                                   "\"On AWS\")");
  ASSIGN_OR_RETURN(std::unique_ptr<S3ObjectStore> s3, S3ObjectStore::Open(*config, store));
  if (options.writer) {
    auto probe = s3->ProbeConditionalWrites();
    if (!probe.ok())
      return Status::IOError("cannot use the store " + s3->Describe() + ": " + probe.status().message() +
                             " (check the bucket, the credentials and AWS_ENDPOINT_URL_S3)");
    std::string warning;
    RETURN_IF_ERROR(CheckConditionalWrites(*probe, s3->Describe(), options.writers, &warning));
    if (!warning.empty()) {
      if (options.log) {
        options.log("warning: " + warning);
      } else {
        std::fprintf(stderr, "lambdaflow: warning: %s\n", warning.c_str());
      }
    }
  }
  std::unique_ptr<ObjectStore> remote = std::move(s3);
  if (options.cache_bytes == 0 || options.cache_dir.empty()) return remote;
  SegmentCacheOptions copts;
  copts.capacity_bytes = options.cache_bytes;
  ASSIGN_OR_RETURN(std::unique_ptr<CachingObjectStore> cached,
                   CachingObjectStore::Open(std::move(remote), fs, options.cache_dir, copts));
  return std::unique_ptr<ObjectStore>(std::move(cached));
}

}  // namespace lf
