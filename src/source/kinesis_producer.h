// KinesisProducer: records gathered into PutRecords requests within
// Kinesis's limits — at most 500 records and 5 MiB (data and partition
// keys) per request, 1 MiB per record, partition keys of 1 to 256
// characters — and, when a request comes back with some entries failed
// (ProvisionedThroughputExceededException, InternalFailure), exactly those
// entries sent again after a capped, jittered backoff, the others never
// twice. The paper's KinesisProducer, behind
// `lambdaflow produce --to kinesis://STREAM`.
//
// A whole request that fails (after the AwsClient's own retries) stops
// the producer with that error. Kinesis itself may store a record twice
// when an answer is lost and the request is retried: the consumer side
// dedupes by content where it matters (docs: README "On AWS").
//
// Not thread-safe: one producer per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "aws/retry_policy.h"
#include "source/kinesis_client.h"

namespace lf {

struct KinesisProducerOptions {
  int max_records = 500;
  uint64_t max_request_bytes = 5 << 20;
  uint64_t max_record_bytes = 1 << 20;
  // Rounds of resending failed entries before they count as failed.
  aws::RetryPolicy resend{.max_attempts = 10, .base_delay_ms = 100, .max_delay_ms = 5000};
  std::function<void(int64_t ms)> sleep_ms;  // std::this_thread::sleep_for when empty
};

class KinesisProducer {
 public:
  // Sends one PutRecords request (KinesisClient::PutRecords, or a test's fake).
  using Sender = std::function<Result<KinesisPutResult>(const std::vector<KinesisPutEntry>&)>;
  KinesisProducer(Sender sender, KinesisProducerOptions options = {});

  // Queues a record; sends the queued ones first when it would not fit in
  // the same request. InvalidArgument for a record over the limits.
  Status Add(KinesisPutEntry entry);
  // Sends what is queued.
  Status Flush();

  uint64_t added() const { return added_; }
  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }      // given up after the resend rounds
  uint64_t requests() const { return requests_; }  // PutRecords requests sent
  uint64_t resent() const { return resent_; }      // entries sent again

 private:
  Status Send(std::vector<KinesisPutEntry> batch);

  const Sender sender_;
  const KinesisProducerOptions options_;
  std::vector<KinesisPutEntry> queued_;
  uint64_t queued_bytes_ = 0;
  uint64_t added_ = 0, delivered_ = 0, failed_ = 0, requests_ = 0, resent_ = 0;
  uint64_t seed_;
};

}  // namespace lf
