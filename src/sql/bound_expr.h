// Bound (resolved, typed) expressions: what the binder makes of the AST and
// what plans evaluate. Column references are indexes into the input batch
// of the evaluation (a stream's columns, or a view's keys+aggregates).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/time.h"
#include "common/types.h"
#include "sql/ast.h"

namespace lf::sql {

enum class BoundKind : uint8_t {
  kConstant,  // constant
  kColumn,    // column (index into the input batch)
  kNeg,       // -children[0]
  kNot,       // NOT children[0]
  kArith,     // children[0] op children[1]: kAdd, kSub, kMul, kDiv, kMod
  kConcat,    // children[0] || children[1]
  kCompare,   // children[0] op children[1]: kEq..kGe
  kAnd,       // children[0] AND children[1] (three-valued)
  kOr,
  kIsNull,     // children[0] IS [NOT] NULL (negated)
  kIn,         // children[0] [NOT] IN (children[1..])
  kLike,       // children[0] [NOT] LIKE children[1]
  kCase,       // WHEN children[2k] THEN children[2k+1] ...; ELSE children.back() (always present; NULL if not written)
  kCast,       // CAST(children[0] AS type)
  kCoalesce,   // first non-NULL of children
  kDateTrunc,  // DATE_TRUNC(unit, children[0])
  kExtract,    // EXTRACT(field FROM children[0])
  kLower,
  kUpper,
  kLength,
  kSubstr,
  kAbs,
  kRound,
};

struct BoundExpr {
  BoundKind kind = BoundKind::kConstant;
  TypeId type = TypeId::kNull;         // result type
  Value constant;                      // kConstant
  int column = -1;                     // kColumn
  OpKind op = OpKind::kNone;           // kArith, kCompare
  bool negated = false;                // kIsNull, kIn, kLike
  TimeUnit unit = TimeUnit::kHour;     // kDateTrunc
  TimeField field = TimeField::kYear;  // kExtract
  std::vector<std::unique_ptr<BoundExpr>> children;

  // A canonical rendering, equal for equal expressions: used to match a
  // SELECT item against GROUP BY expressions and to hash plans.
  std::string ToString() const;
  bool IsConstant() const;
};

}  // namespace lf::sql
