// lambdaflow's murmur2 key partitioning (common/murmur2.h, used by HTTP
// ingest's `partition_by`) equals librdkafka's murmur2 partitioner, the one
// `produce --to kafka://` uses: a key lands in the same partition number
// over HTTP and through Kafka.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

#include "common/murmur2.h"

namespace lf {
namespace {

TEST(KeyPartition, EqualsLibrdkafkasMurmur2Partitioner) {
  int checked = 0;
  for (int n : {1, 2, 3, 8, 13, 100}) {
    for (int i = 0; i < 2000; ++i) {
      // Zip codes, short and long keys, every tail length.
      std::string key = std::to_string(i * 7919 % 100000);
      if (i % 3 == 1) key += std::string(static_cast<size_t>(i % 17), static_cast<char>('a' + i % 26));
      if (i % 5 == 2) key = std::string(static_cast<size_t>(i % 9), static_cast<char>(0x80 + i % 100));
      const int32_t theirs = rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), n, nullptr, nullptr);
      ASSERT_EQ(KeyPartition(key, n), theirs) << "key '" << key << "', " << n << " partitions";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12000);
}

}  // namespace
}  // namespace lf
