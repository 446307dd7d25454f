#include "agg/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace lf {
namespace {

constexpr double kQuantiles[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1};

// The exact value the sketch approximates: PERCENTILE_DISC's, rank
// max(0, ceil(q * n) - 1).
double Exact(const std::vector<double>& sorted, double q) {
  const double r = std::ceil(q * static_cast<double>(sorted.size())) - 1;
  return sorted[r <= 0 ? 0 : static_cast<size_t>(r)];
}

std::vector<double> Draw(const std::string& dist, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> v(n);
  std::uniform_real_distribution<double> uni(0, 1000);
  std::normal_distribution<double> normal(50, 20);  // both signs
  std::exponential_distribution<double> expo(0.01);
  std::lognormal_distribution<double> lognormal(0, 3);  // ~20 orders of magnitude
  std::uniform_int_distribution<int64_t> ints(-1000000, 1000000);
  for (auto& x : v) {
    if (dist == "uniform") x = uni(rng);
    if (dist == "normal") x = normal(rng);
    if (dist == "exponential") x = expo(rng);
    if (dist == "lognormal") x = lognormal(rng);
    if (dist == "pareto") x = 1 / std::pow(1 - uni(rng) / 1000.0000001, 1 / 1.5);  // heavy tail
    if (dist == "integers") x = static_cast<double>(ints(rng));
  }
  return v;
}

// The documented bound, over 1M values of each distribution.
TEST(QuantileSketchTest, RelativeErrorAgainstExactQuantiles) {
  for (const std::string dist : {"uniform", "normal", "exponential", "lognormal", "pareto", "integers"}) {
    SCOPED_TRACE(dist);
    std::vector<double> v = Draw(dist, 1000000, 42);
    QuantileSketch s;
    for (double x : v) s.Add(x);
    std::sort(v.begin(), v.end());
    ASSERT_EQ(s.count(), v.size());
    for (double q : kQuantiles) {
      const double exact = Exact(v, q);
      const double got = *s.Quantile(q);
      EXPECT_LE(std::fabs(got - exact), QuantileSketch::kRelativeAccuracy * std::fabs(exact) + 1e-300)
          << "q=" << q << " exact=" << exact << " got=" << got;
    }
  }
}

// The state, and so every answer, is the same however the values are split
// and in whatever order the parts are merged.
TEST(QuantileSketchTest, SplitsAndMergeOrdersGiveIdenticalStates) {
  std::vector<double> v = Draw("lognormal", 200000, 7);
  for (int i = 0; i < 2000; ++i) v[static_cast<size_t>(i) * 97] = i % 3 ? 0.0 : -v[static_cast<size_t>(i) * 97];
  v.push_back(HUGE_VAL);
  v.push_back(-HUGE_VAL);
  v.push_back(NAN);
  QuantileSketch one;
  for (double x : v) one.Add(x);
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t parts = 1 + rng() % 9;
    std::vector<QuantileSketch> sketches(parts);
    std::vector<double> shuffled = v;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (double x : shuffled) sketches[rng() % parts].Add(x);
    // Merge in a random tree order.
    while (sketches.size() > 1) {
      const size_t a = rng() % sketches.size();
      size_t b = rng() % (sketches.size() - 1);
      if (b >= a) ++b;
      sketches[a].Merge(sketches[b]);
      sketches.erase(sketches.begin() + static_cast<ptrdiff_t>(b));
    }
    ASSERT_TRUE(sketches[0] == one) << "trial " << trial;
    for (double q : kQuantiles) {
      const double x = *one.Quantile(q), y = *sketches[0].Quantile(q);
      EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << q;
    }
  }
}

// Beyond kMaxBuckets buckets the lowest magnitudes are folded: the size is
// bounded, the high quantiles keep the bound, and folding commutes with
// merging (split-independence holds also when collapsing).
TEST(QuantileSketchTest, SizeLimitKeepsHighQuantilesAndMerges) {
  std::vector<double> v;
  for (int e = -200; e <= 200; ++e)
    for (int k = 1; k <= 20; ++k) v.push_back(k * std::pow(10.0, e));
  QuantileSketch one;
  for (double x : v) one.Add(x);
  // Vectors may hold up to twice what they use.
  EXPECT_LE(one.MemoryUsage(), 2 * 2 * (QuantileSketch::kMaxBuckets + 1) * sizeof(uint64_t));
  std::string enc;
  one.Serialize(&enc);
  EXPECT_LE(enc.size(), 1 + 3 * 8 + 2 * (8 + QuantileSketch::kMaxBuckets * 8u));
  std::sort(v.begin(), v.end());
  // 401 decades; the top 35 (γ^4096 ≈ 1.6e35) keep the bound: q >= 0.92.
  for (double q : {0.95, 0.99, 1.0}) {
    EXPECT_LE(std::fabs(*one.Quantile(q) - Exact(v, q)), QuantileSketch::kRelativeAccuracy * Exact(v, q)) << q;
  }
  std::mt19937_64 rng(5);
  std::vector<double> shuffled = v;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  QuantileSketch a, b;
  for (size_t i = 0; i < shuffled.size(); ++i) (i % 3 ? a : b).Add(shuffled[i]);
  b.Merge(a);
  EXPECT_TRUE(b == one);
}

TEST(QuantileSketchTest, EncodingRoundTripsAndRejectsDamage) {
  QuantileSketch s;
  for (double x : Draw("normal", 10000, 1)) s.Add(x);
  s.Add(0);
  s.Add(HUGE_VAL);
  std::string enc;
  s.Serialize(&enc);
  std::string_view in = enc;
  QuantileSketch back;
  ASSERT_TRUE(QuantileSketch::Deserialize(&in, &back).ok());
  EXPECT_TRUE(in.empty());
  EXPECT_TRUE(back == s);
  for (size_t cut = 0; cut < enc.size(); cut += 7) {
    std::string_view part(enc.data(), cut);
    QuantileSketch x;
    EXPECT_FALSE(QuantileSketch::Deserialize(&part, &x).ok()) << cut;
  }
  std::string bad = enc;
  bad[0] = 9;  // version
  std::string_view b = bad;
  QuantileSketch x;
  EXPECT_FALSE(QuantileSketch::Deserialize(&b, &x).ok());
}

TEST(QuantileSketchTest, EmptyAndSpecialValues) {
  QuantileSketch s;
  EXPECT_FALSE(s.Quantile(0.5).has_value());
  s.Add(NAN);
  EXPECT_FALSE(s.Quantile(0.5).has_value());
  for (double x : {-HUGE_VAL, -5.0, 0.0, -0.0, 1e-320, 3.0, HUGE_VAL}) s.Add(x);
  EXPECT_EQ(*s.Quantile(0), -HUGE_VAL);
  EXPECT_NEAR(*s.Quantile(1.0 / 6), -5.0, 0.05);
  EXPECT_EQ(*s.Quantile(0.5), 0.0);  // 0, -0 and 1e-320 are zero
  EXPECT_NEAR(*s.Quantile(5.0 / 6), 3.0, 0.03);
  EXPECT_EQ(*s.Quantile(1), HUGE_VAL);
}

}  // namespace
}  // namespace lf
