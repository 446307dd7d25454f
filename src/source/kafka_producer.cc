#include "source/kafka_producer.h"

#include <algorithm>
#include <thread>

namespace lf {

namespace {

void DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<KafkaProducer*>(opaque)->OnDelivery(m);
}

// Transient errors (a broker down) are retried by librdkafka; a record that
// cannot be delivered in time fails its delivery report, which is counted.
void OnError(rd_kafka_t*, int, const char*, void*) {}

void Configure(rd_kafka_conf_t* conf, void* opaque) {
  rd_kafka_conf_set_dr_msg_cb(conf, DeliveryReport);
  rd_kafka_conf_set_error_cb(conf, OnError);
  rd_kafka_conf_set_opaque(conf, opaque);
}

}  // namespace

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Open(const KafkaProducerOptions& o) {
  std::unique_ptr<KafkaProducer> p(new KafkaProducer());
  p->url_text_ = "kafka://" + o.url.brokers + "/" + o.url.topic;
  const KafkaSettings defaults = {
      {"enable.idempotence", "true"},
      {"partitioner", "murmur2_random"},  // the Java client's: same key, same partition
      {"linger.ms", "5"},
      {"compression.codec", "lz4"},
      {"client.id", "lambdaflow-produce"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  ASSIGN_OR_RETURN(p->rk_, NewKafkaClient(RD_KAFKA_PRODUCER, o.url.brokers, defaults, o.settings, Configure, p.get()));
  ASSIGN_OR_RETURN(p->partitions_, FetchPartitionCount(p->rk_.get(), o.url.brokers, o.url.topic, o.connect_timeout));
  p->topic_ = rd_kafka_topic_new(p->rk_.get(), o.url.topic.c_str(), nullptr);
  if (p->topic_ == nullptr) return KafkaError(rd_kafka_last_error(), "open topic " + o.url.topic);
  p->latency_ms_.reserve(kSamples);
  return p;
}

KafkaProducer::~KafkaProducer() {
  if (rk_) {
    // Records still queued are dropped: Flush is how a caller waits for them.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_.get(), 0);
  }
  if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
}

Status KafkaProducer::Produce(std::string_view key, std::string_view value) {
  const int64_t queued_at = (std::chrono::steady_clock::now() - epoch_).count();
  while (true) {
    const int r = rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                                   value.size(), key.data(), key.size(),
                                   reinterpret_cast<void*>(static_cast<intptr_t>(queued_at)));
    if (r == 0) break;
    const rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return KafkaError(err, "produce to " + url_text_);
    rd_kafka_poll(rk_.get(), 10);  // the queue drains as deliveries are reported
  }
  ++queued_;
  rd_kafka_poll(rk_.get(), 0);
  if (!first_error_.ok() && rd_kafka_fatal_error(rk_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return first_error_;  // the idempotent producer cannot go on
  }
  return Status::OK();
}

Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
  if (!first_error_.ok()) return first_error_;
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::Unavailable(std::to_string(rd_kafka_outq_len(rk_.get())) + " records to " + url_text_ +
                               " still unacknowledged after " + std::to_string(timeout.count()) + " ms");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "flush to " + url_text_);
  return Status::OK();
}

void KafkaProducer::OnDelivery(const rd_kafka_message_t* m) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++failed_;
    if (first_error_.ok()) {
      first_error_ = KafkaError(m->err, "delivery to " + url_text_ + " partition " + std::to_string(m->partition));
    }
    return;
  }
  ++delivered_;
  const int64_t queued_at = static_cast<int64_t>(reinterpret_cast<intptr_t>(m->_private));
  const auto now = (std::chrono::steady_clock::now() - epoch_).count();
  const float ms = static_cast<float>(static_cast<double>(now - queued_at) / 1e6);
  if (latency_ms_.size() < kSamples) {
    latency_ms_.push_back(ms);
  } else {
    const uint64_t slot = rng_() % static_cast<uint64_t>(delivered_);
    if (slot < kSamples) latency_ms_[slot] = ms;
  }
}

double KafkaProducer::LatencyMs(double q) const {
  if (latency_ms_.empty()) return 0;
  std::vector<float> sorted = latency_ms_;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(i), sorted.end());
  return sorted[i];
}

}  // namespace lf
