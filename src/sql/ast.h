// The syntax tree of lambdaflow SQL, as produced by the parser and consumed
// by the binder. Nodes carry source locations so that every later error can
// name line and column. Identifiers keep their spelling and whether they
// were quoted: unquoted identifiers match case-insensitively, quoted ones
// exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"

namespace lf::sql {

struct SourceLoc {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes
};

struct Identifier {
  std::string text;  // without quotes
  bool quoted = false;
  SourceLoc loc;
};

enum class ExprKind : uint8_t {
  kLiteral,   // literal
  kColumn,    // name (a column of the stream, or in a query an output column of a view)
  kStar,      // `*` in COUNT(*) or SELECT *
  kUnary,     // op args[0]: kNeg, kNot
  kBinary,    // args[0] op args[1]
  kIsNull,    // args[0] IS [NOT] NULL (negated)
  kIn,        // args[0] [NOT] IN (args[1..])
  kBetween,   // args[0] [NOT] BETWEEN args[1] AND args[2]
  kLike,      // args[0] [NOT] LIKE args[1]
  kCase,      // CASE [operand] WHEN args[2k] THEN args[2k+1] ... [ELSE else_expr] END
  kCast,      // CAST(args[0] AS cast_type)
  kFunction,  // name(args...) incl. aggregates; [FILTER (WHERE filter)]
};

enum class OpKind : uint8_t {
  kNone,
  kNeg,
  kNot,  // unary
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,     // arithmetic
  kConcat,  // ||
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,  // comparison
  kAnd,
  kOr,  // logic
};

const char* OpName(OpKind op);

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  SourceLoc loc;     // where the expression starts
  std::string text;  // the expression's source text, for output column names

  Value literal;              // kLiteral
  Identifier name;            // kColumn; kFunction (function name)
  OpKind op = OpKind::kNone;  // kUnary, kBinary
  bool negated = false;       // kIsNull, kIn, kBetween, kLike
  std::vector<std::unique_ptr<Expr>> args;
  std::unique_ptr<Expr> case_operand;  // kCase: CASE x WHEN ...
  std::unique_ptr<Expr> else_expr;     // kCase
  TypeId cast_type = TypeId::kNull;    // kCast
  bool distinct = false;               // kFunction: f(DISTINCT x)
  std::unique_ptr<Expr> filter;        // kFunction: FILTER (WHERE ...)
  bool over = false;                   // kFunction: OVER (...) was written (refused by the binder)
};

struct SelectItem {
  std::unique_ptr<Expr> expr;
  std::optional<Identifier> alias;
};

struct OrderItem {
  std::unique_ptr<Expr> expr;
  bool descending = false;
  std::optional<bool> nulls_first;
};

struct SelectStmt {
  SourceLoc loc;
  std::vector<SelectItem> items;
  Identifier from;
  std::unique_ptr<Expr> where;
  std::vector<std::unique_ptr<Expr>> group_by;
  std::unique_ptr<Expr> having;
  std::vector<OrderItem> order_by;
  std::optional<int64_t> limit;
  SourceLoc order_by_loc, limit_loc, having_loc;
};

struct ColumnDef {
  Identifier name;
  TypeId type = TypeId::kText;
  bool not_null = false;
};

struct CreateStream {
  SourceLoc loc;
  Identifier name;
  std::vector<ColumnDef> columns;
};

struct CreateView {
  SourceLoc loc;
  Identifier name;
  SelectStmt select;
};

// A views file: streams and views in the order written.
struct Script {
  std::vector<CreateStream> streams;
  std::vector<CreateView> views;
};

}  // namespace lf::sql

namespace lf::sql {
// "views.sql:12:8: message" — the one format of every SQL error.
std::string LocError(std::string_view source, SourceLoc loc, std::string_view message);
}  // namespace lf::sql
