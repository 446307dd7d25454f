#include "common/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace lf {
namespace {

TEST(HistogramTest, BucketsAreCumulativeWithInclusiveUpperBounds) {
  Histogram h({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 7.0}) h.Observe(v);
  const Histogram::Snapshot s = h.Read();
  ASSERT_EQ(s.bounds, (std::vector<double>{1, 2, 5}));
  // le=1: 0.5 and 1.0; le=2: +1.5 and 2.0; le=5: +4.0; +Inf: +7.0.
  EXPECT_EQ(s.buckets, (std::vector<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 16.0);
}

TEST(HistogramTest, EmptyHistogramReadsZero) {
  Histogram h(Histogram::LatencyBounds());
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0.0);
  EXPECT_EQ(s.buckets.size(), s.bounds.size() + 1);
  for (uint64_t b : s.buckets) EXPECT_EQ(b, 0u);
}

TEST(HistogramTest, ConcurrentObserversLoseNothing) {
  Histogram h({0.5});
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) h.Observe(t % 2 == 0 ? 0.25 : 1.0);
    });
  for (auto& t : threads) t.join();
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(s.buckets[0], static_cast<uint64_t>(kThreads / 2 * kEach));
  // 0.25 and 1.0 are exact in binary, and so are the partial sums here.
  EXPECT_DOUBLE_EQ(s.sum, kThreads / 2 * kEach * 0.25 + kThreads / 2 * kEach * 1.0);
}

}  // namespace
}  // namespace lf
