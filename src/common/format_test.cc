#include "common/format.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdlib>
#include <vector>

namespace lf {
namespace {

std::string Dbl(double d) {
  std::string s;
  AppendDouble(d, &s);
  return s;
}

TEST(Format, DoublesShortestRoundTrip) {
  EXPECT_EQ(Dbl(16), "16");
  EXPECT_EQ(Dbl(0.1), "0.1");
  EXPECT_EQ(Dbl(-2.5), "-2.5");
  EXPECT_EQ(Dbl(1.0 / 3), "0.3333333333333333");
}

// Whole numbers take a fast path; it must give exactly the bytes of the
// general shortest conversion, including where scientific form is shorter.
TEST(Format, WholeDoublesMatchTheGeneralConversion) {
  auto general = [](double d) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof(buf), d);
    return std::string(buf, res.ptr);
  };
  std::vector<double> values = {1,
                                -1,
                                9,
                                10,
                                100,
                                1000,
                                10000,
                                100000,
                                1200000,
                                12000000,
                                123000000,
                                -100000,
                                -10000,
                                9007199254740991.0,
                                -9007199254740991.0,
                                9007199254740992.0,
                                4503599627370496.0,
                                1e15,
                                1e16,
                                123456789012345.0,
                                1e22,
                                -0.0};
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const int64_t mag = static_cast<int64_t>(x >> (11 + x % 50));  // all sizes up to 2^53
    int64_t n = (x & 1) ? -mag : mag;
    for (int z = 0; z < static_cast<int>(x >> 60) % 8 && std::abs(n) < (int64_t{1} << 49); ++z) n *= 10;
    values.push_back(static_cast<double>(n));
  }
  for (double d : values) ASSERT_EQ(Dbl(d), general(d)) << d;
  EXPECT_EQ(Dbl(100000), "1e+05");
  EXPECT_EQ(Dbl(10000), "10000");
}

TEST(Format, Timestamp) {
  std::string s;
  AppendTimestamp(1414870541158, &s);
  EXPECT_EQ(s, "2014-11-01 19:35:41.158");
}

TEST(Format, TsvEscapes) {
  std::string s;
  AppendTsvEscaped("a\\b\tc\nd\re", &s);
  EXPECT_EQ(s, "a\\\\b\\tc\\nd\\re");
}

TEST(Format, JsonString) {
  std::string s;
  AppendJsonString("a\"b\x01\xff", &s);
  EXPECT_EQ(s, "\"a\\\"b\\u0001\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace lf
