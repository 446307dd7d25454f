// `lambdaflow produce --to kafka://HOST:PORT[,...]/TOPIC`: the seed events
// published to a Kafka topic by the idempotent producer (src/source),
// keyed by zipcode, with a report like the HTTP producer's.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace lf::cli {

struct KafkaProduceOptions {
  std::string url;
  int64_t count = 10000;  // 0: no limit (until interrupted)
  double rate = 0;        // events per second; 0: as fast as possible
  uint64_t seed = 1;
  std::string report_json;
  const std::atomic<bool>* interrupted = nullptr;
};

// Returns the exit code; the report goes to stderr.
int RunKafkaProduce(const KafkaProduceOptions& o);

}  // namespace lf::cli
