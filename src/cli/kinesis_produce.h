// `lambdaflow produce --to kinesis://STREAM`: the seed events put into a
// Kinesis stream (src/source/kinesis_producer.h: PutRecords of ≤ 500
// records and ≤ 5 MiB, partition key = zipcode, only failed entries sent
// again), with a report like the other producers'. AWS configuration from
// AWS's environment variables (AWS_ENDPOINT_URL_KINESIS for an emulator).
#pragma once

#include "cli/stream_produce_options.h"

namespace lf::cli {

using KinesisProduceOptions = StreamProduceOptions;

// Returns the exit code; the report goes to stderr.
int RunKinesisProduce(const KinesisProduceOptions& o);

}  // namespace lf::cli
