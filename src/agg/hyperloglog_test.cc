// Tests of the HyperLogLog sketch: accuracy at several cardinalities, exact
// merging across the sparse/dense representations, and the encoding.
#include "agg/hyperloglog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

namespace lf {
namespace {

constexpr double kStdError = 1.04 / 64;  // 1.04 / sqrt(4096)

HyperLogLog FromInts(const std::vector<int64_t>& xs) {
  HyperLogLog h;
  for (int64_t x : xs) h.AddHash(HyperLogLog::Hash(x));
  return h;
}

std::vector<int64_t> RandomInts(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> xs(n);
  for (auto& x : xs) x = static_cast<int64_t>(rng());
  return xs;
}

TEST(HyperLogLogTest, EmptyIsZero) {
  HyperLogLog h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.Estimate(), 0u);
}

// Relative error within 3 standard errors at each cardinality; distinct
// values come from fixed seeds, so the test is deterministic.
TEST(HyperLogLogTest, AccuracyWithinThreeStandardErrors) {
  for (size_t n : {10, 1000, 100000, 1000000}) {
    for (uint64_t seed : {1, 2, 3}) {
      HyperLogLog ints, dbls, strs;
      std::mt19937_64 rng(seed * 1000003 + n);
      for (size_t i = 0; i < n; ++i) {
        const uint64_t r = rng();
        ints.AddHash(HyperLogLog::Hash(static_cast<int64_t>(r)));
        ints.AddHash(HyperLogLog::Hash(static_cast<int64_t>(r)));  // duplicates change nothing
        dbls.AddHash(HyperLogLog::Hash(static_cast<double>(r >> 11) * 1e-3));
        const std::string s = "user-" + std::to_string(r % 1000000007) + "-" + std::to_string(i);
        strs.AddHash(HyperLogLog::Hash(std::string_view(s)));
      }
      for (const HyperLogLog* h : {&ints, &dbls, &strs}) {
        const double err = (static_cast<double>(h->Estimate()) - static_cast<double>(n)) / static_cast<double>(n);
        std::printf("n=%zu seed=%llu estimate=%llu relative error=%+.4f%%\n", n, static_cast<unsigned long long>(seed),
                    static_cast<unsigned long long>(h->Estimate()), 100 * err);
        EXPECT_LE(std::fabs(err), 3 * kStdError) << "n=" << n << " estimate=" << h->Estimate();
      }
    }
  }
}

// Below ~20 values a register collision is rare, so the estimate is exact;
// up to the sparse limit it stays within the 3-sigma bound plus one.
TEST(HyperLogLogTest, SmallCardinalitiesAreNearlyExact) {
  for (size_t n = 1; n <= 300; ++n) {
    const double est = static_cast<double>(FromInts(RandomInts(n, n)).Estimate());
    if (n <= 20) {
      EXPECT_EQ(est, n);
    }
    EXPECT_LE(std::fabs(est - static_cast<double>(n)), 1 + 3 * kStdError * static_cast<double>(n)) << n;
  }
}

// Over many independent sketches the root-mean-square relative error is the
// documented 1.04 / sqrt(m), and the estimator is unbiased.
TEST(HyperLogLogTest, RelativeStandardErrorMatchesTheory) {
  constexpr int kTrials = 100;
  constexpr size_t kN = 50000;
  double sum_sq = 0, sum = 0;
  for (int t = 0; t < kTrials; ++t) {
    const double err = (static_cast<double>(FromInts(RandomInts(kN, 5000 + t)).Estimate()) - kN) / kN;
    sum += err;
    sum_sq += err * err;
  }
  const double rms = std::sqrt(sum_sq / kTrials);
  std::printf("n=%zu trials=%d rms relative error=%.4f%% mean=%+.4f%%\n", kN, kTrials, 100 * rms, 100 * sum / kTrials);
  EXPECT_LE(rms, 1.25 * kStdError);
  EXPECT_LE(std::fabs(sum / kTrials), 3 * kStdError / std::sqrt(kTrials));
}

TEST(HyperLogLogTest, BecomesDenseAfterMaxSparseRegisters) {
  HyperLogLog h;
  // Register i gets value 1 + (i % 7): the hash's top 12 bits pick the register.
  auto hash_for = [](uint32_t reg, int rho) { return (uint64_t{reg} << 52) | (uint64_t{1} << (52 - rho)); };
  for (uint32_t i = 0; i < HyperLogLog::kMaxSparse; ++i) h.AddHash(hash_for(i * 13 % 4096, 1 + i % 7));
  EXPECT_TRUE(h.is_sparse());
  EXPECT_EQ(h.NonZeroRegisters(), HyperLogLog::kMaxSparse);
  h.AddHash(hash_for(0, 50));  // an existing register: still sparse
  EXPECT_TRUE(h.is_sparse());
  EXPECT_EQ(h.Register(0), 50);
  h.AddHash(hash_for(4095, 3));
  EXPECT_FALSE(h.is_sparse());
  EXPECT_EQ(h.NonZeroRegisters(), HyperLogLog::kMaxSparse + 1);
  EXPECT_EQ(h.Register(0), 50);
  EXPECT_EQ(h.Register(4095), 3);
  EXPECT_EQ(h.Register(13), 2);
  EXPECT_EQ(h.Register(1), 0);
  // All remaining bits zero gives the largest value.
  h.AddHash(uint64_t{7} << 52);
  EXPECT_EQ(h.Register(7), HyperLogLog::kMaxRho);
}

// merge(A, B) has the same registers, representation and bytes as one pass
// over A and B, for every pairing of sparse and dense.
TEST(HyperLogLogTest, MergeEqualsOnePassAcrossRepresentations) {
  const std::pair<size_t, size_t> sizes[] = {{0, 0},     {0, 5},    {5, 0},       {100, 100}, {150, 150},
                                             {200, 300}, {256, 1},  {257, 0},     {300, 10},  {10, 300},
                                             {5000, 5},  {5, 5000}, {4000, 4000}, {260, 260}, {120, 140}};
  uint64_t seed = 1;
  for (auto [na, nb] : sizes) {
    SCOPED_TRACE(std::to_string(na) + " + " + std::to_string(nb));
    const auto a = RandomInts(na, ++seed);
    auto b = RandomInts(nb, ++seed);
    b.insert(b.end(), a.begin(), a.begin() + std::min<size_t>(a.size(), 20));  // overlap
    HyperLogLog merged = FromInts(a);
    merged.Merge(FromInts(b));
    std::vector<int64_t> all = b;
    all.insert(all.end(), a.begin(), a.end());
    const HyperLogLog one = FromInts(all);
    EXPECT_TRUE(merged == one);
    EXPECT_EQ(merged.is_sparse(), one.is_sparse());
    EXPECT_EQ(merged.Estimate(), one.Estimate());
    std::string x, y;
    merged.Serialize(&x);
    one.Serialize(&y);
    EXPECT_EQ(x, y);
    for (uint32_t i = 0; i < HyperLogLog::kRegisters; ++i) ASSERT_EQ(merged.Register(i), one.Register(i));
    HyperLogLog self = one;
    self.Merge(self);
    EXPECT_TRUE(self == one);
  }
}

TEST(HyperLogLogTest, HashFoldsEqualDoubles) {
  EXPECT_EQ(HyperLogLog::Hash(0.0), HyperLogLog::Hash(-0.0));
  EXPECT_EQ(HyperLogLog::Hash(std::nan("1")), HyperLogLog::Hash(-std::nan("2")));
  EXPECT_NE(HyperLogLog::Hash(1.0), HyperLogLog::Hash(2.0));
}

TEST(HyperLogLogTest, EncodingRoundTripsAndHasDocumentedSize) {
  for (size_t n : {0, 1, 256, 257, 100000}) {
    const HyperLogLog h = FromInts(RandomInts(n, n + 99));
    std::string bytes;
    h.Serialize(&bytes);
    const size_t registers = h.NonZeroRegisters();
    EXPECT_EQ(bytes.size(), h.is_sparse() ? 4 + 3 * registers : 2 + 3072);
    bytes += "tail";
    std::string_view in = bytes;
    HyperLogLog back;
    ASSERT_TRUE(HyperLogLog::Deserialize(&in, &back).ok());
    EXPECT_EQ(in, "tail");
    EXPECT_TRUE(back == h);
    EXPECT_EQ(back.Estimate(), h.Estimate());
  }
}

TEST(HyperLogLogTest, DeserializeRejectsDamage) {
  auto bad = [](std::string bytes) {
    std::string_view in = bytes;
    HyperLogLog h = FromInts({1, 2, 3});
    const HyperLogLog before = h;
    Status st = HyperLogLog::Deserialize(&in, &h);
    EXPECT_TRUE(h == before);
    return st.code();
  };
  // version 1, sparse, 2 entries: (5, 1), (3, 2): not increasing.
  EXPECT_EQ(bad(std::string("\x01\x00\x02\x00\x05\x00\x01\x03\x00\x02", 10)), StatusCode::kCorruption);
  // register index 4096.
  EXPECT_EQ(bad(std::string("\x01\x00\x01\x00\x00\x10\x01", 7)), StatusCode::kCorruption);
  // value 0 and value 54.
  EXPECT_EQ(bad(std::string("\x01\x00\x01\x00\x05\x00\x00", 7)), StatusCode::kCorruption);
  EXPECT_EQ(bad(std::string("\x01\x00\x01\x00\x05\x00\x36", 7)), StatusCode::kCorruption);
  // too many sparse entries.
  EXPECT_EQ(bad(std::string("\x01\x00\x01\x01", 4) + std::string(257 * 3, '\0')), StatusCode::kCorruption);
  EXPECT_EQ(bad(std::string("\x02\x00\x00\x00", 4)), StatusCode::kCorruption);                      // version
  EXPECT_EQ(bad(std::string("\x01\x07\x00\x00", 4)), StatusCode::kCorruption);                      // form
  EXPECT_EQ(bad(std::string("\x01\x01", 2) + std::string(3071, '\0')), StatusCode::kCorruption);    // short
  EXPECT_EQ(bad(std::string("\x01\x01", 2) + std::string(3072, '\xff')), StatusCode::kCorruption);  // 63 > 53
  EXPECT_EQ(bad(""), StatusCode::kCorruption);
}

// A dense encoding of few registers (never written by this code) is read
// back in the canonical sparse form.
TEST(HyperLogLogTest, SparseDenseEncodingIsCanonicalized) {
  std::string bytes("\x01\x01", 2);
  std::string regs(3072, '\0');
  regs[0] = 5;  // register 0 = 5
  bytes += regs;
  std::string_view in = bytes;
  HyperLogLog h;
  ASSERT_TRUE(HyperLogLog::Deserialize(&in, &h).ok());
  EXPECT_TRUE(h.is_sparse());
  EXPECT_EQ(h.Register(0), 5);
  EXPECT_EQ(h.NonZeroRegisters(), 1u);
}

}  // namespace
}  // namespace lf
