// Timestamps: milliseconds since the Unix epoch, UTC. Parsing of the text
// forms lambdaflow accepts, calendar arithmetic for DATE_TRUNC and EXTRACT.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lf {

// The supported range of timestamps: 0001-01-01 00:00:00.000 to
// 9999-12-31 23:59:59.999 UTC, the years the four-digit text form can
// write. Every timestamp lambdaflow holds is inside it (ingest rejects
// others, casts give NULL), so no calendar function can overflow.
inline constexpr int64_t kMinTimestampMs = -62135596800000;  // 0001-01-01
inline constexpr int64_t kMaxTimestampMs = 253402300799999;  // 9999-12-31 23:59:59.999
inline constexpr bool InTimestampRange(int64_t ms) { return ms >= kMinTimestampMs && ms <= kMaxTimestampMs; }
// "0001-01-01 00:00:00.000 to 9999-12-31 23:59:59.999 UTC", for messages.
const char* TimestampRangeText();

// Parses "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.f...]]" and the ISO-8601 form
// with 'T', an optional fraction and an optional "Z" or "+hh:mm"/"-hh:mm"
// (also "+hhmm", "+hh"). Zoneless times are UTC. Fractions beyond
// milliseconds are truncated. Returns nullopt for anything else, including
// out-of-range fields (month 13, February 30, hour 24, ...) and times
// outside the supported range (year 0000, or 9999-12-31 23:00-05:00).
std::optional<int64_t> ParseTimestamp(std::string_view s);
// The same, but without the range check: tells a timestamp out of range
// from text that is no timestamp, for messages.
std::optional<int64_t> ParseTimestampUnchecked(std::string_view s);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

struct CivilTime {
  int64_t year;
  unsigned month, day, hour, minute, second, millis;
};
CivilTime ToCivil(int64_t ms);

enum class TimeUnit : uint8_t { kMillisecond, kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };
// "second", "minute", ... (case-insensitive) -> unit.
std::optional<TimeUnit> ParseTimeUnit(std::string_view s);
const char* TimeUnitName(TimeUnit u);

// DATE_TRUNC: the start of the unit containing `ms`. Weeks start on Monday.
int64_t TruncateTimestamp(TimeUnit unit, int64_t ms);

enum class TimeField : uint8_t {
  kYear,
  kQuarter,
  kMonth,
  kWeek,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
  kDayOfWeek,
  kDayOfYear,
  kEpoch
};
std::optional<TimeField> ParseTimeField(std::string_view s);
// EXTRACT: the field as an integer (second is 0-59; epoch is seconds;
// dow is 0 = Sunday .. 6 = Saturday; week is the ISO week).
int64_t ExtractField(TimeField field, int64_t ms);

}  // namespace lf
