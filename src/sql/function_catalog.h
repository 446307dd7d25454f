// Which function names of the views language are aggregates (and which
// AggKind they compile to), and which well-known functions are refused
// because they cannot be kept as a mergeable state, with why and what to use.
#pragma once

#include <optional>
#include <string>

#include "agg/aggregate.h"
#include "sql/ast.h"

namespace lf::sql {

// `lname` is the function's name in lower case.
bool IsAggregateName(const std::string& lname);
// COUNT(*) is kCountStar; APPROX_MEDIAN is kApproxQuantile with q = 0.5.
std::optional<AggKind> AggKindOf(const std::string& lname, bool star);
// Why a refused function cannot be a view's aggregate and what to use
// instead, or nullptr when it is not refused.
const char* NonMergeableReason(const std::string& lname);
// Whether an aggregate call appears anywhere in `e`.
bool ContainsAggregate(const Expr& e);

}  // namespace lf::sql
