// `lambdaflow produce --to kafka://HOST:PORT[,...]/TOPIC`: the seed events
// published to a Kafka topic by the idempotent producer (src/source),
// keyed by zipcode, with a report like the HTTP producer's.
#pragma once

#include "cli/stream_produce_options.h"

namespace lf::cli {

using KafkaProduceOptions = StreamProduceOptions;

// Returns the exit code; the report goes to stderr.
int RunKafkaProduce(const KafkaProduceOptions& o);

}  // namespace lf::cli
