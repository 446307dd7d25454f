// Tests of the HyperLogLog sketch: accuracy at several cardinalities, exact
// merging across the sparse/dense representations, and the encoding.
#include "agg/hyperloglog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

// The dense reference: 4096 byte registers, each the max rank of its hashes.
struct Reference {
  std::array<uint8_t, HyperLogLog::kRegisters> r{};
  void Add(uint64_t h) {
    const auto index = static_cast<uint32_t>(h >> 52);
    const auto rho = static_cast<uint8_t>(std::countl_zero((h << 12) | (uint64_t{1} << 11)) + 1);
    r[index] = std::max(r[index], rho);
  }
  size_t NonZero() const { return HyperLogLog::kRegisters - std::count(r.begin(), r.end(), 0); }
  // The documented encoding of these registers: sparse up to kMaxSparse non-zero ones, else packed dense.
  std::string Encoding() const {
    std::string out("\x01", 1);
    if (NonZero() <= HyperLogLog::kMaxSparse) {
      out.push_back('\0');
      out.push_back(static_cast<char>(NonZero() & 0xff));
      out.push_back(static_cast<char>(NonZero() >> 8));
      for (uint32_t i = 0; i < HyperLogLog::kRegisters; ++i) {
        if (r[i] == 0) continue;
        out.push_back(static_cast<char>(i & 0xff));
        out.push_back(static_cast<char>(i >> 8));
        out.push_back(static_cast<char>(r[i]));
      }
      return out;
    }
    out.push_back('\x01');
    for (uint32_t i = 0; i < HyperLogLog::kRegisters; i += 4) {
      const uint32_t w = r[i] | (r[i + 1] << 6) | (r[i + 2] << 12) | (uint32_t{r[i + 3]} << 18);
      out.push_back(static_cast<char>(w));
      out.push_back(static_cast<char>(w >> 8));
      out.push_back(static_cast<char>(w >> 16));
    }
    return out;
  }
};

// Random hashes, a few with large ranks; `registers` bounds the registers they touch.
std::vector<uint64_t> RandomHashes(size_t n, uint32_t registers, std::mt19937_64& rng) {
  std::vector<uint64_t> hs(n);
  for (auto& h : hs) {
    h = rng();
    h = (h & ((uint64_t{1} << 52) - 1)) | (uint64_t{static_cast<uint32_t>(rng() % registers)} << 52);
    if (rng() % 16 == 0) h &= ~((uint64_t{1} << 52) - (uint64_t{1} << (rng() % 52)));  // long run of zeros
  }
  return hs;
}

void ExpectMatches(const HyperLogLog& h, const Reference& ref) {
  ASSERT_EQ(h.NonZeroRegisters(), ref.NonZero());
  EXPECT_EQ(h.is_sparse(), ref.NonZero() <= HyperLogLog::kMaxSparse);
  for (uint32_t i = 0; i < HyperLogLog::kRegisters; ++i) ASSERT_EQ(h.Register(i), ref.r[i]) << "register " << i;
  std::string bytes;
  h.Serialize(&bytes);
  ASSERT_EQ(bytes, ref.Encoding());
  std::string_view in = bytes;
  HyperLogLog back;
  ASSERT_TRUE(HyperLogLog::Deserialize(&in, &back).ok());
  EXPECT_TRUE(in.empty());
  EXPECT_TRUE(back == h);
  EXPECT_EQ(back.Estimate(), h.Estimate());
}

// The compact representation (inline list, chunk-sized heap list, dense
// block) against the dense reference: random inputs of every size class,
// merges of three parts in every order and across representations, copies,
// moves and round trips through the encoding.
TEST(HyperLogLogTest, CompactFormsMatchDenseReference) {
  std::mt19937_64 rng(20261206);
  const size_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 15, 18, 30, 100, 200, 255, 256, 257, 300, 1000, 20000};
  for (size_t n : sizes) {
    for (uint32_t registers : {4u, 300u, HyperLogLog::kRegisters}) {
      SCOPED_TRACE("n " + std::to_string(n) + ", registers " + std::to_string(registers));
      const auto hs = RandomHashes(n, registers, rng);
      Reference ref;
      HyperLogLog one;
      for (uint64_t h : hs) {
        ref.Add(h);
        one.AddHash(h);
      }
      ExpectMatches(one, ref);
      // Three random parts (sizes vary: some empty, some sparse, some dense), merged in every order.
      std::vector<size_t> cut = {rng() % (n + 1), rng() % (n + 1)};
      std::sort(cut.begin(), cut.end());
      std::array<HyperLogLog, 3> part;
      for (size_t k = 0; k < n; ++k) part[k < cut[0] ? 0 : k < cut[1] ? 1 : 2].AddHash(hs[k]);
      std::array<int, 3> order = {0, 1, 2};
      do {
        HyperLogLog m = part[order[0]];  // a copy
        m.Merge(part[order[1]]);
        HyperLogLog tail = part[order[2]];
        HyperLogLog moved = std::move(tail);
        m.Merge(moved);
        ExpectMatches(m, ref);
        EXPECT_TRUE(m == one);
        // Merging the pair into the third (the other association).
        HyperLogLog pair = part[order[1]];
        pair.Merge(part[order[2]]);
        HyperLogLog m2;
        m2 = part[order[0]];
        m2.Merge(pair);
        EXPECT_TRUE(m2 == one);
      } while (std::next_permutation(order.begin(), order.end()));
      // Merging a copy of itself, and assigning over a sketch of another form.
      HyperLogLog self = one;
      self.Merge(one);
      EXPECT_TRUE(self == one);
      HyperLogLog other = FromInts(RandomInts(rng() % 2 ? 2 : 3000, rng()));
      other = one;
      EXPECT_TRUE(other == one);
      other = HyperLogLog();
      EXPECT_TRUE(other.empty());
    }
  }
}

// The object stays 16 bytes; small lists own no heap memory, larger ones fill chunk sizes.
TEST(HyperLogLogTest, SmallSketchesOwnNoHeap) {
  EXPECT_EQ(sizeof(HyperLogLog), 16u);
  HyperLogLog h;
  auto hash_for = [](uint32_t reg) { return (uint64_t{reg} << 52) | 1; };
  for (uint32_t i = 0; i < HyperLogLog::kInline; ++i) h.AddHash(hash_for(i));
  EXPECT_EQ(h.MemoryUsage(), 0u);
  h.AddHash(hash_for(100));
  EXPECT_EQ(h.MemoryUsage(), 6 * sizeof(uint32_t));
  for (uint32_t i = 200; i < 200 + HyperLogLog::kMaxSparse - 4; ++i) h.AddHash(hash_for(i));
  EXPECT_TRUE(h.is_sparse());
  EXPECT_EQ(h.MemoryUsage(), HyperLogLog::kMaxSparse * sizeof(uint32_t));
  h.AddHash(hash_for(4000));
  EXPECT_FALSE(h.is_sparse());
  EXPECT_EQ(h.MemoryUsage(), HyperLogLog::kRegisters);
}

}  // namespace
}  // namespace lf
