#include "ingest/line_validator.h"

namespace lf {

bool IsBlankLine(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

void ValidateLines(JsonDecoder& decoder, const LineChunk& chunk, Batch* scratch, std::vector<std::string_view>* records,
                   std::vector<Reject>* rejects, std::vector<std::unique_ptr<Batch>>* rows) {
  // Decoding validates; the rows are kept only if asked for.
  const size_t first_reject = rejects->size();
  size_t pos = 0;
  uint64_t lines = 0;
  Batch* out = scratch;
  if (rows) {
    rows->push_back(std::make_unique<Batch>(decoder.schema().types()));
    out = rows->back().get();
  }
  out->Clear();
  while (pos < chunk.size) {
    pos += decoder.DecodeMany(chunk.data + pos, chunk.size - pos, chunk.padded_capacity - pos,
                              chunk.first_line_no + lines, out, rejects, &lines);
    if (!out->full()) continue;
    if (rows) {
      rows->push_back(std::make_unique<Batch>(decoder.schema().types()));
      out = rows->back().get();
    } else {
      out->Clear();
    }
  }
  if (rows) {
    if (out->size == 0) rows->pop_back();
  } else {
    scratch->Clear();
  }
  // Accepted lines: every non-blank line that was not rejected.
  LineSplitter splitter(chunk);
  std::string_view line;
  size_t padded;
  uint64_t line_no;
  size_t next_reject = first_reject;
  while (splitter.Next(&line, &padded, &line_no)) {
    if (next_reject < rejects->size() && (*rejects)[next_reject].line == line_no) {
      ++next_reject;
      continue;
    }
    if (IsBlankLine(line)) continue;
    if (line.back() == '\r') line.remove_suffix(1);
    records->push_back(line);
  }
}

}  // namespace lf
