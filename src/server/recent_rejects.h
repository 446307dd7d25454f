// The body of `GET /v1/rejects?limit=N` (README, "HTTP API"): the most
// recent rejected lines of the dead-letter store, newest first, as the
// store keeps them ({"time", "input", "line", "reason", "detail", "raw"}).
#pragma once

#include <cstddef>
#include <string>

#include "common/file_system.h"
#include "common/status.h"

namespace lf {

inline constexpr size_t kDefaultRecentRejects = 20;
inline constexpr size_t kMaxRecentRejects = 1000;

// {"rejects": [...], "limit": n}. A stored line that is not a JSON object
// (damage) is left out rather than breaking the answer. `limit` is capped
// at kMaxRecentRejects.
Result<std::string> RecentRejectsJson(FileSystem* fs, const std::string& store_path, size_t limit);

// The `limit` query parameter: empty is kDefaultRecentRejects; anything but
// an integer in [0, kMaxRecentRejects] is InvalidArgument (a 400).
Result<size_t> ParseRejectsLimit(const std::string& text);

}  // namespace lf
