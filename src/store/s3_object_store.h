// S3ObjectStore: the ObjectStore (object_store.h) on S3 or an S3-compatible
// store, `s3://BUCKET/PREFIX`. Each operation is one S3 request, or a few
// (docs/formats/store.md §1.2 maps them):
//
// - PutIfAbsent / Commit of an object up to `part_size`: one PUT with
//   `If-None-Match: *`; a 412 is AlreadyExists. Bigger objects stream as a
//   multipart upload (parts of `part_size` sent as they fill, so memory
//   stays one part) whose CompleteMultipartUpload carries
//   `If-None-Match: *`: the object appears whole at completion or not at
//   all, and of two writers the first to complete wins.
// - Every created object carries a random nonce in its metadata
//   (`x-amz-meta-lf-nonce`). A 412 may answer this write's own earlier
//   attempt (retried after a timeout, a dropped connection or a 5xx; or
//   resent by libcurl itself when a kept-alive connection died), so on
//   every 412 the store HEADs the object: with this write's nonce it is
//   this write's own success whose answer was lost, and OK; otherwise
//   AlreadyExists. (ObjectStore::Put then compares bytes, as on any store;
//   ManifestChain compares writer id and nonce in the bytes.)
// - Get / GetRange: GET, with `Range: bytes=a-b`; Size: HEAD; Replace: a
//   plain PUT (hints only); Delete: DELETE (404 is OK); List:
//   ListObjectsV2 pages of up to 1000 keys (garbage collection only).
// - Transient failures (timeouts, 500/503, SlowDown) are retried by the
//   AwsClient with capped, jittered backoff.
//
// Create-if-absent holds only where the store honours `If-None-Match: *`
// (AWS S3 does since August 2024; some S3-compatible stores and emulators
// overwrite silently). ProbeConditionalWrites finds out at startup;
// CheckConditionalWrites turns its answer into a refusal for several
// writers and a warning for one.
//
// Thread-safe; an ObjectWriter is used by one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "aws/aws_client.h"
#include "aws/aws_config.h"
#include "store/object_store.h"

namespace lf {

// s3://BUCKET[/PREFIX] taken apart; InvalidArgument naming the URL otherwise.
struct S3Url {
  std::string bucket;
  std::string prefix;  // "" or a valid key (object_store.h), no trailing '/'
};
Result<S3Url> ParseS3Url(const std::string& url);

struct S3ObjectStoreOptions {
  // Objects bigger than this go as a multipart upload of parts this big
  // (S3 wants at least 5 MiB per part but the last).
  uint64_t part_size = 8 << 20;
  // Keys per ListObjectsV2 page (S3's maximum is 1000).
  int list_page_size = 1000;
  aws::RetryPolicy retry;
  aws::HttpClientOptions http;
};

// Whether the store refused a second create-if-absent of one key.
enum class ConditionalWrites { kHonoured, kIgnored };

class S3ObjectStore final : public ObjectStore {
 public:
  static Result<std::unique_ptr<S3ObjectStore>> Open(const aws::AwsConfig& config, const std::string& url,
                                                     S3ObjectStoreOptions options = {});

  Result<std::unique_ptr<ObjectWriter>> NewObject(const std::string& key) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(const std::string& key) override;
  Status Replace(const std::string& key, std::string_view data) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<std::string>> List(const std::string& prefix) override;
  std::string Describe() const override { return describe_; }

  // Creates an object under probe/<random>, creates it again with other
  // bytes by a PUT and by a (one-part) multipart upload, and deletes it:
  // kIgnored when either second create succeeded (it overwrote the first).
  // Errors when the store cannot be reached or refuses the requests
  // (credentials, bucket). 5 requests, plus the HEADs that check a 412.
  Result<ConditionalWrites> ProbeConditionalWrites();

  // Requests sent (attempts, retries included) and retries, for tests and benchmarks.
  uint64_t requests() const { return client_.requests_sent(); }
  uint64_t retries() const { return client_.retries(); }

  // Used by the writer (not part of the store's interface).
  // Sends a create-if-absent request (a PUT or a CompleteMultipartUpload)
  // and decides what its answer means, checking `nonce` on a 412 (or a
  // NoSuchUpload).
  Status CreateIfAbsent(const std::string& key, const aws::AwsRequest& request, const std::string& nonce,
                        const char* what);
  Result<aws::AwsClient::Sent> Send(const aws::AwsRequest& request) { return client_.Send(request); }
  std::string PathOf(const std::string& key) const;
  std::string ObjectName(const std::string& key) const { return describe_ + "/" + key; }
  Status ErrorOf(const std::string& what, const std::string& key, const aws::HttpResponse& r) const;
  static std::string NewNonce();
  uint64_t part_size() const { return options_.part_size; }

 private:
  S3ObjectStore(const aws::AwsConfig& config, S3Url url, S3ObjectStoreOptions options);

  const S3Url url_;
  const S3ObjectStoreOptions options_;
  const aws::S3BucketEndpoint bucket_;
  const std::string describe_;  // s3://bucket/prefix
  aws::AwsClient client_;
};

// What several writers may do with a store whose probe said `probe`: OK
// when it honours conditional writes; for one writer OK with `*warning`
// set; for several, InvalidArgument saying why and what to do.
Status CheckConditionalWrites(ConditionalWrites probe, const std::string& store, int writers, std::string* warning);

}  // namespace lf
