// The fast path of JsonDecoder::DecodeMany: one NDJSON line that is plainly a
// flat object of the stream's fields, read byte by byte straight into the
// typed column vectors, without simdjson.
//
// "Plainly" means: optional whitespace, '{', then members whose keys are
// column names written exactly (no escapes, no case variants, none twice, no
// unknown field) and whose values are of the column's type in a simple form:
//   INT/BIGINT   -?digits (at most 18, no leading zero), in range;
//   DOUBLE       -?digits(.digits)? with at most 19 significant digits, at
//                most 22 after the point, the digits as an integer <= 2^53 (so
//                that digits / 10^k, one IEEE division, is the correctly
//                rounded value simdjson also gives); no exponent;
//   TEXT         a string without backslash or control character (valid
//                UTF-8 checked when it has bytes >= 0x80);
//   TIMESTAMP    such a string that the timestamp parsers accept in range, or
//                such an integer in range;
//   BOOLEAN      true / false;
//   null         for a nullable column;
// then '}', only whitespace up to the line's '\n' (or the end of the data),
// the line no longer than the decoder's limit, and every NOT NULL column
// present. Every byte of the line is checked against this grammar, which is
// a subset of JSON, so a line accepted here is one the exact path accepts
// with the same row. Anything else (nested values, escapes, exponents,
// unknown or repeated fields, rejects of any kind, blank lines) is left to
// the exact path: DecodeLine returns 0 and the batch's visible rows and arena
// are unchanged. The fuzzer (fuzz/json_decoder_fuzz.cc) checks both paths
// agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/vector.h"
#include "ingest/schema.h"
#include "ingest/seed_timestamp.h"

namespace lf {

class FlatLineDecoder {
 public:
  // `copy_text` false: text of accepted rows points into the input (no
  // arena copy), valid as long as the input bytes are.
  FlatLineDecoder(const StreamSchema& schema, size_t max_line_bytes, bool copy_text = true);

  // False when the schema cannot use the fast path (no column, or more
  // than 64).
  bool enabled() const { return enabled_; }

  // Decodes the line starting at `p` (it ends at the next '\n' or at `end`).
  // At least kJsonPadding bytes after `end` must be readable. On success
  // appends a row to `batch` (not full; text copied into its arena unless
  // the decoder was made with copy_text false) and
  // returns the bytes consumed, the '\n' included; otherwise returns 0.
  size_t DecodeLine(const char* p, const char* end, Batch* batch);

 private:
  struct Column {
    TypeId type;
    bool not_null;
    bool matchable;  // the name can be matched raw (no byte JSON would escape)
    std::string_view name;
    // The name followed by '"' as up to two little-endian words and masks
    // (key_words 1 or 2), or 0: compared bytewise.
    int key_words = 0;
    uint64_t w0 = 0, m0 = 0, w1 = 0, m1 = 0;
  };

  // Whether the key at `raw` (after its opening quote) is column `c`'s name
  // followed by the closing quote.
  bool KeyIs(const char* raw, const char* end, const Column& c) const;

  std::vector<Column> columns_;
  std::vector<std::string> names_;  // owned copies the columns point into
  std::vector<size_t> text_columns_;
  uint64_t not_null_mask_ = 0;
  uint64_t all_mask_ = 0;
  size_t max_line_bytes_;
  size_t next_col_ = 0;
  bool enabled_;
  bool copy_text_;
  DateCache date_cache_;
};

}  // namespace lf
