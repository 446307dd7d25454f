// libFuzzer target for JsonDecoder: the input is NDJSON, decoded against a
// seed-shaped schema both in place (padded chunk) and from unpadded copies,
// with the flat-line fast path alone (FlatLineDecoder), and then again with
// DecodeMany with and without that fast path (and with its text left in the
// input). Checks that every line is
// accepted, rejected or blank, that all ways agree (the fast path: a line it
// takes is one Decode accepts, with the same row bit for bit; DecodeMany: the
// same rows and the same rejects as Decode line by line), and that accepted
// rows hold values of their declared types.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/flat_line_decoder.h"
#include "ingest/input_reader.h"
#include "ingest/json_decoder.h"

namespace {

void Require(bool cond) {
  if (!cond) __builtin_trap();
}

lf::StreamSchema SeedSchema() {
  lf::StreamSchema s;
  s.name = "events";
  s.columns = {{"zipcode", lf::TypeId::kInt, false},
               {"ProductName", lf::TypeId::kText, true},
               {"price", lf::TypeId::kDouble, false},
               {"timestamp", lf::TypeId::kTimestamp, false},
               {"ok", lf::TypeId::kBoolean, false}};
  return s;
}

void CheckRow(const lf::Batch& batch, size_t row) {
  const lf::Vector& zip = batch.columns[0];
  if (!zip.IsNull(row)) Require(zip.ints[row] >= INT32_MIN && zip.ints[row] <= INT32_MAX);
  const lf::Vector& name = batch.columns[1];
  Require(!name.IsNull(row));  // NOT NULL
  Require(simdjson::validate_utf8(name.strs[row].data(), name.strs[row].size()));
  const lf::Vector& ok = batch.columns[4];
  if (!ok.IsNull(row)) Require(ok.ints[row] == 0 || ok.ints[row] == 1);
}

std::vector<lf::Value> Row(const lf::Batch& batch, size_t row) {
  std::vector<lf::Value> values;
  for (const lf::Vector& v : batch.columns) values.push_back(v.GetValue(row));
  return values;
}

// Cell by cell, doubles by bit pattern (so that -0.0 differs from 0.0).
bool SameRowBits(const lf::Batch& a, size_t ra, const lf::Batch& b, size_t rb) {
  for (size_t c = 0; c < a.columns.size(); ++c) {
    const lf::Vector& x = a.columns[c];
    const lf::Vector& y = b.columns[c];
    if (x.IsNull(ra) != y.IsNull(rb)) return false;
    if (x.IsNull(ra)) continue;
    switch (lf::PhysicalOf(x.type)) {
      case lf::PhysicalType::kInt64:
        if (x.ints[ra] != y.ints[rb]) return false;
        break;
      case lf::PhysicalType::kDouble:
        if (std::memcmp(&x.dbls[ra], &y.dbls[rb], sizeof(double)) != 0) return false;
        break;
      case lf::PhysicalType::kString:
        if (x.strs[ra] != y.strs[rb]) return false;
        break;
    }
  }
  return true;
}

bool SameReject(const lf::Reject& a, const lf::Reject& b) {
  return a.line == b.line && a.reason == b.reason && a.detail == b.detail && a.raw == b.raw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lf::StreamSchema schema = SeedSchema();
  lf::DecoderOptions opts;
  opts.max_line_bytes = 4096;
  static lf::JsonDecoder in_place(schema, opts);
  static lf::JsonDecoder copied(schema, opts);
  static lf::Batch batch_a(schema.types());
  static lf::Batch batch_b(schema.types());
  static lf::FlatLineDecoder flat(schema, opts.max_line_bytes);
  static lf::Batch batch_f(schema.types());
  batch_a.Clear();
  batch_b.Clear();

  // The input followed by padding, as InputReader delivers a chunk.
  std::string chunk_bytes(reinterpret_cast<const char*>(data), size);
  chunk_bytes.append(lf::kJsonPadding, ' ');
  lf::LineChunk chunk{chunk_bytes.data(), size, chunk_bytes.size(), 1};
  lf::LineSplitter split(chunk);

  std::string_view line;
  size_t padded;
  uint64_t line_no;
  uint64_t lines = 0, accepted = 0, rejected = 0, blank = 0;
  lf::Reject ra, rb;
  std::vector<std::vector<lf::Value>> rows;  // accepted, in order
  std::vector<lf::Reject> rejects;
  while (split.Next(&line, &padded, &line_no)) {
    ++lines;
    Require(line_no == lines);
    Require(padded >= line.size() + lf::kJsonPadding);
    if (batch_a.full()) batch_a.Clear();
    if (batch_b.full()) batch_b.Clear();
    const size_t rows_before = batch_a.size;
    bool blank_a = false, blank_b = false;
    bool ok_a = in_place.Decode(line, padded, line_no, &batch_a, &ra, &blank_a);
    std::string copy(line);  // no padding: the decoder must copy
    bool ok_b = copied.Decode(copy, copy.size(), line_no, &batch_b, &rb, &blank_b);
    Require(ok_a == ok_b && blank_a == blank_b);
    // The fast path alone, on the line in the chunk: what it takes, Decode
    // accepts, with the same row; it consumes the line and its '\n'.
    batch_f.Clear();
    const char* chunk_end = chunk.data + chunk.size;
    const size_t taken = flat.DecodeLine(line.data(), chunk_end, &batch_f);
    if (taken > 0) {
      Require(ok_a && batch_f.size == 1);
      Require(SameRowBits(batch_f, 0, batch_a, batch_a.size - 1));
      const size_t line_bytes = static_cast<size_t>(line.data() + line.size() - chunk.data);
      Require(taken == line.size() + (line_bytes < chunk.size ? 1 : 0));
    } else {
      Require(batch_f.size == 0);
    }
    if (ok_a) {
      ++accepted;
      Require(!blank_a);
      Require(batch_a.size == rows_before + 1);
      CheckRow(batch_a, rows_before);
      rows.push_back(Row(batch_a, rows_before));
      for (size_t c = 0; c < schema.columns.size(); ++c) {
        Require(batch_a.columns[c].GetValue(rows_before) == batch_b.columns[c].GetValue(batch_b.size - 1));
      }
    } else if (blank_a) {
      ++blank;
      Require(batch_a.size == rows_before);
    } else {
      ++rejected;
      Require(batch_a.size == rows_before);
      Require(ra.reason == rb.reason && ra.detail == rb.detail);
      Require(ra.line == line_no && !ra.detail.empty());
      Require(std::strcmp(lf::RejectReasonName(ra.reason), "unknown") != 0);
      std::string_view expect_raw = line;
      if (!expect_raw.empty() && expect_raw.back() == '\r') expect_raw.remove_suffix(1);
      if (ra.reason == lf::RejectReason::kLineTooLong) {
        Require(expect_raw.size() > opts.max_line_bytes);
        expect_raw = expect_raw.substr(0, lf::kMaxRawRejectBytes);
      }
      Require(ra.raw == expect_raw);
      rejects.push_back(ra);
    }
  }
  Require(accepted + rejected + blank == lines);

  // DecodeMany over the same chunk, into a batch whose capacity (1 to 16
  // rows) comes from the input; a fresh decoder, so that its adaptive window
  // sizes depend on this input only.
  // With the flat-line fast path (the default), with it and text into the
  // input, and without it.
  for (const int mode : {0, 1, 2}) {
    lf::DecoderOptions many_opts = opts;
    many_opts.text_into_input = mode == 1;
    many_opts.flat_fast_path = mode != 2;
    lf::JsonDecoder many(schema, many_opts);
    lf::Batch batch_m(schema.types(), size > 0 ? 1 + data[size - 1] % 16 : 1);
    std::vector<lf::Reject> many_rejects;
    size_t next_row = 0;
    size_t pos = 0;
    uint64_t many_lines = 0;
    while (pos < size) {
      const size_t n = many.DecodeMany(chunk.data + pos, size - pos, chunk.padded_capacity - pos, 1 + many_lines,
                                       &batch_m, &many_rejects, &many_lines);
      Require(n > 0 && pos + n <= size);
      pos += n;
      Require(pos == size || chunk.data[pos - 1] == '\n');
      if (batch_m.full() || pos == size) {
        for (size_t r = 0; r < batch_m.size; ++r) {
          Require(next_row < rows.size() && Row(batch_m, r) == rows[next_row]);
          ++next_row;
        }
        batch_m.Clear();
      }
    }
    Require(many_lines == lines && next_row == rows.size());
    Require(many_rejects.size() == rejects.size());
    for (size_t i = 0; i < rejects.size(); ++i) Require(SameReject(many_rejects[i], rejects[i]));
  }
  return 0;
}
