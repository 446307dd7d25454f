#include "common/format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "common/time.h"

namespace lf {

void AppendDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("nan");
    return;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "inf" : "-inf");
    return;
  }
  char buf[32];
  // Whole numbers below 2^53 (sums of whole prices, counts as doubles) are
  // written as integers when that is what the shortest form would be:
  // their shortest digits are the integer's without trailing zeros, and
  // the fixed form is chosen unless the scientific one ("1e+05") is
  // strictly shorter. A few times cheaper than the general conversion.
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (d > -kExact && d < kExact && d != 0 && d == std::trunc(d)) {
    const int64_t n = static_cast<int64_t>(d);
    auto res = std::to_chars(buf, buf + sizeof(buf), n);
    const char* digits = buf + (n < 0);
    const int len = static_cast<int>(res.ptr - digits);
    int zeros = 0;
    while (zeros < len - 1 && res.ptr[-1 - zeros] == '0') ++zeros;
    const int mantissa = len - zeros;
    const int scientific = mantissa + (mantissa > 1) + 4;  // "D.DDe+XX": the exponent is below 100
    if (len <= scientific) {
      out->append(buf, res.ptr);
      return;
    }
  }
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, res.ptr);
}

void AppendTimestamp(int64_t ms, std::string* out) {
  CivilTime t = ToCivil(ms);
  if (t.year < 0 || t.year > 9999) {
    char buf[48];
    int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u %02u:%02u:%02u.%03u", static_cast<long long>(t.year),
                          t.month, t.day, t.hour, t.minute, t.second, t.millis);
    out->append(buf, static_cast<size_t>(n));
    return;
  }
  // The common case, formatted by hand: this runs once per timestamp cell of
  // every TSV and JSON answer.
  char buf[23];
  auto put = [&buf](int at, unsigned v, int digits) {
    for (int k = digits - 1; k >= 0; --k) {
      buf[at + k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, static_cast<unsigned>(t.year), 4);
  buf[4] = '-';
  put(5, t.month, 2);
  buf[7] = '-';
  put(8, t.day, 2);
  buf[10] = ' ';
  put(11, t.hour, 2);
  buf[13] = ':';
  put(14, t.minute, 2);
  buf[16] = ':';
  put(17, t.second, 2);
  buf[19] = '.';
  put(20, t.millis, 3);
  out->append(buf, sizeof(buf));
}

void AppendTsvEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

namespace {
// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}
}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8SeqLen(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace lf
