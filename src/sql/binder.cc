#include "sql/binder.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/format.h"
#include "common/time.h"
#include "sql/function_catalog.h"
#include "sql/parser.h"
#include "sql/suggest.h"

namespace lf::sql {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::unique_ptr<BoundExpr> MakeNode(BoundKind kind, TypeId type) {
  auto e = std::make_unique<BoundExpr>();
  e->kind = kind;
  e->type = type;
  return e;
}

std::unique_ptr<BoundExpr> MakeConstant(Value v) {
  auto e = MakeNode(BoundKind::kConstant, v.type);
  e->constant = std::move(v);
  return e;
}

// Binds expressions of one view. In the plain mode, column names resolve
// against the stream; in the output mode (SELECT items and HAVING of an
// aggregating view) aggregates and GROUP BY expressions become references
// to the view's intermediate row.
class ExprBinder {
 public:
  ExprBinder(std::string_view source, const StreamSchema& stream, const char* kind = "stream")
      : source_(source), stream_(stream), kind_(kind) {}

  Result<std::unique_ptr<BoundExpr>> BindPlain(const Expr& e, const char* clause) {
    clause_ = clause;
    output_mode_ = false;
    return Bind(e);
  }

  Result<std::unique_ptr<BoundExpr>> BindOutput(const Expr& e, BoundView* view) {
    output_mode_ = true;
    view_ = view;
    clause_ = "SELECT";
    auto r = Bind(e);
    output_mode_ = false;
    return r;
  }

  Status Error(SourceLoc loc, const std::string& msg) const {
    return Status::InvalidArgument(LocError(source_, loc, msg));
  }

  Result<int> ResolveColumn(const Identifier& id) const {
    int found = -1;
    for (size_t i = 0; i < stream_.columns.size(); ++i) {
      if (IdentifierMatches(stream_.columns[i].name, id.text, id.quoted)) {
        if (found >= 0)
          return Error(id.loc, "column name '" + id.text + "' is ambiguous in stream '" + stream_.name +
                                   "'; quote it with the exact case");
        found = static_cast<int>(i);
      }
    }
    if (found < 0) {
      std::vector<std::string> names;
      for (const auto& c : stream_.columns) names.push_back(c.name);
      return Error(id.loc, "unknown column '" + id.text + "'" + Suggest(id.text, names) + " in " + kind_ + " '" +
                               stream_.name + "'");
    }
    return found;
  }

 private:
  Result<std::unique_ptr<BoundExpr>> Bind(const Expr& e) {
    if (output_mode_) {
      ASSIGN_OR_RETURN(auto intercepted, InterceptOutput(e));
      if (intercepted) return intercepted;
    }
    switch (e.kind) {
      case ExprKind::kLiteral:
        return MakeConstant(e.literal);
      case ExprKind::kColumn: {
        ASSIGN_OR_RETURN(int col, ResolveColumn(e.name));
        auto node = MakeNode(BoundKind::kColumn, stream_.columns[static_cast<size_t>(col)].type);
        node->column = col;
        return node;
      }
      case ExprKind::kStar:
        return Error(e.loc, "'*' is only allowed in COUNT(*)");
      case ExprKind::kUnary:
        return BindUnary(e);
      case ExprKind::kBinary:
        return BindBinary(e);
      case ExprKind::kIsNull: {
        ASSIGN_OR_RETURN(auto child, Bind(*e.args[0]));
        auto node = MakeNode(BoundKind::kIsNull, TypeId::kBoolean);
        node->negated = e.negated;
        node->children.push_back(std::move(child));
        return node;
      }
      case ExprKind::kIn:
        return BindIn(e);
      case ExprKind::kBetween:
        return BindBetween(e);
      case ExprKind::kLike: {
        ASSIGN_OR_RETURN(auto x, Bind(*e.args[0]));
        ASSIGN_OR_RETURN(auto pattern, Bind(*e.args[1]));
        RETURN_IF_ERROR(ExpectText(*x, e.args[0]->loc, "LIKE"));
        RETURN_IF_ERROR(ExpectText(*pattern, e.args[1]->loc, "LIKE"));
        auto node = MakeNode(BoundKind::kLike, TypeId::kBoolean);
        node->negated = e.negated;
        node->children.push_back(Coerce(std::move(x), TypeId::kText));
        node->children.push_back(Coerce(std::move(pattern), TypeId::kText));
        return node;
      }
      case ExprKind::kCase:
        return BindCase(e);
      case ExprKind::kCast: {
        ASSIGN_OR_RETURN(auto x, Bind(*e.args[0]));
        if (e.cast_type == TypeId::kNull) return Error(e.loc, "CAST needs a target type");
        if (x->type == e.cast_type) return x;
        auto node = MakeNode(BoundKind::kCast, e.cast_type);
        node->children.push_back(std::move(x));
        return node;
      }
      case ExprKind::kFunction:
        return BindFunction(e);
    }
    return Error(e.loc, "unsupported expression");
  }

  // In output mode: aggregates and GROUP BY expressions become references
  // into the intermediate row; bare stream columns are an error.
  Result<std::unique_ptr<BoundExpr>> InterceptOutput(const Expr& e) {
    if (e.kind == ExprKind::kFunction && IsAggregateName(Lower(e.name.text))) return BindAggregate(e);
    if (ContainsAggregate(e)) return std::unique_ptr<BoundExpr>();
    output_mode_ = false;
    auto plain = Bind(e);
    output_mode_ = true;
    if (!plain.ok()) return plain.status();
    std::string canon = (*plain)->ToString();
    for (size_t k = 0; k < view_->keys.size(); ++k) {
      if (view_->keys[k]->ToString() == canon) {
        auto node = MakeNode(BoundKind::kColumn, view_->keys[k]->type);
        node->column = static_cast<int>(k);
        return node;
      }
    }
    if ((*plain)->IsConstant()) return std::move(plain).value();
    if (e.kind == ExprKind::kColumn)
      return Error(e.loc, "column '" + e.name.text + "' must appear in GROUP BY or be used in an aggregate function");
    return std::unique_ptr<BoundExpr>();  // bind the children one by one
  }

  Result<std::unique_ptr<BoundExpr>> BindAggregate(const Expr& e) {
    std::string lname = Lower(e.name.text);
    if (e.over) return Error(e.loc, NonMergeableReason("row_number"));
    if (e.distinct) {
      if (lname == "count")
        return Error(e.loc,
                     "COUNT(DISTINCT ...) cannot be merged exactly across the batch and speed layers (it needs "
                     "every distinct value); use APPROX_COUNT_DISTINCT(x), a HyperLogLog with about 1.6% error");
      return Error(e.loc, Upper(lname) + "(DISTINCT ...) cannot be merged from partial states; remove DISTINCT");
    }
    bool star = e.args.size() == 1 && e.args[0]->kind == ExprKind::kStar;
    if (star && lname != "count") return Error(e.loc, Upper(lname) + "(*) is not valid; only COUNT(*) takes '*'");
    BoundAggregate agg;
    const bool quantile = lname == "approx_quantile";
    if (quantile) {
      ASSIGN_OR_RETURN(agg.param, QuantileParam(e));
    } else if (!star && e.args.size() != 1) {
      return Error(e.loc, Upper(lname) + " takes exactly one argument, got " + std::to_string(e.args.size()));
    }
    agg.kind = *AggKindOf(lname, star);
    if (lname == "approx_median") agg.param = 0.5;
    TypeId arg_type = TypeId::kNull;
    ExprBinder inner(source_, stream_);
    if (!star) {
      if (ContainsAggregate(*e.args[0])) return Error(e.args[0]->loc, "aggregate functions cannot be nested");
      ASSIGN_OR_RETURN(agg.arg, inner.BindPlain(*e.args[0], "an aggregate's argument"));
      arg_type = agg.arg->type;
      if (arg_type == TypeId::kNull)
        return Error(e.args[0]->loc, Upper(lname) + " of an untyped NULL; CAST it to a type");
    }
    if (e.filter) {
      if (ContainsAggregate(*e.filter)) return Error(e.filter->loc, "aggregate functions are not allowed in FILTER");
      ASSIGN_OR_RETURN(agg.filter, inner.BindPlain(*e.filter, "FILTER"));
      RETURN_IF_ERROR(ExpectBoolean(*agg.filter, e.filter->loc, "FILTER (WHERE ...)"));
    }
    auto fn = AggregateFunction::Make(agg.kind, arg_type);
    if (!fn.ok()) return Error(e.loc, fn.status().message());
    agg.result_type = (*fn)->result_type();
    agg.state_text = std::string(AggKindName(agg.kind)) + "(" + (star ? "*" : agg.arg->ToString()) + ")" +
                     (agg.filter ? " FILTER(" + agg.filter->ToString() + ")" : "");
    agg.text = agg.state_text;
    if (agg.kind == AggKind::kApproxQuantile) {
      std::string q;
      AppendDouble(agg.param, &q);
      agg.text = "APPROX_QUANTILE(" + agg.arg->ToString() + ", " + q + ")" +
                 (agg.filter ? " FILTER(" + agg.filter->ToString() + ")" : "");
    }
    size_t index = view_->aggregates.size();
    for (size_t i = 0; i < view_->aggregates.size(); ++i)
      if (view_->aggregates[i].text == agg.text) index = i;
    TypeId type = agg.result_type;
    if (index == view_->aggregates.size()) view_->aggregates.push_back(std::move(agg));
    auto node = MakeNode(BoundKind::kColumn, type);
    node->column = static_cast<int>(view_->keys.size() + index);
    return node;
  }

  // APPROX_QUANTILE(x, q): q a constant number in [0, 1].
  Result<double> QuantileParam(const Expr& e) const {
    if (e.args.size() != 2)
      return Error(e.loc, "APPROX_QUANTILE takes two arguments (x, q), got " + std::to_string(e.args.size()) +
                              "; APPROX_MEDIAN(x) takes one");
    const Expr& q = *e.args[1];
    const bool number = q.kind == ExprKind::kLiteral && !q.literal.is_null &&
                        (q.literal.type == TypeId::kDouble || IsInteger(q.literal.type));
    const double v = !number ? -1 : q.literal.type == TypeId::kDouble ? q.literal.d : static_cast<double>(q.literal.i);
    if (!number || !(v >= 0 && v <= 1))
      return Error(q.loc, "APPROX_QUANTILE's q must be a constant number from 0 to 1, e.g. 0.99");
    return v;
  }

  static std::string Upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  Status ExpectBoolean(const BoundExpr& x, SourceLoc loc, const char* where) const {
    if (x.type == TypeId::kBoolean || x.type == TypeId::kNull) return Status::OK();
    return Error(loc, std::string(where) + " needs a BOOLEAN, found " + TypeName(x.type));
  }
  Status ExpectText(const BoundExpr& x, SourceLoc loc, const char* where) const {
    if (x.type == TypeId::kText || x.type == TypeId::kNull) return Status::OK();
    return Error(loc, std::string(where) + " needs TEXT, found " + TypeName(x.type) + "; CAST it AS TEXT");
  }
  Status ExpectNumeric(const BoundExpr& x, SourceLoc loc, const std::string& where) const {
    if (IsNumeric(x.type) || x.type == TypeId::kNull) return Status::OK();
    return Error(loc, where + " needs a number, found " + TypeName(x.type));
  }

  // Gives `x` type `t`: retypes NULL constants, folds constant text into
  // timestamps, widens integers to DOUBLE with a cast.
  static std::unique_ptr<BoundExpr> Coerce(std::unique_ptr<BoundExpr> x, TypeId t) {
    if (x->type == t || t == TypeId::kNull) return x;
    if (x->kind == BoundKind::kConstant && x->constant.is_null) return MakeConstant(Value::Null(t));
    if (IsInteger(x->type) && IsInteger(t)) return x;  // same physical type
    if (x->kind == BoundKind::kConstant && IsInteger(x->type) && t == TypeId::kDouble)
      return MakeConstant(Value::Double(static_cast<double>(x->constant.i)));  // folded: IN sets stay constant
    auto node = MakeNode(BoundKind::kCast, t);
    node->children.push_back(std::move(x));
    return node;
  }

  // The common type of two operands, or an error naming both.
  Result<TypeId> Unify(BoundExpr* a, BoundExpr* b, SourceLoc loc, const std::string& what) const {
    TypeId x = a->type, y = b->type;
    if (x == y) return x;
    if (x == TypeId::kNull) return y;
    if (y == TypeId::kNull) return x;
    if (IsInteger(x) && IsInteger(y)) return TypeId::kBigInt;
    if (IsNumeric(x) && IsNumeric(y)) return TypeId::kDouble;
    // A text constant compared with a timestamp reads as a timestamp.
    for (auto [c, other] : {std::pair{a, y}, std::pair{b, x}}) {
      if (other == TypeId::kTimestamp && c->kind == BoundKind::kConstant && c->type == TypeId::kText) {
        auto ts = ParseTimestamp(c->constant.s);
        if (!ts) return Error(loc, "cannot read '" + c->constant.s + "' as a TIMESTAMP");
        c->constant = Value::Timestamp(*ts);
        c->type = TypeId::kTimestamp;
        return TypeId::kTimestamp;
      }
    }
    return Error(loc, what + " cannot combine " + TypeName(x) + " and " + TypeName(y) + "; CAST one of them");
  }

  Result<std::unique_ptr<BoundExpr>> BindUnary(const Expr& e) {
    ASSIGN_OR_RETURN(auto x, Bind(*e.args[0]));
    if (e.op == OpKind::kNot) {
      RETURN_IF_ERROR(ExpectBoolean(*x, e.args[0]->loc, "NOT"));
      auto node = MakeNode(BoundKind::kNot, TypeId::kBoolean);
      node->children.push_back(Coerce(std::move(x), TypeId::kBoolean));
      return node;
    }
    RETURN_IF_ERROR(ExpectNumeric(*x, e.args[0]->loc, "unary '-'"));
    TypeId t = x->type == TypeId::kNull ? TypeId::kBigInt : (x->type == TypeId::kInt ? TypeId::kBigInt : x->type);
    auto node = MakeNode(BoundKind::kNeg, t);
    node->children.push_back(Coerce(std::move(x), t));
    return node;
  }

  Result<std::unique_ptr<BoundExpr>> BindBinary(const Expr& e) {
    ASSIGN_OR_RETURN(auto a, Bind(*e.args[0]));
    ASSIGN_OR_RETURN(auto b, Bind(*e.args[1]));
    std::string opname = std::string("'") + OpName(e.op) + "'";
    switch (e.op) {
      case OpKind::kAnd:
      case OpKind::kOr: {
        RETURN_IF_ERROR(ExpectBoolean(*a, e.args[0]->loc, OpName(e.op)));
        RETURN_IF_ERROR(ExpectBoolean(*b, e.args[1]->loc, OpName(e.op)));
        auto node = MakeNode(e.op == OpKind::kAnd ? BoundKind::kAnd : BoundKind::kOr, TypeId::kBoolean);
        node->children.push_back(Coerce(std::move(a), TypeId::kBoolean));
        node->children.push_back(Coerce(std::move(b), TypeId::kBoolean));
        return node;
      }
      case OpKind::kConcat: {
        auto node = MakeNode(BoundKind::kConcat, TypeId::kText);
        node->children.push_back(Coerce(std::move(a), TypeId::kText));
        node->children.push_back(Coerce(std::move(b), TypeId::kText));
        return node;
      }
      case OpKind::kEq:
      case OpKind::kNe:
      case OpKind::kLt:
      case OpKind::kLe:
      case OpKind::kGt:
      case OpKind::kGe: {
        ASSIGN_OR_RETURN(TypeId t, Unify(a.get(), b.get(), e.loc, "comparison " + opname));
        if (t == TypeId::kNull) t = TypeId::kBoolean;
        auto node = MakeNode(BoundKind::kCompare, TypeId::kBoolean);
        node->op = e.op;
        node->children.push_back(Coerce(std::move(a), t));
        node->children.push_back(Coerce(std::move(b), t));
        return node;
      }
      default:
        break;
    }
    // Arithmetic.
    for (const auto& [x, loc] : {std::pair{a.get(), e.args[0]->loc}, std::pair{b.get(), e.args[1]->loc}}) {
      if (x->type == TypeId::kText)
        return Error(loc, "operator " + opname + " needs numbers, found TEXT" +
                              (e.op == OpKind::kAdd ? "; use || to concatenate text" : ""));
      if (x->type == TypeId::kTimestamp)
        return Error(loc,
                     "arithmetic on TIMESTAMP is not supported; use DATE_TRUNC, EXTRACT, or "
                     "CAST(ts AS BIGINT) for epoch milliseconds");
      RETURN_IF_ERROR(ExpectNumeric(*x, loc, "operator " + opname));
    }
    ASSIGN_OR_RETURN(TypeId t, Unify(a.get(), b.get(), e.loc, "operator " + opname));
    if (t == TypeId::kNull || t == TypeId::kInt) t = TypeId::kBigInt;
    auto node = MakeNode(BoundKind::kArith, t);
    node->op = e.op;
    node->children.push_back(Coerce(std::move(a), t));
    node->children.push_back(Coerce(std::move(b), t));
    return node;
  }

  // x [NOT] IN (items): x and every item take the common type of all of
  // them (`a IN (1.5, 2)` compares as DOUBLE whatever the items' order).
  Result<std::unique_ptr<BoundExpr>> BindIn(const Expr& e) {
    ASSIGN_OR_RETURN(auto x, Bind(*e.args[0]));
    std::vector<std::unique_ptr<BoundExpr>> items;
    items.reserve(e.args.size() - 1);
    TypeId t = x->type;
    for (size_t i = 1; i < e.args.size(); ++i) {
      ASSIGN_OR_RETURN(auto item, Bind(*e.args[i]));
      // Against x: reads a text constant as a timestamp where x is one.
      ASSIGN_OR_RETURN(TypeId pair, Unify(x.get(), item.get(), e.args[i]->loc, "IN list"));
      // Against the items so far: the common type of all of them.
      if (i == 1) t = x->type;  // x may have just been read as a timestamp
      BoundExpr so_far, next;
      so_far.kind = next.kind = BoundKind::kColumn;  // types only: no constant to convert
      so_far.type = t;
      next.type = pair;
      ASSIGN_OR_RETURN(t, Unify(&so_far, &next, e.args[i]->loc, "IN list"));
      items.push_back(std::move(item));
    }
    auto node = MakeNode(BoundKind::kIn, TypeId::kBoolean);
    node->negated = e.negated;
    node->children.push_back(Coerce(std::move(x), t));
    for (auto& item : items) node->children.push_back(Coerce(std::move(item), t));
    return node;
  }

  Result<std::unique_ptr<BoundExpr>> BindBetween(const Expr& e) {
    // x BETWEEN lo AND hi  ==  x >= lo AND x <= hi
    std::unique_ptr<BoundExpr> parts[2];
    for (int k = 0; k < 2; ++k) {
      ASSIGN_OR_RETURN(auto x, Bind(*e.args[0]));
      ASSIGN_OR_RETURN(auto bound, Bind(*e.args[1 + k]));
      ASSIGN_OR_RETURN(TypeId t, Unify(x.get(), bound.get(), e.args[1 + k]->loc, "BETWEEN"));
      auto cmp = MakeNode(BoundKind::kCompare, TypeId::kBoolean);
      cmp->op = k == 0 ? OpKind::kGe : OpKind::kLe;
      cmp->children.push_back(Coerce(std::move(x), t));
      cmp->children.push_back(Coerce(std::move(bound), t));
      parts[k] = std::move(cmp);
    }
    auto node = MakeNode(BoundKind::kAnd, TypeId::kBoolean);
    node->children.push_back(std::move(parts[0]));
    node->children.push_back(std::move(parts[1]));
    if (!e.negated) return node;
    auto neg = MakeNode(BoundKind::kNot, TypeId::kBoolean);
    neg->children.push_back(std::move(node));
    return neg;
  }

  Result<std::unique_ptr<BoundExpr>> BindCase(const Expr& e) {
    std::vector<std::unique_ptr<BoundExpr>> conds, results;
    for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
      std::unique_ptr<BoundExpr> cond;
      if (e.case_operand) {
        // CASE x WHEN v THEN ...  ==  CASE WHEN x = v THEN ...
        ASSIGN_OR_RETURN(auto x, Bind(*e.case_operand));
        ASSIGN_OR_RETURN(auto v, Bind(*e.args[i]));
        ASSIGN_OR_RETURN(TypeId t, Unify(x.get(), v.get(), e.args[i]->loc, "CASE ... WHEN"));
        cond = MakeNode(BoundKind::kCompare, TypeId::kBoolean);
        cond->op = OpKind::kEq;
        cond->children.push_back(Coerce(std::move(x), t));
        cond->children.push_back(Coerce(std::move(v), t));
      } else {
        ASSIGN_OR_RETURN(cond, Bind(*e.args[i]));
        RETURN_IF_ERROR(ExpectBoolean(*cond, e.args[i]->loc, "CASE WHEN"));
        cond = Coerce(std::move(cond), TypeId::kBoolean);
      }
      ASSIGN_OR_RETURN(auto result, Bind(*e.args[i + 1]));
      conds.push_back(std::move(cond));
      results.push_back(std::move(result));
    }
    std::unique_ptr<BoundExpr> else_result;
    if (e.else_expr) {
      ASSIGN_OR_RETURN(else_result, Bind(*e.else_expr));
    } else {
      else_result = MakeConstant(Value::Null());
    }
    TypeId t = else_result->type;
    for (size_t i = 0; i < results.size(); ++i) {
      auto probe = MakeNode(BoundKind::kConstant, t);
      ASSIGN_OR_RETURN(t, Unify(probe.get(), results[i].get(), e.args[2 * i + 1]->loc, "CASE branches"));
    }
    if (t == TypeId::kInt) t = TypeId::kBigInt;
    auto node = MakeNode(BoundKind::kCase, t == TypeId::kNull ? TypeId::kText : t);
    for (size_t i = 0; i < results.size(); ++i) {
      node->children.push_back(std::move(conds[i]));
      node->children.push_back(Coerce(std::move(results[i]), node->type));
    }
    node->children.push_back(Coerce(std::move(else_result), node->type));
    return node;
  }

  Result<std::unique_ptr<BoundExpr>> BindFunction(const Expr& e) {
    std::string lname = Lower(e.name.text);
    if (const char* why = NonMergeableReason(lname)) return Error(e.loc, why);
    if (e.over) return Error(e.loc, NonMergeableReason("row_number"));
    if (IsAggregateName(lname)) return Error(e.loc, "aggregate functions are not allowed in " + std::string(clause_));
    if (e.filter) return Error(e.filter->loc, "FILTER applies only to aggregate functions");
    auto arity = [&](size_t lo, size_t hi) -> Status {
      if (e.args.size() < lo || e.args.size() > hi)
        return Error(e.loc, Upper(lname) + " takes " +
                                (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                                " argument(s), got " + std::to_string(e.args.size()));
      return Status::OK();
    };
    std::vector<std::unique_ptr<BoundExpr>> args;
    if (lname == "date_trunc" || lname == "extract") {
      RETURN_IF_ERROR(arity(2, 2));
      const Expr& what = *e.args[0];
      if (what.kind != ExprKind::kLiteral || what.literal.type != TypeId::kText)
        return Error(what.loc, Upper(lname) + " needs a constant unit like 'hour' as its first argument");
      ASSIGN_OR_RETURN(auto ts, Bind(*e.args[1]));
      if (ts->type != TypeId::kTimestamp && ts->type != TypeId::kNull)
        return Error(e.args[1]->loc, Upper(lname) + " needs a TIMESTAMP, found " + TypeName(ts->type));
      if (lname == "date_trunc") {
        auto unit = ParseTimeUnit(what.literal.s);
        if (!unit)
          return Error(what.loc, "unknown DATE_TRUNC unit '" + what.literal.s +
                                     "'; use second, minute, hour, day, week, month, quarter or year");
        auto node = MakeNode(BoundKind::kDateTrunc, TypeId::kTimestamp);
        node->unit = *unit;
        node->children.push_back(Coerce(std::move(ts), TypeId::kTimestamp));
        return node;
      }
      auto field = ParseTimeField(what.literal.s);
      if (!field)
        return Error(what.loc, "unknown EXTRACT field '" + what.literal.s +
                                   "'; use year, quarter, month, week, day, hour, minute, second, millisecond, "
                                   "dow, doy or epoch");
      auto node = MakeNode(BoundKind::kExtract, TypeId::kBigInt);
      node->field = *field;
      node->children.push_back(Coerce(std::move(ts), TypeId::kTimestamp));
      return node;
    }
    for (const auto& a : e.args) {
      ASSIGN_OR_RETURN(auto b, Bind(*a));
      args.push_back(std::move(b));
    }
    if (lname == "coalesce") {
      if (args.empty()) return Error(e.loc, "COALESCE needs at least one argument");
      TypeId t = TypeId::kNull;
      for (size_t i = 0; i < args.size(); ++i) {
        auto probe = MakeNode(BoundKind::kConstant, t);
        ASSIGN_OR_RETURN(t, Unify(probe.get(), args[i].get(), e.args[i]->loc, "COALESCE"));
      }
      if (t == TypeId::kInt) t = TypeId::kBigInt;
      auto node = MakeNode(BoundKind::kCoalesce, t);
      for (auto& a : args) node->children.push_back(Coerce(std::move(a), t));
      return node;
    }
    if (lname == "lower" || lname == "upper" || lname == "length") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(ExpectText(*args[0], e.args[0]->loc, Upper(lname).c_str()));
      auto node = MakeNode(lname == "lower"   ? BoundKind::kLower
                           : lname == "upper" ? BoundKind::kUpper
                                              : BoundKind::kLength,
                           lname == "length" ? TypeId::kBigInt : TypeId::kText);
      node->children.push_back(Coerce(std::move(args[0]), TypeId::kText));
      return node;
    }
    if (lname == "substr" || lname == "substring") {
      RETURN_IF_ERROR(arity(2, 3));
      RETURN_IF_ERROR(ExpectText(*args[0], e.args[0]->loc, "SUBSTR"));
      auto node = MakeNode(BoundKind::kSubstr, TypeId::kText);
      node->children.push_back(Coerce(std::move(args[0]), TypeId::kText));
      for (size_t i = 1; i < args.size(); ++i) {
        if (!IsInteger(args[i]->type) && args[i]->type != TypeId::kNull)
          return Error(e.args[i]->loc,
                       "SUBSTR positions must be integers, found " + std::string(TypeName(args[i]->type)));
        node->children.push_back(Coerce(std::move(args[i]), TypeId::kBigInt));
      }
      return node;
    }
    if (lname == "abs") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(ExpectNumeric(*args[0], e.args[0]->loc, "ABS"));
      TypeId t = args[0]->type == TypeId::kDouble ? TypeId::kDouble : TypeId::kBigInt;
      auto node = MakeNode(BoundKind::kAbs, t);
      node->children.push_back(Coerce(std::move(args[0]), t));
      return node;
    }
    if (lname == "round") {
      RETURN_IF_ERROR(arity(1, 2));
      RETURN_IF_ERROR(ExpectNumeric(*args[0], e.args[0]->loc, "ROUND"));
      auto node = MakeNode(BoundKind::kRound, TypeId::kDouble);
      node->children.push_back(Coerce(std::move(args[0]), TypeId::kDouble));
      if (args.size() == 2) {
        if (!IsInteger(args[1]->type)) return Error(e.args[1]->loc, "ROUND's digits must be an integer");
        node->children.push_back(Coerce(std::move(args[1]), TypeId::kBigInt));
      }
      return node;
    }
    static const std::vector<std::string> kFunctions = {
        "coalesce", "date_trunc", "extract", "lower", "upper",
        "length",   "substr",     "abs",     "round", "count",
        "sum",      "min",        "max",     "avg",   "approx_count_distinct"};
    return Error(e.name.loc, "unknown function '" + e.name.text + "'" + Suggest(lname, kFunctions));
  }

  std::string_view source_;
  const StreamSchema& stream_;
  const char* kind_;
  bool output_mode_ = false;
  BoundView* view_ = nullptr;
  const char* clause_ = "WHERE";
};

std::string DefaultName(const SelectItem& item, const StreamSchema& stream) {
  if (item.alias) return item.alias->text;
  if (item.expr->kind == ExprKind::kColumn) {
    for (const auto& c : stream.columns)
      if (IdentifierMatches(c.name, item.expr->name.text, item.expr->name.quoted)) return c.name;
    return item.expr->name.text;
  }
  return item.expr->text;
}

Status Refuse(std::string_view source, SourceLoc loc, const std::string& msg) {
  return Status::InvalidArgument(LocError(source, loc, msg));
}

// Binds a SELECT as a view named `name`. A query (is_query) may have
// ORDER BY and LIMIT (handled by the caller) and need not aggregate.
Result<BoundView> BindSelectAsView(const std::string& name, const SelectStmt& s,
                                   const std::vector<StreamSchema>& streams, std::string_view source, bool is_query) {
  BoundView view;
  view.name = name;
  for (size_t i = 0; i < streams.size(); ++i)
    if (IdentifierMatches(streams[i].name, s.from.text, s.from.quoted)) view.stream = static_cast<int>(i);
  if (view.stream < 0) {
    std::vector<std::string> names;
    for (const auto& st : streams) names.push_back(st.name);
    return Refuse(source, s.from.loc,
                  "unknown stream '" + s.from.text + "'" + Suggest(s.from.text, names) +
                      (streams.empty() ? "; declare it first with CREATE STREAM" : ""));
  }
  const StreamSchema& stream = streams[static_cast<size_t>(view.stream)];
  if (!is_query && !s.order_by.empty())
    return Refuse(source, s.order_by_loc,
                  "ORDER BY is not allowed in a view: a view is a set of groups merged across the batch and speed "
                  "layers; order at query time (SELECT ... FROM " +
                      view.name + " ORDER BY ... LIMIT n)");
  if (!is_query && s.limit)
    return Refuse(source, s.limit_loc,
                  "LIMIT is not allowed in a view: a top-n cannot be merged exactly from partial results; "
                  "limit at query time (SELECT ... FROM " +
                      view.name + " ORDER BY ... LIMIT n)");
  ExprBinder binder(source, stream);
  if (s.where) {
    if (ContainsAggregate(*s.where))
      return Refuse(source, s.where->loc, "aggregate functions are not allowed in WHERE; use HAVING");
    ASSIGN_OR_RETURN(view.where, binder.BindPlain(*s.where, "WHERE"));
    if (view.where->type != TypeId::kBoolean && view.where->type != TypeId::kNull)
      return Refuse(source, s.where->loc, std::string("WHERE needs a BOOLEAN, found ") + TypeName(view.where->type));
  }
  for (const auto& item : s.items)
    if (item.expr->kind == ExprKind::kStar)
      return Refuse(source, item.expr->loc,
                    "SELECT * is not allowed in a view: a view aggregates; name the GROUP BY columns and aggregates");
  // GROUP BY: a stream column, an output alias, a 1-based position, or an expression.
  for (const auto& g : s.group_by) {
    const Expr* target = g.get();
    if (g->kind == ExprKind::kLiteral && IsInteger(g->literal.type)) {
      int64_t pos = g->literal.i;
      if (pos < 1 || pos > static_cast<int64_t>(s.items.size()))
        return Refuse(source, g->loc,
                      "GROUP BY position " + std::to_string(pos) + " is not in the select list (1.." +
                          std::to_string(s.items.size()) + ")");
      target = s.items[static_cast<size_t>(pos - 1)].expr.get();
    } else if (g->kind == ExprKind::kColumn && !binder.ResolveColumn(g->name).ok()) {
      for (const auto& item : s.items)
        if (item.alias && IdentifierMatches(item.alias->text, g->name.text, g->name.quoted)) target = item.expr.get();
    }
    if (ContainsAggregate(*target)) return Refuse(source, g->loc, "GROUP BY cannot refer to an aggregate function");
    ASSIGN_OR_RETURN(auto key, binder.BindPlain(*target, "GROUP BY"));
    std::string name = target->kind == ExprKind::kColumn ? target->name.text : target->text;
    for (const auto& item : s.items)
      if (item.expr.get() == target && item.alias) name = item.alias->text;
    view.key_names.push_back(name);
    view.keys.push_back(std::move(key));
  }
  bool aggregating = !view.keys.empty();
  for (const auto& item : s.items) aggregating = aggregating || ContainsAggregate(*item.expr);
  if (!aggregating && !is_query)
    return Refuse(source, s.loc,
                  "view '" + view.name +
                      "' does not aggregate: a view must have GROUP BY or an aggregate "
                      "function (COUNT, SUM, MIN, MAX, AVG, APPROX_COUNT_DISTINCT) so that it can be merged");
  for (const auto& item : s.items) {
    ASSIGN_OR_RETURN(auto expr, binder.BindOutput(*item.expr, &view));
    OutputColumn out;
    out.name = DefaultName(item, stream);
    out.type = expr->type == TypeId::kNull ? TypeId::kText : expr->type;
    out.expr = std::move(expr);
    for (const auto& prev : view.outputs)
      if (Lower(prev.name) == Lower(out.name))
        return Refuse(source, item.expr->loc,
                      "duplicate output column name '" + out.name + "' in view '" + view.name + "'; add AS alias");
    view.outputs.push_back(std::move(out));
  }
  if (s.having) {
    ASSIGN_OR_RETURN(view.having, binder.BindOutput(*s.having, &view));
    if (view.having->type != TypeId::kBoolean && view.having->type != TypeId::kNull)
      return Refuse(source, s.having->loc, std::string("HAVING needs a BOOLEAN, found ") + TypeName(view.having->type));
  }
  return view;
}

}  // namespace

bool IdentifierMatches(std::string_view declared, std::string_view ref, bool ref_quoted) {
  if (ref_quoted) return declared == ref;
  if (declared.size() != ref.size()) return false;
  for (size_t i = 0; i < ref.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(declared[i])) != std::tolower(static_cast<unsigned char>(ref[i])))
      return false;
  return true;
}

const BoundView* Catalog::FindView(std::string_view name) const {
  for (const auto& v : views)
    if (IdentifierMatches(v.name, name, false)) return &v;
  return nullptr;
}

Result<Catalog> BindScript(const Script& script, std::string_view source) {
  Catalog catalog;
  for (const auto& cs : script.streams) {
    for (const auto& prev : catalog.streams)
      if (IdentifierMatches(prev.name, cs.name.text, false))
        return Refuse(source, cs.name.loc, "stream '" + cs.name.text + "' is declared twice");
    StreamSchema schema;
    schema.name = cs.name.text;
    for (const auto& col : cs.columns) {
      for (const auto& prev : schema.columns)
        if (prev.name == col.name.text || (!col.name.quoted && IdentifierMatches(prev.name, col.name.text, false)))
          return Refuse(source, col.name.loc, "column '" + col.name.text + "' is declared twice");
      schema.columns.push_back({col.name.text, col.type, col.not_null});
    }
    if (schema.columns.empty()) return Refuse(source, cs.loc, "stream '" + cs.name.text + "' has no columns");
    catalog.streams.push_back(std::move(schema));
  }
  for (const auto& cv : script.views) {
    if (catalog.FindView(cv.name.text))
      return Refuse(source, cv.name.loc, "view '" + cv.name.text + "' is declared twice");
    ASSIGN_OR_RETURN(BoundView view, BindSelectAsView(cv.name.text, cv.select, catalog.streams, source, false));
    catalog.views.push_back(std::move(view));
  }
  return catalog;
}

Result<BoundQuery> BindQuery(const SelectStmt& s, const StreamSchema& view_columns, std::string_view source) {
  BoundQuery q;
  q.view = view_columns.name;
  q.limit = s.limit;
  if (q.limit && *q.limit < 0) return Refuse(source, s.limit_loc, "LIMIT must not be negative");
  bool aggregating = !s.group_by.empty() || s.having;
  for (const auto& item : s.items) aggregating = aggregating || ContainsAggregate(*item.expr);
  if (aggregating) {
    for (const auto& item : s.items)
      if (item.expr->kind == ExprKind::kStar)
        return Refuse(source, item.expr->loc, "SELECT * cannot be combined with GROUP BY or aggregates");
    ASSIGN_OR_RETURN(BoundView v, BindSelectAsView(view_columns.name, s, {view_columns}, source, true));
    q.aggregate = std::make_unique<BoundView>(std::move(v));
    q.aggregate->stream = 0;
    for (const auto& o : q.aggregate->outputs) q.output_names.push_back(o.name), q.output_types.push_back(o.type);
  } else {
    ExprBinder binder(source, view_columns, "view");
    if (s.where) {
      ASSIGN_OR_RETURN(q.where, binder.BindPlain(*s.where, "WHERE"));
      if (q.where->type != TypeId::kBoolean && q.where->type != TypeId::kNull)
        return Refuse(source, s.where->loc, std::string("WHERE needs a BOOLEAN, found ") + TypeName(q.where->type));
    }
    for (const auto& item : s.items) {
      if (item.expr->kind == ExprKind::kStar) {
        for (size_t c = 0; c < view_columns.columns.size(); ++c) {
          auto col = MakeNode(BoundKind::kColumn, view_columns.columns[c].type);
          col->column = static_cast<int>(c);
          q.output_names.push_back(view_columns.columns[c].name);
          q.output_types.push_back(view_columns.columns[c].type);
          q.projections.push_back(std::move(col));
        }
        continue;
      }
      ASSIGN_OR_RETURN(auto e, binder.BindPlain(*item.expr, "SELECT"));
      q.output_names.push_back(DefaultName(item, view_columns));
      q.output_types.push_back(e->type == TypeId::kNull ? TypeId::kText : e->type);
      q.projections.push_back(std::move(e));
    }
  }
  // ORDER BY names an output column (by name or alias), its 1-based
  // position, or an expression equal to a projected one.
  for (const auto& o : s.order_by) {
    BoundQuery::Order order;
    order.descending = o.descending;
    order.nulls_first = o.nulls_first.value_or(!o.descending);
    const Expr& e = *o.expr;
    if (e.kind == ExprKind::kLiteral && IsInteger(e.literal.type)) {
      if (e.literal.i < 1 || e.literal.i > static_cast<int64_t>(q.output_names.size()))
        return Refuse(source, e.loc,
                      "ORDER BY position " + std::to_string(e.literal.i) + " is not in the select list (1.." +
                          std::to_string(q.output_names.size()) + ")");
      order.column = static_cast<int>(e.literal.i - 1);
    } else if (e.kind == ExprKind::kColumn) {
      for (size_t c = 0; c < q.output_names.size() && order.column < 0; ++c)
        if (IdentifierMatches(q.output_names[c], e.name.text, e.name.quoted)) order.column = static_cast<int>(c);
    }
    if (order.column < 0 && !q.aggregate) {
      ExprBinder binder(source, view_columns, "view");
      auto bound = binder.BindPlain(e, "ORDER BY");
      if (!bound.ok()) return bound.status();
      std::string canon = (*bound)->ToString();
      for (size_t c = 0; c < q.projections.size() && order.column < 0; ++c)
        if (q.projections[c]->ToString() == canon) order.column = static_cast<int>(c);
      if (order.column < 0) {
        // Order by a column that is not selected: a hidden trailing column.
        order.column = static_cast<int>(q.projections.size());
        q.output_names.push_back(e.text);
        q.output_types.push_back((*bound)->type);
        q.projections.push_back(std::move(bound).value());
        ++q.hidden_columns;
      }
    }
    if (order.column < 0) {
      std::string what = e.kind == ExprKind::kColumn ? "'" + e.name.text + "'" : "'" + e.text + "'";
      return Refuse(source, e.loc,
                    "ORDER BY " + what + " is not a column of the result" +
                        Suggest(e.kind == ExprKind::kColumn ? e.name.text : e.text, q.output_names) +
                        "; order by an output column, its alias or its position");
    }
    q.order_by.push_back(order);
  }
  return q;
}

Result<Catalog> CompileViews(std::string_view text, std::string_view source) {
  ASSIGN_OR_RETURN(Script script, ParseScript(text, source));
  return BindScript(script, source);
}

Result<Catalog> LoadViewsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "cannot read views file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return CompileViews(ss.str(), path);
}

}  // namespace lf::sql
