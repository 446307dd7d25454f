// AwsClient: signed requests to one AWS service endpoint, retried.
//
// Each attempt is signed anew (SigV4, the current time) and sent through
// the HttpClient. Attempts that fail in a way that may pass are retried
// after a capped, jittered exponential backoff (retry_policy.h): timeouts,
// refused or dropped connections, HTTP 500/502/503/504 and 429, and the
// throttling codes (S3's SlowDown, Kinesis's
// ProvisionedThroughputExceededException, ThrottlingException). Any other
// answer is returned to the caller as it is, whatever its status.
//
// `Sent::ambiguous` says that an attempt before the answered one failed
// after it may have reached the service: a write answered "already exists"
// may then have been this client's own earlier attempt. It is not the whole
// story: libcurl resends by itself, unseen, a request whose kept-alive
// connection turned out dead, so the S3 store checks its nonce on every
// 412 (docs/formats/store.md).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "aws/aws_config.h"
#include "aws/http_client.h"
#include "aws/retry_policy.h"
#include "aws/sigv4.h"

namespace lf::aws {

struct AwsRequest {
  std::string method;
  std::string path = "/";  // decoded, starting with '/' (an S3 key path: "/bucket/a/b")
  Params query;            // decoded
  Params headers;          // extra headers, all signed (not host, x-amz-date, x-amz-content-sha256)
  std::string_view body;   // must outlive the call
};

struct AwsClientOptions {
  std::string service;  // "s3", "kinesis": the signing scope
  RetryPolicy retry;
  HttpClientOptions http;
  // S3 signs the payload's SHA-256 and sends it as x-amz-content-sha256;
  // the other services sign it without the header.
  bool s3_payload_header = false;
  // Current Unix time in seconds for signatures; the system clock when empty.
  std::function<int64_t()> now_seconds;
  // Sleeps between attempts; std::this_thread::sleep_for when empty.
  std::function<void(int64_t ms)> sleep_ms;
};

class AwsClient {
 public:
  AwsClient(Endpoint endpoint, Credentials credentials, std::string region, AwsClientOptions options);

  struct Sent {
    HttpResponse response;
    int attempts = 0;
    bool ambiguous = false;  // an earlier attempt may have taken effect
  };
  // The first answer that is not retried; Unavailable (or DeadlineExceeded)
  // naming the request and the last failure when every attempt failed.
  Result<Sent> Send(const AwsRequest& request);

  const Endpoint& endpoint() const { return endpoint_; }

  // Whether an answer is one to retry (see the file comment).
  static bool RetryableAnswer(const HttpResponse& r);

  // Counters, for tests and benchmarks.
  uint64_t requests_sent() const { return requests_.load(std::memory_order_relaxed); }
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  const Endpoint endpoint_;
  const Credentials credentials_;
  const std::string region_;
  const AwsClientOptions options_;
  HttpClient http_;
  std::atomic<uint64_t> seed_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> retries_{0};
};

}  // namespace lf::aws
