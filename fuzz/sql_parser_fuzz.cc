// libFuzzer target for the SQL lexer and parser: any bytes, read as a views
// file and as a query, must give a tree or an error in the "source:line:col:
// message" form, never a crash, a hang or a leak. Trees are checked for the
// invariants later passes rely on: every node has its source text and a
// 1-based location, and the expected children are present.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sql/parser.h"

namespace {

using lf::sql::Expr;
using lf::sql::ExprKind;

void Require(bool cond) {
  if (!cond) std::abort();
}

void CheckLoc(const lf::sql::SourceLoc& loc) { Require(loc.line >= 1 && loc.column >= 1); }

void CheckExpr(const Expr* e, std::string_view input) {
  Require(e != nullptr);
  CheckLoc(e->loc);
  Require(!e->text.empty());
  // The text is a slice of the input (checked on small inputs only: find is linear).
  if (input.size() <= 4096) Require(input.find(e->text) != std::string_view::npos);
  switch (e->kind) {
    case ExprKind::kUnary:
    case ExprKind::kIsNull:
    case ExprKind::kCast:
      Require(e->args.size() == 1);
      break;
    case ExprKind::kBinary:
    case ExprKind::kLike:
      Require(e->args.size() == 2);
      break;
    case ExprKind::kBetween:
      Require(e->args.size() == 3);
      break;
    case ExprKind::kIn:
      Require(e->args.size() >= 2);
      break;
    case ExprKind::kCase:
      Require(!e->args.empty() && e->args.size() % 2 == 0);
      break;
    default:
      break;
  }
  for (const auto& arg : e->args) CheckExpr(arg.get(), input);
  if (e->case_operand) CheckExpr(e->case_operand.get(), input);
  if (e->else_expr) CheckExpr(e->else_expr.get(), input);
  if (e->filter) CheckExpr(e->filter.get(), input);
}

void CheckSelect(const lf::sql::SelectStmt& s, std::string_view input) {
  CheckLoc(s.loc);
  Require(!s.items.empty() && !s.from.text.empty());
  for (const auto& item : s.items) CheckExpr(item.expr.get(), input);
  if (s.where) CheckExpr(s.where.get(), input);
  for (const auto& key : s.group_by) CheckExpr(key.get(), input);
  if (s.having) CheckExpr(s.having.get(), input);
  for (const auto& item : s.order_by) CheckExpr(item.expr.get(), input);
  Require(!s.limit || *s.limit >= 0);
}

void CheckError(const lf::Status& status) {
  Require(status.code() == lf::StatusCode::kInvalidArgument);
  Require(status.message().rfind("fuzz.sql:", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto script = lf::sql::ParseScript(input, "fuzz.sql");
  if (script.ok()) {
    for (const auto& stream : script->streams) Require(!stream.columns.empty());
    for (const auto& view : script->views) CheckSelect(view.select, input);
  } else {
    CheckError(script.status());
  }

  auto query = lf::sql::ParseQuery(input, "fuzz.sql");
  if (query.ok()) {
    CheckSelect(*query, input);
  } else {
    CheckError(query.status());
  }
  return 0;
}
