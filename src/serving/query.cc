#include "serving/query.h"

#include <algorithm>
#include <numeric>

#include "plan/expr_eval.h"
#include "sql/parser.h"

namespace lf {
namespace {

// Feeds the rows of `input` to `fn` as batches typed like the view.
template <typename Fn>
void ForEachBatch(const ViewResult& input, Fn fn) {
  Batch batch(input.column_types);
  for (size_t from = 0; from < input.rows.size(); from += Batch::kCapacity) {
    batch.Clear();
    batch.size = std::min(Batch::kCapacity, input.rows.size() - from);
    for (size_t k = 0; k < batch.size; ++k) {
      const auto& row = input.rows[from + k];
      for (size_t c = 0; c < row.size(); ++c) batch.columns[c].SetValue(k, row[c], &batch.arena);
    }
    fn(batch);
  }
}

// Sorts rows by the query's ORDER BY, stably (ties keep their order).
void SortRows(const sql::BoundQuery& q, std::vector<std::vector<Value>>* rows) {
  if (q.order_by.empty()) return;
  std::stable_sort(rows->begin(), rows->end(), [&](const auto& a, const auto& b) {
    for (const auto& o : q.order_by) {
      const Value& x = a[static_cast<size_t>(o.column)];
      const Value& y = b[static_cast<size_t>(o.column)];
      if (x.is_null != y.is_null) return x.is_null == o.nulls_first;
      if (x.is_null) continue;
      int c = x.Compare(y);
      if (c != 0) return o.descending ? c > 0 : c < 0;
    }
    return false;
  });
}

// Compares cell a and cell b of `v` like Value::Compare.
int CompareCells(const Vector& v, uint32_t a, uint32_t b) {
  if (!v.valid[a] || !v.valid[b]) return int(!v.valid[b]) - int(!v.valid[a]);
  switch (PhysicalOf(v.type)) {
    case PhysicalType::kInt64:
      return v.ints[a] < v.ints[b] ? -1 : (v.ints[a] > v.ints[b] ? 1 : 0);
    case PhysicalType::kDouble:
      return v.dbls[a] < v.dbls[b] ? -1 : (v.dbls[a] > v.dbls[b] ? 1 : 0);
    case PhysicalType::kString: {
      const int c = v.strs[a].compare(v.strs[b]);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

// Reorders the m selected rows of a batch so that the first `top` are its
// best by the query's ORDER BY (ties by position, as the stable sort that
// follows would keep them), in their original order; returns top.
size_t BestRows(const sql::BoundQuery& q, const std::vector<const Vector*>& cols, uint32_t* sel, size_t m, size_t top) {
  std::partial_sort(sel, sel + top, sel + m, [&](uint32_t a, uint32_t b) {
    for (const auto& o : q.order_by) {
      const Vector& v = *cols[static_cast<size_t>(o.column)];
      if (v.valid[a] != v.valid[b]) return !v.valid[a] == o.nulls_first;
      if (!v.valid[a]) continue;
      const int c = CompareCells(v, a, b);
      if (c != 0) return o.descending ? c > 0 : c < 0;
    }
    return a < b;
  });
  std::sort(sel, sel + top);
  return top;
}

}  // namespace

Result<ViewResult> ExecuteQuery(const sql::BoundQuery& q, const ViewResult& input) {
  return ExecuteQuery(q, input.name, [&](const std::function<void(const Batch&)>& fn) {
    ForEachBatch(input, fn);
    return Status::OK();
  });
}

Result<ViewResult> ExecuteQuery(const sql::BoundQuery& q, const std::string& view, const BatchSource& input) {
  ViewResult out;
  out.name = view;
  out.column_names = q.output_names;
  out.column_types = q.output_types;
  if (q.aggregate) {
    ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(*q.aggregate));
    auto state = plan->NewState();
    RETURN_IF_ERROR(input([&](const Batch& b) { state->Consume(b); }));
    ASSIGN_OR_RETURN(ViewResult grouped, state->Finalize());
    out.rows = std::move(grouped.rows);
  } else {
    std::unique_ptr<ExprEvaluator> where = q.where ? std::make_unique<ExprEvaluator>(*q.where) : nullptr;
    std::vector<std::unique_ptr<ExprEvaluator>> projections;
    for (const auto& p : q.projections) projections.push_back(std::make_unique<ExprEvaluator>(*p));
    std::vector<uint32_t> sel(Batch::kCapacity);
    // Without ORDER BY, LIMIT can stop early; with it, only the best LIMIT
    // rows so far need to be kept (a top-k).
    const size_t cap = q.order_by.empty() && q.limit ? static_cast<size_t>(*q.limit) : SIZE_MAX;
    const size_t top = !q.order_by.empty() && q.limit ? static_cast<size_t>(*q.limit) : SIZE_MAX;
    RETURN_IF_ERROR(input([&](const Batch& b) {
      if (out.rows.size() >= cap) return;
      if (top != SIZE_MAX && out.rows.size() > 2 * top + Batch::kCapacity) {
        SortRows(q, &out.rows);  // stable: the rows kept precede later ties
        out.rows.resize(top);
      }
      size_t m = b.size;
      if (where) {
        m = SelectTrue(where->Evaluate(b), b.size, sel.data());
      } else {
        std::iota(sel.begin(), sel.begin() + static_cast<long>(m), 0);
      }
      std::vector<const Vector*> cols;
      for (auto& p : projections) cols.push_back(&p->Evaluate(b));
      if (top < m) m = BestRows(q, cols, sel.data(), m, top);  // only these can make the top
      for (size_t k = 0; k < m && out.rows.size() < cap; ++k) {
        std::vector<Value> row;
        for (size_t c = 0; c < cols.size(); ++c) {
          Value v = cols[c]->GetValue(sel[k]);
          v.type = out.column_types[c];
          row.push_back(std::move(v));
        }
        out.rows.push_back(std::move(row));
      }
    }));
  }
  SortRows(q, &out.rows);
  if (q.limit && out.rows.size() > static_cast<size_t>(*q.limit)) out.rows.resize(static_cast<size_t>(*q.limit));
  if (q.hidden_columns) {
    const size_t visible = out.column_names.size() - q.hidden_columns;
    out.column_names.resize(visible);
    out.column_types.resize(visible);
    for (auto& row : out.rows) row.resize(visible);
  }
  return out;
}

Result<PreparedQuery> PrepareQuery(std::string_view sql, std::string_view source, const ViewColumns& columns) {
  ASSIGN_OR_RETURN(sql::SelectStmt stmt, sql::ParseQuery(sql, source));
  StreamSchema schema;
  if (!columns(stmt.from.text, &schema))
    return Status::InvalidArgument(sql::LocError(source, stmt.from.loc, "unknown view '" + stmt.from.text + "'"));
  PreparedQuery p;
  p.view = stmt.from.text;
  ASSIGN_OR_RETURN(p.bound, sql::BindQuery(stmt, schema, source));
  return p;
}

Result<ViewResult> RunQuery(std::string_view sql, std::string_view source, const ViewLookup& lookup) {
  const ViewResult* view = nullptr;
  ASSIGN_OR_RETURN(PreparedQuery p, PrepareQuery(sql, source, [&](std::string_view name, StreamSchema* schema) {
                     view = lookup(name);
                     if (!view) return false;
                     schema->name = view->name;
                     for (size_t c = 0; c < view->column_names.size(); ++c)
                       schema->columns.push_back({view->column_names[c], view->column_types[c], false});
                     return true;
                   }));
  return ExecuteQuery(p.bound, *view);
}

}  // namespace lf
