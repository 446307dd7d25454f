// The fixed-offset fast path for the seed's timestamp form, shared by the
// decoder's exact path (json_decoder.cc) and its flat-line fast path
// (flat_line_decoder.cc).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "common/time.h"

namespace lf {

// Eight bytes at `p` as a little-endian word (unaligned).
inline uint64_t LoadWord(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// The seed's form "YYYY-MM-DD HH:MM:SS.mmm" (or with 'T'), parsed with fixed
// offsets eight bytes at a time; nullopt sends anything else, valid or not,
// to ParseTimestamp. The decoder test checks that both agree wherever this
// one accepts.
// The last valid date seen by ParseSeedTimestamp: events of a stream mostly
// share their day, so the calendar arithmetic is usually skipped.
struct DateCache {
  uint64_t key = ~uint64_t{0};  // "YYYY-MM-DD" bytes after the XOR, packed
  int64_t days = 0;
};

[[gnu::always_inline]] inline std::optional<int64_t> ParseSeedTimestamp(std::string_view s, DateCache* cache) {
  if (s.size() != 23) return std::nullopt;
  // Three overlapping words cover bytes 0-7, 8-15 and 15-22. XOR with the
  // expected text turns digits into 0..9 and matching separators into 0.
  constexpr uint64_t kPattern0 = 0x2d30302d30303030ULL;  // "0000-00-"
  constexpr uint64_t kPattern1 = 0x30303a3030203030ULL;  // "00 00:00"
  constexpr uint64_t kPattern2 = 0x3030302e30303a30ULL;  // "0:00.000"
  constexpr uint64_t kNibbles = 0xf0f0f0f0f0f0f0f0ULL;
  constexpr uint64_t kSixes = 0x0606060606060606ULL;
  uint64_t x0 = LoadWord(s.data()) ^ kPattern0;
  uint64_t x1 = LoadWord(s.data() + 8) ^ kPattern1;
  const uint64_t x2 = LoadWord(s.data() + 15) ^ kPattern2;
  if (((x1 >> 16) & 0xff) == ('T' ^ ' ')) x1 &= ~(uint64_t{0xff} << 16);
  // Separators must now be 0 and digits at most 9: the high nibble is zero,
  // and adding 6 does not carry into it.
  constexpr uint64_t kSeparators0 = 0xff0000ff00000000ULL;  // bytes 4 and 7
  constexpr uint64_t kSeparators1 = 0x0000ff0000ff0000ULL;  // bytes 2 and 5
  constexpr uint64_t kSeparators2 = 0x000000ff0000ff00ULL;  // bytes 1 and 4
  if ((x0 & kSeparators0) != 0 || (x1 & kSeparators1) != 0 || (x2 & kSeparators2) != 0) return std::nullopt;
  if (((x0 | x1 | x2) & kNibbles) != 0 || (((x0 + kSixes) | (x1 + kSixes) | (x2 + kSixes)) & kNibbles) != 0) {
    return std::nullopt;
  }
  auto d = [](uint64_t x, int i) { return static_cast<int64_t>((x >> (8 * i)) & 0xff); };
  const int64_t hour = d(x1, 3) * 10 + d(x1, 4);
  const int64_t minute = d(x1, 6) * 10 + d(x1, 7);
  const int64_t second = d(x2, 2) * 10 + d(x2, 3);
  const int64_t millis = d(x2, 5) * 100 + d(x2, 6) * 10 + d(x2, 7);
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  // The date: x0 holds "YYYY-MM-" as digit values with zero bytes 4 and 7
  // where the separators were; the two digits of DD (x1's low bytes) go there.
  const uint64_t key = x0 | ((x1 & 0xff) << 32) | (((x1 >> 8) & 0xff) << 56);
  if (key != cache->key) {
    const int64_t year = d(x0, 0) * 1000 + d(x0, 1) * 100 + d(x0, 2) * 10 + d(x0, 3);
    const int64_t month = d(x0, 5) * 10 + d(x0, 6);
    const int64_t day = d(x1, 0) * 10 + d(x1, 1);
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1) return std::nullopt;
    if (day > kDays[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0)) return std::nullopt;
    cache->days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    cache->key = key;
  }
  return ((cache->days * 24 + hour) * 60 + minute) * 60000 + second * 1000 + millis;
}

}  // namespace lf
