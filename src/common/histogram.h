// A fixed-bucket histogram of durations (or any non-negative quantity) that
// many threads fill without a lock, and a consistent-enough snapshot of it
// for a Prometheus `histogram` (cumulative `le` buckets, `_sum`, `_count`).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace lf {

class Histogram {
 public:
  struct Snapshot {
    std::vector<double> bounds;     // upper bounds, ascending (the `le` labels; +Inf is implied)
    std::vector<uint64_t> buckets;  // cumulative counts per bound, then one for +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };

  // `bounds`: finite upper bounds, strictly ascending.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Thread-safe and lock-free: one relaxed increment and one CAS loop on the sum.
  void Observe(double value);

  // Counts read one by one while others may Observe: every count is exact
  // at some moment, the buckets are made monotone (a racing Observe may show
  // in a bucket but not yet in `count`, or the reverse, by one).
  Snapshot Read() const;

  // Bounds for request and batch latencies: 1 ms to 60 s, ~2.5x apart.
  static std::vector<double> LatencyBounds();

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket (not cumulative); the last is +Inf
  std::atomic<uint64_t> sum_bits_{0};                // a double's bits
};

}  // namespace lf
