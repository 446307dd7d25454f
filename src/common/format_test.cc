#include "common/format.h"

#include <gtest/gtest.h>

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
