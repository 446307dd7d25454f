// Queries over views: SELECT cols FROM view [WHERE ...] [GROUP BY ...]
// [ORDER BY ...] [LIMIT n], answered from a finalized view. A query that
// aggregates runs the same plan machinery as a view, over the view's rows.
#pragma once

#include <functional>
#include <string_view>

#include "plan/view_plan.h"
#include "sql/binder.h"

namespace lf {

// Runs a bound query over the rows of `input` (the view it names).
Result<ViewResult> ExecuteQuery(const sql::BoundQuery& query, const ViewResult& input);

// Finds a view's current rows by name (case-insensitive), or nullptr.
using ViewLookup = std::function<const ViewResult*(std::string_view name)>;

// Parses, binds and runs `sql` (source names it in error messages, e.g.
// "query"). Unknown views and SQL errors are InvalidArgument with line and
// column.
Result<ViewResult> RunQuery(std::string_view sql, std::string_view source, const ViewLookup& lookup);

}  // namespace lf
