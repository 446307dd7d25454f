#include "source/kafka_client.h"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace lf {

namespace {

// librdkafka logs every failed connection attempt; lambdaflow reports what
// matters through Status and health counters instead, and lets only
// critical messages through.
void QuietLog(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 2) std::fprintf(stderr, "librdkafka %s: %s\n", fac, buf);
}

}  // namespace

Result<RdKafkaHandle> NewKafkaClient(rd_kafka_type_t type, const std::string& brokers, const KafkaSettings& defaults,
                                     const KafkaSettings& user, void (*configure)(rd_kafka_conf_t*, void*),
                                     void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& name, const std::string& value, const char* origin) -> Status {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument(std::string("Kafka setting ") + origin + "'" + name + "' = '" + value +
                                     "': " + err);
    }
    return Status::OK();
  };
  Status st = set("bootstrap.servers", brokers, "");
  for (const auto& [k, v] : defaults) {
    if (st.ok()) st = set(k, v, "");
  }
  for (const auto& [k, v] : user) {
    if (st.ok()) st = set(k, v, "from the [kafka] settings: ");
  }
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  rd_kafka_conf_set_log_cb(conf, QuietLog);
  if (configure != nullptr) configure(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));  // takes the conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("Kafka client: ") + err);
  }
  return RdKafkaHandle(rk);
}

Status KafkaError(rd_kafka_resp_err_t err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += rd_kafka_err2str(err);
  msg += " (";
  msg += rd_kafka_err2name(err);
  msg += ")";
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      return Status::Unavailable(std::move(msg));
    default:
      return Status::IOError(std::move(msg));
  }
}

Result<int> FetchPartitionCount(rd_kafka_t* rk, const std::string& brokers, const std::string& topic,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
  // The first request may fail while the client is still connecting: ask
  // again until the deadline.
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk, 0, rkt, &md, static_cast<int>(std::min<int64_t>(left.count(), 2000)));
    rd_kafka_topic_destroy(rkt);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      int count = -1;
      rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
      for (int i = 0; i < md->topic_cnt; ++i) {
        if (topic == md->topics[i].topic) {
          topic_err = md->topics[i].err;
          count = md->topics[i].partition_cnt;
        }
      }
      rd_kafka_metadata_destroy(md);
      if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && count > 0) return count;
      if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || count <= 0) {
        last = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      } else {
        last = topic_err;
      }
    } else {
      last = err;
    }
    if (last == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (last == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return Status::NotFound("Kafka topic '" + topic + "' does not exist at " + brokers +
                            " (create it first, e.g. with kafka-topics.sh --create)");
  }
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%.1f", static_cast<double>(timeout.count()) / 1000.0);
  return Status::Unavailable("cannot reach Kafka at " + brokers + " within " + secs + " s (" + rd_kafka_err2str(last) +
                             "): is a broker listening there?");
}

}  // namespace lf
