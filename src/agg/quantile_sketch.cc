#include "agg/quantile_sketch.h"

#include <algorithm>
#include <cmath>

#include "agg/state_coding.h"

namespace lf {
namespace {

constexpr double kGamma = (1 + QuantileSketch::kRelativeAccuracy) / (1 - QuantileSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
constexpr uint8_t kVersion = 1;

Status Bad(const std::string& what) { return Status::Corruption("APPROX_QUANTILE state: " + what); }

}  // namespace

int32_t QuantileSketch::IndexOf(double magnitude) {
  // |x| in [1e-300, 1.8e308]: the index is within about ±35,000.
  return static_cast<int32_t>(std::ceil(std::log(magnitude) / kLogGamma));
}

double QuantileSketch::ValueOf(int32_t index) { return 2 * std::exp(index * kLogGamma) / (kGamma + 1); }

void QuantileSketch::Store::Add(int32_t index, uint64_t n) {
  if (counts.empty()) {
    offset = index;
    counts.assign(1, n);
    return;
  }
  if (index < offset) {
    // Below the kept range: into its lowest bucket if the range is full.
    index = std::max(index, end() - kMaxBuckets);
    counts.insert(counts.begin(), static_cast<size_t>(offset - index), 0);
    offset = index;
  } else if (index >= end()) {
    counts.resize(static_cast<size_t>(index - offset + 1), 0);
  }
  counts[static_cast<size_t>(index - offset)] += n;
  if (static_cast<int32_t>(counts.size()) > kMaxBuckets) Collapse();
}

void QuantileSketch::Store::Collapse() {
  if (counts.empty()) return;
  const int32_t keep_from = end() - kMaxBuckets;
  if (offset < keep_from) {
    const size_t fold = static_cast<size_t>(keep_from - offset);
    uint64_t folded = 0;
    for (size_t i = 0; i < fold; ++i) folded += counts[i];
    counts.erase(counts.begin(), counts.begin() + static_cast<ptrdiff_t>(fold));
    counts[0] += folded;
    offset = keep_from;
  }
  // Canonical form: no empty bucket at either end.
  size_t lead = 0;
  while (lead < counts.size() && counts[lead] == 0) ++lead;
  if (lead == counts.size()) {
    counts.clear();
    offset = 0;
    return;
  }
  counts.erase(counts.begin(), counts.begin() + static_cast<ptrdiff_t>(lead));
  offset += static_cast<int32_t>(lead);
  while (counts.back() == 0) counts.pop_back();
}

void QuantileSketch::Store::MergeFrom(const Store& o) {
  if (o.counts.empty()) return;
  if (counts.empty()) {
    *this = o;
    return;
  }
  const int32_t lo = std::min(offset, o.offset), hi = std::max(end(), o.end());
  std::vector<uint64_t> merged(static_cast<size_t>(hi - lo), 0);
  for (size_t i = 0; i < counts.size(); ++i) merged[static_cast<size_t>(offset - lo) + i] += counts[i];
  for (size_t i = 0; i < o.counts.size(); ++i) merged[static_cast<size_t>(o.offset - lo) + i] += o.counts[i];
  counts = std::move(merged);
  offset = lo;
  Collapse();
}

void QuantileSketch::Add(double x) {
  if (std::isnan(x)) return;
  ++count_;
  if (std::isinf(x)) {
    ++(x > 0 ? pos_inf_ : neg_inf_);
  } else if (std::fabs(x) < kMinMagnitude) {
    ++zero_;
  } else if (x > 0) {
    pos_.Add(IndexOf(x), 1);
  } else {
    neg_.Add(IndexOf(-x), 1);
  }
}

void QuantileSketch::Merge(const QuantileSketch& o) {
  count_ += o.count_;
  zero_ += o.zero_;
  neg_inf_ += o.neg_inf_;
  pos_inf_ += o.pos_inf_;
  pos_.MergeFrom(o.pos_);
  neg_.MergeFrom(o.neg_);
}

std::optional<double> QuantileSketch::Quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  // As PERCENTILE_DISC: the smallest value whose cumulative share is >= q.
  const double r = std::ceil(q * static_cast<double>(count_)) - 1;
  const auto rank = r <= 0 ? uint64_t{0} : std::min(count_ - 1, static_cast<uint64_t>(r));
  // Ascending: -inf, negatives from the largest magnitude, zero, positives, +inf.
  uint64_t seen = neg_inf_;
  if (rank < seen) return -HUGE_VAL;
  for (size_t i = neg_.counts.size(); i-- > 0;) {
    seen += neg_.counts[i];
    if (rank < seen) return -ValueOf(neg_.offset + static_cast<int32_t>(i));
  }
  seen += zero_;
  if (rank < seen) return 0.0;
  for (size_t i = 0; i < pos_.counts.size(); ++i) {
    seen += pos_.counts[i];
    if (rank < seen) return ValueOf(pos_.offset + static_cast<int32_t>(i));
  }
  return HUGE_VAL;
}

bool QuantileSketch::operator==(const QuantileSketch& o) const {
  return count_ == o.count_ && zero_ == o.zero_ && neg_inf_ == o.neg_inf_ && pos_inf_ == o.pos_inf_ && pos_ == o.pos_ &&
         neg_ == o.neg_;
}

void QuantileSketch::Serialize(std::string* out) const {
  using namespace agg_coding;
  PutU8(out, kVersion);
  PutU64(out, zero_);
  PutU64(out, neg_inf_);
  PutU64(out, pos_inf_);
  for (const Store* s : {&neg_, &pos_}) {
    PutU32(out, static_cast<uint32_t>(s->offset));
    PutU32(out, static_cast<uint32_t>(s->counts.size()));
    for (uint64_t c : s->counts) PutU64(out, c);
  }
}

Status QuantileSketch::Deserialize(std::string_view* in, QuantileSketch* out) {
  using namespace agg_coding;
  uint8_t version;
  if (!GetU8(in, &version)) return Bad("truncated");
  if (version != kVersion) return Bad("unknown format version " + std::to_string(version));
  QuantileSketch s;
  if (!GetU64(in, &s.zero_) || !GetU64(in, &s.neg_inf_) || !GetU64(in, &s.pos_inf_)) return Bad("truncated");
  uint64_t total = s.zero_ + s.neg_inf_ + s.pos_inf_;
  for (Store* st : {&s.neg_, &s.pos_}) {
    uint32_t offset, n;
    if (!GetU32(in, &offset) || !GetU32(in, &n)) return Bad("truncated");
    if (n > static_cast<uint32_t>(kMaxBuckets)) return Bad("more than " + std::to_string(kMaxBuckets) + " buckets");
    if (in->size() / 8 < n) return Bad("truncated");
    st->offset = static_cast<int32_t>(offset);
    if (st->offset < -40000 || st->offset > 40000) return Bad("bucket index out of range");
    st->counts.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      GetU64(in, &st->counts[i]);
      total += st->counts[i];
    }
    if (n > 0 && (st->counts.front() == 0 || st->counts.back() == 0)) return Bad("empty bucket at an end");
  }
  s.count_ = total;
  *out = std::move(s);
  return Status::OK();
}

}  // namespace lf
