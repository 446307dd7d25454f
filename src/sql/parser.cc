// Recursive-descent parser of lambdaflow SQL; parser.h describes the shapes
// of the tree it builds. One function per grammar rule, lowest precedence
// first: OR, AND, NOT, comparison (incl. IS, IN, BETWEEN, LIKE), ||, + -,
// * / %, unary - +, primary.
#include "sql/parser.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sql/lexer.h"

namespace lf::sql {
namespace {

using ExprPtr = std::unique_ptr<Expr>;

// Later passes walk trees recursively; these bounds keep them (and the
// parser itself) far from the end of the stack whatever the input.
constexpr int kMaxHeight = 1000;
constexpr int kMaxNesting = 256;
// Each node copies its source text, so a long expression nested deep copies
// it many times; this caps the total (far above any hand-written statement).
constexpr size_t kMaxTextBytes = size_t{64} << 20;

// An expression being built: the node, its height and the byte offset where
// its source text starts (Expr::loc has only line and column).
struct Parsed {
  ExprPtr expr;
  int height = 1;
  size_t start = 0;
};

// A token that can be a name: a quoted identifier or an unreserved word.
bool IsName(const Token& tok) {
  return tok.kind == TokenKind::kQuotedIdentifier || (tok.kind == TokenKind::kIdentifier && !IsReservedWord(tok));
}

// The operators written as symbols, by precedence level from loosest:
// comparison, ||, + -, * / %.
constexpr int kComparisonLevel = 0;
constexpr int kUnaryLevel = 4;  // one past the tightest binary level

OpKind SymbolOp(TokenKind token, int level) {
  static constexpr struct {
    TokenKind token;
    OpKind op;
    int level;
  } kOps[] = {
      {TokenKind::kEq, OpKind::kEq, 0},         {TokenKind::kNe, OpKind::kNe, 0},
      {TokenKind::kLt, OpKind::kLt, 0},         {TokenKind::kLe, OpKind::kLe, 0},
      {TokenKind::kGt, OpKind::kGt, 0},         {TokenKind::kGe, OpKind::kGe, 0},
      {TokenKind::kConcat, OpKind::kConcat, 1}, {TokenKind::kPlus, OpKind::kAdd, 2},
      {TokenKind::kMinus, OpKind::kSub, 2},     {TokenKind::kStar, OpKind::kMul, 3},
      {TokenKind::kSlash, OpKind::kDiv, 3},     {TokenKind::kPercent, OpKind::kMod, 3},
  };
  for (const auto& o : kOps) {
    if (o.token == token && o.level == level) return o.op;
  }
  return OpKind::kNone;
}

// Refusals are worded after what a SELECT reads: a view reads a stream, a
// query reads a view.
struct Wording {
  std::string_view from_name;  // what FROM names
  std::string_view join;
  std::string_view subquery;
  std::string_view single;  // why WITH and UNION are refused
  std::string_view one_per_select;
};

constexpr Wording kViewWording{
    "stream name", "joins are not supported: a view reads one stream; a view is a mergeable aggregation of one stream",
    "subqueries are not supported in views: a view is a single SELECT over one stream",
    "a view is a single SELECT over one stream", "define one view per SELECT"};
constexpr Wording kQueryWording{"view name", "joins are not supported: a query reads one view",
                                "subqueries are not supported in queries: a query is a single SELECT over one view",
                                "a query is a single SELECT over one view", "run one query per SELECT"};

// Parses one token sequence, once, stopping at the first error. Owns the
// tokens; `text` (which they view into) must outlive it. Not thread-safe.
class Parser {
 public:
  Parser(std::string_view text, std::string_view source, std::vector<Token> tokens, const Wording& wording)
      : text_(text), source_(source), tokens_(std::move(tokens)), wording_(wording) {}

  Result<Script> ParseScript() {
    Script script;
    while (true) {
      while (Accept(TokenKind::kSemicolon)) {
      }
      if (At(TokenKind::kEnd)) return script;
      if (AtKeyword("CREATE")) {
        RETURN_IF_ERROR(ParseCreate(script));
      } else if (AtKeyword("WITH")) {
        return Error(Peek().loc, WithMessage());
      } else {
        return Expected("CREATE STREAM or CREATE VIEW");
      }
      if (At(TokenKind::kEnd)) return script;
      RETURN_IF_ERROR(Expect(TokenKind::kSemicolon, "';'"));
    }
  }

  Result<SelectStmt> ParseQuery() {
    if (AtKeyword("WITH")) return Error(Peek().loc, WithMessage());
    if (!AtKeyword("SELECT")) return Expected("SELECT");
    ASSIGN_OR_RETURN(SelectStmt select, ParseSelect());
    Accept(TokenKind::kSemicolon);
    if (!At(TokenKind::kEnd)) return Expected("end of query");
    return select;
  }

 private:
  // ---- Tokens and errors --------------------------------------------------

  const Token& Peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  bool At(TokenKind kind) const { return Peek().kind == kind; }
  bool AtKeyword(std::string_view kw, size_t ahead = 0) const { return IsKeyword(Peek(ahead), kw); }

  // Consumes the current token (never the final kEnd).
  const Token& Next() {
    const Token& tok = tokens_[pos_];
    if (tok.kind != TokenKind::kEnd) {
      ++pos_;
      prev_end_ = tok.end();
    }
    return tok;
  }
  bool Accept(TokenKind kind) {
    if (!At(kind)) return false;
    Next();
    return true;
  }
  bool AcceptKeyword(std::string_view kw) {
    if (!AtKeyword(kw)) return false;
    Next();
    return true;
  }

  Status Error(SourceLoc loc, std::string_view message) const {
    return Status::InvalidArgument(LocError(source_, loc, message));
  }
  // "expected <what> but found <current token>".
  Status Expected(std::string_view what) const {
    std::string msg = "expected ";
    msg += what;
    msg += " but found ";
    msg += DescribeToken(Peek());
    return Error(Peek().loc, msg);
  }
  Status Expect(TokenKind kind, std::string_view what) { return Accept(kind) ? Status::OK() : Expected(what); }
  Status ExpectKeyword(std::string_view kw) { return AcceptKeyword(kw) ? Status::OK() : Expected(kw); }

  // The source text from byte `start` to the end of the last consumed token.
  std::string Slice(size_t start) const { return std::string(text_.substr(start, prev_end_ - start)); }

  std::string WithMessage() const { return "WITH is not supported: " + std::string(wording_.single); }
  Status SubqueryError(const Token& lparen) const { return Error(lparen.loc, wording_.subquery); }
  bool AtSubquery(size_t ahead) const { return AtKeyword("SELECT", ahead) || AtKeyword("WITH", ahead); }

  Result<Identifier> ParseName(std::string_view what) {
    if (IsReservedWord(Peek())) {
      return Error(Peek().loc, "expected " + std::string(what) + " but found reserved word " + DescribeToken(Peek()) +
                                   "; write \"" + Peek().value + "\" to use it as a name");
    }
    if (!IsName(Peek())) return Expected(what);
    const Token& tok = Next();
    return Identifier{tok.value, tok.kind == TokenKind::kQuotedIdentifier, tok.loc};
  }

  // ---- Statements ---------------------------------------------------------

  // CREATE [OR REPLACE] {STREAM | VIEW} ...
  Status ParseCreate(Script& script) {
    const Token& create = Next();
    if (AcceptKeyword("OR")) RETURN_IF_ERROR(ExpectKeyword("REPLACE"));
    if (AcceptKeyword("STREAM")) return ParseCreateStream(create, script);
    if (AcceptKeyword("VIEW")) return ParseCreateView(create, script);
    if (AtKeyword("TABLE")) {
      return Error(Peek().loc,
                   "CREATE TABLE is not supported: declare the input as CREATE STREAM name (column TYPE, ...)");
    }
    return Expected("STREAM or VIEW");
  }

  // name (column TYPE [NOT NULL | NULL], ...)
  Status ParseCreateStream(const Token& create, Script& script) {
    CreateStream stream;
    stream.loc = create.loc;
    ASSIGN_OR_RETURN(stream.name, ParseName("stream name"));
    RETURN_IF_ERROR(Expect(TokenKind::kLParen, "'('"));
    if (At(TokenKind::kRParen)) return Error(Peek().loc, "a stream needs at least one column");
    do {
      ColumnDef col;
      ASSIGN_OR_RETURN(col.name, ParseName("column name"));
      ASSIGN_OR_RETURN(col.type, ParseType());
      for (bool said_null = false; AtKeyword("NOT") || AtKeyword("NULL");) {
        const Token& tok = Next();
        if (IsKeyword(tok, "NOT")) RETURN_IF_ERROR(ExpectKeyword("NULL"));
        (IsKeyword(tok, "NOT") ? col.not_null : said_null) = true;
        if (said_null && col.not_null) {
          return Error(tok.loc, "conflicting NULL and NOT NULL for column '" + col.name.text + "'");
        }
      }
      stream.columns.push_back(std::move(col));
    } while (Accept(TokenKind::kComma));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "',' or ')'"));
    script.streams.push_back(std::move(stream));
    return Status::OK();
  }

  // name AS SELECT ...
  Status ParseCreateView(const Token& create, Script& script) {
    CreateView view;
    view.loc = create.loc;
    ASSIGN_OR_RETURN(view.name, ParseName("view name"));
    RETURN_IF_ERROR(ExpectKeyword("AS"));
    if (AtKeyword("WITH")) return Error(Peek().loc, WithMessage());
    if (At(TokenKind::kLParen) && AtSubquery(1)) return SubqueryError(Peek());
    if (!AtKeyword("SELECT")) return Expected("SELECT");
    ASSIGN_OR_RETURN(view.select, ParseSelect());
    script.views.push_back(std::move(view));
    return Status::OK();
  }

  Result<TypeId> ParseType() {
    const Token& tok = Peek();
    if (tok.kind != TokenKind::kIdentifier) return Expected("a type");
    Next();
    auto is = [&](std::string_view a, std::string_view b = {}) { return IsKeyword(tok, a) || IsKeyword(tok, b); };
    if (is("INT", "INTEGER")) return TypeId::kInt;
    if (is("BIGINT")) return TypeId::kBigInt;
    if (is("DOUBLE")) AcceptKeyword("PRECISION");
    if (is("DOUBLE") || is("FLOAT", "REAL")) return TypeId::kDouble;
    if (is("VARCHAR") && Accept(TokenKind::kLParen)) {
      RETURN_IF_ERROR(Expect(TokenKind::kInteger, "a length"));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
    }
    if (is("TEXT", "STRING") || is("VARCHAR")) return TypeId::kText;
    if (is("BOOLEAN", "BOOL")) return TypeId::kBoolean;
    if (is("TIMESTAMP")) return TypeId::kTimestamp;
    return Error(tok.loc, "unknown type '" + std::string(tok.text) +
                              "'; accepted types are INT, INTEGER, BIGINT, DOUBLE, DOUBLE PRECISION, FLOAT, REAL, "
                              "TEXT, VARCHAR, STRING, BOOLEAN, BOOL and TIMESTAMP");
  }

  // SELECT items FROM name [WHERE] [GROUP BY] [HAVING] [ORDER BY] [LIMIT];
  // the current token is SELECT.
  Result<SelectStmt> ParseSelect() {
    SelectStmt select;
    select.loc = Next().loc;
    if (AtKeyword("DISTINCT")) {
      return Error(Peek().loc, "SELECT DISTINCT is not supported: GROUP BY the selected columns instead");
    }
    AcceptKeyword("ALL");
    do {
      ASSIGN_OR_RETURN(SelectItem item, ParseSelectItem());
      select.items.push_back(std::move(item));
    } while (Accept(TokenKind::kComma));
    if (!AcceptKeyword("FROM")) return Expected("',' or FROM");
    if (At(TokenKind::kLParen)) return SubqueryError(Peek());
    ASSIGN_OR_RETURN(select.from, ParseName(wording_.from_name));
    // A table alias is accepted and dropped: qualified column names keep only the column part anyway.
    if (AcceptKeyword("AS")) {
      ASSIGN_OR_RETURN(Identifier alias, ParseName("alias"));
      (void)alias;
    } else if (IsName(Peek())) {
      Next();
    }
    if (At(TokenKind::kComma) || AtKeyword("JOIN") || AtKeyword("INNER") || AtKeyword("LEFT") || AtKeyword("RIGHT") ||
        AtKeyword("FULL") || AtKeyword("CROSS") || AtKeyword("NATURAL") || AtKeyword("OUTER")) {
      return Error(Peek().loc, wording_.join);
    }
    if (AcceptKeyword("WHERE")) {
      ASSIGN_OR_RETURN(Parsed where, ParseExpr());
      select.where = std::move(where.expr);
    }
    if (AcceptKeyword("GROUP")) {
      RETURN_IF_ERROR(ExpectKeyword("BY"));
      do {
        ASSIGN_OR_RETURN(Parsed key, ParseExpr());
        select.group_by.push_back(std::move(key.expr));
      } while (Accept(TokenKind::kComma));
    }
    if (AtKeyword("HAVING")) {
      select.having_loc = Next().loc;
      ASSIGN_OR_RETURN(Parsed having, ParseExpr());
      select.having = std::move(having.expr);
    }
    if (AtKeyword("ORDER")) {
      select.order_by_loc = Next().loc;
      RETURN_IF_ERROR(ExpectKeyword("BY"));
      do {
        ASSIGN_OR_RETURN(OrderItem item, ParseOrderItem());
        select.order_by.push_back(std::move(item));
      } while (Accept(TokenKind::kComma));
    }
    if (AtKeyword("LIMIT")) {
      select.limit_loc = Next().loc;
      const Token& tok = Peek();
      if (tok.kind != TokenKind::kInteger) return Expected("a non-negative integer after LIMIT");
      Next();
      ASSIGN_OR_RETURN(Value n, IntegerValue(tok, tok.text, tok.loc, false));
      select.limit = n.i;
    }
    RETURN_IF_ERROR(CheckSelectEnd());
    return select;
  }

  // Turns what would be a bare "expected ';'" after a SELECT into a message
  // that names the real problem.
  Status CheckSelectEnd() const {
    const Token& tok = Peek();
    for (std::string_view op : {"UNION", "INTERSECT", "EXCEPT"}) {
      if (IsKeyword(tok, op)) {
        return Error(tok.loc, std::string(op) + " is not supported: " + std::string(wording_.single) + "; " +
                                  std::string(wording_.one_per_select));
      }
    }
    static constexpr std::pair<std::string_view, std::string_view> kClauses[] = {
        {"WHERE", "WHERE"}, {"GROUP", "GROUP BY"}, {"HAVING", "HAVING"}, {"ORDER", "ORDER BY"}, {"LIMIT", "LIMIT"}};
    for (const auto& [kw, clause] : kClauses) {
      if (IsKeyword(tok, kw)) {
        return Error(tok.loc, std::string(clause) +
                                  " is out of place: the clauses of a SELECT go in the order WHERE, GROUP BY, HAVING, "
                                  "ORDER BY, LIMIT, each at most once");
      }
    }
    return Status::OK();
  }

  // * | name.* | expr [[AS] alias]
  Result<SelectItem> ParseSelectItem() {
    SelectItem item;
    const Token& first = Peek();
    const bool star = first.kind == TokenKind::kStar;
    if (star || (IsName(first) && Peek(1).kind == TokenKind::kDot && Peek(2).kind == TokenKind::kStar)) {
      for (int i = star ? 1 : 3; i > 0; --i) Next();
      item.expr = NewExpr(ExprKind::kStar, first.loc);
      item.expr->text = Slice(first.offset);
      return item;
    }
    ASSIGN_OR_RETURN(Parsed expr, ParseExpr());
    item.expr = std::move(expr.expr);
    if (AcceptKeyword("AS") || IsName(Peek())) {
      ASSIGN_OR_RETURN(item.alias, ParseName("alias"));
    }
    return item;
  }

  // expr [ASC | DESC] [NULLS FIRST | NULLS LAST]
  Result<OrderItem> ParseOrderItem() {
    OrderItem item;
    ASSIGN_OR_RETURN(Parsed expr, ParseExpr());
    item.expr = std::move(expr.expr);
    item.descending = AcceptKeyword("DESC");
    if (!item.descending) AcceptKeyword("ASC");
    if (AcceptKeyword("NULLS")) {
      if (!AtKeyword("FIRST") && !AtKeyword("LAST")) return Expected("FIRST or LAST");
      item.nulls_first = IsKeyword(Next(), "FIRST");
    }
    return item;
  }

  // ---- Expressions --------------------------------------------------------

  // Counts recursion for the nesting bound.
  struct NestingGuard {
    explicit NestingGuard(int& d) : depth(++d) {}
    ~NestingGuard() { --depth; }
    int& depth;
  };

  Status TooDeeplyNested(SourceLoc loc) const {
    return Error(loc, "expression is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
  }

  static ExprPtr NewExpr(ExprKind kind, SourceLoc loc) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = loc;
    return e;
  }

  // Completes a node whose text starts at `start` and whose tallest child is
  // `child_height` high.
  Result<Parsed> Finish(ExprPtr e, size_t start, int child_height) {
    Parsed out;
    out.height = child_height + 1;
    if (out.height > kMaxHeight) {
      return Error(e->loc, "expression is too deep (more than " + std::to_string(kMaxHeight) +
                               " levels); write long OR chains of equalities as IN (...)");
    }
    text_bytes_ += prev_end_ - start;
    if (text_bytes_ > kMaxTextBytes) {
      return Error(e->loc, "statement is too large: its expressions are too long and too deeply nested to parse");
    }
    e->text = Slice(start);
    out.expr = std::move(e);
    out.start = start;
    return out;
  }

  // Appends `arg` to `e`'s arguments, keeping `height` the tallest argument's.
  static void AddArg(Expr& e, Parsed arg, int& height) {
    height = std::max(height, arg.height);
    e.args.push_back(std::move(arg.expr));
  }

  Result<Parsed> Binary(ExprKind kind, OpKind op, Parsed left, Parsed right) {
    auto e = NewExpr(kind, left.expr->loc);
    e->op = op;
    int h = 0;
    const size_t start = left.start;
    AddArg(*e, std::move(left), h);
    AddArg(*e, std::move(right), h);
    return Finish(std::move(e), start, h);
  }

  Result<Parsed> Unary(OpKind op, const Token& op_token, Parsed operand) {
    auto e = NewExpr(ExprKind::kUnary, op_token.loc);
    e->op = op;
    e->args.push_back(std::move(operand.expr));
    return Finish(std::move(e), op_token.offset, operand.height);
  }

  Result<Parsed> ParseExpr() {
    NestingGuard guard(nesting_);
    if (nesting_ > kMaxNesting) return TooDeeplyNested(Peek().loc);
    return ParseLogic(true);
  }

  // a OR b ... with `is_or`, else a AND b ...
  Result<Parsed> ParseLogic(bool is_or) {
    auto operand = [&] { return is_or ? ParseLogic(false) : ParseNot(); };
    ASSIGN_OR_RETURN(Parsed left, operand());
    while (AcceptKeyword(is_or ? "OR" : "AND")) {
      ASSIGN_OR_RETURN(Parsed right, operand());
      ASSIGN_OR_RETURN(
          left, Binary(ExprKind::kBinary, is_or ? OpKind::kOr : OpKind::kAnd, std::move(left), std::move(right)));
    }
    return left;
  }

  Result<Parsed> ParseNot() {
    if (!AtKeyword("NOT")) return ParseComparison();
    const Token& tok = Next();
    NestingGuard guard(nesting_);
    if (nesting_ > kMaxNesting) return TooDeeplyNested(tok.loc);
    ASSIGN_OR_RETURN(Parsed operand, ParseNot());
    return Unary(OpKind::kNot, tok, std::move(operand));
  }

  // left {op right | IS [NOT] NULL | [NOT] IN (...) | [NOT] BETWEEN a AND b | [NOT] LIKE p}
  Result<Parsed> ParseComparison() {
    ASSIGN_OR_RETURN(Parsed left, ParseSymbolLevel(kComparisonLevel + 1));
    while (true) {
      const OpKind op = SymbolOp(Peek().kind, kComparisonLevel);
      if (op != OpKind::kNone) {
        Next();
        ASSIGN_OR_RETURN(Parsed right, ParseSymbolLevel(kComparisonLevel + 1));
        ASSIGN_OR_RETURN(left, Binary(ExprKind::kBinary, op, std::move(left), std::move(right)));
        continue;
      }
      if (AcceptKeyword("IS")) {
        auto e = NewExpr(ExprKind::kIsNull, left.expr->loc);
        e->negated = AcceptKeyword("NOT");
        if (!AcceptKeyword("NULL")) return Expected(e->negated ? "NULL" : "NULL or NOT NULL");
        const int h = left.height;
        const size_t start = left.start;
        e->args.push_back(std::move(left.expr));
        ASSIGN_OR_RETURN(left, Finish(std::move(e), start, h));
        continue;
      }
      const bool negated = AtKeyword("NOT") && (AtKeyword("IN", 1) || AtKeyword("BETWEEN", 1) || AtKeyword("LIKE", 1));
      const size_t kw = negated ? 1 : 0;
      if (AtKeyword("IN", kw)) {
        ASSIGN_OR_RETURN(left, ParseIn(std::move(left), negated));
      } else if (AtKeyword("BETWEEN", kw)) {
        ASSIGN_OR_RETURN(left, ParseBetween(std::move(left), negated));
      } else if (AtKeyword("LIKE", kw)) {
        if (negated) Next();
        Next();
        ASSIGN_OR_RETURN(Parsed pattern, ParseSymbolLevel(kComparisonLevel + 1));
        ASSIGN_OR_RETURN(left, Binary(ExprKind::kLike, OpKind::kNone, std::move(left), std::move(pattern)));
        left.expr->negated = negated;
      } else {
        return left;
      }
    }
  }

  // left [NOT] IN (expr, ...); the current token is NOT or IN.
  Result<Parsed> ParseIn(Parsed left, bool negated) {
    if (negated) Next();
    Next();
    if (!At(TokenKind::kLParen)) return Expected("'(' after IN");
    if (AtSubquery(1)) return SubqueryError(Peek());
    Next();
    auto e = NewExpr(ExprKind::kIn, left.expr->loc);
    e->negated = negated;
    int h = 0;
    const size_t start = left.start;
    AddArg(*e, std::move(left), h);
    do {
      ASSIGN_OR_RETURN(Parsed item, ParseExpr());
      AddArg(*e, std::move(item), h);
    } while (Accept(TokenKind::kComma));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "',' or ')'"));
    return Finish(std::move(e), start, h);
  }

  // left [NOT] BETWEEN low AND high; the current token is NOT or BETWEEN.
  Result<Parsed> ParseBetween(Parsed left, bool negated) {
    if (negated) Next();
    Next();
    ASSIGN_OR_RETURN(Parsed low, ParseSymbolLevel(kComparisonLevel + 1));
    RETURN_IF_ERROR(ExpectKeyword("AND"));
    ASSIGN_OR_RETURN(Parsed high, ParseSymbolLevel(kComparisonLevel + 1));
    auto e = NewExpr(ExprKind::kBetween, left.expr->loc);
    e->negated = negated;
    int h = 0;
    const size_t start = left.start;
    AddArg(*e, std::move(left), h);
    AddArg(*e, std::move(low), h);
    AddArg(*e, std::move(high), h);
    return Finish(std::move(e), start, h);
  }

  // The left-associative symbol levels ||, + -, * / % (see SymbolOp).
  Result<Parsed> ParseSymbolLevel(int level) {
    auto operand = [&] { return level + 1 == kUnaryLevel ? ParseUnary() : ParseSymbolLevel(level + 1); };
    ASSIGN_OR_RETURN(Parsed left, operand());
    for (OpKind op; (op = SymbolOp(Peek().kind, level)) != OpKind::kNone;) {
      Next();
      ASSIGN_OR_RETURN(Parsed right, operand());
      ASSIGN_OR_RETURN(left, Binary(ExprKind::kBinary, op, std::move(left), std::move(right)));
    }
    return left;
  }

  // - x | + x | primary. A minus directly before a number is folded into the literal.
  Result<Parsed> ParseUnary() {
    if (!At(TokenKind::kMinus) && !At(TokenKind::kPlus)) return ParsePrimary();
    const Token& sign = Next();
    const bool minus = sign.kind == TokenKind::kMinus;
    if (minus && (At(TokenKind::kInteger) || At(TokenKind::kDecimal))) {
      return NumberLiteral(Next(), sign.offset, sign.loc, true);
    }
    NestingGuard guard(nesting_);
    if (nesting_ > kMaxNesting) return TooDeeplyNested(sign.loc);
    ASSIGN_OR_RETURN(Parsed operand, ParseUnary());
    if (!minus) {  // unary plus changes nothing but the text
      operand.expr->loc = sign.loc;
      operand.expr->text = Slice(sign.offset);
      operand.start = sign.offset;
      return operand;
    }
    return Unary(OpKind::kNeg, sign, std::move(operand));
  }

  Result<Parsed> Literal(Value value, size_t start, SourceLoc loc) {
    auto e = NewExpr(ExprKind::kLiteral, loc);
    e->literal = std::move(value);
    return Finish(std::move(e), start, 0);
  }

  // `text` is the literal as written (with its sign); over-long ones are cut in messages.
  Status NumberOutOfRange(SourceLoc loc, std::string_view text, std::string_view range) const {
    return Error(loc, std::string(range == "DOUBLE" ? "numeric" : "integer") + " literal " +
                          std::string(text.substr(0, 60)) + (text.size() > 60 ? "..." : "") + " is out of range for " +
                          std::string(range));
  }

  Result<Value> IntegerValue(const Token& num, std::string_view text, SourceLoc loc, bool negative) const {
    uint64_t x = 0;
    const char* end = num.text.data() + num.text.size();
    const auto [ptr, ec] = std::from_chars(num.text.data(), end, x);
    const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
    if (ec != std::errc() || ptr != end || x > limit) {
      return NumberOutOfRange(loc, text, "BIGINT (-9223372036854775808 to 9223372036854775807)");
    }
    return Value::Int(negative ? static_cast<int64_t>(0 - x) : static_cast<int64_t>(x));
  }

  // `num` is an integer or decimal token; with `negative`, a '-' at `start` precedes it.
  Result<Parsed> NumberLiteral(const Token& num, size_t start, SourceLoc loc, bool negative) {
    const std::string_view text = text_.substr(start, num.end() - start);
    if (num.kind == TokenKind::kInteger) {
      ASSIGN_OR_RETURN(Value v, IntegerValue(num, text, loc, negative));
      return Literal(std::move(v), start, loc);
    }
    double d = 0;
    const char* end = num.text.data() + num.text.size();
    const auto [ptr, ec] = std::from_chars(num.text.data(), end, d);
    if (ec != std::errc() || ptr != end) return NumberOutOfRange(loc, text, "DOUBLE");
    return Literal(Value::Double(negative ? -d : d), start, loc);
  }

  Result<Parsed> ParsePrimary() {
    const Token& tok = Peek();
    switch (tok.kind) {
      case TokenKind::kInteger:
      case TokenKind::kDecimal:
        Next();
        return NumberLiteral(tok, tok.offset, tok.loc, false);
      case TokenKind::kString:
        Next();
        return Literal(Value::Text(tok.value), tok.offset, tok.loc);
      case TokenKind::kLParen: {
        if (AtSubquery(1)) return SubqueryError(tok);
        Next();
        ASSIGN_OR_RETURN(Parsed inner, ParseExpr());
        RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
        inner.expr->loc = tok.loc;
        inner.expr->text = Slice(tok.offset);
        inner.start = tok.offset;
        return inner;
      }
      case TokenKind::kQuotedIdentifier:
        return ParseNameExpr();
      case TokenKind::kIdentifier:
        break;
      default:
        return Expected("an expression");
    }
    const bool call = Peek(1).kind == TokenKind::kLParen;
    if (AtKeyword("TRUE") || AtKeyword("FALSE")) {
      Next();
      return Literal(Value::Bool(IsKeyword(tok, "TRUE")), tok.offset, tok.loc);
    }
    if (AtKeyword("NULL")) {
      Next();
      return Literal(Value::Null(), tok.offset, tok.loc);
    }
    if (AtKeyword("CASE")) return ParseCase();
    if (AtKeyword("CAST") && call) return ParseCast();
    if (AtKeyword("EXTRACT") && call) return ParseExtract();
    if (AtKeyword("TIMESTAMP") && Peek(1).kind == TokenKind::kString) {
      Next();
      const Token& str = Next();
      ASSIGN_OR_RETURN(Parsed text, Literal(Value::Text(str.value), str.offset, str.loc));
      auto e = NewExpr(ExprKind::kCast, tok.loc);
      e->cast_type = TypeId::kTimestamp;
      e->args.push_back(std::move(text.expr));
      return Finish(std::move(e), tok.offset, 1);
    }
    // LEFT(s, n) and RIGHT(s, n) are functions although the words are reserved for joins.
    if (IsReservedWord(tok) && !((AtKeyword("LEFT") || AtKeyword("RIGHT")) && call)) return Expected("an expression");
    return ParseNameExpr();
  }

  // name | qualifier.name | name(args...)
  Result<Parsed> ParseNameExpr() {
    const Token& first = Next();
    Identifier name{first.value, first.kind == TokenKind::kQuotedIdentifier, first.loc};
    if (At(TokenKind::kLParen)) return ParseFunction(first, std::move(name));
    if (Accept(TokenKind::kDot)) {
      if (!IsName(Peek())) return Expected("a column name after '.'");
      const Token& col = Next();
      name = Identifier{col.value, col.kind == TokenKind::kQuotedIdentifier, col.loc};
    }
    auto e = NewExpr(ExprKind::kColumn, first.loc);
    e->name = std::move(name);
    return Finish(std::move(e), first.offset, 0);
  }

  // name([DISTINCT | ALL] args | *) [FILTER (WHERE cond)] [OVER (...) | OVER window]
  Result<Parsed> ParseFunction(const Token& first, Identifier name) {
    const Token& lparen = Peek();
    if (AtSubquery(1)) return SubqueryError(lparen);
    Next();
    auto e = NewExpr(ExprKind::kFunction, first.loc);
    e->name = std::move(name);
    int h = 0;
    if (AcceptKeyword("DISTINCT")) {
      e->distinct = true;
    } else {
      AcceptKeyword("ALL");
    }
    if (At(TokenKind::kStar)) {  // COUNT(*): a '*' can only be the one argument
      const Token& star = Next();
      auto arg = NewExpr(ExprKind::kStar, star.loc);
      arg->text = "*";
      e->args.push_back(std::move(arg));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
    } else {
      if (e->distinct || !At(TokenKind::kRParen)) {
        do {
          ASSIGN_OR_RETURN(Parsed arg, ParseExpr());
          AddArg(*e, std::move(arg), h);
        } while (Accept(TokenKind::kComma));
      }
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "',' or ')'"));
    }
    if (AtKeyword("FILTER") && Peek(1).kind == TokenKind::kLParen) {
      Next();
      Next();
      RETURN_IF_ERROR(ExpectKeyword("WHERE"));
      ASSIGN_OR_RETURN(Parsed filter, ParseExpr());
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
      h = std::max(h, filter.height);
      e->filter = std::move(filter.expr);
    }
    if (AcceptKeyword("OVER")) {
      e->over = true;  // the binder refuses window functions; skip the window's definition
      if (At(TokenKind::kLParen)) {
        int depth = 0;
        do {
          if (At(TokenKind::kEnd)) return Expected("')'");
          if (At(TokenKind::kLParen)) ++depth;
          if (At(TokenKind::kRParen)) --depth;
          Next();
        } while (depth > 0);
      } else if (!IsName(Peek())) {
        return Expected("'(' or a window name after OVER");
      } else {
        Next();
      }
    }
    return Finish(std::move(e), first.offset, h);
  }

  // CASE [operand] WHEN a THEN b ... [ELSE c] END
  Result<Parsed> ParseCase() {
    const Token& kw = Next();
    auto e = NewExpr(ExprKind::kCase, kw.loc);
    int h = 0;
    if (!AtKeyword("WHEN")) {
      ASSIGN_OR_RETURN(Parsed operand, ParseExpr());
      h = operand.height;
      e->case_operand = std::move(operand.expr);
      if (!AtKeyword("WHEN")) return Expected("WHEN");
    }
    while (AcceptKeyword("WHEN")) {
      ASSIGN_OR_RETURN(Parsed when, ParseExpr());
      RETURN_IF_ERROR(ExpectKeyword("THEN"));
      ASSIGN_OR_RETURN(Parsed then, ParseExpr());
      AddArg(*e, std::move(when), h);
      AddArg(*e, std::move(then), h);
    }
    if (AcceptKeyword("ELSE")) {
      ASSIGN_OR_RETURN(Parsed otherwise, ParseExpr());
      h = std::max(h, otherwise.height);
      e->else_expr = std::move(otherwise.expr);
      RETURN_IF_ERROR(ExpectKeyword("END"));
    } else if (!AcceptKeyword("END")) {
      return Expected("WHEN, ELSE or END");
    }
    return Finish(std::move(e), kw.offset, h);
  }

  // CAST(x AS type)
  Result<Parsed> ParseCast() {
    const Token& kw = Next();
    Next();  // (
    ASSIGN_OR_RETURN(Parsed operand, ParseExpr());
    RETURN_IF_ERROR(ExpectKeyword("AS"));
    auto e = NewExpr(ExprKind::kCast, kw.loc);
    ASSIGN_OR_RETURN(e->cast_type, ParseType());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
    int h = 0;
    AddArg(*e, std::move(operand), h);
    return Finish(std::move(e), kw.offset, h);
  }

  // EXTRACT(field FROM x) -> extract('field', x)
  Result<Parsed> ParseExtract() {
    const Token& kw = Next();
    Next();  // (
    const Token& field = Peek();
    if (field.kind != TokenKind::kIdentifier && field.kind != TokenKind::kString) {
      return Expected("a field such as YEAR, MONTH, DAY, HOUR, MINUTE or SECOND");
    }
    Next();
    std::string name = field.value;
    for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    ASSIGN_OR_RETURN(Parsed field_lit, Literal(Value::Text(std::move(name)), field.offset, field.loc));
    RETURN_IF_ERROR(ExpectKeyword("FROM"));
    ASSIGN_OR_RETURN(Parsed operand, ParseExpr());
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
    auto e = NewExpr(ExprKind::kFunction, kw.loc);
    e->name = Identifier{"extract", false, kw.loc};
    int h = 0;
    AddArg(*e, std::move(field_lit), h);
    AddArg(*e, std::move(operand), h);
    return Finish(std::move(e), kw.offset, h);
  }

  const std::string_view text_;
  const std::string_view source_;
  const std::vector<Token> tokens_;
  const Wording& wording_;
  size_t pos_ = 0;
  size_t prev_end_ = 0;  // end offset of the last consumed token
  int nesting_ = 0;
  size_t text_bytes_ = 0;  // sum of Expr::text sizes so far
};

}  // namespace

Result<Script> ParseScript(std::string_view text, std::string_view source_name) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text, source_name));
  return Parser(text, source_name, std::move(tokens), kViewWording).ParseScript();
}

Result<SelectStmt> ParseQuery(std::string_view text, std::string_view source_name) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text, source_name));
  return Parser(text, source_name, std::move(tokens), kQueryWording).ParseQuery();
}

}  // namespace lf::sql
