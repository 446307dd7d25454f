// Tests of JsonDecoder: accepted shapes, every reject reason, timestamps,
// NULLs, keys, escapes and the guarantees about the batch on failure.
#include "ingest/json_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "ingest/input_reader.h"

namespace lf {
namespace {

StreamSchema SeedSchema(bool product_not_null = true) {
  StreamSchema s;
  s.name = "events";
  s.columns = {{"zipcode", TypeId::kInt, false},
               {"ProductName", TypeId::kText, product_not_null},
               {"price", TypeId::kDouble, false},
               {"timestamp", TypeId::kTimestamp, false}};
  return s;
}

StreamSchema AllTypesSchema() {
  StreamSchema s;
  s.name = "all";
  s.columns = {{"i", TypeId::kInt, false},  {"b", TypeId::kBigInt, false},  {"d", TypeId::kDouble, false},
               {"t", TypeId::kText, false}, {"f", TypeId::kBoolean, false}, {"ts", TypeId::kTimestamp, false}};
  return s;
}

// Decodes lines through an unpadded copy (the decoder pads it) and keeps
// the outcome of the last line.
class DecoderHarness {
 public:
  explicit DecoderHarness(const StreamSchema& schema, DecoderOptions opts = {})
      : decoder_(schema, opts), batch_(schema.types()) {}

  bool Decode(std::string_view line, uint64_t line_no = 1) {
    std::string copy(line);  // capacity may be < size + padding: exercises the copy path
    return decoder_.Decode(copy, copy.size(), line_no, &batch_, &reject_, &blank_);
  }
  // Decodes in place from a buffer with padding.
  bool DecodePadded(std::string_view line, uint64_t line_no = 1) {
    std::string buf(line);
    buf.append(kJsonPadding, 'x');  // arbitrary bytes after the line
    return decoder_.Decode(std::string_view(buf.data(), line.size()), buf.size(), line_no, &batch_, &reject_, &blank_);
  }
  RejectReason Rejected(std::string_view line) {
    EXPECT_FALSE(Decode(line)) << line;
    EXPECT_FALSE(blank_) << line;
    return reject_.reason;
  }

  Value Get(size_t row, size_t col) const { return batch_.columns[col].GetValue(row); }
  Batch& batch() { return batch_; }
  const Reject& reject() const { return reject_; }
  bool blank() const { return blank_; }

 private:
  JsonDecoder decoder_;
  Batch batch_;
  Reject reject_;
  bool blank_ = false;
};

constexpr std::string_view kSeedLine =
    R"({"zipcode":95126,"ProductName":"product2","price":16,"timestamp":"2014-11-01 19:35:41.158"})";

TEST(JsonDecoderTest, DecodesSeedLine) {
  DecoderHarness h(SeedSchema());
  ASSERT_TRUE(h.Decode(kSeedLine));
  ASSERT_EQ(h.batch().size, 1u);
  EXPECT_EQ(h.Get(0, 0), Value::Int(95126, TypeId::kInt));
  EXPECT_EQ(h.Get(0, 1), Value::Text("product2"));
  EXPECT_EQ(h.Get(0, 2), Value::Double(16));
  EXPECT_EQ(h.Get(0, 3).i, *ParseTimestamp("2014-11-01 19:35:41.158"));
  EXPECT_EQ(h.Get(0, 3).i, 1414870541158);
}

TEST(JsonDecoderTest, DecodesInPlaceWithPadding) {
  DecoderHarness h(SeedSchema());
  ASSERT_TRUE(h.DecodePadded(kSeedLine));
  ASSERT_TRUE(h.DecodePadded(R"({"ProductName":"p","zipcode":1})"));
  ASSERT_EQ(h.batch().size, 2u);
  EXPECT_EQ(h.Get(0, 1), Value::Text("product2"));
  EXPECT_EQ(h.Get(1, 1), Value::Text("p"));
  EXPECT_EQ(h.Get(1, 0), Value::Int(1, TypeId::kInt));
}

TEST(JsonDecoderTest, TextIsOwnedByTheBatchArena) {
  DecoderHarness h(SeedSchema());
  {
    std::string line(kSeedLine);
    bool blank;
    Reject r;
    JsonDecoder d(SeedSchema());
    ASSERT_TRUE(d.Decode(line, line.size(), 1, &h.batch(), &r, &blank));
    line.assign(line.size(), '#');  // overwrite the input
  }
  EXPECT_EQ(h.Get(0, 1), Value::Text("product2"));
}

TEST(JsonDecoderTest, FieldOrderWhitespaceAndUnknownFieldsDoNotMatter) {
  DecoderHarness h(SeedSchema());
  ASSERT_TRUE(h.Decode(
      R"(  { "extra" : {"a":[1,2,{"b":null}],"c":"\u00e9"} , "price" : 1.5e2, "timestamp":0, "ProductName" : "x", "zipcode":-7, "more":[true,false,null,-0.5e-3] }  )"));
  EXPECT_EQ(h.Get(0, 0), Value::Int(-7, TypeId::kInt));
  EXPECT_EQ(h.Get(0, 1), Value::Text("x"));
  EXPECT_EQ(h.Get(0, 2), Value::Double(150));
  EXPECT_EQ(h.Get(0, 3), Value::Timestamp(0));
}

TEST(JsonDecoderTest, MissingAndNullFieldsAreNull) {
  DecoderHarness h(SeedSchema());
  ASSERT_TRUE(h.Decode(R"({"ProductName":"p","price":null})"));
  EXPECT_TRUE(h.Get(0, 0).is_null);
  EXPECT_TRUE(h.Get(0, 2).is_null);
  EXPECT_TRUE(h.Get(0, 3).is_null);
  // A row after a NULL row gets its own values.
  ASSERT_TRUE(h.Decode(kSeedLine));
  EXPECT_FALSE(h.Get(1, 0).is_null);
}

TEST(JsonDecoderTest, NotNullColumns) {
  DecoderHarness h(SeedSchema());
  EXPECT_EQ(h.Rejected(R"({"zipcode":1})"), RejectReason::kMissingField);
  EXPECT_NE(h.reject().detail.find("ProductName"), std::string::npos) << h.reject().detail;
  EXPECT_EQ(h.Rejected(R"({"ProductName":null})"), RejectReason::kNullField);
  EXPECT_NE(h.reject().detail.find("ProductName"), std::string::npos) << h.reject().detail;
  DecoderHarness nullable(SeedSchema(/*product_not_null=*/false));
  EXPECT_TRUE(nullable.Decode(R"({"ProductName":null})"));
  EXPECT_TRUE(nullable.Decode("{}"));
}

TEST(JsonDecoderTest, AllTypes) {
  DecoderHarness h(AllTypesSchema());
  ASSERT_TRUE(h.Decode(
      R"({"i":-2147483648,"b":-9223372036854775808,"d":-1.25e-3,"t":"","f":true,"ts":"2020-02-29T23:59:59.999Z"})"));
  ASSERT_TRUE(h.Decode(R"({"i":2147483647,"b":9223372036854775807,"d":7,"t":"a b","f":false,"ts":-1})"));
  EXPECT_EQ(h.Get(0, 0).i, INT32_MIN);
  EXPECT_EQ(h.Get(0, 1).i, INT64_MIN);
  EXPECT_DOUBLE_EQ(h.Get(0, 2).d, -1.25e-3);
  EXPECT_EQ(h.Get(0, 3), Value::Text(""));
  EXPECT_EQ(h.Get(0, 4).i, 1);
  EXPECT_EQ(h.Get(0, 5).i, *ParseTimestamp("2020-02-29 23:59:59.999"));
  EXPECT_EQ(h.Get(1, 0).i, INT32_MAX);
  EXPECT_EQ(h.Get(1, 1).i, INT64_MAX);
  EXPECT_EQ(h.Get(1, 4).i, 0);
  EXPECT_EQ(h.Get(1, 5).i, -1);
}

TEST(JsonDecoderTest, TimestampForms) {
  DecoderHarness h(AllTypesSchema());
  const int64_t base = 1414870541158;  // 2014-11-01 19:35:41.158 UTC
  struct Case {
    const char* text;
    int64_t want;
  } cases[] = {
      {R"("2014-11-01 19:35:41.158")", base},
      {R"("2014-11-01T19:35:41.158")", base},
      {R"("2014-11-01T19:35:41.158Z")", base},
      {R"("2014-11-01T19:35:41.158123Z")", base},
      {R"("2014-11-01T21:35:41.158+02:00")", base},
      {R"("2014-11-01T14:35:41.158-0500")", base},
      {R"("2014-11-01T19:35:41Z")", base - 158},
      {R"("2014-11-01 19:35")", base - 41158},
      {R"("2014-11-01")", base - (19 * 3600 + 35 * 60 + 41) * 1000LL - 158},
      {"1414870541158", base},
      {R"("2014-11-01 19:35:41.158")", base},
  };
  for (const Case& c : cases) {
    std::string line = std::string(R"({"ts":)") + c.text + "}";
    ASSERT_TRUE(h.Decode(line)) << line << ": " << h.reject().detail;
    EXPECT_EQ(h.Get(h.batch().size - 1, 5).i, c.want) << line;
  }
}

// The decoder parses the seed's form itself (fast path) and everything else
// with ParseTimestamp: both must agree on every string of that shape.
TEST(JsonDecoderTest, SeedTimestampFastPathAgreesWithParseTimestamp) {
  DecoderHarness h(AllTypesSchema());
  std::mt19937 rng(1234);
  const char* years[] = {"1900", "2000", "2004", "2023", "2024", "0000", "9999", "1970", "2100"};
  auto digits = [&](int n, int max) {
    std::string out;
    int v = static_cast<int>(rng() % static_cast<unsigned>(max + 1));
    for (int i = 0; i < n; ++i, v /= 10) out.insert(out.begin(), static_cast<char>('0' + v % 10));
    return out;
  };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string ts = std::string(years[rng() % 9]) + "-" + digits(2, rng() % 4 == 0 ? 99 : 13) + "-" +
                     digits(2, rng() % 2 == 0 ? 31 : 29) + (rng() % 2 ? " " : "T") + digits(2, rng() % 8 ? 23 : 99) +
                     ":" + digits(2, rng() % 8 ? 59 : 99) + ":" + digits(2, rng() % 8 ? 59 : 99) + "." + digits(3, 999);
    if (rng() % 4 == 0) ts[rng() % ts.size()] = "0x/:.- T\\Z"[rng() % 11];  // damage one byte
    std::optional<int64_t> want = ParseTimestamp(ts);
    std::string line = R"({"ts":")" + ts + R"("})";
    bool ok = h.Decode(line);
    ASSERT_EQ(ok, want.has_value()) << ts << " " << h.reject().detail;
    if (ok) {
      ++accepted;
      ASSERT_EQ(h.Get(h.batch().size - 1, 5).i, *want) << ts;
      if (h.batch().full()) h.batch().Clear();
    } else if (h.reject().reason != RejectReason::kMalformedJson) {  // a damaged byte may be a backslash
      // Year 0000 is outside the supported range: out_of_range, not bad.
      ASSERT_EQ(h.reject().reason,
                ParseTimestampUnchecked(ts) ? RejectReason::kOutOfRange : RejectReason::kBadTimestamp)
          << ts;
    }
  }
  EXPECT_GT(accepted, 5000);
}

TEST(JsonDecoderTest, BadTimestamps) {
  DecoderHarness h(AllTypesSchema());
  for (const char* ts :
       {R"("2014-13-01")", R"("2014-02-30 00:00")", R"("yesterday")", R"("")", R"("2014-11-01 24:00")"}) {
    std::string line = std::string(R"({"ts":)") + ts + "}";
    EXPECT_EQ(h.Rejected(line), RejectReason::kBadTimestamp) << line;
    EXPECT_NE(h.reject().detail.find(std::string(ts)), std::string::npos) << h.reject().detail;  // quotes the value
    EXPECT_NE(h.reject().detail.find("'ts'"), std::string::npos) << h.reject().detail;
  }
  EXPECT_EQ(h.Rejected(R"({"ts":1.5})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"ts":true})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"ts":99999999999999999999})"), RejectReason::kOutOfRange);
}

TEST(JsonDecoderTest, WrongTypes) {
  DecoderHarness h(AllTypesSchema());
  EXPECT_EQ(h.Rejected(R"({"i":1.5})"), RejectReason::kWrongType);
  EXPECT_NE(h.reject().detail.find("fraction for INT"), std::string::npos) << h.reject().detail;
  EXPECT_EQ(h.Rejected(R"({"i":1e3})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"i":1.0})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"b":2.5})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"i":"95126"})"), RejectReason::kWrongType);
  EXPECT_EQ(h.reject().detail, "field 'i': expected INT, found string");
  EXPECT_EQ(h.Rejected(R"({"d":"16"})"), RejectReason::kWrongType);
  EXPECT_EQ(h.reject().detail, "field 'd': expected DOUBLE, found string");
  EXPECT_EQ(h.Rejected(R"({"t":16})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"t":["a"]})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"t":{"a":1}})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"f":1})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"f":"true"})"), RejectReason::kWrongType);
  EXPECT_EQ(h.Rejected(R"({"ts":[1]})"), RejectReason::kWrongType);
}

TEST(JsonDecoderTest, OutOfRange) {
  DecoderHarness h(AllTypesSchema());
  EXPECT_EQ(h.Rejected(R"({"i":2147483648})"), RejectReason::kOutOfRange);
  EXPECT_NE(h.reject().detail.find("2147483648"), std::string::npos) << h.reject().detail;
  EXPECT_EQ(h.Rejected(R"({"i":-2147483649})"), RejectReason::kOutOfRange);
  EXPECT_EQ(h.Rejected(R"({"b":9223372036854775808})"), RejectReason::kOutOfRange);
  EXPECT_EQ(h.Rejected(R"({"b":-9223372036854775809})"), RejectReason::kOutOfRange);
  EXPECT_EQ(h.Rejected(R"({"b":123456789012345678901234567890})"), RejectReason::kOutOfRange);
  EXPECT_EQ(h.Rejected(R"({"d":1e400})"), RejectReason::kOutOfRange);
}

TEST(JsonDecoderTest, MalformedJson) {
  DecoderHarness h(AllTypesSchema());
  for (const char* line : {R"({"i":1)",
                           R"({"i":1,})",
                           R"({"i" 1})",
                           R"({"i":01})",
                           R"({"i":1x})",
                           R"({"i":-})",
                           R"({"d":1.})",
                           R"({"d":.5})",
                           R"({"f":tru})",
                           R"({"f":truex})",
                           R"({"t":nul})",
                           R"({"t":"\q"})",
                           R"({"t":"\ud800"})",
                           R"({"t":"abc)",
                           R"({i:1})",
                           R"({"i":1}})",
                           "{} {}",
                           "{}x",
                           R"({"i":1} 2)",
                           "{",
                           "}",
                           R"({"x":tru})",
                           R"({"x":[1,})",
                           R"({"x":{"a" 1}})",
                           R"({"x":"\z"})",
                           R"({"x":1.})",
                           R"({"x\q":1})",
                           "x",
                           R"({"i":1,"i")"}) {
    EXPECT_EQ(h.Rejected(line), RejectReason::kMalformedJson) << line << " -> " << h.reject().detail;
  }
  EXPECT_EQ(h.batch().size, 0u);
}

TEST(JsonDecoderTest, NotAnObject) {
  DecoderHarness h(AllTypesSchema());
  for (const char* line : {"[]", "[1,2]", "1", "\"s\"", "true", "null"}) {
    EXPECT_EQ(h.Rejected(line), RejectReason::kNotAnObject) << line << " -> " << h.reject().detail;
  }
  EXPECT_EQ(h.reject().detail, "expected a JSON object, found null");
}

TEST(JsonDecoderTest, DuplicateFields) {
  DecoderHarness h(SeedSchema());
  EXPECT_EQ(h.Rejected(R"({"ProductName":"a","ProductName":"b"})"), RejectReason::kDuplicateField);
  EXPECT_NE(h.reject().detail.find("ProductName"), std::string::npos);
  EXPECT_EQ(h.Rejected(R"({"ProductName":"a","productname":"b"})"), RejectReason::kDuplicateField);
  EXPECT_EQ(h.Rejected(R"({"ProductName":"a","price":1,"price":null})"), RejectReason::kDuplicateField);
  // Unknown fields may repeat.
  EXPECT_TRUE(h.Decode(R"({"ProductName":"a","x":1,"x":2})"));
}

TEST(JsonDecoderTest, KeyMatching) {
  DecoderHarness h(SeedSchema());
  // Case-insensitive fallback.
  ASSERT_TRUE(h.Decode(R"({"productname":"a","ZIPCODE":5,"Price":2})"));
  EXPECT_EQ(h.Get(0, 0).i, 5);
  EXPECT_EQ(h.Get(0, 1), Value::Text("a"));
  EXPECT_EQ(h.Get(0, 2).d, 2);
  // Escaped keys match their unescaped text.
  ASSERT_TRUE(h.Decode(R"({"Product\u004eame":"b","zip\u0063ode":6})"));
  EXPECT_EQ(h.Get(1, 0).i, 6);
  EXPECT_EQ(h.Get(1, 1), Value::Text("b"));
  // Prefixes and extensions of names are other fields.
  ASSERT_TRUE(h.Decode(R"({"ProductName":"c","zip":1,"zipcodes":2,"":3})"));
  EXPECT_TRUE(h.Get(2, 0).is_null);

  // Names differing only in case need exact keys.
  StreamSchema s;
  s.columns = {{"a", TypeId::kInt, false}, {"A", TypeId::kInt, false}};
  DecoderHarness two(s);
  ASSERT_TRUE(two.Decode(R"({"A":1,"a":2})"));
  EXPECT_EQ(two.Get(0, 0).i, 2);
  EXPECT_EQ(two.Get(0, 1).i, 1);

  // A long column name (longer than the padding) and one that needs escaping.
  StreamSchema l;
  std::string long_name(100, 'n');
  l.columns = {{long_name, TypeId::kInt, false}, {"q\"uote", TypeId::kInt, false}};
  DecoderHarness lh(l);
  ASSERT_TRUE(lh.DecodePadded("{\"" + long_name + "\":1,\"q\\\"uote\":2}"));
  EXPECT_EQ(lh.Get(0, 0).i, 1);
  EXPECT_EQ(lh.Get(0, 1).i, 2);
  ASSERT_TRUE(lh.DecodePadded("{\"" + long_name.substr(1) + "\":1}"));
  EXPECT_TRUE(lh.Get(1, 0).is_null);
}

TEST(JsonDecoderTest, EscapesAndUnicodeInStrings) {
  DecoderHarness h(AllTypesSchema());
  ASSERT_TRUE(h.Decode(R"({"t":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"})"));
  EXPECT_EQ(h.Get(0, 3).s, "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  ASSERT_TRUE(h.Decode("{\"t\":\"h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80\"}"));
  EXPECT_EQ(h.Get(1, 3).s, "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80");
  ASSERT_TRUE(h.Decode(R"({"t":"nul\u0000byte"})"));
  EXPECT_EQ(h.Get(2, 3).s, std::string("nul\0byte", 8));
}

TEST(JsonDecoderTest, InvalidUtf8Anywhere) {
  DecoderHarness h(AllTypesSchema());
  for (std::string line :
       {std::string("{\"t\":\"\xff\"}"), std::string("{\"x\":\"\xc3\"}"), std::string("{\"\xc3\x28\":1}"),
        std::string("{\"x\":[\"ok\",\"\xed\xa0\x80\"]}"), std::string("{\"x\":\"\xc0\xaf\"}"),
        std::string("{\"t\":\"a\"} \xff"), std::string("{\"x\":\"\xf4\x90\x80\x80\"}")}) {
    EXPECT_EQ(h.Rejected(line), RejectReason::kInvalidUtf8) << h.reject().detail;
  }
}

TEST(JsonDecoderTest, ControlCharactersInStrings) {
  DecoderHarness h(AllTypesSchema());
  EXPECT_EQ(h.Rejected("{\"t\":\"a\tb\"}"), RejectReason::kMalformedJson);
  EXPECT_EQ(h.Rejected(std::string("{\"x\":\"a\0b\"}", 11)), RejectReason::kMalformedJson);
}

TEST(JsonDecoderTest, BlankLinesAndLineEndings) {
  DecoderHarness h(SeedSchema());
  for (const char* line : {"", " ", "\t  ", "\r", "  \r"}) {
    EXPECT_FALSE(h.Decode(line));
    EXPECT_TRUE(h.blank()) << "'" << line << "'";
  }
  std::string crlf = std::string(kSeedLine) + "\r";
  ASSERT_TRUE(h.Decode(crlf));
  EXPECT_FALSE(h.blank());
  EXPECT_EQ(h.batch().size, 1u);
  // Only one '\r' is a line ending; a second one is whitespace before it.
  ASSERT_TRUE(h.Decode(std::string(kSeedLine) + "\r\r"));
}

TEST(JsonDecoderTest, LineTooLong) {
  DecoderOptions opts;
  opts.max_line_bytes = 100;
  DecoderHarness h(SeedSchema(), opts);
  std::string ok = R"({"ProductName":")" + std::string(100 - 18, 'a') + R"("})";
  ASSERT_EQ(ok.size(), 100u);
  EXPECT_TRUE(h.Decode(ok)) << h.reject().detail;
  EXPECT_TRUE(h.Decode(ok + "\r"));
  std::string big = R"({"ProductName":")" + std::string(5000, 'a') + R"("})";
  EXPECT_EQ(h.Rejected(big), RejectReason::kLineTooLong);
  EXPECT_EQ(h.reject().raw.size(), kMaxRawRejectBytes);
  EXPECT_EQ(h.reject().raw, big.substr(0, kMaxRawRejectBytes));
  EXPECT_NE(h.reject().detail.find("5018"), std::string::npos) << h.reject().detail;
}

TEST(JsonDecoderTest, HugeLineWithinLimit) {
  DecoderHarness h(SeedSchema());  // 1 MiB default
  std::string text(900 * 1024, 'z');
  std::string line = R"({"zipcode":1,"ignored":")" + std::string(50000, 'q') + R"(","ProductName":")" + text + R"("})";
  ASSERT_TRUE(h.Decode(line)) << h.reject().detail;
  EXPECT_EQ(h.Get(0, 1).s, text);
}

TEST(JsonDecoderTest, RejectCarriesLineNumberAndRawBytes) {
  DecoderHarness h(SeedSchema());
  std::string line = R"({"ProductName":"a","price":"x"})";
  ASSERT_FALSE(h.Decode(line + "\r", 42));
  EXPECT_EQ(h.reject().line, 42u);
  EXPECT_EQ(h.reject().raw, line);
  EXPECT_EQ(h.reject().reason, RejectReason::kWrongType);
  EXPECT_EQ(h.reject().detail, "field 'price': expected DOUBLE, found string");
}

TEST(JsonDecoderTest, RejectLeavesBatchAndArenaUnchanged) {
  DecoderHarness h(SeedSchema());
  ASSERT_TRUE(h.Decode(kSeedLine));
  size_t reserved = h.batch().arena.bytes_reserved();
  std::string big_text(200000, 'w');
  // The bad field comes after a long text value that was already decoded.
  ASSERT_FALSE(h.Decode(R"({"ProductName":")" + big_text + R"(","price":"oops"})"));
  ASSERT_FALSE(h.Decode(R"({"ProductName":")" + big_text + R"("} trailing)"));
  EXPECT_EQ(h.batch().size, 1u);
  EXPECT_EQ(h.batch().arena.bytes_reserved(), reserved);
  EXPECT_EQ(h.Get(0, 1), Value::Text("product2"));
}

TEST(JsonDecoderTest, DeepNestingInUnknownFields) {
  DecoderHarness h(SeedSchema());
  std::string ok = R"({"ProductName":"a","x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(h.Decode(ok)) << h.reject().detail;
  std::string deep = R"({"ProductName":"a","x":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_EQ(h.Rejected(deep), RejectReason::kMalformedJson);
}

TEST(JsonDecoderTest, FillsBatchToCapacity) {
  DecoderHarness h(SeedSchema());
  for (size_t i = 0; i < Batch::kCapacity; ++i) ASSERT_TRUE(h.DecodePadded(kSeedLine));
  EXPECT_TRUE(h.batch().full());
}

// ---- DecodeMany ----

// Rows and rejects of one way of decoding a buffer, for comparison.
struct Outcome {
  std::vector<std::string> rows;  // one rendering per row, doubles by bit pattern
  std::vector<std::string> rejects;
  uint64_t lines = 0;
};

std::string RenderRow(const Batch& batch, size_t row) {
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
        out += 'd';
        out += std::to_string(bits);
        break;
      }
      case PhysicalType::kString:
        out += '\'';
        out.append(v.strs[row]);
        out += '\'';
        break;
    }
    out += '|';
  }
  return out;
}

std::string RenderReject(const Reject& r) {
  return std::to_string(r.line) + " " + RejectReasonName(r.reason) + " [" + r.detail + "] [" + r.raw + "]";
}

void TakeRows(Batch* batch, Outcome* out) {
  for (size_t r = 0; r < batch->size; ++r) out->rows.push_back(RenderRow(*batch, r));
  batch->Clear();
}

// The reference: Decode on each line of the chunk, in place.
Outcome DecodeLineByLine(JsonDecoder* decoder, const LineChunk& chunk, size_t prefill) {
  Outcome out;
  Batch batch(decoder->schema().types());
  for (size_t i = 0; i < prefill; ++i) batch.columns[0].SetNull(i);
  batch.size = prefill;
  const char* pos = chunk.data;
  const char* end = chunk.data + chunk.size;
  uint64_t line_no = chunk.first_line_no;
  Reject reject;
  while (pos < end) {
    const char* nl = static_cast<const char*>(std::memchr(pos, '\n', static_cast<size_t>(end - pos)));
    const char* stop = nl != nullptr ? nl : end;
    if (batch.full()) TakeRows(&batch, &out);
    bool blank = false;
    std::string_view line(pos, static_cast<size_t>(stop - pos));
    if (!decoder->Decode(line, chunk.padded_capacity - static_cast<size_t>(pos - chunk.data), line_no, &batch, &reject,
                         &blank) &&
        !blank) {
      out.rejects.push_back(RenderReject(reject));
    }
    ++line_no;
    ++out.lines;
    pos = nl != nullptr ? nl + 1 : end;
  }
  TakeRows(&batch, &out);
  return out;
}

// DecodeMany over the chunk, as the eval worker loop drives it. The batch
// starts with `prefill` rows; `capacity` is its size.
Outcome DecodeWithMany(JsonDecoder* decoder, const LineChunk& chunk, size_t prefill, size_t capacity,
                       bool padded = true) {
  Outcome out;
  Batch batch(decoder->schema().types(), capacity);
  for (size_t i = 0; i < prefill; ++i) batch.columns[0].SetNull(i);
  batch.size = prefill;
  std::vector<Reject> rejects;
  size_t pos = 0;
  uint64_t line_no = chunk.first_line_no;
  while (pos < chunk.size) {
    rejects.clear();
    uint64_t lines = 0;
    const size_t cap = padded ? chunk.padded_capacity - pos : chunk.size - pos;
    const size_t n = decoder->DecodeMany(chunk.data + pos, chunk.size - pos, cap, line_no, &batch, &rejects, &lines);
    EXPECT_GT(n, 0u);
    if (n == 0) break;
    pos += n;
    EXPECT_TRUE(pos == chunk.size || chunk.data[pos - 1] == '\n') << pos;
    line_no += lines;
    out.lines += lines;
    for (const Reject& r : rejects) out.rejects.push_back(RenderReject(r));
    if (batch.full()) TakeRows(&batch, &out);
  }
  TakeRows(&batch, &out);
  return out;
}

StreamSchema ManySchema() {
  StreamSchema s;
  s.name = "many";
  s.columns = {{"i", TypeId::kInt, false}, {"b", TypeId::kBigInt, false},  {"d", TypeId::kDouble, false},
               {"t", TypeId::kText, true}, {"f", TypeId::kBoolean, false}, {"ts", TypeId::kTimestamp, false}};
  return s;
}

// Random lines of every kind: good ones in many shapes and each kind of bad
// or odd line.
class LineMaker {
 public:
  explicit LineMaker(uint32_t seed) : rng_(seed) {}

  std::string Good() {
    std::vector<std::string> fields;
    fields.push_back(Key("i") + Pick({"1", "-7", "2147483647", "0", "null", "-2147483648"}));
    fields.push_back(Key("b") + Pick({"9223372036854775807", "12", "-3", "null"}));
    fields.push_back(Key("d") + Pick({"1.5", "16", "-0.0", "1e10", "2.5E-3", "null", "0"}));
    fields.push_back(Key("t") + Pick({R"("product1")", R"("")", R"("a\"b\\c\u00e9\ud83d\ude00")", "\"h\xc3\xa9llo\"",
                                      R"("x y z")", R"("nul\u0000")"}));
    fields.push_back(Key("f") + Pick({"true", "false", "null"}));
    fields.push_back(Key("ts") + Pick({R"("2014-11-01 19:35:41.158")", R"("2014-11-01T19:35:41Z")", "1414870541158",
                                       R"("2020-02-29")", "null"}));
    if (Chance(4)) fields.push_back(R"("extra":{"a":[1,2,{"b":null}],"c":"\u00e9"})");
    if (Chance(6)) fields.push_back(R"("more":[true,false,null,-0.5e-3,"s"])");
    std::shuffle(fields.begin(), fields.end(), rng_);
    // Keep "t" (NOT NULL) and drop a few others.
    std::vector<std::string> kept;
    for (const std::string& f : fields) {
      if (f.find("\"t\"") == 0 || f.find("\"T\"") == 0 || !Chance(4)) kept.push_back(f);
    }
    const std::string sep = Chance(5) ? " , " : ",";
    std::string line = Chance(5) ? "  {" : "{";
    for (size_t i = 0; i < kept.size(); ++i) line += (i ? sep : "") + kept[i];
    line += Chance(5) ? " }\t " : "}";
    return line;
  }

  std::string Line() {
    switch (rng_() % 32) {
      case 0:
        return Pick({"", " ", "\t ", "\r", "  \r"});  // blank
      case 1:
        return Good() + "\r";
      case 2: {  // truncated
        std::string g = Good();
        return g.substr(0, 1 + rng_() % (g.size() - 1));
      }
      case 3:
        return Pick({"{} {}", "{}x", R"({"t":"a"}})", R"({"t":"a"} 2)", "{", "}", "]", "[", "x", "{}{}"});
      case 4:
        return Pick({"[]", "[1,2]", "1", R"("s")", "true", "null", "-0.5"});  // not objects
      case 5: {                                                               // invalid UTF-8
        std::string g = Good();
        size_t q = g.find('{') + 1;
        return g.substr(0, q) + "\"x\":\"\xff\xc3\"," + g.substr(q);
      }
      case 6:
        return R"({"t":")" + std::string(400, 'a') + R"("})";  // too long
      case 7:
        return Pick({R"({"i":1})", R"({"t":null})", "{}"});  // NOT NULL column missing or null
      case 8:
        return Pick({R"({"t":"a","i":1.5})", R"({"t":"a","d":"16"})", R"({"t":16})", R"({"t":"a","f":1})",
                     R"({"t":"a","ts":[1]})", R"({"t":"a","b":2.5})"});  // wrong types
      case 9:
        return Pick({R"({"t":"a","i":2147483648})", R"({"t":"a","b":9223372036854775808})",
                     R"({"t":"a","d":1e400})"});  // out of range
      case 10:
        return Pick({R"({"t":"a","ts":"yesterday"})", R"({"t":"a","ts":"2014-13-01"})"});
      case 11:
        return Pick({R"({"t":"a","t":"b"})", R"({"t":"a","T":"b"})", R"({"t":"a","i":1,"i":null})"});
      case 12:
        return Pick({"{\"t\":\"a\tb\"}", std::string("{\"t\":\"a\0b\"}", 11), R"({"t":"\q"})",
                     R"({"t":"\ud800"})"});  // control characters, bad escapes
      case 13:
        return Pick({R"({"t":"a",)", R"({"t":"a","x":[)", R"({"t":)"});  // open: continues on the next line?
      case 14:
        return Pick({R"("t":"b"})", R"(1]})", R"(]})", "}"});  // closes what an earlier line opened
      case 15:
        return Pick({R"({"t":"abc)", R"("abc)", R"({"t":"a"} "x)"});  // unclosed strings
      case 16:
        return R"({"t":"a","x":)" + std::string(200, '[') + std::string(200, ']') + "}";  // too deep
      case 17:
        return Pick({R"({"t":"a","x":tru})", R"({"t":"a","i":01})", R"({"t":"a","d":1.})", R"({"t":"a","x":1.})",
                     R"({"t":"a","i":-})"});
      case 18:
        return Pick({R"({"t":"a","zip\u0063ode":1})", R"({"T":"b","I":3})", R"({"t\u0041":"x","t":"y"})"});
      default:
        return Good();
    }
  }

  bool Chance(unsigned one_in) { return rng_() % one_in == 0; }
  std::mt19937& rng() { return rng_; }

 private:
  std::string Key(const char* name) {
    std::string k = name;
    if (Chance(10)) k[0] = static_cast<char>(k[0] - 'a' + 'A');  // case-insensitive match
    return "\"" + k + "\"" + (Chance(6) ? " : " : ":");
  }
  std::string Pick(std::initializer_list<std::string> options) {
    auto it = options.begin();
    std::advance(it, rng_() % options.size());
    return *it;
  }

  std::mt19937 rng_;
};

void ExpectSameOutcome(const Outcome& want, const Outcome& got, const std::string& context) {
  EXPECT_EQ(want.lines, got.lines) << context;
  ASSERT_EQ(want.rows.size(), got.rows.size()) << context;
  for (size_t i = 0; i < want.rows.size(); ++i) ASSERT_EQ(want.rows[i], got.rows[i]) << "row " << i << context;
  ASSERT_EQ(want.rejects.size(), got.rejects.size()) << context;
  for (size_t i = 0; i < want.rejects.size(); ++i) ASSERT_EQ(want.rejects[i], got.rejects[i]) << context;
}

std::string Escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// DecodeMany gives exactly the rows and rejects of Decode line by line, for
// random mixes of good and bad lines, batch fill levels and capacities.
TEST(JsonDecoderManyTest, SameAsLineByLine) {
  DecoderOptions opts;
  opts.max_line_bytes = 300;
  const StreamSchema schema = ManySchema();
  JsonDecoder reference(schema, opts);
  JsonDecoder many(schema, opts);  // kept across rounds: its window sizes adapt
  LineMaker maker(20240611);
  int64_t accepted = 0, rejected = 0;
  for (int round = 0; round < 400; ++round) {
    std::mt19937& rng = maker.rng();
    // Mostly good lines, sometimes none bad, sometimes many.
    const unsigned bad_one_in = std::array<unsigned, 5>{1, 2, 10, 100, 100000}[rng() % 5];
    const size_t nlines = 1 + rng() % (round % 10 == 0 ? 3000 : 200);
    std::string text;
    for (size_t i = 0; i < nlines; ++i) {
      text += rng() % bad_one_in == 0 ? maker.Line() : maker.Good();
      if (i + 1 < nlines || maker.Chance(2)) text += '\n';
    }
    const size_t size = text.size();
    // Padding as a chunk has it, of bytes that must not matter.
    for (size_t i = 0; i < kJsonPadding; ++i) text += " }]\"x\n{"[rng() % 7];
    LineChunk chunk{text.data(), size, text.size(), 1 + rng() % 1000};
    const size_t capacity = std::array<size_t, 4>{1, 7, 100, Batch::kCapacity}[rng() % 4];
    const size_t prefill = rng() % capacity;
    Outcome want = DecodeLineByLine(&reference, chunk, prefill);
    Outcome got = DecodeWithMany(&many, chunk, prefill, capacity, /*padded=*/rng() % 8 != 0);
    ExpectSameOutcome(want, got, "\nround " + std::to_string(round) + "\n" + Escaped(text.substr(0, size)));
    if (HasFatalFailure()) return;
    accepted += static_cast<int64_t>(want.rows.size() - prefill);
    rejected += static_cast<int64_t>(want.rejects.size());
  }
  EXPECT_GT(accepted, 10000);
  EXPECT_GT(rejected, 1000);
}

// Lines that are only valid JSON taken together must still each be judged
// alone: an object split over lines, two objects on a line, an object closed
// on the next line.
TEST(JsonDecoderManyTest, DocumentsAcrossLines) {
  const StreamSchema schema = ManySchema();
  JsonDecoder reference(schema);
  JsonDecoder many(schema);
  for (std::string text :
       {std::string("{\"t\":\"a\",\n\"i\":1}\n{\"t\":\"b\"}\n"), std::string("{\"t\":\"a\"} {\"t\":\"b\"}\n"),
        std::string("{\"t\":\"a\"}\n{\"t\":\n\"b\"}\n{\"t\":\"c\"}"), std::string("[\n{\"t\":\"a\"}\n]"),
        std::string("{\"t\":\"a\"}\n\"abc"), std::string("{\"t\":\"a\"}\n{\"t\":\"a\"} \"x"),
        std::string("{\"t\":\"a\"\n}"), std::string("\n\n  \n{\"t\":\"a\"}\n\r\n")}) {
    const size_t size = text.size();
    text.append(kJsonPadding, '}');
    LineChunk chunk{text.data(), size, text.size(), 1};
    ExpectSameOutcome(DecodeLineByLine(&reference, chunk, 0), DecodeWithMany(&many, chunk, 0, Batch::kCapacity),
                      "\n" + Escaped(text.substr(0, size)));
  }
}

// Regression (found by the fuzzer): simdjson's streaming stage 1 forgives
// an incomplete UTF-8 sequence at the end of a window, so a last line
// ending in "}\xfc" was accepted by the window path and rejected per line.
TEST(JsonDecoderManyTest, IncompleteUtf8AtTheWindowEndIsRejected) {
  const StreamSchema schema = ManySchema();
  JsonDecoder reference(schema);
  JsonDecoder many(schema);
  for (std::string text : {std::string("{\"t\":\"a\"}\n{\"t\":\"b\"}\xfc"), std::string("{\"t\":\"a\"}\xe2\x82"),
                           std::string("{\"t\":\"a\"}\n{\"t\":\"b\"}\xf0\x9f\x98")}) {
    const size_t size = text.size();
    text.append(kJsonPadding, ' ');
    LineChunk chunk{text.data(), size, text.size(), 1};
    ExpectSameOutcome(DecodeLineByLine(&reference, chunk, 0), DecodeWithMany(&many, chunk, 0, Batch::kCapacity),
                      "\n" + Escaped(text.substr(0, size)));
  }
}

TEST(JsonDecoderManyTest, StopsWhenTheBatchIsFull) {
  JsonDecoder decoder(SeedSchema());
  std::string text;
  for (int i = 0; i < 10; ++i) text += std::string(kSeedLine) + "\n";
  text += "\n";
  const size_t size = text.size();
  text.append(kJsonPadding, ' ');
  Batch batch(SeedSchema().types(), 4);
  std::vector<Reject> rejects;
  uint64_t lines = 0;
  size_t n = decoder.DecodeMany(text.data(), size, text.size(), 1, &batch, &rejects, &lines);
  EXPECT_EQ(n, 4 * (kSeedLine.size() + 1));
  EXPECT_EQ(lines, 4u);
  EXPECT_TRUE(batch.full());
  batch.Clear();
  size_t pos = n;
  while (pos < size) {
    if (batch.full()) batch.Clear();
    pos += decoder.DecodeMany(text.data() + pos, size - pos, text.size() - pos, 1 + lines, &batch, &rejects, &lines);
  }
  EXPECT_EQ(pos, size);
  EXPECT_EQ(lines, 11u);
  EXPECT_TRUE(rejects.empty());
  EXPECT_EQ(batch.size, 2u);
  EXPECT_EQ(batch.columns[1].GetValue(1), Value::Text("product2"));
}

TEST(JsonDecoderManyTest, RejectsKeepLineNumbersAndTextOutlivesTheInput) {
  JsonDecoder decoder(SeedSchema());
  std::string text =
      std::string(kSeedLine) + "\n" + R"({"ProductName":"a","price":"x"})" + "\r\n\n" + R"({"ProductName":"later"})";
  const size_t size = text.size();
  text.append(kJsonPadding, ' ');
  Batch batch(SeedSchema().types());
  std::vector<Reject> rejects;
  uint64_t lines = 0;
  size_t pos = 0;
  while (pos < size)
    pos += decoder.DecodeMany(text.data() + pos, size - pos, text.size() - pos, 41 + lines, &batch, &rejects, &lines);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line, 42u);
  EXPECT_EQ(rejects[0].reason, RejectReason::kWrongType);
  EXPECT_EQ(rejects[0].raw, R"({"ProductName":"a","price":"x"})");
  EXPECT_EQ(lines, 4u);
  text.assign(text.size(), '#');  // the rows own their text
  ASSERT_EQ(batch.size, 2u);
  EXPECT_EQ(batch.columns[1].GetValue(0), Value::Text("product2"));
  EXPECT_EQ(batch.columns[1].GetValue(1), Value::Text("later"));
}

TEST(JsonDecoderTest, ReasonNames) {
  EXPECT_STREQ(RejectReasonName(RejectReason::kMalformedJson), "malformed_json");
  EXPECT_STREQ(RejectReasonName(RejectReason::kNotAnObject), "not_an_object");
  EXPECT_STREQ(RejectReasonName(RejectReason::kMissingField), "missing_field");
  EXPECT_STREQ(RejectReasonName(RejectReason::kNullField), "null_field");
  EXPECT_STREQ(RejectReasonName(RejectReason::kWrongType), "wrong_type");
  EXPECT_STREQ(RejectReasonName(RejectReason::kOutOfRange), "out_of_range");
  EXPECT_STREQ(RejectReasonName(RejectReason::kBadTimestamp), "bad_timestamp");
  EXPECT_STREQ(RejectReasonName(RejectReason::kInvalidUtf8), "invalid_utf8");
  EXPECT_STREQ(RejectReasonName(RejectReason::kLineTooLong), "line_too_long");
  EXPECT_STREQ(RejectReasonName(RejectReason::kDuplicateField), "duplicate_field");
}

}  // namespace
}  // namespace lf
