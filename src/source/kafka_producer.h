// KafkaProducer: publishes records to a Kafka topic with librdkafka's
// idempotent producer (`enable.idempotence=true`: acks from all in-sync
// replicas, retries that never duplicate or reorder a partition's records),
// keyed so that one key always lands in one partition. Keys are hashed with
// murmur2 like the Java client's default partitioner, so lambdaflow and
// producers in other languages agree on where a key goes.
//
// Delivery: Produce queues a record (waiting, while serving delivery
// reports, when librdkafka's local queue is full); Flush waits until every
// queued record is delivered or has failed. Counters and the delivery
// latency (queued -> acknowledged) come from librdkafka's delivery reports.
//
// Not thread-safe: one thread produces, flushes and reads the counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/kafka_client.h"
#include "source/kafka_url.h"

namespace lf {

struct KafkaProducerOptions {
  KafkaUrl url;
  KafkaSettings settings;  // the user's librdkafka properties, applied last
  // How long to wait for the cluster's metadata before calling the brokers unreachable.
  std::chrono::milliseconds connect_timeout{10000};
};

class KafkaProducer {
 public:
  // Connects and checks the topic: Unavailable when no broker answers,
  // NotFound when the topic does not exist.
  static Result<std::unique_ptr<KafkaProducer>> Open(const KafkaProducerOptions& o);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  Status Produce(std::string_view key, std::string_view value);
  // Waits up to `timeout` for every queued record; then the first delivery
  // error if any record failed, Unavailable if some are still in flight.
  Status Flush(std::chrono::milliseconds timeout);

  int partitions() const { return partitions_; }
  int64_t queued() const { return queued_; }
  int64_t delivered() const { return delivered_; }
  int64_t failed() const { return failed_; }
  // Delivery latency in ms at quantile q (0..1) over a uniform sample of
  // the delivered records; 0 without any.
  double LatencyMs(double q) const;

  // Called by librdkafka's delivery report callback (internal).
  void OnDelivery(const rd_kafka_message_t* m);

 private:
  KafkaProducer() = default;

  RdKafkaHandle rk_;
  rd_kafka_topic_t* topic_ = nullptr;
  std::string url_text_;
  int partitions_ = 0;
  int64_t queued_ = 0;
  int64_t delivered_ = 0;
  int64_t failed_ = 0;
  Status first_error_;
  // Reservoir sample of delivery latencies (bounded memory for endless runs).
  static constexpr size_t kSamples = 100000;
  std::vector<float> latency_ms_;
  std::mt19937_64 rng_{12345};
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};

}  // namespace lf
