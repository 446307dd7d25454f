// What the Kafka producer and source share: owned librdkafka handles, client
// configuration from lambdaflow's defaults plus the user's settings (the
// `[kafka]` table: strings passed to librdkafka as they are), errors turned
// into Status, and the metadata probe that tells "no broker there" from "no
// such topic" before anything is produced or consumed.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lf {

// librdkafka properties, applied in order (a later one wins).
using KafkaSettings = std::vector<std::pair<std::string, std::string>>;

struct RdKafkaDestroy {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafkaHandle = std::unique_ptr<rd_kafka_t, RdKafkaDestroy>;

// A client of `type` with `bootstrap.servers` = brokers, then `defaults`,
// then `user` (which may override any default). `configure` (may be null)
// installs callbacks on the configuration before the client is created.
// InvalidArgument naming the property for a bad setting.
Result<RdKafkaHandle> NewKafkaClient(rd_kafka_type_t type, const std::string& brokers, const KafkaSettings& defaults,
                                     const KafkaSettings& user, void (*configure)(rd_kafka_conf_t*, void*) = nullptr,
                                     void* opaque = nullptr);

// "<context>: <librdkafka's text> (<error name>)", as an IOError, or
// Unavailable for the errors of a broker that cannot be reached.
Status KafkaError(rd_kafka_resp_err_t err, std::string_view context);

// The number of partitions of `topic`, asking the cluster at `brokers`
// (for messages) for up to `timeout`. Unavailable when no broker answers
// ("cannot reach Kafka at ..."), NotFound when the topic does not exist.
Result<int> FetchPartitionCount(rd_kafka_t* rk, const std::string& brokers, const std::string& topic,
                                std::chrono::milliseconds timeout);

}  // namespace lf
