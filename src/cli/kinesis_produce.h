// `lambdaflow produce --to kinesis://STREAM`: the seed events put into a
// Kinesis stream (src/source/kinesis_producer.h: PutRecords of ≤ 500
// records and ≤ 5 MiB, partition key = zipcode, only failed entries sent
// again), with a report like the other producers'. AWS configuration from
// AWS's environment variables (AWS_ENDPOINT_URL_KINESIS for an emulator).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace lf::cli {

struct KinesisProduceOptions {
  std::string url;
  int64_t count = 10000;  // 0: no limit (until interrupted)
  double rate = 0;        // events per second; 0: as fast as possible
  uint64_t seed = 1;
  std::string report_json;
  const std::atomic<bool>* interrupted = nullptr;
};

// Returns the exit code; the report goes to stderr.
int RunKinesisProduce(const KinesisProduceOptions& o);

}  // namespace lf::cli
