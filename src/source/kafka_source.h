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
//
// Consumer-group membership (`run --group`, KafkaSourceOptions::membership):
// the source subscribes to the topic in its group with the cooperative-sticky
// assignor, and Kafka's group assigns the partitions and detects failed
// members. The rebalance callback (served inside Poll, on the polling
// thread) hands gained partitions to membership.on_gain, which claims them
// and answers lambdaflow's own start offsets, then assigns exactly those
// with rd_kafka_incremental_assign; lost ones go to membership.on_lose and
// are unassigned with rd_kafka_incremental_unassign. Reading stays
// rd_kafka_consumer_poll, one message at a time (librdkafka 2.0 calls
// rd_kafka_consume_batch* unsafe during rebalances). Assign is refused
// in this mode: the group assigns.
#pragma once

#include <chrono>
#include <functional>
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
  // Membership in `group` (see the file comment); off: every partition is
  // assigned by lambdaflow, the group only receives commits.
  struct Membership {
    bool enabled = false;
    // How long the group waits for a silent member before its partitions
    // move (heartbeats every third of it).
    std::chrono::milliseconds session_timeout{10000};
    // Partitions the group gives this member: claim each (the store's
    // epoch + 1) and return the offsets to read them from. A partition left
    // out of the answer (its claim failed) is not read; an error is logged
    // in health() and nothing of this rebalance is read.
    std::function<Result<std::vector<PartitionStart>>(const std::vector<uint32_t>& gained)> on_gain;
    // Partitions taken away (`lost`: the member was already out of the
    // group, e.g. after a pause longer than the session timeout, so another
    // member may own them already). Called before they are unassigned, with
    // their positions still answered by Position. Also for everything held
    // when the source is destroyed.
    std::function<void(const std::vector<uint32_t>& revoked, bool lost)> on_lose;
  };
  Membership membership = {};
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
  // The partitions read now, ascending (with membership: what the group
  // assigned and on_gain accepted).
  std::vector<uint32_t> Assigned() const;
  // With membership: the rebalances seen (assignments and revocations).
  uint64_t rebalances() const { return rebalances_; }
  std::string Describe() const override { return "kafka://" + url_.brokers + "/" + url_.topic; }

 private:
  KafkaSource() = default;
  // The error for a partition whose start offset is gone (or beyond its end).
  Status LostRange(uint32_t partition, uint64_t wanted);
  // The rebalance callback's two halves (membership).
  friend void OnKafkaRebalance(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*);
  void Gain(rd_kafka_topic_partition_list_t* parts);
  void Lose(rd_kafka_topic_partition_list_t* parts);
  void TransientError(const std::string& text);

 public:
  // For the client error callback (kafka_source.cc) only.
  void TransientErrorForCallback(const std::string& text);

 private:
  KafkaUrl url_;
  RdKafkaHandle rk_;
  uint32_t partitions_ = 0;
  std::map<uint32_t, uint64_t> positions_;  // assigned partitions
  SourceHealth health_;
  KafkaSourceOptions::Membership membership_;
  uint64_t rebalances_ = 0;
  // With membership: the assignors' rebalance protocol is cooperative
  // (incremental assign/unassign) rather than eager.
  bool cooperative_ = false;
};

}  // namespace lf
