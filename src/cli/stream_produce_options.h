// The options of the seed producers into an external stream:
// `produce --to kafka://...` (kafka_produce.h) and `produce --to
// kinesis://...` (kinesis_produce.h) take the same flags.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace lf::cli {

struct StreamProduceOptions {
  std::string url;
  int64_t count = 10000;  // 0: no limit (until interrupted)
  double rate = 0;        // events per second; 0: as fast as possible
  uint64_t seed = 1;
  std::string report_json;
  const std::atomic<bool>* interrupted = nullptr;
};

}  // namespace lf::cli
