// Text renderings shared by every output: shortest round-trip doubles,
// timestamps, TSV and JSON escaping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lf {

// Shortest form that reads back to the same double ("16", "0.1", "1e+300");
// "nan", "inf", "-inf" for the specials.
void AppendDouble(double d, std::string* out);
// "YYYY-MM-DD HH:MM:SS.fff" in UTC.
void AppendTimestamp(int64_t ms, std::string* out);
// TSV field escaping: backslash, tab, newline, carriage return as \\ \t \n \r.
void AppendTsvEscaped(std::string_view s, std::string* out);
// A JSON string literal with quotes; control characters escaped; invalid
// UTF-8 bytes replaced by U+FFFD.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace lf
