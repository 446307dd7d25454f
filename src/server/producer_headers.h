// The idempotent-producer headers of `POST /v1/events`, parsed and checked
// apart from any HTTP library: X-Producer-Id (1 to 64 bytes, any content)
// and X-Producer-Seq (a decimal batch number, 0 to 2^64-1). Both or neither.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "log/producer_table.h"

namespace lf {

inline constexpr const char* kProducerIdHeader = "X-Producer-Id";
inline constexpr const char* kProducerSeqHeader = "X-Producer-Seq";

// nullopt when neither header is present; InvalidArgument (HTTP 400) saying
// what is wrong and what to send otherwise.
Result<std::optional<ProducerBatch>> ParseProducerHeaders(const std::optional<std::string>& id,
                                                          const std::optional<std::string>& seq);

}  // namespace lf
