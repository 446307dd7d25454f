#include "sql/function_catalog.h"

#include <cctype>

namespace lf::sql {
namespace {

std::string LowerName(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool IsAggregateName(const std::string& lname) {
  return lname == "count" || lname == "sum" || lname == "min" || lname == "max" || lname == "avg" ||
         lname == "approx_count_distinct" || lname == "approx_quantile" || lname == "approx_median";
}

// Functions that cannot be kept as a mergeable state: why, and what to use.
const char* NonMergeableReason(const std::string& lname) {
  if (lname == "percentile_cont" || lname == "percentile_disc" || lname == "median" || lname == "quantile" ||
      lname == "quantile_cont" || lname == "quantile_disc" || lname == "mode")
    return "exact percentiles need every value of a group and cannot be merged from partial states; "
           "use APPROX_QUANTILE(x, q) or APPROX_MEDIAN(x), a mergeable sketch within 1% relative error";
  if (lname == "string_agg" || lname == "array_agg" || lname == "listagg" || lname == "group_concat")
    return "collecting every value of a group grows without bound and is not a mergeable state; "
           "use COUNT, MIN, MAX or APPROX_COUNT_DISTINCT";
  if (lname == "row_number" || lname == "rank" || lname == "dense_rank" || lname == "lag" || lname == "lead" ||
      lname == "first_value" || lname == "last_value" || lname == "ntile")
    return "window functions are not supported in views: a view is a mergeable aggregation; "
           "rank or order its rows at query time (SELECT ... FROM view ORDER BY ... LIMIT n)";
  return nullptr;
}

std::optional<AggKind> AggKindOf(const std::string& lname, bool star) {
  if (lname == "count") return star ? AggKind::kCountStar : AggKind::kCount;
  if (lname == "sum") return AggKind::kSum;
  if (lname == "min") return AggKind::kMin;
  if (lname == "max") return AggKind::kMax;
  if (lname == "avg") return AggKind::kAvg;
  if (lname == "approx_count_distinct") return AggKind::kApproxCountDistinct;
  if (lname == "approx_quantile" || lname == "approx_median") return AggKind::kApproxQuantile;
  return std::nullopt;
}

bool ContainsAggregate(const Expr& e) {
  if (e.kind == ExprKind::kFunction && IsAggregateName(LowerName(e.name.text))) return true;
  for (const auto& a : e.args)
    if (a && ContainsAggregate(*a)) return true;
  if (e.case_operand && ContainsAggregate(*e.case_operand)) return true;
  if (e.else_expr && ContainsAggregate(*e.else_expr)) return true;
  return false;
}

}  // namespace lf::sql
