#include "sql/bound_expr.h"

namespace lf::sql {

std::string BoundExpr::ToString() const {
  std::string out;
  switch (kind) {
    case BoundKind::kConstant:
      if (constant.is_null) return "NULL";
      if (constant.type == TypeId::kText) return "'" + constant.s + "'";
      return constant.DebugString() + ":" + TypeName(constant.type);
    case BoundKind::kColumn:
      return "#" + std::to_string(column);
    case BoundKind::kNeg:
      out = "neg";
      break;
    case BoundKind::kNot:
      out = "not";
      break;
    case BoundKind::kArith:
    case BoundKind::kCompare:
      out = OpName(op);
      break;
    case BoundKind::kConcat:
      out = "||";
      break;
    case BoundKind::kAnd:
      out = "and";
      break;
    case BoundKind::kOr:
      out = "or";
      break;
    case BoundKind::kIsNull:
      out = negated ? "isnotnull" : "isnull";
      break;
    case BoundKind::kIn:
      out = negated ? "notin" : "in";
      break;
    case BoundKind::kLike:
      out = negated ? "notlike" : "like";
      break;
    case BoundKind::kCase:
      out = "case";
      break;
    case BoundKind::kCast:
      out = std::string("cast:") + TypeName(type);
      break;
    case BoundKind::kCoalesce:
      out = "coalesce";
      break;
    case BoundKind::kDateTrunc:
      out = std::string("date_trunc:") + TimeUnitName(unit);
      break;
    case BoundKind::kExtract:
      out = "extract:" + std::to_string(static_cast<int>(field));
      break;
    case BoundKind::kLower:
      out = "lower";
      break;
    case BoundKind::kUpper:
      out = "upper";
      break;
    case BoundKind::kLength:
      out = "length";
      break;
    case BoundKind::kSubstr:
      out = "substr";
      break;
    case BoundKind::kAbs:
      out = "abs";
      break;
    case BoundKind::kRound:
      out = "round";
      break;
  }
  out += '(';
  for (size_t i = 0; i < children.size(); ++i) {
    if (i) out += ',';
    out += children[i]->ToString();
  }
  out += ')';
  return out;
}

bool BoundExpr::IsConstant() const {
  if (kind == BoundKind::kColumn) return false;
  for (const auto& c : children)
    if (!c->IsConstant()) return false;
  return true;
}

}  // namespace lf::sql
