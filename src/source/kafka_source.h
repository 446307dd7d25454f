// KafkaSource: a LogSource over one Kafka topic, with librdkafka's consumer
// in manual-assignment mode. lambdaflow assigns partitions at its own start
// offsets (rd_kafka_assign); Kafka's committed offsets are never read
// (`enable.auto.commit=false`, no offset store), and a start offset the
// partition no longer holds is an error, never a silent jump
// (`auto.offset.reset=error`). Only committed transactional records are
// read (`isolation.level=read_committed`).
//
// Positions advance with each delivered record (offset + 1) and, at the end
// of a partition, to the fetch position librdkafka reports with its
// end-of-partition event (`enable.partition.eof=true`), which is past any
// transaction markers: coverage reaches the high watermark when the
// partition is fully read.
//
// A broker that goes away is retried by librdkafka (reconnect backoff up
// to 1 s here); Poll reports those errors in health() and goes on.
// Consumer groups (subscribe, cooperative rebalances) are not part of this
// class yet.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "source/kafka_client.h"
#include "source/kafka_url.h"
#include "source/log_source.h"

namespace lf {

struct KafkaSourceOptions {
  KafkaUrl url;
  KafkaSettings settings;  // the user's librdkafka properties, applied last
  std::chrono::milliseconds connect_timeout{10000};
  // The consumer group the sealed offsets are committed to (for lag tools
  // only: partitions are assigned, never read from the group).
  std::string group = "lambdaflow";
};

class KafkaSource final : public LogSource {
 public:
  // Connects and reads the topic's partition count: Unavailable when no
  // broker answers, NotFound when the topic does not exist.
  static Result<std::unique_ptr<KafkaSource>> Open(const KafkaSourceOptions& o);
  ~KafkaSource() override;

  uint32_t partition_count() const override { return partitions_; }
  Status Assign(const std::vector<PartitionStart>& starts) override;
  Status Poll(size_t max_records, std::chrono::milliseconds timeout, RecordBatch* out) override;
  Result<uint64_t> Position(uint32_t partition) const override;
  Result<PartitionBounds> Bounds(uint32_t partition, std::chrono::milliseconds timeout) override;
  // One ListOffsets request per leader (rd_kafka_offsets_for_times at
  // "latest"), instead of two per partition.
  Result<std::vector<uint64_t>> HighWatermarks(const std::vector<uint32_t>& partitions,
                                               std::chrono::milliseconds timeout) override;
  Status Pause(const std::vector<uint32_t>& partitions, bool pause) override;
  void CommitAsync(uint32_t partition, uint64_t offset) override;
  SourceHealth health() const override { return health_; }
  std::string Describe() const override { return "kafka://" + url_.brokers + "/" + url_.topic; }

 private:
  KafkaSource() = default;
  // The error for a partition whose start offset is gone (or beyond its end).
  Status LostRange(uint32_t partition, uint64_t wanted);

  KafkaUrl url_;
  RdKafkaHandle rk_;
  uint32_t partitions_ = 0;
  std::map<uint32_t, uint64_t> positions_;  // assigned partitions
  SourceHealth health_;
};

}  // namespace lf
