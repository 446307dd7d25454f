// Validation of whole NDJSON lines against the stream: which lines are
// accepted (their bytes go to the log as they are) and which are rejected
// (with a reason). File ingest and HTTP ingest both validate through here.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/vector.h"
#include "ingest/input_reader.h"
#include "ingest/json_decoder.h"

namespace lf {

bool IsBlankLine(std::string_view line);

// Validates every line of `chunk`: appends the accepted lines (views into
// the chunk, without a trailing '\r') to *records in order and the rejected
// ones to *rejects in line order; blank lines are neither. `scratch` is a
// batch of the stream's types that the decoded rows go through (cleared).
// With `rows`, the decoded rows of the accepted lines are kept there too,
// in order, in batches of the stream's types (`scratch` is then unused).
void ValidateLines(JsonDecoder& decoder, const LineChunk& chunk, Batch* scratch, std::vector<std::string_view>* records,
                   std::vector<Reject>* rejects, std::vector<std::unique_ptr<Batch>>* rows = nullptr);

}  // namespace lf
