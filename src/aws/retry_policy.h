// RetryPolicy and Backoff: how often and how long to wait before sending a
// failed request again. Capped exponential backoff with full jitter (the
// delay before retry n is uniform in [0, min(cap, base * 2^n)]), so that
// many clients throttled together do not retry in lockstep.
//
// Which failures are retried is the caller's (aws_client.h): timeouts,
// dropped connections, 500/502/503/504, S3's SlowDown, throttling.
//
// Backoff is not thread-safe (one per request); RetryPolicy is a value.
#pragma once

#include <cstdint>
#include <random>

namespace lf::aws {

struct RetryPolicy {
  int max_attempts = 6;  // the first try included
  int64_t base_delay_ms = 50;
  int64_t max_delay_ms = 5000;
};

class Backoff {
 public:
  Backoff(const RetryPolicy& policy, uint64_t seed) : policy_(policy), rng_(seed) {}
  // The delay before the next retry; each call is the next retry.
  int64_t NextDelayMs();
  int retries() const { return retries_; }

 private:
  const RetryPolicy policy_;
  std::mt19937_64 rng_;
  int retries_ = 0;
};

}  // namespace lf::aws
