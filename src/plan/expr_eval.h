// Vectorized evaluation of bound expressions over columnar batches. The
// bound tree is immutable and shared; an ExprEvaluator is the per-thread
// mutable state (result vectors, string arenas) for one tree.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/vector.h"
#include "sql/bound_expr.h"

namespace lf {

// Evaluates one expression over whole batches. Runtime conditions that SQL
// systems disagree on yield NULL rather than an error, so that evaluation
// never fails: division or modulo by zero, integer overflow in arithmetic,
// a CAST of text that does not read as the target type.
// Not thread-safe; one per thread.
class ExprEvaluator {
 public:
  explicit ExprEvaluator(const sql::BoundExpr& expr);
  ~ExprEvaluator();
  ExprEvaluator(const ExprEvaluator&) = delete;
  ExprEvaluator& operator=(const ExprEvaluator&) = delete;

  // Evaluates rows [0, input.size) of `input`. The result stays valid until
  // the next call; it may alias a column of `input`.
  const Vector& Evaluate(const Batch& input);

  struct Node;

 private:
  std::unique_ptr<Node> root_;
};

// Appends to `sel` the rows in [0, n) where `v` is true (non-NULL, non-zero);
// returns how many.
size_t SelectTrue(const Vector& v, size_t n, uint32_t* sel);

// SQL LIKE with '%' (any run) and '_' (one UTF-8 character); case-sensitive.
bool LikeMatch(std::string_view s, std::string_view pattern);

}  // namespace lf
