// Tests of the flat-line fast path: it takes the plain lines it is meant for,
// and whatever it takes, it decodes to the row the exact path (JsonDecoder::
// Decode) gives, bit for bit; everything else it leaves alone.
#include "ingest/flat_line_decoder.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ingest/json_decoder.h"

namespace lf {
namespace {

StreamSchema TestSchema() {
  StreamSchema s;
  s.name = "flat";
  s.columns = {{"i", TypeId::kInt, false},
               {"b", TypeId::kBigInt, false},
               {"d", TypeId::kDouble, false},
               {"t", TypeId::kText, true},
               {"f", TypeId::kBoolean, false},
               {"ts", TypeId::kTimestamp, false},
               {"LongColumnName17", TypeId::kInt, false}};
  return s;
}

std::string Render(const Batch& batch, size_t row) {
  std::string out;
  for (const Vector& v : batch.columns) {
    if (v.IsNull(row)) {
      out += "NULL|";
      continue;
    }
    switch (PhysicalOf(v.type)) {
      case PhysicalType::kInt64:
        out += std::to_string(v.ints[row]);
        break;
      case PhysicalType::kDouble: {
        uint64_t bits;
        std::memcpy(&bits, &v.dbls[row], sizeof(bits));
        out += "d" + std::to_string(bits);
        break;
      }
      case PhysicalType::kString:
        out += "'" + std::string(v.strs[row]) + "'";
        break;
    }
    out += '|';
  }
  return out;
}

// Runs `line` (with a '\n' after it, then padding of bytes that must not
// matter) through both paths. Returns whether the fast path took it; when it
// did, the exact path must accept it with the same row, and the consumed
// bytes must be the line and its '\n'.
bool FastTakes(const std::string& line, size_t max_line_bytes = 1 << 20) {
  const StreamSchema schema = TestSchema();
  FlatLineDecoder flat(schema, max_line_bytes);
  DecoderOptions opts;
  opts.max_line_bytes = max_line_bytes;
  JsonDecoder exact(schema, opts);
  std::string buf = line + "\n";
  const size_t size = buf.size();
  buf.append(kJsonPadding, '"');
  Batch fast_batch(schema.types());
  Batch exact_batch(schema.types());
  const size_t n = flat.DecodeLine(buf.data(), buf.data() + size, &fast_batch);
  if (n == 0) {
    EXPECT_EQ(fast_batch.size, 0u) << line;
    return false;
  }
  EXPECT_EQ(n, size) << line;
  EXPECT_EQ(fast_batch.size, 1u) << line;
  Reject reject;
  bool blank = false;
  const bool ok = exact.Decode(line, line.size(), 1, &exact_batch, &reject, &blank);
  EXPECT_TRUE(ok) << line << ": the exact path says " << reject.detail;
  if (ok) {
    EXPECT_EQ(Render(fast_batch, 0), Render(exact_batch, 0)) << line;
  }
  // Text lives in the batch's arena, not in the input.
  if (!fast_batch.columns[3].IsNull(0) && !fast_batch.columns[3].strs[0].empty()) {
    const char* t = fast_batch.columns[3].strs[0].data();
    EXPECT_TRUE(t < buf.data() || t >= buf.data() + buf.size()) << line;
  }
  return true;
}

TEST(FlatLineDecoderTest, TakesPlainFlatObjects) {
  EXPECT_TRUE(
      FastTakes(R"({"i":1,"b":-2,"d":3.25,"t":"x","f":true,"ts":"2014-11-01 19:35:41.158","LongColumnName17":7})"));
  EXPECT_TRUE(FastTakes(R"({"t":"product4","d":84,"ts":"2014-11-01T19:35:41.158","i":94164})"));  // other order
  EXPECT_TRUE(FastTakes(R"(  { "t" : "a b" , "i" : -0 , "d" : -0 }  )"));                         // whitespace
  EXPECT_TRUE(FastTakes("{\"t\":\"a\"}\r"));                                                      // CRLF
  EXPECT_TRUE(FastTakes(R"({"t":"a","i":null,"d":null,"f":false,"ts":null})"));
  EXPECT_TRUE(FastTakes(R"({"t":"","ts":1414870541158})"));      // epoch milliseconds
  EXPECT_TRUE(FastTakes(R"({"t":"é ü 😀","ts":"2020-02-29"})"));  // UTF-8 text, another timestamp form
  EXPECT_TRUE(FastTakes(R"({"t":"a","d":0.1,"b":-123456789012345678})"));
  EXPECT_TRUE(FastTakes(R"({"t":"a","d":9007199254740992})"));  // 2^53
  EXPECT_TRUE(FastTakes(R"({"t":"a","d":0.000000000000000000001})"));
  EXPECT_TRUE(FastTakes(R"({"t":"a","i":2147483647,"LongColumnName17":-2147483648})"));
  EXPECT_TRUE(FastTakes(R"({"t":"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"})"));
}

TEST(FlatLineDecoderTest, LeavesEverythingElseToTheExactPath) {
  const std::vector<std::string> lines = {
      "", "   ", "{", "}", "[]", "1", R"("s")", "{}x", R"({"t":"a"} {})", R"({"t":"a"}})", R"({"t":"a",})",
      R"({"t":"a" "i":1})", R"({"t":"a","i":})", R"({"t":"a")",
      // keys: unknown, escaped, case variants, repeated
      R"({"t":"a","x":1})", R"({"t":"a","\u0069":1})", R"({"T":"a"})", R"({"t":"a","t":"b"})",
      R"({"t":"a","i":1,"i":null})", R"({"t":"a","longcolumnname17":1})", R"({"t":"a","LongColumnName1":1})",
      R"({"t":"a","LongColumnName177":1})",
      // values of the wrong type or form
      R"({"t":1})", R"({"t":null})", R"({"i":1})", R"({"t":"a","i":1.5})", R"({"t":"a","i":1e3})",
      R"({"t":"a","i":"1"})", R"({"t":"a","i":01})", R"({"t":"a","i":-})", R"({"t":"a","i":2147483648})",
      R"({"t":"a","b":1234567890123456789})", R"({"t":"a","d":1e10})", R"({"t":"a","d":1.})", R"({"t":"a","d":.5})",
      R"({"t":"a","d":9007199254740993})", R"({"t":"a","d":0.00000000000000000000001})",
      R"({"t":"a","d":12345678901234567890})", R"({"t":"a","d":"1"})", R"({"t":"a","d":+1})", R"({"t":"a","f":1})",
      R"({"t":"a","f":truex})", R"({"t":"a","f":nul})", R"({"t":"a","i":nullx})", R"({"t":"a","ts":"yesterday"})",
      R"({"t":"a","ts":"2014-13-01 00:00:00.000"})", R"({"t":"a","ts":[1]})", R"({"t":"a","ts":99999999999999999})",
      R"({"t":"a","x":{"y":1}})", R"({"t":["a"]})", R"({"t":{"a":1}})",
      // strings: escapes, control characters, invalid UTF-8, unterminated
      R"({"t":"a\"b"})", R"({"t":"a\\b"})", R"({"t":"\u00e9"})", "{\"t\":\"a\tb\"}",
      std::string("{\"t\":\"a\0b\"}", 11), "{\"t\":\"\xff\"}", "{\"t\":\"\xc3\"}", "{\"t\":\"a\xed\xa0\x80\"}",
      R"({"t":"abc)", R"({"t":"abcdefghijklmnop)",
      // bytes JSON does not allow between tokens
      "{\"t\":\"a\"}\f", "\f{\"t\":\"a\"}", "{\"t\":\"a\",\v\"i\":1}"};
  for (const std::string& line : lines) EXPECT_FALSE(FastTakes(line)) << line;
  // Too long for the limit (which counts the line without "\r").
  EXPECT_FALSE(FastTakes(R"({"t":"abcdefgh"})", 15));
  EXPECT_TRUE(FastTakes(R"({"t":"abcdefg"})", 15));
  EXPECT_TRUE(FastTakes("{\"t\":\"abcdefg\"}\r", 15));
}

// Numbers printed in many forms: whatever the fast path takes, it reads as
// simdjson does (correctly rounded), including the sign of zero.
TEST(FlatLineDecoderTest, NumbersAgreeWithTheExactPath) {
  std::mt19937_64 rng(7);
  int taken = 0;
  for (int i = 0; i < 20000; ++i) {
    char num[64];
    const uint64_t digits = rng() % (uint64_t{1} << (1 + rng() % 62));
    const int frac = static_cast<int>(rng() % 24);
    std::string s = std::to_string(digits);
    if (frac > 0) {
      if (static_cast<int>(s.size()) <= frac)
        s.insert(0, static_cast<size_t>(frac + 1 - static_cast<int>(s.size())), '0');
      s.insert(s.size() - static_cast<size_t>(frac), ".");
    }
    std::snprintf(num, sizeof(num), "%s%s", rng() % 3 == 0 ? "-" : "", s.c_str());
    taken += FastTakes(std::string(R"({"t":"a","d":)") + num + "}");
    if (frac == 0) FastTakes(std::string(R"({"t":"a","b":)") + num + R"(,"ts":)" + num + "}");
  }
  EXPECT_GT(taken, 5000);
}

// Lines that stop inside the data (no '\n' at `end`) end there; the reads of
// keys may look into the padding but never match across `end`.
TEST(FlatLineDecoderTest, StopsAtTheEndOfTheData) {
  const StreamSchema schema = TestSchema();
  FlatLineDecoder flat(schema, 1 << 20);
  Batch batch(schema.types());
  std::string line = R"({"t":"a"})";
  std::string buf = line + std::string(kJsonPadding, ' ');
  EXPECT_EQ(flat.DecodeLine(buf.data(), buf.data() + line.size(), &batch), line.size());
  // A key cut by the end of the data, completed in the padding.
  std::string cut = R"({"t":"a","i)";
  std::string buf2 = cut + R"(":1})" + std::string(kJsonPadding, ' ');
  EXPECT_EQ(flat.DecodeLine(buf2.data(), buf2.data() + cut.size(), &batch), 0u);
  EXPECT_EQ(batch.size, 1u);
}

}  // namespace
}  // namespace lf

namespace lf {
namespace {

// DecoderOptions::text_into_input: the rows are the same, and text of plain
// lines points into the input (no copy) while text the exact path unescapes
// lives in the arena.
TEST(FlatLineDecoderTest, TextIntoInput) {
  const StreamSchema schema = TestSchema();
  DecoderOptions opts;
  opts.text_into_input = true;
  JsonDecoder views(schema, opts);
  JsonDecoder copies(schema);
  std::string text = "{\"t\":\"plain\",\"i\":1}\n{\"t\":\"esc\\u0061ped\"}\n{\"t\":\"again\",\"d\":2.5}\n";
  const size_t size = text.size();
  text.append(kJsonPadding, ' ');
  Batch a(schema.types());
  Batch b(schema.types());
  std::vector<Reject> rejects;
  uint64_t lines_a = 0, lines_b = 0;
  for (size_t pos = 0; pos < size;) {
    pos += views.DecodeMany(text.data() + pos, size - pos, text.size() - pos, 1 + lines_a, &a, &rejects, &lines_a);
  }
  for (size_t pos = 0; pos < size;) {
    pos += copies.DecodeMany(text.data() + pos, size - pos, text.size() - pos, 1 + lines_b, &b, &rejects, &lines_b);
  }
  EXPECT_TRUE(rejects.empty());
  ASSERT_EQ(a.size, 3u);
  ASSERT_EQ(b.size, 3u);
  auto inside = [&](std::string_view s) { return s.data() >= text.data() && s.data() < text.data() + size; };
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(Render(a, r), Render(b, r)) << r;
    EXPECT_FALSE(inside(b.columns[3].strs[r])) << r;
  }
  EXPECT_TRUE(inside(a.columns[3].strs[0]));
  EXPECT_FALSE(inside(a.columns[3].strs[1]));  // unescaped: "escaped", in the arena
  EXPECT_EQ(a.columns[3].strs[1], "escaped");
  // (The line after it may go the exact way too: it goes on for a window.)
}

}  // namespace
}  // namespace lf
