// Renders finalized views as TSV (the batch-view interchange format), JSON
// and an aligned text table for people.
#pragma once

#include <string>

#include "plan/view_plan.h"

namespace lf {

enum class ResultFormat { kTsv, kJson, kTable };

// Parses "tsv", "json", "table".
Result<ResultFormat> ParseResultFormat(std::string_view s);

// Header line of column names, then one line per row; NULL as \N; text
// escaped (\\ \t \n \r); timestamps "YYYY-MM-DD HH:MM:SS.fff"; doubles in
// shortest round-trip form; booleans true/false.
void AppendTsv(const ViewResult& r, std::string* out);
// {"view": name, "columns": [{"name","type"}...], "rows": [[...], ...]}
// with NULL as null and timestamps as strings.
void AppendJson(const ViewResult& r, std::string* out);
// A boxed, aligned table with the view name as title.
void AppendTable(const ViewResult& r, std::string* out);

// Streaming TSV: the header line, then rows straight from column vectors
// (as handed out by ViewState::FinalizeBatches), without building Values.
void AppendTsvHeader(const std::vector<std::string>& names, std::string* out);
void AppendTsvRows(const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n, std::string* out);

// The whole TSV of a view (header, then every group in key order), the
// same bytes as AppendTsvHeader plus FinalizeBatches into AppendTsvRows;
// views of many groups are finalized and formatted by up to `threads`
// threads over contiguous ranges of the key order (0: one per core).
// Adds the rows written to *rows if given. Fails as FinalizeBatches does
// (the first failing group in key order).
Status AppendViewTsv(const ViewPlan& plan, const ViewState& state, size_t threads, std::string* out,
                     uint64_t* rows = nullptr);

void AppendResult(const ViewResult& r, ResultFormat f, std::string* out);

// One value in TSV / JSON form.
void AppendTsvValue(const Value& v, std::string* out);
void AppendJsonValue(const Value& v, std::string* out);

}  // namespace lf
