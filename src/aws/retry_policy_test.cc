// Backoff: delays grow exponentially, never exceed the cap, are jittered.
#include "aws/retry_policy.h"

#include <gtest/gtest.h>

#include <set>

namespace lf::aws {
namespace {

TEST(BackoffTest, DelaysStayUnderTheGrowingCeilingAndTheCap) {
  const RetryPolicy p{.max_attempts = 40, .base_delay_ms = 10, .max_delay_ms = 1000};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Backoff b(p, seed);
    for (int n = 0; n < 40; ++n) {
      const int64_t d = b.NextDelayMs();
      const int64_t ceiling = n < 7 ? (int64_t{10} << n) : 1000;  // 10 * 2^n, capped at 1000
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling) << "retry " << n;
    }
    EXPECT_EQ(b.retries(), 40);
  }
}

TEST(BackoffTest, LateRetriesSpreadOverTheWholeCappedRange) {
  const RetryPolicy p{.max_attempts = 10, .base_delay_ms = 50, .max_delay_ms = 800};
  std::set<int64_t> seen;
  int64_t max_seen = 0, min_seen = 800;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Backoff b(p, seed);
    for (int n = 0; n < 5; ++n) (void)b.NextDelayMs();
    const int64_t d = b.NextDelayMs();  // retry 5: ceiling min(800, 50*32)
    seen.insert(d);
    max_seen = std::max(max_seen, d);
    min_seen = std::min(min_seen, d);
  }
  EXPECT_GT(seen.size(), 100u);  // jittered, not one value
  EXPECT_GT(max_seen, 600);
  EXPECT_LT(min_seen, 200);
}

TEST(BackoffTest, SameSeedSameDelays) {
  const RetryPolicy p;
  Backoff a(p, 42), b(p, 42);
  for (int n = 0; n < 10; ++n) EXPECT_EQ(a.NextDelayMs(), b.NextDelayMs());
}

}  // namespace
}  // namespace lf::aws
