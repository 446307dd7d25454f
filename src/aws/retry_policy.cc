// Capped exponential backoff with full jitter (see the header).
#include "aws/retry_policy.h"

#include <algorithm>

namespace lf::aws {

int64_t Backoff::NextDelayMs() {
  const int shift = std::min(retries_, 30);
  ++retries_;
  const int64_t base = std::max<int64_t>(policy_.base_delay_ms, 1);
  const int64_t cap = std::max<int64_t>(policy_.max_delay_ms, 0);
  const int64_t ceiling = base > (cap >> shift) ? cap : std::min(cap, base << shift);
  std::uniform_int_distribution<int64_t> d(0, ceiling);
  return d(rng_);
}

}  // namespace lf::aws
