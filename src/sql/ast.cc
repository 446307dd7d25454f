#include "sql/ast.h"

namespace lf::sql {

const char* OpName(OpKind op) {
  switch (op) {
    case OpKind::kNone:
      return "";
    case OpKind::kNeg:
      return "-";
    case OpKind::kNot:
      return "NOT";
    case OpKind::kAdd:
      return "+";
    case OpKind::kSub:
      return "-";
    case OpKind::kMul:
      return "*";
    case OpKind::kDiv:
      return "/";
    case OpKind::kMod:
      return "%";
    case OpKind::kConcat:
      return "||";
    case OpKind::kEq:
      return "=";
    case OpKind::kNe:
      return "<>";
    case OpKind::kLt:
      return "<";
    case OpKind::kLe:
      return "<=";
    case OpKind::kGt:
      return ">";
    case OpKind::kGe:
      return ">=";
    case OpKind::kAnd:
      return "AND";
    case OpKind::kOr:
      return "OR";
  }
  return "?";
}

std::string LocError(std::string_view source, SourceLoc loc, std::string_view message) {
  std::string out(source);
  out += ':';
  out += std::to_string(loc.line);
  out += ':';
  out += std::to_string(loc.column);
  out += ": ";
  out += message;
  return out;
}

}  // namespace lf::sql
