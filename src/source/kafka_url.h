// kafka://HOST:PORT[,HOST:PORT...]/TOPIC: how the CLI names a Kafka topic.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lf {

struct KafkaUrl {
  std::string brokers;  // "host:port,host:port": librdkafka's bootstrap.servers
  std::string topic;
};

// Parses `url`; InvalidArgument saying what is wrong and what is expected
// (`flag` names the option in messages, e.g. "--to").
Result<KafkaUrl> ParseKafkaUrl(std::string_view url, std::string_view flag);

// Whether `url` starts with "kafka://".
bool IsKafkaUrl(std::string_view url);

}  // namespace lf
