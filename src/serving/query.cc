#include "serving/query.h"

#include <algorithm>
#include <numeric>

#include "plan/expr_eval.h"
#include "sql/parser.h"

namespace lf {
namespace {

// Feeds the rows of `input` to `fn` as batches typed like the view.
Status ForEachBatch(const ViewResult& input, const BatchFn& fn) {
  Batch batch(input.column_types);
  for (size_t from = 0; from < input.rows.size(); from += Batch::kCapacity) {
    batch.Clear();
    batch.size = std::min(Batch::kCapacity, input.rows.size() - from);
    for (size_t k = 0; k < batch.size; ++k) {
      const auto& row = input.rows[from + k];
      for (size_t c = 0; c < row.size(); ++c) batch.columns[c].SetValue(k, row[c], &batch.arena);
    }
    RETURN_IF_ERROR(fn(batch));
  }
  return Status::OK();
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
      return SqlDoubleCompare(v.dbls[a], v.dbls[b]);  // NaN one value above +inf, as views sort keys
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

size_t Nodes(const sql::BoundExpr* e) {
  if (!e) return 0;
  size_t n = 1;
  for (const auto& c : e->children) n += Nodes(c.get());
  return n;
}

}  // namespace

size_t RowsPerBatch(const sql::BoundQuery& q) {
  size_t nodes = Nodes(q.where.get());
  for (const auto& p : q.projections) nodes += Nodes(p.get());
  if (q.aggregate) {
    const sql::BoundView& v = *q.aggregate;
    nodes += Nodes(v.where.get()) + Nodes(v.having.get());
    for (const auto& k : v.keys) nodes += Nodes(k.get());
    for (const auto& a : v.aggregates) nodes += Nodes(a.arg.get()) + Nodes(a.filter.get());
    for (const auto& o : v.outputs) nodes += Nodes(o.expr.get());
  }
  // About 256k node-rows per batch: whole batches up to 128 nodes, at
  // least 16 rows.
  constexpr size_t kNodeRows = size_t{256} << 10;
  return std::clamp<size_t>(kNodeRows / std::max<size_t>(nodes, 1), 16, Batch::kCapacity);
}

Result<ViewResult> ExecuteQuery(const sql::BoundQuery& q, const ViewResult& input) {
  return ExecuteQuery(q, input.name, [&](const BatchFn& fn) { return ForEachBatch(input, fn); });
}

Result<ViewResult> ExecuteQuery(const sql::BoundQuery& q, const std::string& view, const BatchSource& input,
                                QueryBudget* budget) {
  ViewResult out;
  out.name = view;
  out.column_names = q.output_names;
  out.column_types = q.output_types;
  if (q.aggregate) {
    ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(*q.aggregate));
    auto state = plan->NewState();
    // The state's bytes are measured each time its groups have doubled
    // (measuring walks every group of some aggregates).
    size_t measured_groups = 0, measured_bytes = 0;
    auto charge = [&]() -> Status {
      const size_t bytes = state->MemoryUsage();
      measured_groups = state->num_groups();
      if (bytes > measured_bytes) RETURN_IF_ERROR(budget->Charge(bytes - measured_bytes));
      measured_bytes = std::max(measured_bytes, bytes);
      return Status::OK();
    };
    RETURN_IF_ERROR(input([&](const Batch& b) -> Status {
      state->Consume(b);
      if (!budget) return Status::OK();
      if (state->num_groups() >= 2 * measured_groups + 1024) return charge();
      return budget->CheckTime();
    }));
    if (budget) RETURN_IF_ERROR(charge());
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
    uint64_t held = 0;  // bytes of out.rows charged to the budget
    RETURN_IF_ERROR(input([&](const Batch& b) -> Status {
      if (out.rows.size() >= cap) return Status::OK();
      if (top != SIZE_MAX && out.rows.size() > 2 * top + Batch::kCapacity) {
        SortRows(q, &out.rows);  // stable: the rows kept precede later ties
        out.rows.resize(top);
        if (budget) {
          uint64_t kept = 0;
          for (const auto& row : out.rows) kept += QueryBudget::RowBytes(row);
          budget->Release(held - kept);
          held = kept;
        }
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
      uint64_t added = 0;
      for (size_t k = 0; k < m && out.rows.size() < cap; ++k) {
        std::vector<Value> row;
        for (size_t c = 0; c < cols.size(); ++c) {
          Value v = cols[c]->GetValue(sel[k]);
          v.type = out.column_types[c];
          row.push_back(std::move(v));
        }
        if (budget) added += QueryBudget::RowBytes(row);
        out.rows.push_back(std::move(row));
      }
      if (!budget) return Status::OK();
      held += added;
      return budget->Charge(added);
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
