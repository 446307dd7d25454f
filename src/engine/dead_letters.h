// Reading the dead-letter store (data_dir.h: `rejects/rejects.jsonl`, one
// JSON object per rejected line, appended in order) from its end: the most
// recent rejects, for the dashboard and `GET /v1/rejects`, without reading
// a store that may hold millions of lines.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace lf {

// At most this much of the store's tail is read per call.
inline constexpr size_t kMaxDeadLetterTailBytes = size_t{8} << 20;

// The last `limit` complete lines of the store at `path`, newest first. A
// last line without its '\n' (an append in progress) is left out, and so
// is a line cut by `max_tail_bytes`. A missing store has no lines.
Result<std::vector<std::string>> ReadRecentDeadLetters(FileSystem* fs, const std::string& path, size_t limit,
                                                       size_t max_tail_bytes = kMaxDeadLetterTailBytes);

}  // namespace lf
