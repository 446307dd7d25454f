// Queries over views: SELECT cols FROM view [WHERE ...] [GROUP BY ...]
// [ORDER BY ...] [LIMIT n], answered from a finalized view. A query that
// aggregates runs the same plan machinery as a view, over the view's rows.
#pragma once

#include <functional>
#include <string_view>

#include "plan/view_plan.h"
#include "serving/query_budget.h"
#include "sql/binder.h"

namespace lf {

// Runs a bound query over the rows of `input` (the view it names).
Result<ViewResult> ExecuteQuery(const sql::BoundQuery& query, const ViewResult& input);

// The rows of a view, as batches typed like its columns, in the view's row
// order: calls fn once per batch (valid during the call) and stops at the
// first error fn returns, which it returns.
using BatchFn = std::function<Status(const Batch&)>;
using BatchSource = std::function<Status(const BatchFn& fn)>;
// The same over any source of the view's rows (named `view`). With a
// budget, the rows kept and the groups built are charged to it and its time
// is checked after every batch: the query stops with its error.
Result<ViewResult> ExecuteQuery(const sql::BoundQuery& query, const std::string& view, const BatchSource& input,
                                QueryBudget* budget = nullptr);

// Parses `sql` and binds it against the columns of the view it names, which
// `columns` gives (false: no such view, an InvalidArgument naming it).
using ViewColumns = std::function<bool(std::string_view name, StreamSchema* columns)>;
struct PreparedQuery {
  std::string view;  // as the query names it
  sql::BoundQuery bound;
};
Result<PreparedQuery> PrepareQuery(std::string_view sql, std::string_view source, const ViewColumns& columns);

// Finds a view's current rows by name (case-insensitive), or nullptr.
using ViewLookup = std::function<const ViewResult*(std::string_view name)>;

// Parses, binds and runs `sql` (source names it in error messages, e.g.
// "query"). Unknown views and SQL errors are InvalidArgument with line and
// column.
Result<ViewResult> RunQuery(std::string_view sql, std::string_view source, const ViewLookup& lookup);

}  // namespace lf
