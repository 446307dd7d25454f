// Kafka's key hash: murmur2 as the Java client's default partitioner (and
// librdkafka's "murmur2" partitioners) compute it, so that a key lands in the
// same partition number whether it arrives over HTTP (`partition_by`) or
// through Kafka (`produce --to kafka://`).
#pragma once

#include <cstdint>
#include <string_view>

namespace lf {

// The 32-bit murmur2 of `key` with Kafka's seed (0x9747b28c).
uint32_t Murmur2(std::string_view key);

// The partition of `key` among `partitions` (> 0): the positive part of
// murmur2, modulo the count (Kafka's `toPositive(murmur2(key)) % n`).
inline int KeyPartition(std::string_view key, int partitions) {
  return static_cast<int>((Murmur2(key) & 0x7fffffffu) % static_cast<uint32_t>(partitions));
}

}  // namespace lf
