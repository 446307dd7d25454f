// The binder: resolves names and types of a parsed views file and turns
// each CREATE VIEW into a BoundView, the input of plan compilation. It is
// where SQL that cannot be merged exactly across the batch and speed layers
// is refused, with a message saying why and what to use instead.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agg/aggregate.h"
#include "common/status.h"
#include "ingest/schema.h"
#include "sql/ast.h"
#include "sql/bound_expr.h"

namespace lf::sql {

struct BoundAggregate {
  AggKind kind;
  std::unique_ptr<BoundExpr> arg;     // nullptr for COUNT(*); over the stream's columns
  std::unique_ptr<BoundExpr> filter;  // FILTER (WHERE ...); nullptr if absent
  TypeId result_type;
  std::string text;        // canonical form, for dedup and messages
  double param = 0;        // APPROX_QUANTILE: q in [0, 1]
  std::string state_text;  // `text` without `param`: equal for aggregates that share one state
};

struct OutputColumn {
  std::string name;
  TypeId type;
  // Over the view's intermediate row: columns [0, keys) are the group keys,
  // [keys, keys + aggregates) the finalized aggregates.
  std::unique_ptr<BoundExpr> expr;
};

// A view, resolved: rows of `stream` pass `where`, are grouped by `keys`,
// aggregated by `aggregates`, and finalized into `outputs` (after `having`).
struct BoundView {
  std::string name;
  int stream = -1;                               // index into Catalog::streams
  std::unique_ptr<BoundExpr> where;              // nullptr: all rows
  std::vector<std::unique_ptr<BoundExpr>> keys;  // over the stream's columns
  std::vector<std::string> key_names;            // output-style names of the keys
  std::vector<BoundAggregate> aggregates;
  std::unique_ptr<BoundExpr> having;  // over the intermediate row; nullptr: all groups
  std::vector<OutputColumn> outputs;
};

struct Catalog {
  std::vector<StreamSchema> streams;
  std::vector<BoundView> views;

  const BoundView* FindView(std::string_view name) const;
  const StreamSchema& StreamOf(const BoundView& v) const { return streams[static_cast<size_t>(v.stream)]; }
};

// Binds every statement of `script`. `source` names the file in messages
// ("views.sql:12:8: unknown column 'prise' (did you mean 'price'?)").
Result<Catalog> BindScript(const Script& script, std::string_view source);

// A query over one view's rows: SELECT ... FROM view [WHERE] [GROUP BY]
// [HAVING] [ORDER BY] [LIMIT]. Expressions see the view's output columns.
struct BoundQuery {
  std::string view;
  std::vector<std::string> output_names;
  std::vector<TypeId> output_types;
  // Without aggregation: rows passing `where`, projected.
  std::unique_ptr<BoundExpr> where;
  std::vector<std::unique_ptr<BoundExpr>> projections;
  // With GROUP BY or aggregates: the query runs like a view over the view's
  // rows (its stream is the view's columns); `where`/`projections` unused.
  std::unique_ptr<BoundView> aggregate;
  struct Order {
    int column = -1;  // index into the outputs
    bool descending = false;
    bool nulls_first = true;
  };
  std::vector<Order> order_by;
  std::optional<int64_t> limit;
  // Trailing outputs that exist only to sort by (ORDER BY a column that is
  // not selected); dropped from the answer.
  size_t hidden_columns = 0;
};

// Binds a parsed query against the output columns of the view it reads
// (given as a stream schema named after the view).
Result<BoundQuery> BindQuery(const SelectStmt& select, const StreamSchema& view_columns, std::string_view source);

// Reads, parses and binds a views file.
Result<Catalog> LoadViewsFile(const std::string& path);
// Parses and binds views SQL held in memory.
Result<Catalog> CompileViews(std::string_view text, std::string_view source);

// Whether `ref` (as written, quoted or not) names `declared`: quoted
// identifiers match exactly, unquoted ones case-insensitively.
bool IdentifierMatches(std::string_view declared, std::string_view ref, bool ref_quoted);

}  // namespace lf::sql
