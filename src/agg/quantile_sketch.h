// QuantileSketch: the state of APPROX_QUANTILE / APPROX_MEDIAN, a
// relative-error bucketed sketch in the style of DDSketch (Masson, Rim, Lee,
// VLDB 2019). A value x > 0 falls in bucket k = ceil(log_γ(x)), with
// γ = (1 + α) / (1 - α) and α = 1%; negative values in a mirrored store;
// zero (and |x| below 1e-300) in its own count; ±inf in two counts; NaN is
// ignored. A bucket's value is 2γ^k / (γ + 1), within α of every value in it.
//
// The state is a multiset of bucket counts, and combining adds counts, so
// the sketch of a union of inputs does not depend on how the inputs were
// split or ordered: the batch layer, the speed layer and any number of
// threads give bit-identical answers. The size limit keeps this property:
// each store keeps the kMaxBuckets indices up to its highest non-empty one
// (a range of γ^4096 ≈ 1.6e35); the counts of lower indices (the smallest
// magnitudes) are folded into the lowest kept bucket. The highest index of
// a union is the highest of its parts, and folding is addition, so collapse
// commutes with merging: the state is a function of the multiset alone.
// docs/aggregates.md specifies the error bound, the limit and the encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf {

class QuantileSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr int32_t kMaxBuckets = 4096;  // per sign: a range of γ^4096 ≈ 1.6e35
  static constexpr double kMinMagnitude = 1e-300;

  void Add(double x);
  void Merge(const QuantileSketch& other);
  // The value at 0-based rank max(0, ceil(q * n) - 1) of the n values in
  // ascending order (PERCENTILE_DISC's: the smallest value whose cumulative
  // share is at least q), within a relative kRelativeAccuracy, for q in
  // [0, 1]; nullopt when empty.
  std::optional<double> Quantile(double q) const;

  uint64_t count() const { return count_; }
  size_t MemoryUsage() const { return (pos_.counts.capacity() + neg_.counts.capacity()) * sizeof(uint64_t); }

  void Serialize(std::string* out) const;
  static Status Deserialize(std::string_view* in, QuantileSketch* out);

  bool operator==(const QuantileSketch& o) const;

 private:
  // Counts of buckets [offset, offset + counts.size()); empty when unused.
  struct Store {
    int32_t offset = 0;
    std::vector<uint64_t> counts;

    void Add(int32_t index, uint64_t n);
    void MergeFrom(const Store& o);
    // Folds every bucket below end() - kMaxBuckets into that one, and trims
    // empty ends (the canonical form).
    void Collapse();
    int32_t end() const { return offset + static_cast<int32_t>(counts.size()); }
    bool operator==(const Store& o) const { return offset == o.offset && counts == o.counts; }
  };

  static int32_t IndexOf(double magnitude);
  static double ValueOf(int32_t index);

  uint64_t count_ = 0;  // every non-NaN value added
  uint64_t zero_ = 0, neg_inf_ = 0, pos_inf_ = 0;
  Store pos_, neg_;  // neg_ holds -x for x < 0
};

}  // namespace lf
