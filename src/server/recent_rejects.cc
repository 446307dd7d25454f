// The recent rejected lines as JSON; see recent_rejects.h.
#include "server/recent_rejects.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>

#include "engine/dead_letters.h"

namespace lf {

Result<std::string> RecentRejectsJson(FileSystem* fs, const std::string& store_path, size_t limit) {
  limit = std::min(limit, kMaxRecentRejects);
  ASSIGN_OR_RETURN(auto lines, ReadRecentDeadLetters(fs, store_path, limit));
  std::string out = "{\"rejects\":[";
  simdjson::dom::parser parser;
  bool first = true;
  for (const std::string& line : lines) {
    simdjson::dom::object obj;
    if (parser.parse(line).get(obj)) continue;
    if (!first) out += ",";
    first = false;
    out += line;
  }
  return out + "],\"limit\":" + std::to_string(limit) + "}";
}

Result<size_t> ParseRejectsLimit(const std::string& text) {
  if (text.empty()) return kDefaultRecentRejects;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (text.find_first_not_of("0123456789") != std::string::npos || *end != '\0' || n > kMaxRecentRejects)
    return Status::InvalidArgument("limit must be an integer from 0 to " + std::to_string(kMaxRecentRejects) +
                                   ", got '" + text + "'");
  return static_cast<size_t>(n);
}

}  // namespace lf
