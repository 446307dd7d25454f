// Decoding of NDJSON lines into typed rows of a Batch, following the stream's
// schema: one line at a time (Decode) or a run of lines at once (DecodeMany,
// the bulk path of `eval`). This is the hot path of ingest: simdjson's
// on-demand API, no allocation per accepted line, and a precise reason for
// every line that does not fit (so that it can go to the dead-letter store).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/vector.h"
#include "ingest/schema.h"

namespace lf {

// Bytes that must be readable after the end of a line for in-place parsing
// (equal to simdjson::SIMDJSON_PADDING; checked in the .cc file).
inline constexpr size_t kJsonPadding = 64;

struct DecoderOptions {
  // Longer lines are rejected with kLineTooLong without being parsed.
  size_t max_line_bytes = 1 << 20;
  // DecodeMany reads lines that are plainly flat objects of the stream's
  // fields with a fast path (flat_line_decoder.h) and hands the others to the
  // exact path. The rows and rejects are the same either way; off only for
  // tests and measurements.
  bool flat_fast_path = true;
  // Text of rows the fast path decodes points into the input instead of
  // being copied into the batch's arena (text the exact path unescapes is
  // still copied). Only for callers that are done with the batch before the
  // input bytes are released or changed.
  bool text_into_input = false;
};

// Why a line was rejected. The names returned by RejectReasonName are stable
// snake_case codes used in reject files, metrics and HTTP errors.
enum class RejectReason : uint8_t {
  kMalformedJson,   // not JSON, truncated, or content after the object
  kNotAnObject,     // valid start of a JSON value, but not an object
  kMissingField,    // a NOT NULL column has no field
  kNullField,       // JSON null for a NOT NULL column
  kWrongType,       // e.g. a string for DOUBLE, a fraction for INT
  kOutOfRange,      // e.g. 2^31 for INT, 1e400 for DOUBLE
  kBadTimestamp,    // a string that ParseTimestamp does not accept
  kInvalidUtf8,     // anywhere in the line, even in ignored fields
  kLineTooLong,     // longer than DecoderOptions::max_line_bytes
  kDuplicateField,  // a column's field appears twice
};
inline constexpr int kNumRejectReasons = 10;

// "malformed_json", "not_an_object", "missing_field", "null_field",
// "wrong_type", "out_of_range", "bad_timestamp", "invalid_utf8",
// "line_too_long", "duplicate_field".
const char* RejectReasonName(RejectReason r);

struct Reject {
  uint64_t line = 0;  // 1-based line number in the input
  RejectReason reason = RejectReason::kMalformedJson;
  std::string detail;  // for people; names the field, e.g. "field 'price': expected DOUBLE, found string"
  std::string raw;     // the line without its terminator; for kLineTooLong only the first kMaxRawRejectBytes
};

// Bytes of an over-long line kept in Reject::raw.
inline constexpr size_t kMaxRawRejectBytes = 1024;

// Appends a reject as one JSON line: {"time"?, "input", "line", "reason",
// "detail", "raw"}. `time_ms` < 0 leaves out "time". The one format of
// reject files and the dead-letter store.
void AppendRejectJsonLine(const Reject& reject, std::string_view input, int64_t time_ms, std::string* out);

// Decodes NDJSON lines against a StreamSchema into Batch rows.
//
// Field matching: each field's key is compared with the column names, first
// exactly, then ASCII-case-insensitively (so "productname" fills column
// ProductName). The case-insensitive fallback is only used for names whose
// lower-case form is unique in the schema. Keys written with escapes
// ("zip\u0063ode") match as their unescaped text. Fields that match no column
// are ignored, but their values must still be well-formed JSON (they are
// validated, up to a nesting depth of 128, beyond which the line is rejected
// as malformed_json). Two fields matching the same column are a
// kDuplicateField, also when they differ only in case.
//
// Values: INT/BIGINT need a JSON integer (1.5 and 1e3 are fractions), range
// checked; DOUBLE takes any JSON number; TEXT a JSON string (stored
// unescaped); BOOLEAN true/false; TIMESTAMP a string in a form ParseTimestamp
// accepts or an integer of epoch milliseconds. A missing field or JSON null
// gives NULL, or a reject for a NOT NULL column.
//
// Owns simdjson parsers and scratch buffers, reused for every line: one
// decoder per thread; not thread-safe. The schema is copied.
class JsonDecoder {
 public:
  explicit JsonDecoder(const StreamSchema& schema, DecoderOptions opts = {});
  ~JsonDecoder();
  JsonDecoder(const JsonDecoder&) = delete;
  JsonDecoder& operator=(const JsonDecoder&) = delete;

  // Decodes one line (without its '\n'; one trailing '\r' is ignored).
  // `padded_capacity` is how many bytes starting at line.data() may be read;
  // with at least line.size() + kJsonPadding the line is parsed in place,
  // otherwise it is first copied into a padded buffer of the decoder.
  //
  // On success appends a row to `batch` (whose columns must be in schema
  // order and which must not be full), copying text into batch->arena, and
  // returns true. On failure returns false and leaves the batch's visible
  // rows and arena unchanged (the slots at index batch->size may have been
  // written); for a blank (all-whitespace) line sets *blank = true and leaves
  // *reject untouched, otherwise sets *blank = false and fills *reject.
  [[nodiscard]] bool Decode(std::string_view line, size_t padded_capacity, uint64_t line_no, Batch* batch,
                            Reject* reject, bool* blank);

  // Decodes whole lines from the start of [data, data + size) (lines end at
  // '\n'; the last one may end at `size`) until the batch is full, the data
  // ends, or a window of lines is done. `first_line_no` is the number of the
  // first line. Appends one row per accepted line to `batch` (which must not
  // be full), appends rejected lines to *rejects in line order (the vector is
  // not cleared), skips blank lines, and adds the number of lines consumed
  // (blank ones included) to *lines. Returns the number of bytes consumed:
  // always just after a '\n' or `size`, and more than 0 when size > 0. Call
  // again with the rest until all is consumed, emptying the batch when full.
  //
  // The rows, rejects and their details are exactly those of Decode called
  // on each line in turn. `padded_capacity` bytes from `data` are readable;
  // with at least size + kJsonPadding the lines are parsed in place, a
  // window of them with one simdjson stage-1 pass; otherwise this decodes
  // line by line through Decode's copy.
  [[nodiscard]] size_t DecodeMany(const char* data, size_t size, size_t padded_capacity, uint64_t first_line_no,
                                  Batch* batch, std::vector<Reject>* rejects, uint64_t* lines);

  const StreamSchema& schema() const { return schema_; }

 private:
  struct Impl;
  const StreamSchema schema_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lf
