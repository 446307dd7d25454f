// NDJSON line decoding with simdjson on-demand. See json_decoder.h for the
// accepted shapes. Implementation notes:
//  - Stage 1 of simdjson (run by parser.iterate) validates UTF-8 and
//    unescaped control characters over the whole line, including the
//    fields we ignore, so an UTF8_ERROR there is the only UTF-8 check needed.
//  - Keys are first compared raw (bytes between the quotes, as one or two
//    masked words) against the column expected next, then the others; only
//    keys that match nothing raw are unescaped.
//  - Each value is read with the column's typed getter first; the JSON type
//    is only looked at when that fails (NULL, or a reject to explain).
//  - Strings are unescaped by simdjson into its per-line buffer; text is
//    copied into the batch arena only once the whole row is known to be
//    good, so a rejected line leaves the arena untouched.
//  - The seed's timestamp form has a fixed-offset fast path; every other
//    form goes through ParseTimestamp.
//  - DecodeMany amortizes simdjson's per-document cost (the stage-1 call,
//    allocation checks, the document set-up) over a window of lines: it
//    finds the window's lines with memchr, runs parser.iterate_many over the
//    window (one stage-1 pass) and decodes each document with the same field
//    code as Decode. A row is committed only once its document is known to
//    be exactly its line: it starts at the line's first non-blank byte, the
//    object was read to its closing brace, and only whitespace lies between
//    that brace and the next token (the next document, or the end of what
//    stage 1 kept), with the line's '\n' among it. Lines are independent, so
//    a committed row is what Decode gives for its line. At the first
//    document that is not plainly good (any simdjson error, a reject, a line
//    that does not match) the stream is dropped and that line goes through
//    Decode, which finds the exact reason; the next call starts a new
//    window after it. Windows shrink after such a stop (so a run of bad
//    lines does not redo stage 1 over long windows) and grow back on clean
//    ones.
//  - Before all that, DecodeMany reads lines that are plainly flat objects
//    of the stream's fields with FlatLineDecoder (no simdjson: a strict
//    subset of JSON checked byte by byte); the first line it does not take
//    goes the way above.
//  - simdjson's on-demand code is inlined here, compiled for this file's
//    target: with LF_NATIVE_ARCH (see cmake/lf_helpers.cmake) its AVX2
//    kernel rather than the portable one, measured ~5-8% faster.
#include "ingest/json_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "common/format.h"
#include "common/status.h"
#include "common/time.h"
#include "ingest/flat_line_decoder.h"
#include "ingest/seed_timestamp.h"

namespace lf {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING, "kJsonPadding must match simdjson");

// Unknown fields are validated recursively; this bounds the stack.
constexpr int kMaxUnknownDepth = 128;
// How much of an offending value is quoted in a reject detail.
constexpr size_t kMaxQuotedBytes = 64;
// DecodeMany: the most bytes in one window (the stream parser's capacity;
// longer lines go through Decode), and the bounds of the adaptive number of
// rows per window.
constexpr size_t kWindowBytes = 64 * 1024;
constexpr size_t kMinWindowRows = 4;
constexpr size_t kMaxWindowRows = Batch::kCapacity;

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A line that Decode calls blank (its '\r' is whitespace too).
inline bool IsBlank(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsJsonSpace(line[i])) ++i;
  return i == line.size();
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// The JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

bool IsFraction(std::string_view number) { return number.find_first_of(".eE") != std::string_view::npos; }

const char* JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "value";
}

// `s` in double quotes, cut to kMaxQuotedBytes on a UTF-8 character boundary.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  if (s.size() > kMaxQuotedBytes) {
    size_t n = kMaxQuotedBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    out.append(s.substr(0, n));
    out += "...";
  } else {
    out.append(s);
  }
  out += '"';
  return out;
}

}  // namespace

void AppendRejectJsonLine(const Reject& r, std::string_view input, int64_t time_ms, std::string* out) {
  out->push_back('{');
  if (time_ms >= 0) {
    out->append("\"time\":\"");
    AppendTimestamp(time_ms, out);
    out->append("\",");
  }
  out->append("\"input\":");
  AppendJsonString(input, out);
  out->append(",\"line\":" + std::to_string(r.line) + ",\"reason\":\"" + RejectReasonName(r.reason) + "\",\"detail\":");
  AppendJsonString(r.detail, out);
  out->append(",\"raw\":");
  AppendJsonString(r.raw, out);
  out->append("}\n");
}

const char* RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kMalformedJson:
      return "malformed_json";
    case RejectReason::kNotAnObject:
      return "not_an_object";
    case RejectReason::kMissingField:
      return "missing_field";
    case RejectReason::kNullField:
      return "null_field";
    case RejectReason::kWrongType:
      return "wrong_type";
    case RejectReason::kOutOfRange:
      return "out_of_range";
    case RejectReason::kBadTimestamp:
      return "bad_timestamp";
    case RejectReason::kInvalidUtf8:
      return "invalid_utf8";
    case RejectReason::kLineTooLong:
      return "line_too_long";
    case RejectReason::kDuplicateField:
      return "duplicate_field";
  }
  return "unknown";
}

struct JsonDecoder::Impl {
  struct Column {
    std::string_view name;  // points into JsonDecoder::schema_
    TypeId type;
    bool not_null;
    bool raw_matchable;  // no byte of the name would be escaped in JSON
    bool ci_unique;      // no other column has the same lower-case name
    // The name followed by '"', as up to two little-endian words and masks,
    // when it fits in 16 bytes (key_words = 1 or 2; 0: compare bytewise).
    int key_words = 0;
    uint64_t w0 = 0, m0 = 0, w1 = 0, m1 = 0;
  };

  Impl(const StreamSchema& schema, DecoderOptions o)
      : opts(o),
        parser(std::max<size_t>(o.max_line_bytes, 4096)),
        stream_parser(kWindowBytes),
        flat(schema, o.max_line_bytes, /*copy_text=*/!o.text_into_input) {
#ifdef SIMDJSON_THREADS_ENABLED
    stream_parser.threaded = false;  // one batch per window: no look-ahead thread
#endif
    for (const ColumnSchema& c : schema.columns) {
      bool raw_ok = true;
      for (unsigned char ch : c.name) raw_ok &= (ch >= 0x20 && ch != '"' && ch != '\\');
      columns.push_back(Column{c.name, c.type, c.not_null, raw_ok, true});
      SetKeyWords(&columns.back());
      if (c.type == TypeId::kText) text_columns.push_back(columns.size() - 1);
    }
    for (size_t i = 0; i < columns.size(); ++i) {
      for (size_t j = 0; j < columns.size(); ++j) {
        if (i != j && EqualsIgnoreCase(columns[i].name, columns[j].name)) columns[i].ci_unique = false;
      }
    }
    seen.assign(columns.size(), 0);
  }

  static void SetKeyWords(Column* col) {
    std::string quoted(col->name);
    quoted += '"';
    if (quoted.size() > 16) return;
    char bytes[16] = {};
    std::memcpy(bytes, quoted.data(), quoted.size());
    auto mask = [](size_t n) { return n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1; };
    col->key_words = quoted.size() <= 8 ? 1 : 2;
    col->w0 = Load64(bytes) & mask(quoted.size());
    col->m0 = mask(quoted.size());
    if (col->key_words == 2) {
      col->m1 = mask(quoted.size() - 8);
      col->w1 = Load64(bytes + 8) & col->m1;
    }
  }

  static bool RawKeyMatches(const char* raw, const Column& col);
  bool Decode(const char* p, size_t n, size_t capacity, Batch* batch);
  // The row logic shared by Decode and StreamWindow. DecodeFields reads the
  // members of `obj` into slot `row` of the batch (not yet visible);
  // FinishRow then gives the columns without a field NULL (or rejects a NOT
  // NULL one), copies text into the arena and makes the row visible. Both
  // return false with the reject set.
  bool DecodeFields(od::object& obj, Batch* batch, size_t row);
  bool FinishRow(Batch* batch, size_t row);
  // Decodes the window [data, data + len), whose lines end at line_ends, with
  // one iterate_many; stops at the first line that is not plainly good.
  // Returns how many leading lines were decoded (their rows appended).
  size_t StreamWindow(const char* data, size_t len, Batch* batch);

  // Sets the reject reason and detail; returns false for `return Fail(...)`.
  bool Fail(RejectReason reason, std::string detail) {
    reject->reason = reason;
    reject->detail = std::move(detail);
    return false;
  }
  bool FailJson(error_code err, const Column* col = nullptr) {
    if (err == simdjson::UTF8_ERROR) return Fail(RejectReason::kInvalidUtf8, "line is not valid UTF-8");
    std::string d = "malformed JSON";
    if (col != nullptr) d += " in field '" + std::string(col->name) + "'";
    d += ": ";
    d += simdjson::error_message(err);
    return Fail(RejectReason::kMalformedJson, std::move(d));
  }
  bool FailField(RejectReason reason, const Column& col, std::string_view what) {
    std::string d = "field '";
    d.append(col.name);
    d += "': ";
    d.append(what);
    return Fail(reason, std::move(d));
  }
  // Column index for a field's key, kUnknownKey, or kKeyError (reject set).
  static constexpr int kUnknownKey = -1;
  static constexpr int kKeyError = -2;
  int MatchKey(od::field& field, std::string_view* unescaped_key);
  bool DecodeValue(size_t c, od::value& v, Vector* vec, size_t row);
  // The value of column `col` is not of the column's type: NULL or a reject.
  bool Unusual(const Column& col, od::value& v, Vector* vec, size_t row);
  bool ValidateUnknown(od::value v, std::string_view key, int depth);

  const DecoderOptions opts;
  od::parser parser;
  std::vector<Column> columns;
  std::vector<size_t> text_columns;
  // seen[c] == line_gen: column c has had its field in the current line
  // (a generation counter instead of clearing the array for every line).
  std::vector<uint32_t> seen;
  uint32_t line_gen = 0;
  DateCache date_cache;
  size_t next_col = 0;              // the column expected next: fields usually come in schema order
  std::unique_ptr<char[]> scratch;  // padded copy of lines that arrive without padding
  size_t scratch_size = 0;
  Reject* reject = nullptr;  // of the current Decode call

  // DecodeMany state.
  od::parser stream_parser;             // capacity kWindowBytes, allocated on first use
  std::vector<size_t> line_ends;        // of the current window: offset of each line's '\n' (or of the window's end)
  size_t window_rows = kMaxWindowRows;  // adaptive limit on the rows of a window
  Reject stream_reject;                 // why StreamWindow stopped (unused: Decode redoes that line)
  Reject line_reject;                   // of a line DecodeMany hands to Decode
  FlatLineDecoder flat;                 // DecodeMany's fast path
};

// Compares the raw key bytes (after the opening quote) with `name`. The key
// is known to be closed by a quote inside the line, and the line is followed
// by kJsonPadding readable bytes, so short names can use memcmp.
static inline bool RawKeyEquals(const char* raw, std::string_view name) {
  if (name.size() < kJsonPadding) return std::memcmp(raw, name.data(), name.size()) == 0 && raw[name.size()] == '"';
  for (size_t i = 0; i < name.size(); ++i) {
    if (raw[i] != name[i]) return false;  // stops at the closing quote at the latest
  }
  return raw[name.size()] == '"';
}

// The same with the precomputed words of the column: reads 16 bytes from the
// key, which the padding allows.
inline bool JsonDecoder::Impl::RawKeyMatches(const char* raw, const Column& col) {
  if (col.key_words == 1) return (Load64(raw) & col.m0) == col.w0;
  if (col.key_words == 2) return Load64(raw) == col.w0 && (Load64(raw + 8) & col.m1) == col.w1;
  return RawKeyEquals(raw, col.name);
}

int JsonDecoder::Impl::MatchKey(od::field& field, std::string_view* unescaped_key) {
  const char* raw = field.key().raw();
  const size_t n = columns.size();
  size_t c = next_col;
  for (size_t k = 0; k < n; ++k, ++c) {
    if (c == n) c = 0;
    if (columns[c].raw_matchable && RawKeyMatches(raw, columns[c])) {
      next_col = c + 1 == n ? 0 : c + 1;
      return static_cast<int>(c);
    }
  }
  // Slow path: escaped keys, case variants and unknown fields.
  std::string_view& key = *unescaped_key;
  if (error_code err = field.unescaped_key().get(key)) {
    FailJson(err);
    return kKeyError;
  }
  for (size_t i = 0; i < n; ++i) {
    if (columns[i].name == key) return static_cast<int>(i);
  }
  for (size_t i = 0; i < n; ++i) {
    if (columns[i].ci_unique && EqualsIgnoreCase(columns[i].name, key)) return static_cast<int>(i);
  }
  return kUnknownKey;
}

// The typed getter is tried first: each one fails without consuming the
// value when the JSON type differs, and only then is the value classified
// (NULL, wrong type, bad number). This keeps the accepted path free of a
// dispatch on the JSON type, which mispredicts when column types alternate.
// Inlined into the field loop: it runs once per field.
[[gnu::always_inline]] inline bool JsonDecoder::Impl::DecodeValue(size_t c, od::value& v, Vector* vec, size_t row) {
  // An if-chain rather than a switch: conditional branches predict better
  // here than the switch's indirect jump.
  const Column& col = columns[c];
  const TypeId type = col.type;
  if (type == TypeId::kInt || type == TypeId::kBigInt) {
    int64_t x;
    if (v.get_int64().get(x) != simdjson::SUCCESS) return Unusual(col, v, vec, row);
    if (type == TypeId::kInt && (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max())) {
      return FailField(RejectReason::kOutOfRange, col, std::to_string(x) + " is out of range for INT");
    }
    vec->SetInt(row, x);
    return true;
  }
  if (type == TypeId::kText) {
    // Unescaped into the parser's string buffer, valid until the next line;
    // copied into the arena at commit.
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) return Unusual(col, v, vec, row);
    vec->SetString(row, s);
    return true;
  }
  if (type == TypeId::kDouble) {
    double d;
    if (v.get_double().get(d) != simdjson::SUCCESS) return Unusual(col, v, vec, row);
    vec->SetDouble(row, d);
    return true;
  }
  if (type == TypeId::kTimestamp) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      int64_t ms;
      if (v.get_int64().get(ms) != simdjson::SUCCESS) return Unusual(col, v, vec, row);
      if (!InTimestampRange(ms)) {
        return FailField(RejectReason::kOutOfRange, col,
                         std::to_string(ms) + " epoch milliseconds is outside the supported TIMESTAMP range " +
                             TimestampRangeText());
      }
      vec->SetInt(row, ms);
      return true;
    }
    std::optional<int64_t> ms = ParseSeedTimestamp(s, &date_cache);
    if (!ms) ms = ParseTimestamp(s);
    if (!ms || !InTimestampRange(*ms)) {
      if (ParseTimestampUnchecked(s)) {
        return FailField(RejectReason::kOutOfRange, col,
                         Quoted(s) + " is outside the supported TIMESTAMP range " + TimestampRangeText());
      }
      return FailField(RejectReason::kBadTimestamp, col, "cannot parse " + Quoted(s) + " as TIMESTAMP");
    }
    vec->SetInt(row, *ms);
    return true;
  }
  if (type == TypeId::kBoolean) {
    bool b;
    if (v.get_bool().get(b) != simdjson::SUCCESS) return Unusual(col, v, vec, row);
    vec->SetInt(row, b ? 1 : 0);
    return true;
  }
  return Unusual(col, v, vec, row);
}

bool JsonDecoder::Impl::Unusual(const Column& col, od::value& v, Vector* vec, size_t row) {
  od::json_type t;
  if (error_code err = v.type().get(t)) return FailJson(err, &col);
  std::string_view tok = TrimRight(v.raw_json_token());
  if (t == od::json_type::null) {
    bool is_null = false;
    if (v.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
      return FailField(RejectReason::kMalformedJson, col, "invalid literal " + Quoted(tok));
    }
    if (col.not_null) return FailField(RejectReason::kNullField, col, "null for a NOT NULL column");
    vec->SetNull(row);
    return true;
  }
  const bool numeric = col.type == TypeId::kInt || col.type == TypeId::kBigInt || col.type == TypeId::kDouble ||
                       col.type == TypeId::kTimestamp;
  if (t == od::json_type::number && numeric) {
    if (!IsJsonNumber(tok)) return FailField(RejectReason::kMalformedJson, col, "invalid number " + Quoted(tok));
    std::string shown(tok.substr(0, kMaxQuotedBytes));
    if (col.type != TypeId::kDouble && IsFraction(tok)) {
      return FailField(RejectReason::kWrongType, col, std::string("fraction for ") + TypeName(col.type) + ": " + shown);
    }
    return FailField(RejectReason::kOutOfRange, col, shown + " is out of range for " + TypeName(col.type));
  }
  if (t == od::json_type::string && (col.type == TypeId::kText || col.type == TypeId::kTimestamp)) {
    std::string_view s;
    error_code err = v.get_string().get(s);  // fails: report why
    return FailJson(err == simdjson::SUCCESS ? simdjson::STRING_ERROR : err, &col);
  }
  if (t == od::json_type::boolean && col.type == TypeId::kBoolean) {
    return FailField(RejectReason::kMalformedJson, col, "invalid literal " + Quoted(tok));
  }
  std::string what = "expected ";
  what += TypeName(col.type);
  if (col.type == TypeId::kTimestamp) what += " (a string or integer epoch milliseconds)";
  what += ", found ";
  what += JsonTypeName(t);
  return FailField(RejectReason::kWrongType, col, what);
}

bool JsonDecoder::Impl::ValidateUnknown(od::value v, std::string_view key, int depth) {
  auto malformed = [&](std::string_view what) {
    std::string d = "malformed JSON in ignored field '";
    d.append(key.substr(0, kMaxQuotedBytes));
    d += "': ";
    d.append(what);
    return Fail(RejectReason::kMalformedJson, std::move(d));
  };
  if (depth > kMaxUnknownDepth) return malformed("nested deeper than 128 levels");
  od::json_type t;
  if (error_code err = v.type().get(t)) return malformed(simdjson::error_message(err));
  switch (t) {
    case od::json_type::array: {
      od::array arr;
      if (error_code err = v.get_array().get(arr)) return malformed(simdjson::error_message(err));
      for (auto elem : arr) {
        od::value ev;
        if (error_code err = std::move(elem).get(ev)) return malformed(simdjson::error_message(err));
        if (!ValidateUnknown(ev, key, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::object: {
      od::object obj;
      if (error_code err = v.get_object().get(obj)) return malformed(simdjson::error_message(err));
      for (auto f : obj) {
        od::field field;
        std::string_view k;
        if (error_code err = std::move(f).get(field)) return malformed(simdjson::error_message(err));
        if (error_code err = field.unescaped_key().get(k)) return malformed(simdjson::error_message(err));
        if (!ValidateUnknown(field.value(), key, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view tok = TrimRight(v.raw_json_token());
      if (tok.find('\\') == std::string_view::npos) return true;  // nothing to unescape
      std::string_view s;
      if (error_code err = v.get_string().get(s)) return malformed(simdjson::error_message(err));
      return true;
    }
    case od::json_type::number: {
      std::string_view tok = TrimRight(v.raw_json_token());
      return IsJsonNumber(tok) ? true : malformed("invalid number " + Quoted(tok));
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b) != simdjson::SUCCESS) return malformed("invalid literal");
      return true;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) != simdjson::SUCCESS || !is_null) return malformed("invalid literal");
      return true;
    }
  }
  return malformed("unknown value");
}

// Inlined into both callers: it runs once per row.
[[gnu::always_inline]] inline bool JsonDecoder::Impl::DecodeFields(od::object& obj, Batch* batch, size_t row) {
  if (++line_gen == 0) {  // wrapped: forget generations of 2^32 lines ago
    std::fill(seen.begin(), seen.end(), 0);
    line_gen = 1;
  }
  for (auto field_result : obj) {
    if (error_code err = field_result.error()) return FailJson(err);
    od::field& field = field_result.value_unsafe();  // no copy
    std::string_view key;                            // set only when the raw key matched no column
    int c;
    if (next_col < columns.size() && columns[next_col].raw_matchable &&
        RawKeyMatches(field.key().raw(), columns[next_col])) {  // the usual case, inline
      c = static_cast<int>(next_col);
      next_col = next_col + 1 == columns.size() ? 0 : next_col + 1;
    } else {
      c = MatchKey(field, &key);
    }
    if (c == kKeyError) return false;
    if (c == kUnknownKey) {
      if (!ValidateUnknown(field.value(), key, 1)) return false;
      continue;
    }
    if (seen[c] == line_gen) return FailField(RejectReason::kDuplicateField, columns[c], "appears more than once");
    seen[c] = line_gen;
    if (!DecodeValue(c, field.value(), &batch->columns[c], row)) return false;
  }
  return true;
}

[[gnu::always_inline]] inline bool JsonDecoder::Impl::FinishRow(Batch* batch, size_t row) {
  for (size_t c = 0; c < columns.size(); ++c) {
    if (seen[c] == line_gen) continue;
    if (columns[c].not_null) return FailField(RejectReason::kMissingField, columns[c], "missing (column is NOT NULL)");
    batch->columns[c].SetNull(row);
  }
  // Commit: from here on nothing fails.
  for (size_t c : text_columns) {
    Vector& vec = batch->columns[c];
    if (!vec.IsNull(row)) vec.strs[row] = batch->arena.Copy(vec.strs[row]);
  }
  batch->size = row + 1;
  return true;
}

bool JsonDecoder::Impl::Decode(const char* p, size_t n, size_t capacity, Batch* batch) {
  od::document doc;
  if (error_code err = parser.iterate(p, n, capacity).get(doc)) return FailJson(err);
  od::object obj;
  if (error_code err = doc.get_object().get(obj)) {
    od::json_type t;
    if (err == simdjson::INCORRECT_TYPE && doc.type().get(t) == simdjson::SUCCESS) {
      return Fail(RejectReason::kNotAnObject, std::string("expected a JSON object, found ") + JsonTypeName(t));
    }
    return FailJson(err);
  }
  const size_t row = batch->size;
  if (!DecodeFields(obj, batch, row)) return false;
  // After the object only the end of the line may follow.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Fail(RejectReason::kMalformedJson, "malformed JSON: content after the object");
  }
  return FinishRow(batch, row);
}

size_t JsonDecoder::Impl::StreamWindow(const char* data, size_t len, Batch* batch) {
  reject = &stream_reject;
  od::document_stream stream;
  if (stream_parser.iterate_many(data, len, kWindowBytes).get(stream) != simdjson::SUCCESS) return 0;
  const size_t nlines = line_ends.size();
  size_t done = 0;   // lines decoded
  size_t clean = 0;  // bytes [0, clean) are decoded lines
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    od::document_reference doc;
    if ((*it).get(doc) != simdjson::SUCCESS) break;
    const char* first;
    if (doc.current_location().get(first) != simdjson::SUCCESS) break;
    const size_t start = static_cast<size_t>(first - data);
    // Only whitespace (blank lines, indentation) before the document.
    size_t i = clean;
    while (i < start && IsJsonSpace(data[i])) ++i;
    if (i != start) break;
    size_t line = done;
    while (line < nlines && line_ends[line] < start) ++line;
    if (line == nlines || batch->full()) break;

    od::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) break;
    const size_t row = batch->size;
    if (!DecodeFields(obj, batch, row)) break;
    // The next token: the next document, or the end of what stage 1 kept
    // (it drops an unfinished last document).
    size_t next;
    const char* loc;
    error_code err = doc.current_location().get(loc);
    if (err == simdjson::SUCCESS) {
      next = static_cast<size_t>(loc - data);
    } else if (err == simdjson::OUT_OF_BOUNDS) {
      next = len - stream.truncated_bytes();
    } else {
      break;
    }
    // Between the closing brace and `next` there is only whitespace; the
    // line's end must be in there.
    size_t end = next;
    while (end > start && IsJsonSpace(data[end - 1])) --end;
    const size_t line_end = line_ends[line];
    if (end > line_end || next < line_end) break;
    if (!FinishRow(batch, row)) break;
    done = line + 1;
    clean = line_end;
  }
  return done;
}

JsonDecoder::JsonDecoder(const StreamSchema& schema, DecoderOptions opts)
    : schema_(schema), impl_(std::make_unique<Impl>(schema_, opts)) {}

JsonDecoder::~JsonDecoder() = default;

bool JsonDecoder::Decode(std::string_view line, size_t padded_capacity, uint64_t line_no, Batch* batch, Reject* reject,
                         bool* blank) {
  CHECK(batch->columns.size() == impl_->columns.size(), "batch columns do not match the schema");
  CHECK(!batch->full(), "Decode into a full batch");
  *blank = false;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  if (line.size() > impl_->opts.max_line_bytes) {
    reject->line = line_no;
    reject->reason = RejectReason::kLineTooLong;
    reject->detail = "line of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                     std::to_string(impl_->opts.max_line_bytes) + " bytes (raw keeps the first " +
                     std::to_string(kMaxRawRejectBytes) + ")";
    reject->raw.assign(line.substr(0, kMaxRawRejectBytes));
    return false;
  }
  if (IsBlank(line)) {
    *blank = true;
    return false;
  }

  const char* data = line.data();
  if (padded_capacity < line.size() + kJsonPadding) {
    size_t need = line.size() + kJsonPadding;
    if (impl_->scratch_size < need) {
      impl_->scratch = std::make_unique_for_overwrite<char[]>(need);
      impl_->scratch_size = need;
    }
    std::memcpy(impl_->scratch.get(), line.data(), line.size());
    std::memset(impl_->scratch.get() + line.size(), ' ', kJsonPadding);
    data = impl_->scratch.get();
    padded_capacity = impl_->scratch_size;
  }

  impl_->reject = reject;
  if (impl_->Decode(data, line.size(), padded_capacity, batch)) return true;
  reject->line = line_no;
  reject->raw.assign(line);
  return false;
}

size_t JsonDecoder::DecodeMany(const char* data, size_t size, size_t padded_capacity, uint64_t first_line_no,
                               Batch* batch, std::vector<Reject>* rejects, uint64_t* lines) {
  CHECK(batch->columns.size() == impl_->columns.size(), "batch columns do not match the schema");
  CHECK(!batch->full(), "DecodeMany into a full batch");
  Impl& im = *impl_;
  size_t pos = 0;     // bytes consumed
  uint64_t done = 0;  // lines consumed
  // Decodes the line at `pos` with Decode (unless blank: the batch may be
  // full); returns whether it was blank.
  auto decode_line = [&] {
    const char* p = data + pos;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size - pos));
    const size_t n = nl != nullptr ? static_cast<size_t>(nl - p) : size - pos;
    const bool blank = IsBlank(std::string_view(p, n));
    bool ignored;
    if (!blank && !Decode(std::string_view(p, n), padded_capacity - pos, first_line_no + done, batch, &im.line_reject,
                          &ignored)) {
      rejects->push_back(std::move(im.line_reject));
    }
    pos += nl != nullptr ? n + 1 : n;
    ++done;
    return blank;
  };

  // The fast path, line after line, until a line it does not take; that one
  // starts the exact path's window, in the next call if some lines were
  // read here.
  if (im.opts.flat_fast_path && im.flat.enabled() && padded_capacity >= size + kJsonPadding) {
    while (pos < size && !batch->full()) {
      const size_t n = im.flat.DecodeLine(data + pos, data + size, batch);
      if (n == 0) break;
      pos += n;
      ++done;
    }
    if (done > 0) {
      *lines += done;
      return pos;
    }
  }

  if (padded_capacity < size + kJsonPadding) {  // cannot parse in place: line by line
    while (pos < size && !batch->full()) decode_line();
    *lines += done;
    return pos;
  }

  // The window: whole lines from the start, at most `max_rows` of them not
  // blank, within kWindowBytes, none too long.
  const size_t max_rows = std::min(batch->capacity() - batch->size, im.window_rows);
  std::vector<size_t>& ends = im.line_ends;
  ends.clear();
  size_t len = 0;
  size_t rows = 0;
  while (len < size) {
    const char* p = data + len;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size - len));
    const size_t end = nl != nullptr ? static_cast<size_t>(nl - data) : size;
    const size_t next = nl != nullptr ? end + 1 : size;
    if (next > kWindowBytes) break;
    size_t n = end - len;
    if (n > 0 && data[end - 1] == '\r') --n;
    if (n > im.opts.max_line_bytes) break;
    if (!IsBlank(std::string_view(p, n))) {
      if (rows == max_rows) break;
      ++rows;
    }
    ends.push_back(end);
    len = next;
  }
  if (ends.empty()) {  // the first line does not fit a window
    decode_line();
    *lines += done;
    return pos;
  }

  const size_t rows_before = batch->size;
  // Stage 1 in streaming mode forgives an incomplete UTF-8 sequence at the
  // very end of a window (it could continue in a next batch), so a window
  // must be valid UTF-8 as a whole before it may take the fast path.
  const bool valid_utf8 = simdjson::validate_utf8(data, len);
  const size_t streamed = rows > 0 && valid_utf8 ? im.StreamWindow(data, len, batch) : 0;
  if (streamed > 0) {
    pos = std::min(ends[streamed - 1] + 1, size);
    done = streamed;
  }
  // Lines after the streamed ones: blank ones, then at most one line that
  // stopped the stream, decoded on its own.
  bool stopped = false;
  while (done < ends.size() && !stopped) stopped = !decode_line();
  if (stopped) {
    im.window_rows = std::clamp<size_t>(2 * (batch->size - rows_before), kMinWindowRows, kMaxWindowRows);
  } else if (rows == max_rows) {
    im.window_rows = std::min(2 * im.window_rows, kMaxWindowRows);
  }
  *lines += done;
  return pos;
}

}  // namespace lf
