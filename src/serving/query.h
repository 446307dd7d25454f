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

// How many rows a source should hand `query` per batch: every node of its
// expressions is evaluated over a whole batch (constants included), so a
// query with very large expressions (an IN list of 100,000 items) gets
// small batches. That keeps its evaluation memory small and its budget
// checked often: time per batch ~ nodes x rows.
size_t RowsPerBatch(const sql::BoundQuery& query);

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
