// See flat_line_decoder.h. The scan keeps one pointer into the line; every
// read is bounded by `end` except the key comparison, which reads up to 16
// bytes of the padding and then checks that the match ended before `end`.
#include "ingest/flat_line_decoder.h"

#include <simdjson.h>

#include <cstring>
#include <limits>

namespace lf {
namespace {

// 10^k for k <= 22, all exact doubles.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

inline bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// Whitespace inside a line ('\n' ends it). Usually there is none: one
// comparison decides (every whitespace byte is <= ' '; *end is padding,
// readable).
inline const char* SkipSpace(const char* p, const char* end) {
  if (static_cast<unsigned char>(*p) > ' ') [[likely]] {
    return p;
  }
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
  return p;
}

// What may follow a value: whitespace, ',' or '}' (or the end, which the
// caller then rejects).
inline bool IsValueEnd(const char* p, const char* end) {
  return p == end || *p == ',' || *p == '}' || *p == ' ' || *p == '\t' || *p == '\r';
}

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// The high bit of each byte of `w` below `n` (n <= 0x80); exact up to the
// lowest such byte (borrows only run upwards from it), which is all the
// callers use.
inline uint64_t BytesBelow(uint64_t w, uint64_t n) { return (w - kOnes * n) & ~w & kHighBits; }

// The first '"', '\\' or control character at or after `p`, eight bytes at a
// time (reading up to 7 bytes past `end`, into the padding); the result may
// lie at or beyond `end`, which the caller treats as unterminated. *high gets
// the OR of the bytes before it: its kHighBits are set if any is not ASCII.
inline const char* FindStringStop(const char* p, const char* end, uint64_t* high) {
  uint64_t h = 0;
  while (true) {
    const uint64_t w = LoadWord(p);
    const uint64_t stop = BytesBelow(w ^ (kOnes * '"'), 1) | BytesBelow(w ^ (kOnes * '\\'), 1) | BytesBelow(w, 0x20);
    if (stop != 0) {
      h |= w & ((stop & -stop) - 1);  // the bytes below the stop (and 7 bits of it, never the high one)
      *high = h;
      return p + (__builtin_ctzll(stop) >> 3);
    }
    h |= w;
    p += 8;
    if (p >= end) {
      *high = h;
      return end;
    }
  }
}

// How many of the 8 bytes of `w` are ASCII digits before the first other
// byte (8 if all are). A byte below '0' borrows from the bytes above it, a
// byte above '9' carries into them, so only the lowest flag is exact.
inline int LeadingDigits(uint64_t w) {
  const uint64_t x = w - kOnes * '0';
  const uint64_t other = (x | (x + kOnes * 0x76)) & kHighBits;
  return other != 0 ? __builtin_ctzll(other) >> 3 : 8;
}

// The value of the first n (1..8) bytes of `w`, all digits, without a loop:
// the digits move to the top of the word (zeros before them), then pairs,
// quads and octets of digits are combined by multiplication.
inline uint64_t DigitsValue(uint64_t w, int n) {
  uint64_t x = (w - kOnes * '0') << (64 - 8 * n);
  x = x * 10 + (x >> 8);
  return ((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)) +
          ((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))) >>
         32;
}

// The short forms by the word: -?(0|[1-9][0-9]{0,6})(\.[0-9]{1,7})? (at most
// 7 digits each, so that a non-digit follows within the word), followed by a
// value end before `end`. Sets *m (the digits as one integer), *frac (digits
// after the point, 0 without one), *neg, and returns the position after the
// number; nullptr for anything else (the callers then try the loops).
[[gnu::always_inline]] inline const char* ParseShortNumber(const char* p, const char* end, uint64_t* m, int* frac,
                                                           bool* neg) {
  *neg = *p == '-';
  p += *neg;
  uint64_t w = LoadWord(p);
  const int n = LeadingDigits(w);
  if (n == 0 || n == 8 || (n > 1 && *p == '0')) return nullptr;
  uint64_t v = DigitsValue(w, n);
  p += n;
  *frac = 0;
  if (*p == '.') {
    w = LoadWord(p + 1);
    const int f = LeadingDigits(w);
    if (f == 0 || f == 8) return nullptr;
    static constexpr uint64_t kScale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
    v = v * kScale[f] + DigitsValue(w, f);
    p += 1 + f;
    *frac = f;
  }
  if (p >= end || !IsValueEnd(p, end)) return nullptr;
  *m = v;
  return p;
}

// -?(0|[1-9][0-9]*) with at most 18 digits, followed by a value end; sets
// *out and returns the position after it, or nullptr.
[[gnu::always_inline]] inline const char* ParseInt(const char* p, const char* end, int64_t* out) {
  {
    uint64_t m;
    int frac;
    bool neg;
    const char* q = ParseShortNumber(p, end, &m, &frac, &neg);
    if (q != nullptr) {
      if (frac != 0) return nullptr;
      *out = neg ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
      return q;
    }
  }
  const bool neg = p < end && *p == '-';
  p += neg;
  if (p == end || !IsDigit(*p)) return nullptr;
  const char* digits = p;
  uint64_t m = 0;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && IsDigit(*p)) m = m * 10 + static_cast<uint64_t>(*p++ - '0');
    if (p - digits > 18) return nullptr;
  }
  if (!IsValueEnd(p, end)) return nullptr;  // a fraction, an exponent or junk
  *out = neg ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
  return p;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)? in the exactly convertible range (see the
// header), followed by a value end.
inline const char* ParseDouble(const char* p, const char* end, double* out) {
  {
    uint64_t m;
    int frac;
    bool neg;
    const char* q = ParseShortNumber(p, end, &m, &frac, &neg);
    if (q != nullptr) {  // m < 10^14 and frac <= 7: exact as below
      double d = static_cast<double>(m);
      if (frac > 0) d /= kPow10[frac];
      *out = neg ? -d : d;
      return q;
    }
  }
  const bool neg = p < end && *p == '-';
  p += neg;
  if (p == end || !IsDigit(*p)) return nullptr;
  uint64_t m = 0;
  int digits = 0;  // significant ones (leading zeros of m do not count)
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && IsDigit(*p)) {
      m = m * 10 + static_cast<uint64_t>(*p++ - '0');
      if (++digits > 19) return nullptr;
    }
  }
  int frac = 0;
  if (p < end && *p == '.') {
    ++p;
    while (p < end && IsDigit(*p)) {
      m = m * 10 + static_cast<uint64_t>(*p++ - '0');
      ++frac;
      digits += m != 0;
      if (digits > 19) return nullptr;
    }
    if (frac == 0 || frac > 22) return nullptr;
  }
  if (!IsValueEnd(p, end) || m > (uint64_t{1} << 53)) return nullptr;
  double d = static_cast<double>(m);
  if (frac > 0) d /= kPow10[frac];
  *out = neg ? -d : d;
  return p;
}

}  // namespace

FlatLineDecoder::FlatLineDecoder(const StreamSchema& schema, size_t max_line_bytes, bool copy_text)
    : max_line_bytes_(max_line_bytes),
      enabled_(!schema.columns.empty() && schema.columns.size() <= 64),
      copy_text_(copy_text) {
  names_.reserve(schema.columns.size());
  for (const ColumnSchema& cs : schema.columns) names_.push_back(cs.name);
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const ColumnSchema& cs = schema.columns[i];
    Column c{cs.type, cs.not_null, true, names_[i]};
    for (unsigned char ch : cs.name) c.matchable &= (ch >= 0x20 && ch != '"' && ch != '\\');
    std::string quoted = cs.name + '"';
    if (quoted.size() <= 16) {
      char bytes[16] = {};
      std::memcpy(bytes, quoted.data(), quoted.size());
      auto mask = [](size_t n) { return n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1; };
      c.key_words = quoted.size() <= 8 ? 1 : 2;
      c.m0 = mask(quoted.size());
      c.w0 = LoadWord(bytes) & c.m0;
      if (c.key_words == 2) {
        c.m1 = mask(quoted.size() - 8);
        c.w1 = LoadWord(bytes + 8) & c.m1;
      }
    }
    if (cs.type == TypeId::kText) text_columns_.push_back(i);
    if (i < 64) {
      all_mask_ |= uint64_t{1} << i;
      if (cs.not_null) not_null_mask_ |= uint64_t{1} << i;
    }
    columns_.push_back(c);
  }
}

inline bool FlatLineDecoder::KeyIs(const char* raw, const char* end, const Column& c) const {
  if (!c.matchable) return false;
  if (c.key_words == 1) {
    if ((LoadWord(raw) & c.m0) != c.w0) return false;
  } else if (c.key_words == 2) {
    if (LoadWord(raw) != c.w0 || (LoadWord(raw + 8) & c.m1) != c.w1) return false;
  } else {
    if (static_cast<size_t>(end - raw) <= c.name.size()) return false;
    if (std::memcmp(raw, c.name.data(), c.name.size()) != 0 || raw[c.name.size()] != '"') return false;
  }
  return raw + c.name.size() < end;  // the closing quote is inside the line
}

size_t FlatLineDecoder::DecodeLine(const char* const start, const char* end, Batch* batch) {
  const size_t row = batch->size;
  const char* p = SkipSpace(start, end);
  if (p == end || *p != '{') return 0;
  p = SkipSpace(p + 1, end);
  uint64_t seen = 0;
  if (p < end && *p == '}') {
    ++p;
  } else {
    const size_t ncols = columns_.size();
    while (true) {
      // "key"
      if (p == end || *p != '"') return 0;
      ++p;
      size_t c = next_col_;
      if (!KeyIs(p, end, columns_[c])) {
        c = 0;
        while (c < ncols && !KeyIs(p, end, columns_[c])) ++c;
        if (c == ncols) return 0;  // unknown, escaped or a case variant
      }
      next_col_ = c + 1 == ncols ? 0 : c + 1;
      const uint64_t bit = uint64_t{1} << c;
      if (seen & bit) return 0;  // duplicate
      seen |= bit;
      const Column& col = columns_[c];
      p = SkipSpace(p + col.name.size() + 1, end);
      if (p == end || *p != ':') return 0;
      p = SkipSpace(p + 1, end);
      if (p == end) return 0;
      // The value.
      Vector& vec = batch->columns[c];
      if (*p == 'n') {
        if (col.not_null || end - p < 4 || std::memcmp(p, "null", 4) != 0 || !IsValueEnd(p + 4, end)) return 0;
        vec.SetNull(row);
        p += 4;
      } else if (col.type == TypeId::kDouble) {
        double d;
        if ((p = ParseDouble(p, end, &d)) == nullptr) return 0;
        vec.SetDouble(row, d);
      } else if (col.type == TypeId::kInt || col.type == TypeId::kBigInt) {
        int64_t x;
        if ((p = ParseInt(p, end, &x)) == nullptr) return 0;
        if (col.type == TypeId::kInt &&
            (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max())) {
          return 0;
        }
        vec.SetInt(row, x);
      } else if (*p == '"' && (col.type == TypeId::kText || col.type == TypeId::kTimestamp)) {
        const char* s = ++p;
        uint64_t high;
        p = FindStringStop(p, end, &high);
        if (p >= end || *p != '"') return 0;  // unterminated, an escape or a control character
        const std::string_view text(s, static_cast<size_t>(p - s));
        ++p;
        if (!IsValueEnd(p, end)) return 0;
        if ((high & kHighBits) != 0 && !simdjson::validate_utf8(text.data(), text.size())) return 0;
        if (col.type == TypeId::kText) {
          vec.SetString(row, text);
        } else {
          std::optional<int64_t> ms = ParseSeedTimestamp(text, &date_cache_);
          if (!ms) ms = ParseTimestamp(text);
          if (!ms || !InTimestampRange(*ms)) return 0;
          vec.SetInt(row, *ms);
        }
      } else if (col.type == TypeId::kTimestamp) {
        int64_t ms;
        if ((p = ParseInt(p, end, &ms)) == nullptr || !InTimestampRange(ms)) return 0;
        vec.SetInt(row, ms);
      } else if (col.type == TypeId::kBoolean) {
        if (end - p >= 4 && std::memcmp(p, "true", 4) == 0) {
          vec.SetInt(row, 1);
          p += 4;
        } else if (end - p >= 5 && std::memcmp(p, "false", 5) == 0) {
          vec.SetInt(row, 0);
          p += 5;
        } else {
          return 0;
        }
        if (!IsValueEnd(p, end)) return 0;
      } else {
        return 0;
      }
      p = SkipSpace(p, end);
      if (p == end) return 0;
      if (*p == '}') {
        ++p;
        break;
      }
      if (*p != ',') return 0;
      p = SkipSpace(p + 1, end);
    }
  }
  // Only whitespace up to the end of the line.
  p = SkipSpace(p, end);
  if (p < end && *p != '\n') return 0;
  size_t line_bytes = static_cast<size_t>(p - start);
  if (line_bytes > 0 && start[line_bytes - 1] == '\r') --line_bytes;  // as Decode drops it
  if (line_bytes > max_line_bytes_) return 0;
  // Columns without a field: NULL, or the exact path's missing_field.
  if (seen != all_mask_) {
    if ((not_null_mask_ & ~seen) != 0) return 0;
    for (size_t c = 0; c < columns_.size(); ++c) {
      if ((seen & (uint64_t{1} << c)) == 0) batch->columns[c].SetNull(row);
    }
  }
  if (copy_text_) {
    for (size_t c : text_columns_) {
      Vector& vec = batch->columns[c];
      if (!vec.IsNull(row)) vec.strs[row] = batch->arena.Copy(vec.strs[row]);
    }
  }
  batch->size = row + 1;
  return static_cast<size_t>(p - start) + (p < end ? 1 : 0);
}

}  // namespace lf
