#include "common/time.h"

#include <cctype>
#include <string>

namespace lf {
namespace {

constexpr int64_t kMsPerDay = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at s[*pos]; advances.
bool Digits(std::string_view s, size_t* pos, int n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*pos + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

CivilTime ToCivil(int64_t ms) {
  CivilTime t{};
  int64_t days = FloorDiv(ms, kMsPerDay);
  int64_t rem = ms - days * kMsPerDay;
  CivilFromDays(days, &t.year, &t.month, &t.day);
  t.hour = static_cast<unsigned>(rem / 3600000);
  t.minute = static_cast<unsigned>(rem / 60000 % 60);
  t.second = static_cast<unsigned>(rem / 1000 % 60);
  t.millis = static_cast<unsigned>(rem % 1000);
  return t;
}

const char* TimestampRangeText() { return "0001-01-01 00:00:00.000 to 9999-12-31 23:59:59.999 UTC"; }

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  auto ms = ParseTimestampUnchecked(s);
  if (ms && !InTimestampRange(*ms)) return std::nullopt;
  return ms;
}

std::optional<int64_t> ParseTimestampUnchecked(std::string_view s) {
  size_t p = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(s, &p, 4, &year)) return std::nullopt;
  if (p >= s.size() || s[p++] != '-') return std::nullopt;
  if (!Digits(s, &p, 2, &month)) return std::nullopt;
  if (p >= s.size() || s[p++] != '-') return std::nullopt;
  if (!Digits(s, &p, 2, &day)) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) return std::nullopt;
  int64_t offset_min = 0;
  if (p < s.size()) {
    if (s[p] != ' ' && s[p] != 'T' && s[p] != 't') return std::nullopt;
    ++p;
    if (!Digits(s, &p, 2, &hour)) return std::nullopt;
    if (p >= s.size() || s[p++] != ':') return std::nullopt;
    if (!Digits(s, &p, 2, &minute)) return std::nullopt;
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, &p, 2, &second)) return std::nullopt;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int n = 0;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          if (n < 3) millis = millis * 10 + (s[p] - '0');
          ++n;
          ++p;
        }
        if (n == 0 || n > 9) return std::nullopt;
        for (int k = n; k < 3; ++k) millis *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    if (p < s.size()) {
      char c = s[p];
      if ((c == 'Z' || c == 'z') && p + 1 == s.size()) {
        ++p;
      } else if (c == '+' || c == '-') {
        ++p;
        int64_t oh = 0, om = 0;
        if (!Digits(s, &p, 2, &oh)) return std::nullopt;
        if (p < s.size() && s[p] == ':') ++p;
        if (p < s.size() && !Digits(s, &p, 2, &om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_min = (oh * 60 + om) * (c == '+' ? 1 : -1);
      }
      if (p != s.size()) return std::nullopt;
    }
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute - offset_min) * 60000 + second * 1000 + millis;
}

std::optional<TimeUnit> ParseTimeUnit(std::string_view s) {
  static const std::pair<const char*, TimeUnit> kUnits[] = {
      {"millisecond", TimeUnit::kMillisecond},
      {"milliseconds", TimeUnit::kMillisecond},
      {"second", TimeUnit::kSecond},
      {"seconds", TimeUnit::kSecond},
      {"minute", TimeUnit::kMinute},
      {"minutes", TimeUnit::kMinute},
      {"hour", TimeUnit::kHour},
      {"hours", TimeUnit::kHour},
      {"day", TimeUnit::kDay},
      {"days", TimeUnit::kDay},
      {"week", TimeUnit::kWeek},
      {"weeks", TimeUnit::kWeek},
      {"month", TimeUnit::kMonth},
      {"months", TimeUnit::kMonth},
      {"quarter", TimeUnit::kQuarter},
      {"quarters", TimeUnit::kQuarter},
      {"year", TimeUnit::kYear},
      {"years", TimeUnit::kYear},
  };
  for (const auto& [name, unit] : kUnits)
    if (EqualsIgnoreCase(s, name)) return unit;
  return std::nullopt;
}

const char* TimeUnitName(TimeUnit u) {
  switch (u) {
    case TimeUnit::kMillisecond:
      return "millisecond";
    case TimeUnit::kSecond:
      return "second";
    case TimeUnit::kMinute:
      return "minute";
    case TimeUnit::kHour:
      return "hour";
    case TimeUnit::kDay:
      return "day";
    case TimeUnit::kWeek:
      return "week";
    case TimeUnit::kMonth:
      return "month";
    case TimeUnit::kQuarter:
      return "quarter";
    case TimeUnit::kYear:
      return "year";
  }
  return "?";
}

int64_t TruncateTimestamp(TimeUnit unit, int64_t ms) {
  auto floor_to = [&](int64_t step) { return FloorDiv(ms, step) * step; };
  switch (unit) {
    case TimeUnit::kMillisecond:
      return ms;
    case TimeUnit::kSecond:
      return floor_to(1000);
    case TimeUnit::kMinute:
      return floor_to(60000);
    case TimeUnit::kHour:
      return floor_to(3600000);
    case TimeUnit::kDay:
      return floor_to(kMsPerDay);
    case TimeUnit::kWeek: {
      // 1970-01-01 was a Thursday; Monday 1969-12-29 is day -3.
      int64_t days = FloorDiv(ms, kMsPerDay);
      return (FloorDiv(days + 3, 7) * 7 - 3) * kMsPerDay;
    }
    case TimeUnit::kMonth:
    case TimeUnit::kQuarter:
    case TimeUnit::kYear: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(FloorDiv(ms, kMsPerDay), &y, &m, &d);
      if (unit == TimeUnit::kYear) m = 1;
      if (unit == TimeUnit::kQuarter) m = (m - 1) / 3 * 3 + 1;
      return DaysFromCivil(y, m, 1) * kMsPerDay;
    }
  }
  return ms;
}

std::optional<TimeField> ParseTimeField(std::string_view s) {
  static const std::pair<const char*, TimeField> kFields[] = {
      {"year", TimeField::kYear},
      {"quarter", TimeField::kQuarter},
      {"month", TimeField::kMonth},
      {"week", TimeField::kWeek},
      {"day", TimeField::kDay},
      {"hour", TimeField::kHour},
      {"minute", TimeField::kMinute},
      {"second", TimeField::kSecond},
      {"millisecond", TimeField::kMillisecond},
      {"milliseconds", TimeField::kMillisecond},
      {"dow", TimeField::kDayOfWeek},
      {"doy", TimeField::kDayOfYear},
      {"epoch", TimeField::kEpoch},
  };
  for (const auto& [name, field] : kFields)
    if (EqualsIgnoreCase(s, name)) return field;
  return std::nullopt;
}

int64_t ExtractField(TimeField field, int64_t ms) {
  CivilTime t = ToCivil(ms);
  int64_t days = FloorDiv(ms, kMsPerDay);
  switch (field) {
    case TimeField::kYear:
      return t.year;
    case TimeField::kQuarter:
      return (t.month - 1) / 3 + 1;
    case TimeField::kMonth:
      return t.month;
    case TimeField::kDay:
      return t.day;
    case TimeField::kHour:
      return t.hour;
    case TimeField::kMinute:
      return t.minute;
    case TimeField::kSecond:
      return t.second;
    case TimeField::kMillisecond:
      return t.second * 1000 + t.millis;
    case TimeField::kDayOfWeek:
      return ((days % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday (4)
    case TimeField::kDayOfYear:
      return days - DaysFromCivil(t.year, 1, 1) + 1;
    case TimeField::kEpoch:
      return FloorDiv(ms, 1000);
    case TimeField::kWeek: {
      // ISO week: the week (Monday-based) containing this date's Thursday.
      int64_t dow_mon0 = ((days % 7) + 7 + 3) % 7;  // 0 = Monday
      int64_t thursday = days - dow_mon0 + 3;
      int64_t ty;
      unsigned tm, td;
      CivilFromDays(thursday, &ty, &tm, &td);
      return (thursday - DaysFromCivil(ty, 1, 1)) / 7 + 1;
    }
  }
  return 0;
}

}  // namespace lf
