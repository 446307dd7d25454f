#include "common/murmur2.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

// The vectors of Kafka's own test of its murmur2 (signed 32-bit values).
TEST(Murmur2, KafkaVectors) {
  EXPECT_EQ(static_cast<int32_t>(Murmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("abc")), 479470107);
}

TEST(Murmur2, KeyPartitionIsInRangeAndStable) {
  for (int n : {1, 3, 8}) {
    for (const char* key : {"", "10001", "94107", "abc"}) {
      const int p = KeyPartition(key, n);
      EXPECT_GE(p, 0);
      EXPECT_LT(p, n);
      EXPECT_EQ(p, KeyPartition(key, n));
    }
  }
  EXPECT_EQ(KeyPartition("21", 8), static_cast<int>((static_cast<uint32_t>(-973932308) & 0x7fffffffu) % 8));
}

}  // namespace
}  // namespace lf
