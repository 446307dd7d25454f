// Tests of the SQL parser: the tree built for each construct (shape,
// locations, source text, flags, literal types) and every error message.
#include "sql/parser.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace lf::sql {
namespace {

// A compact rendering of a tree: literals with their type, operators as
// prefix lists.
std::string Dump(const Expr& e) {
  std::ostringstream out;
  auto args = [&](size_t from) {
    for (size_t i = from; i < e.args.size(); ++i) out << ' ' << Dump(*e.args[i]);
  };
  switch (e.kind) {
    case ExprKind::kLiteral:
      if (e.literal.is_null) return "NULL";
      switch (e.literal.type) {
        case TypeId::kBigInt:
          return "int:" + std::to_string(e.literal.i);
        case TypeId::kDouble:
          out << "dbl:" << e.literal.d;
          return out.str();
        case TypeId::kText:
          return "'" + e.literal.s + "'";
        case TypeId::kBoolean:
          return e.literal.i ? "true" : "false";
        default:
          return "?literal";
      }
    case ExprKind::kColumn:
      return e.name.quoted ? "\"" + e.name.text + "\"" : e.name.text;
    case ExprKind::kStar:
      return "*";
    case ExprKind::kUnary:
    case ExprKind::kBinary:
      out << '(' << (e.op == OpKind::kNeg ? "NEG" : OpName(e.op));
      args(0);
      out << ')';
      return out.str();
    case ExprKind::kIsNull:
      return "(" + std::string(e.negated ? "IS NOT NULL " : "IS NULL ") + Dump(*e.args[0]) + ")";
    case ExprKind::kIn:
      out << (e.negated ? "(NOT IN" : "(IN");
      break;
    case ExprKind::kBetween:
      out << (e.negated ? "(NOT BETWEEN" : "(BETWEEN");
      break;
    case ExprKind::kLike:
      out << (e.negated ? "(NOT LIKE" : "(LIKE");
      break;
    case ExprKind::kCase:
      out << "(CASE";
      if (e.case_operand) out << ' ' << Dump(*e.case_operand);
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        out << " WHEN " << Dump(*e.args[i]) << " THEN " << Dump(*e.args[i + 1]);
      }
      if (e.else_expr) out << " ELSE " << Dump(*e.else_expr);
      out << ')';
      return out.str();
    case ExprKind::kCast:
      return "(CAST " + Dump(*e.args[0]) + " AS " + TypeName(e.cast_type) + ")";
    case ExprKind::kFunction:
      out << '(' << (e.name.quoted ? "\"" + e.name.text + "\"" : e.name.text);
      if (e.distinct) out << " DISTINCT";
      args(0);
      if (e.filter) out << " FILTER " << Dump(*e.filter);
      if (e.over) out << " OVER";
      out << ')';
      return out.str();
  }
  args(0);
  out << ')';
  return out.str();
}

Script Parse(std::string_view sql) {
  auto r = ParseScript(sql, "views.sql");
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    return {};
  }
  return std::move(r).value();
}

SelectStmt Query(std::string_view sql) {
  auto r = ParseQuery(sql, "query");
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    return {};
  }
  return std::move(r).value();
}

std::string ScriptError(std::string_view sql) {
  auto r = ParseScript(sql, "views.sql");
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string QueryError(std::string_view sql) {
  auto r = ParseQuery(sql, "query");
  return r.ok() ? "<ok>" : r.status().message();
}

// Parses "SELECT <expr> FROM t": the expression starts at column 8.
std::unique_ptr<Expr> ParseExpr(const std::string& expr) {
  SelectStmt s = Query("SELECT " + expr + " FROM t");
  if (s.items.size() != 1) {
    ADD_FAILURE() << "no single item in: " << expr;
    return std::make_unique<Expr>();
  }
  return std::move(s.items[0].expr);
}

std::string DumpExpr(const std::string& expr) { return Dump(*ParseExpr(expr)); }

std::string ExprError(const std::string& expr) { return QueryError("SELECT " + expr + " FROM t"); }

// ---- Statements ------------------------------------------------------------

TEST(ParseScript, EmptyAndCommentOnlyFilesAreEmptyScripts) {
  for (std::string_view sql : {"", "  \n", "-- nothing\n", "/* nothing */", ";;", " ; -- x\n ;"}) {
    Script s = Parse(sql);
    EXPECT_TRUE(s.streams.empty()) << sql;
    EXPECT_TRUE(s.views.empty()) << sql;
  }
}

TEST(ParseScript, CreateStream) {
  Script s = Parse(
      "CREATE STREAM events (\n"
      "  zipcode INT NOT NULL,\n"
      "  ProductName TEXT,\n"
      "  price DOUBLE NULL,\n"
      "  timestamp TIMESTAMP\n"
      ");");
  ASSERT_EQ(s.streams.size(), 1u);
  const CreateStream& st = s.streams[0];
  EXPECT_EQ(st.name.text, "events");
  EXPECT_EQ(st.loc.line, 1);
  EXPECT_EQ(st.loc.column, 1);
  EXPECT_EQ(st.name.loc.column, 15);
  ASSERT_EQ(st.columns.size(), 4u);
  EXPECT_EQ(st.columns[0].name.text, "zipcode");
  EXPECT_EQ(st.columns[0].type, TypeId::kInt);
  EXPECT_TRUE(st.columns[0].not_null);
  EXPECT_EQ(st.columns[0].name.loc.line, 2);
  EXPECT_EQ(st.columns[0].name.loc.column, 3);
  EXPECT_EQ(st.columns[1].name.text, "ProductName");
  EXPECT_FALSE(st.columns[1].name.quoted);
  EXPECT_EQ(st.columns[1].type, TypeId::kText);
  EXPECT_EQ(st.columns[2].type, TypeId::kDouble);
  EXPECT_FALSE(st.columns[2].not_null);
  EXPECT_EQ(st.columns[3].name.text, "timestamp");
  EXPECT_EQ(st.columns[3].type, TypeId::kTimestamp);
}

TEST(ParseScript, AllTypeSpellings) {
  const std::pair<const char*, TypeId> cases[] = {
      {"INT", TypeId::kInt},
      {"integer", TypeId::kInt},
      {"BIGINT", TypeId::kBigInt},
      {"DOUBLE", TypeId::kDouble},
      {"double precision", TypeId::kDouble},
      {"FLOAT", TypeId::kDouble},
      {"REAL", TypeId::kDouble},
      {"TEXT", TypeId::kText},
      {"VARCHAR", TypeId::kText},
      {"varchar(255)", TypeId::kText},
      {"STRING", TypeId::kText},
      {"BOOLEAN", TypeId::kBoolean},
      {"Bool", TypeId::kBoolean},
      {"TIMESTAMP", TypeId::kTimestamp},
  };
  for (const auto& [spelling, type] : cases) {
    Script s = Parse(std::string("CREATE STREAM s (c ") + spelling + ")");
    ASSERT_EQ(s.streams.size(), 1u) << spelling;
    EXPECT_EQ(s.streams[0].columns[0].type, type) << spelling;
  }
}

TEST(ParseScript, QuotedNames) {
  Script s = Parse("CREATE STREAM \"My Events\" (\"Zip \"\"Code\"\"\" INT, \"select\" TEXT)");
  ASSERT_EQ(s.streams.size(), 1u);
  EXPECT_EQ(s.streams[0].name.text, "My Events");
  EXPECT_TRUE(s.streams[0].name.quoted);
  EXPECT_EQ(s.streams[0].columns[0].name.text, "Zip \"Code\"");
  EXPECT_TRUE(s.streams[0].columns[0].name.quoted);
  EXPECT_EQ(s.streams[0].columns[1].name.text, "select");
}

TEST(ParseScript, StreamsAndViewsInOrderWithCaseInsensitiveKeywords) {
  Script s = Parse(
      "-- the paper's example\n"
      "create stream events (zipcode int, price double);\n"
      "/* first view */ Create View by_zip As Select zipcode, COUNT(*) From events Group By zipcode;\n"
      "CREATE OR REPLACE VIEW totals AS SELECT sum(price) AS total FROM events\n");
  ASSERT_EQ(s.streams.size(), 1u);
  ASSERT_EQ(s.views.size(), 2u);
  EXPECT_EQ(s.views[0].name.text, "by_zip");
  EXPECT_EQ(s.views[0].loc.line, 3);
  EXPECT_EQ(s.views[0].loc.column, 18);
  EXPECT_EQ(s.views[0].select.loc.column, 40);
  EXPECT_EQ(s.views[0].select.from.text, "events");
  ASSERT_EQ(s.views[0].select.group_by.size(), 1u);
  EXPECT_EQ(s.views[1].name.text, "totals");
  EXPECT_EQ(s.views[1].select.items[0].alias->text, "total");
}

TEST(ParseScript, CrLfLineEndings) {
  Script s = Parse("CREATE STREAM s (a INT);\r\nCREATE VIEW v AS\r\n  SELECT a FROM s GROUP BY a;\r\n");
  ASSERT_EQ(s.views.size(), 1u);
  EXPECT_EQ(s.views[0].select.loc.line, 3);
  EXPECT_EQ(s.views[0].select.loc.column, 3);
  EXPECT_EQ(s.views[0].select.items[0].expr->text, "a");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT);\r\nCREATE VIEW v AS\r\n  SELECT a FROM s GROUP BY a)"),
            "views.sql:3:29: expected ';' but found ')'");
}

TEST(ParseScript, ViewClausesAreParsedForTheBinderToJudge) {
  Script s = Parse(
      "CREATE VIEW v AS SELECT a, count(*) FROM s\n"
      "WHERE a > 1 GROUP BY a HAVING count(*) > 2\n"
      "ORDER BY 2 DESC LIMIT 10");
  ASSERT_EQ(s.views.size(), 1u);
  const SelectStmt& q = s.views[0].select;
  EXPECT_EQ(q.having_loc.line, 2);
  EXPECT_EQ(q.having_loc.column, 24);
  EXPECT_EQ(q.order_by_loc.line, 3);
  EXPECT_EQ(q.order_by_loc.column, 1);
  EXPECT_EQ(q.limit_loc.column, 17);
  EXPECT_EQ(q.limit, 10);
  EXPECT_EQ(Dump(*q.having), "(> (count *) int:2)");
}

// ---- SELECT ----------------------------------------------------------------

TEST(ParseQuery, FullSelect) {
  SelectStmt q = Query(
      "SELECT zipcode, count(*) AS n, sum(price) total FROM by_zip "
      "WHERE zipcode IN (1, 2) GROUP BY zipcode, 2 HAVING n > 1 "
      "ORDER BY n DESC NULLS LAST, zipcode ASC, total NULLS FIRST LIMIT 5;");
  EXPECT_EQ(q.loc.column, 1);
  ASSERT_EQ(q.items.size(), 3u);
  EXPECT_EQ(q.items[0].expr->text, "zipcode");
  EXPECT_FALSE(q.items[0].alias.has_value());
  EXPECT_EQ(q.items[1].expr->text, "count(*)");
  EXPECT_EQ(q.items[1].alias->text, "n");
  EXPECT_EQ(q.items[1].alias->loc.column, 29);
  EXPECT_EQ(q.items[2].expr->text, "sum(price)");
  EXPECT_EQ(q.items[2].alias->text, "total");
  EXPECT_EQ(q.from.text, "by_zip");
  EXPECT_EQ(q.from.loc.column, 54);
  EXPECT_EQ(Dump(*q.where), "(IN zipcode int:1 int:2)");
  ASSERT_EQ(q.group_by.size(), 2u);
  EXPECT_EQ(Dump(*q.group_by[1]), "int:2");
  EXPECT_EQ(Dump(*q.having), "(> n int:1)");
  ASSERT_EQ(q.order_by.size(), 3u);
  EXPECT_TRUE(q.order_by[0].descending);
  EXPECT_EQ(q.order_by[0].nulls_first, false);
  EXPECT_FALSE(q.order_by[1].descending);
  EXPECT_FALSE(q.order_by[1].nulls_first.has_value());
  EXPECT_EQ(q.order_by[2].nulls_first, true);
  EXPECT_EQ(q.limit, 5);
}

TEST(ParseQuery, MinimalSelectHasNoOptionalParts) {
  SelectStmt q = Query("select * from v");
  ASSERT_EQ(q.items.size(), 1u);
  EXPECT_EQ(q.items[0].expr->kind, ExprKind::kStar);
  EXPECT_EQ(q.items[0].expr->text, "*");
  EXPECT_EQ(q.where, nullptr);
  EXPECT_TRUE(q.group_by.empty());
  EXPECT_EQ(q.having, nullptr);
  EXPECT_TRUE(q.order_by.empty());
  EXPECT_FALSE(q.limit.has_value());
}

TEST(ParseQuery, StarItems) {
  SelectStmt q = Query("SELECT *, v.*, a FROM v");
  ASSERT_EQ(q.items.size(), 3u);
  EXPECT_EQ(q.items[1].expr->kind, ExprKind::kStar);
  EXPECT_EQ(q.items[1].expr->text, "v.*");
  EXPECT_EQ(q.items[1].expr->loc.column, 11);
}

TEST(ParseQuery, AliasesQuotedAndImplicit) {
  SelectStmt q = Query("SELECT a \"Total Sum\", b AS \"x\", c AS count, d e FROM v");
  ASSERT_EQ(q.items.size(), 4u);
  EXPECT_EQ(q.items[0].alias->text, "Total Sum");
  EXPECT_TRUE(q.items[0].alias->quoted);
  EXPECT_TRUE(q.items[1].alias->quoted);
  EXPECT_EQ(q.items[2].alias->text, "count");
  EXPECT_FALSE(q.items[2].alias->quoted);
  EXPECT_EQ(q.items[3].alias->text, "e");
}

TEST(ParseQuery, TableAliasIsAcceptedAndQualifiersDropped) {
  SelectStmt q = Query("SELECT e.price, \"e\".\"Zip\" FROM events AS e WHERE e.a = 1");
  EXPECT_EQ(q.from.text, "events");
  EXPECT_EQ(Dump(*q.items[0].expr), "price");
  EXPECT_EQ(q.items[0].expr->text, "e.price");
  EXPECT_EQ(q.items[0].expr->loc.column, 8);
  EXPECT_EQ(q.items[0].expr->name.loc.column, 10);
  EXPECT_EQ(Dump(*q.items[1].expr), "\"Zip\"");
  EXPECT_EQ(Query("SELECT a FROM events e").from.text, "events");
}

TEST(ParseQuery, TrailingSemicolonIsOptional) {
  EXPECT_EQ(Query("SELECT a FROM v;").items.size(), 1u);
  EXPECT_EQ(Query("SELECT a FROM v ; -- done\n").items.size(), 1u);
}

TEST(ParseQuery, SelectAllIsPlainSelect) { EXPECT_EQ(Query("SELECT ALL a FROM v").items.size(), 1u); }

TEST(ParseQuery, LimitZeroAndLargest) {
  EXPECT_EQ(Query("SELECT a FROM v LIMIT 0").limit, 0);
  EXPECT_EQ(Query("SELECT a FROM v LIMIT 9223372036854775807").limit, INT64_MAX);
}

// ---- Expressions -----------------------------------------------------------

TEST(ParseExpr, Literals) {
  auto e = ParseExpr("42");
  EXPECT_EQ(e->kind, ExprKind::kLiteral);
  EXPECT_EQ(e->literal.type, TypeId::kBigInt);
  EXPECT_EQ(e->literal.i, 42);
  EXPECT_FALSE(e->literal.is_null);
  EXPECT_EQ(e->loc.column, 8);
  EXPECT_EQ(DumpExpr("2.5"), "dbl:2.5");
  EXPECT_EQ(DumpExpr(".5"), "dbl:0.5");
  EXPECT_EQ(DumpExpr("1e3"), "dbl:1000");
  EXPECT_EQ(DumpExpr("1.5E-3"), "dbl:0.0015");
  EXPECT_EQ(ParseExpr("1.0")->literal.type, TypeId::kDouble);
  EXPECT_EQ(DumpExpr("'it''s'"), "'it's'");
  EXPECT_EQ(ParseExpr("''")->literal.type, TypeId::kText);
  EXPECT_EQ(ParseExpr("''")->text, "''");
  EXPECT_EQ(DumpExpr("TRUE"), "true");
  EXPECT_EQ(DumpExpr("false"), "false");
  EXPECT_EQ(ParseExpr("true")->literal.type, TypeId::kBoolean);
  auto null = ParseExpr("NULL");
  EXPECT_EQ(null->kind, ExprKind::kLiteral);
  EXPECT_TRUE(null->literal.is_null);
  EXPECT_EQ(null->literal.type, TypeId::kNull);
}

TEST(ParseExpr, IntegerRangeAndNegativeLiterals) {
  EXPECT_EQ(ParseExpr("9223372036854775807")->literal.i, INT64_MAX);
  auto min = ParseExpr("-9223372036854775808");
  EXPECT_EQ(min->kind, ExprKind::kLiteral);
  EXPECT_EQ(min->literal.i, INT64_MIN);
  EXPECT_EQ(min->text, "-9223372036854775808");
  EXPECT_EQ(DumpExpr("- 5"), "int:-5");
  EXPECT_EQ(DumpExpr("-2.5"), "dbl:-2.5");
  EXPECT_EQ(DumpExpr("-2 * 3"), "(* int:-2 int:3)");
  EXPECT_EQ(DumpExpr("1-2"), "(- int:1 int:2)");
  EXPECT_EQ(ExprError("9223372036854775808"),
            "query:1:8: integer literal 9223372036854775808 is out of range for BIGINT "
            "(-9223372036854775808 to 9223372036854775807)");
  EXPECT_EQ(ExprError("a + -9223372036854775809"),
            "query:1:12: integer literal -9223372036854775809 is out of range for BIGINT "
            "(-9223372036854775808 to 9223372036854775807)");
  EXPECT_EQ(ExprError("1e999"), "query:1:8: numeric literal 1e999 is out of range for DOUBLE");
}

TEST(ParseExpr, Columns) {
  auto e = ParseExpr("ProductName");
  EXPECT_EQ(e->kind, ExprKind::kColumn);
  EXPECT_EQ(e->name.text, "ProductName");
  EXPECT_FALSE(e->name.quoted);
  EXPECT_EQ(e->name.loc.column, 8);
  auto q = ParseExpr("\"Product \"\"Name\"\"\"");
  EXPECT_EQ(q->name.text, "Product \"Name\"");
  EXPECT_TRUE(q->name.quoted);
  EXPECT_EQ(q->text, "\"Product \"\"Name\"\"\"");
  // Keywords in quotes are plain names; some keywords are not reserved at all.
  EXPECT_EQ(DumpExpr("\"from\""), "\"from\"");
  EXPECT_EQ(DumpExpr("timestamp"), "timestamp");
  EXPECT_EQ(DumpExpr("filter + over"), "(+ filter over)");
  EXPECT_EQ(DumpExpr("s.\"select\""), "\"select\"");
}

TEST(ParseExpr, Precedence) {
  EXPECT_EQ(DumpExpr("a OR b AND c"), "(OR a (AND b c))");
  EXPECT_EQ(DumpExpr("a AND b OR c"), "(OR (AND a b) c)");
  EXPECT_EQ(DumpExpr("NOT a AND b"), "(AND (NOT a) b)");
  EXPECT_EQ(DumpExpr("NOT a = b"), "(NOT (= a b))");
  EXPECT_EQ(DumpExpr("NOT NOT a"), "(NOT (NOT a))");
  EXPECT_EQ(DumpExpr("a = b || c"), "(= a (|| b c))");
  EXPECT_EQ(DumpExpr("a || b + c"), "(|| a (+ b c))");
  EXPECT_EQ(DumpExpr("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(DumpExpr("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(DumpExpr("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(DumpExpr("a / b % c * d"), "(* (% (/ a b) c) d)");
  EXPECT_EQ(DumpExpr("-a * b"), "(* (NEG a) b)");
  EXPECT_EQ(DumpExpr("- -a"), "(NEG (NEG a))");
  EXPECT_EQ(DumpExpr("+a"), "a");
  EXPECT_EQ(DumpExpr("(a + b) * c"), "(* (+ a b) c)");
  EXPECT_EQ(DumpExpr("a + b < c * d AND e >= f OR g <> h"), "(OR (AND (< (+ a b) (* c d)) (>= e f)) (<> g h))");
}

TEST(ParseExpr, ComparisonOperators) {
  EXPECT_EQ(DumpExpr("a = 1"), "(= a int:1)");
  EXPECT_EQ(DumpExpr("a == 1"), "(= a int:1)");
  EXPECT_EQ(DumpExpr("a != 1"), "(<> a int:1)");
  EXPECT_EQ(DumpExpr("a <> 1"), "(<> a int:1)");
  EXPECT_EQ(DumpExpr("a < 1"), "(< a int:1)");
  EXPECT_EQ(DumpExpr("a <= 1"), "(<= a int:1)");
  EXPECT_EQ(DumpExpr("a > 1"), "(> a int:1)");
  EXPECT_EQ(DumpExpr("a >= 1"), "(>= a int:1)");
}

TEST(ParseExpr, TextAndLocationOfEveryNode) {
  auto e = ParseExpr("a  +  b*c");
  EXPECT_EQ(e->text, "a  +  b*c");
  EXPECT_EQ(e->loc.column, 8);
  EXPECT_EQ(e->args[1]->text, "b*c");
  EXPECT_EQ(e->args[1]->loc.column, 14);
  auto p = ParseExpr("( a + b ) * 2");
  EXPECT_EQ(p->args[0]->text, "( a + b )");
  EXPECT_EQ(p->args[0]->loc.column, 8);
  EXPECT_EQ(p->args[0]->args[0]->text, "a");
  EXPECT_EQ(ParseExpr("+ a")->text, "+ a");
  auto n = ParseExpr("NOT  x");
  EXPECT_EQ(n->text, "NOT  x");
  EXPECT_EQ(n->args[0]->loc.column, 13);
  // Comments inside an expression stay in its text; around it they do not.
  SelectStmt q = Query("SELECT /* c */ sum(a /* x */) -- y\n, b FROM v");
  EXPECT_EQ(q.items[0].expr->text, "sum(a /* x */)");
  EXPECT_EQ(q.items[0].expr->loc.column, 16);
  EXPECT_EQ(q.items[1].expr->loc.line, 2);
  EXPECT_EQ(q.items[1].expr->loc.column, 3);
}

TEST(ParseExpr, IsNull) {
  auto e = ParseExpr("a IS NULL");
  EXPECT_EQ(e->kind, ExprKind::kIsNull);
  EXPECT_FALSE(e->negated);
  EXPECT_EQ(e->text, "a IS NULL");
  auto n = ParseExpr("a + 1 is not null");
  EXPECT_TRUE(n->negated);
  EXPECT_EQ(Dump(*n), "(IS NOT NULL (+ a int:1))");
  EXPECT_EQ(DumpExpr("a IS NULL AND b IS NOT NULL"), "(AND (IS NULL a) (IS NOT NULL b))");
}

TEST(ParseExpr, In) {
  auto e = ParseExpr("zip IN (1, 2, 3)");
  EXPECT_EQ(e->kind, ExprKind::kIn);
  EXPECT_FALSE(e->negated);
  EXPECT_EQ(e->args.size(), 4u);
  EXPECT_EQ(e->text, "zip IN (1, 2, 3)");
  auto n = ParseExpr("name NOT IN ('a')");
  EXPECT_TRUE(n->negated);
  EXPECT_EQ(Dump(*n), "(NOT IN name 'a')");
  EXPECT_EQ(DumpExpr("a + 1 IN (b * 2, c) AND d"), "(AND (IN (+ a int:1) (* b int:2) c) d)");
}

TEST(ParseExpr, Between) {
  auto e = ParseExpr("a BETWEEN 1 AND 2 AND b");
  EXPECT_EQ(Dump(*e), "(AND (BETWEEN a int:1 int:2) b)");
  EXPECT_EQ(e->args[0]->text, "a BETWEEN 1 AND 2");
  auto n = ParseExpr("a NOT BETWEEN b - 1 AND b + 1");
  EXPECT_EQ(n->kind, ExprKind::kBetween);
  EXPECT_TRUE(n->negated);
  EXPECT_EQ(Dump(*n), "(NOT BETWEEN a (- b int:1) (+ b int:1))");
}

TEST(ParseExpr, Like) {
  auto e = ParseExpr("name LIKE 'A%'");
  EXPECT_EQ(e->kind, ExprKind::kLike);
  EXPECT_FALSE(e->negated);
  EXPECT_EQ(Dump(*e), "(LIKE name 'A%')");
  auto n = ParseExpr("name not like 'A' || '%'");
  EXPECT_TRUE(n->negated);
  EXPECT_EQ(Dump(*n), "(NOT LIKE name (|| 'A' '%'))");
}

TEST(ParseExpr, Case) {
  auto e = ParseExpr("CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END");
  EXPECT_EQ(e->kind, ExprKind::kCase);
  EXPECT_EQ(e->case_operand, nullptr);
  EXPECT_EQ(Dump(*e), "(CASE WHEN (> a int:1) THEN 'big' WHEN (> a int:0) THEN 'small' ELSE 'none')");
  EXPECT_EQ(e->text, "CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END");
  EXPECT_EQ(DumpExpr("case a when 1 then 'one' end"), "(CASE a WHEN int:1 THEN 'one')");
  EXPECT_EQ(ParseExpr("CASE a WHEN 1 THEN 2 END")->else_expr, nullptr);
}

TEST(ParseExpr, Cast) {
  auto e = ParseExpr("CAST(a AS BIGINT)");
  EXPECT_EQ(e->kind, ExprKind::kCast);
  EXPECT_EQ(e->cast_type, TypeId::kBigInt);
  EXPECT_EQ(e->text, "CAST(a AS BIGINT)");
  EXPECT_EQ(DumpExpr("cast(a + 1 as double precision)"), "(CAST (+ a int:1) AS DOUBLE)");
  EXPECT_EQ(DumpExpr("CAST('1' AS varchar(10))"), "(CAST '1' AS TEXT)");
}

TEST(ParseExpr, TimestampLiteral) {
  auto e = ParseExpr("TIMESTAMP '2014-11-01 19:35:41.158'");
  EXPECT_EQ(Dump(*e), "(CAST '2014-11-01 19:35:41.158' AS TIMESTAMP)");
  EXPECT_EQ(e->text, "TIMESTAMP '2014-11-01 19:35:41.158'");
  EXPECT_EQ(e->args[0]->loc.column, 18);
  EXPECT_EQ(DumpExpr("timestamp >= timestamp '2014-11-01'"), "(>= timestamp (CAST '2014-11-01' AS TIMESTAMP))");
}

TEST(ParseExpr, Functions) {
  auto c = ParseExpr("COUNT(*)");
  EXPECT_EQ(c->kind, ExprKind::kFunction);
  EXPECT_EQ(c->name.text, "COUNT");
  ASSERT_EQ(c->args.size(), 1u);
  EXPECT_EQ(c->args[0]->kind, ExprKind::kStar);
  EXPECT_EQ(c->args[0]->loc.column, 14);
  EXPECT_EQ(c->text, "COUNT(*)");
  EXPECT_EQ(DumpExpr("now()"), "(now)");
  EXPECT_EQ(DumpExpr("date_trunc('hour', timestamp)"), "(date_trunc 'hour' timestamp)");
  EXPECT_EQ(DumpExpr("Upper(a || b)"), "(Upper (|| a b))");
  EXPECT_EQ(DumpExpr("round(avg(price), 2)"), "(round (avg price) int:2)");
  EXPECT_EQ(DumpExpr("left(name, 3) || right(name, 1)"), "(|| (left name int:3) (right name int:1))");
  EXPECT_EQ(DumpExpr("\"sum\"(a)"), "(\"sum\" a)");
  EXPECT_EQ(DumpExpr("count(a) * 2"), "(* (count a) int:2)");
}

TEST(ParseExpr, DistinctFilterOver) {
  auto d = ParseExpr("count(DISTINCT ProductName)");
  EXPECT_TRUE(d->distinct);
  EXPECT_EQ(Dump(*d), "(count DISTINCT ProductName)");
  EXPECT_FALSE(ParseExpr("count(ALL a)")->distinct);
  auto f = ParseExpr("sum(price) FILTER (WHERE zipcode = 1)");
  EXPECT_EQ(Dump(*f), "(sum price FILTER (= zipcode int:1))");
  EXPECT_EQ(f->text, "sum(price) FILTER (WHERE zipcode = 1)");
  auto o = ParseExpr("sum(price) OVER (PARTITION BY zip ORDER BY (t) ROWS 1 PRECEDING)");
  EXPECT_TRUE(o->over);
  EXPECT_EQ(o->text, "sum(price) OVER (PARTITION BY zip ORDER BY (t) ROWS 1 PRECEDING)");
  EXPECT_TRUE(ParseExpr("rank() OVER w")->over);
  EXPECT_EQ(DumpExpr("count(*) FILTER (WHERE a) OVER ()"), "(count * FILTER a OVER)");
  // Without a parenthesis FILTER is an alias.
  SelectStmt q = Query("SELECT count(*) filter FROM v");
  EXPECT_EQ(q.items[0].alias->text, "filter");
}

TEST(ParseExpr, Extract) {
  auto e = ParseExpr("EXTRACT(Hour FROM timestamp)");
  EXPECT_EQ(e->kind, ExprKind::kFunction);
  EXPECT_EQ(e->name.text, "extract");
  EXPECT_EQ(Dump(*e), "(extract 'hour' timestamp)");
  EXPECT_EQ(e->args[0]->literal.type, TypeId::kText);
  EXPECT_EQ(e->args[0]->loc.column, 16);
  EXPECT_EQ(e->text, "EXTRACT(Hour FROM timestamp)");
  EXPECT_EQ(DumpExpr("extract('day' from t)"), "(extract 'day' t)");
}

TEST(ParseExpr, DeepButReasonableNestingIsFine) {
  std::string deep = std::string(100, '(') + "a" + std::string(100, ')');
  EXPECT_EQ(DumpExpr(deep), "a");
  std::string chain = "a";
  for (int i = 0; i < 500; ++i) chain += " OR a";
  EXPECT_EQ(ParseExpr(chain)->kind, ExprKind::kBinary);
}

// ---- Errors ----------------------------------------------------------------

TEST(ParseErrors, UnexpectedTokensNameWhatWasFound) {
  EXPECT_EQ(ScriptError("CREATE VIEW v AS\nSELECT count(*\n  FROM s"), "views.sql:3:3: expected ')' but found 'FROM'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT (a + b FROM s"), "views.sql:1:32: expected ')' but found 'FROM'");
  EXPECT_EQ(ScriptError("SELECT a FROM s"), "views.sql:1:1: expected CREATE STREAM or CREATE VIEW but found 'SELECT'");
  EXPECT_EQ(ScriptError("CREATE INDEX i"), "views.sql:1:8: expected STREAM or VIEW but found 'INDEX'");
  EXPECT_EQ(ScriptError("CREATE OR VIEW v"), "views.sql:1:11: expected REPLACE but found 'VIEW'");
  EXPECT_EQ(ScriptError("CREATE VIEW v SELECT a FROM s"), "views.sql:1:15: expected AS but found 'SELECT'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS a"), "views.sql:1:18: expected SELECT but found 'a'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a"), "views.sql:1:26: expected ',' or FROM but found end of input");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a b c FROM s"), "views.sql:1:29: expected ',' or FROM but found 'c'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT FROM s"), "views.sql:1:25: expected an expression but found 'FROM'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a + FROM s"),
            "views.sql:1:29: expected an expression but found 'FROM'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a, FROM s"),
            "views.sql:1:28: expected an expression but found 'FROM'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s GROUP a"), "views.sql:1:40: expected BY but found 'a'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s ORDER a"), "views.sql:1:40: expected BY but found 'a'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s WHERE"),
            "views.sql:1:39: expected an expression but found end of input");
  EXPECT_EQ(QueryError("SELECT a FROM v LIMIT -1"),
            "query:1:23: expected a non-negative integer after LIMIT but found '-'");
  EXPECT_EQ(QueryError("SELECT a FROM v LIMIT 1.5"),
            "query:1:23: expected a non-negative integer after LIMIT but found '1.5'");
  EXPECT_EQ(QueryError("SELECT a FROM v ORDER BY a NULLS b"), "query:1:34: expected FIRST or LAST but found 'b'");
  EXPECT_EQ(QueryError("SELECT a IS TRUE FROM v"), "query:1:13: expected NULL or NOT NULL but found 'TRUE'");
  EXPECT_EQ(QueryError("SELECT a IS NOT 1 FROM v"), "query:1:17: expected NULL but found '1'");
  EXPECT_EQ(QueryError("SELECT a IN 1 FROM v"), "query:1:13: expected '(' after IN but found '1'");
  EXPECT_EQ(QueryError("SELECT a IN () FROM v"), "query:1:14: expected an expression but found ')'");
  EXPECT_EQ(QueryError("SELECT a BETWEEN 1 OR 2 FROM v"), "query:1:20: expected AND but found 'OR'");
  EXPECT_EQ(QueryError("SELECT CASE a END FROM v"), "query:1:15: expected WHEN but found 'END'");
  EXPECT_EQ(QueryError("SELECT CASE WHEN a THEN b FROM v"), "query:1:27: expected WHEN, ELSE or END but found 'FROM'");
  EXPECT_EQ(QueryError("SELECT CASE WHEN a THEN b ELSE c FROM v"), "query:1:34: expected END but found 'FROM'");
  EXPECT_EQ(QueryError("SELECT CASE WHEN a b END FROM v"), "query:1:20: expected THEN but found 'b'");
  EXPECT_EQ(QueryError("SELECT CAST(a) FROM v"), "query:1:14: expected AS but found ')'");
  EXPECT_EQ(QueryError("SELECT CAST(a AS 'x') FROM v"), "query:1:18: expected a type but found string 'x'");
  EXPECT_EQ(QueryError("SELECT CAST(a AS INT FROM v"), "query:1:22: expected ')' but found 'FROM'");
  EXPECT_EQ(QueryError("SELECT EXTRACT(1 FROM t) FROM v"),
            "query:1:16: expected a field such as YEAR, MONTH, DAY, HOUR, MINUTE or SECOND but found '1'");
  EXPECT_EQ(QueryError("SELECT EXTRACT(day t) FROM v"), "query:1:20: expected FROM but found 't'");
  EXPECT_EQ(QueryError("SELECT f(a) FILTER (a) FROM v"), "query:1:21: expected WHERE but found 'a'");
  EXPECT_EQ(QueryError("SELECT f(a) OVER (PARTITION BY (a) FROM v"), "query:1:42: expected ')' but found end of input");
  EXPECT_EQ(QueryError("SELECT f(a) OVER 1 FROM v"),
            "query:1:18: expected '(' or a window name after OVER but found '1'");
  EXPECT_EQ(QueryError("SELECT a.1 FROM v"), "query:1:9: expected ',' or FROM but found '.1'");
  EXPECT_EQ(QueryError("SELECT a. FROM v"), "query:1:11: expected a column name after '.' but found 'FROM'");
  EXPECT_EQ(QueryError("SELECT (a, b) FROM v"), "query:1:10: expected ')' but found ','");
  EXPECT_EQ(QueryError("SELECT * AS x FROM v"), "query:1:10: expected ',' or FROM but found 'AS'");
  EXPECT_EQ(QueryError("SELECT a AS FROM v"),
            "query:1:13: expected alias but found reserved word 'FROM'; write \"FROM\" to use it as a name");
  EXPECT_EQ(QueryError("SELECT a FROM where"),
            "query:1:15: expected view name but found reserved word 'where'; write \"where\" to use it as a name");
  EXPECT_EQ(QueryError("SELECT a FROM 'v'"), "query:1:15: expected view name but found string 'v'");
  EXPECT_EQ(QueryError("a"), "query:1:1: expected SELECT but found 'a'");
  EXPECT_EQ(QueryError(""), "query:1:1: expected SELECT but found end of input");
}

TEST(ParseErrors, TrailingInput) {
  EXPECT_EQ(QueryError("SELECT a FROM v; SELECT b FROM v"), "query:1:18: expected end of query but found 'SELECT'");
  EXPECT_EQ(QueryError("SELECT a FROM v x y"), "query:1:19: expected end of query but found 'y'");
  EXPECT_EQ(QueryError("SELECT a FROM v OFFSET 3"), "query:1:17: expected end of query but found 'OFFSET'");
  EXPECT_EQ(QueryError("SELECT a FROM v WHERE a = 1 b = 2"), "query:1:29: expected end of query but found 'b'");
}

TEST(ParseErrors, MissingSemicolonBetweenStatements) {
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT)\nCREATE VIEW v AS SELECT a FROM s GROUP BY a"),
            "views.sql:2:1: expected ';' but found 'CREATE'");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s GROUP BY a\nCREATE VIEW w AS SELECT a FROM s"),
            "views.sql:2:1: expected ';' but found 'CREATE'");
}

TEST(ParseErrors, ClausesOutOfOrder) {
  const char* tail =
      " is out of place: the clauses of a SELECT go in the order WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, each at "
      "most once";
  EXPECT_EQ(QueryError("SELECT a FROM v LIMIT 1 WHERE a"), std::string("query:1:25: WHERE") + tail);
  EXPECT_EQ(QueryError("SELECT a FROM v ORDER BY a GROUP BY a"), std::string("query:1:28: GROUP BY") + tail);
  EXPECT_EQ(QueryError("SELECT a FROM v WHERE a WHERE b"), std::string("query:1:25: WHERE") + tail);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s LIMIT 1 HAVING a"),
            std::string("views.sql:1:42: HAVING") + tail);
  EXPECT_EQ(QueryError("SELECT a FROM v LIMIT 1 ORDER BY a"), std::string("query:1:25: ORDER BY") + tail);
  EXPECT_EQ(QueryError("SELECT a FROM v LIMIT 1 LIMIT 2"), std::string("query:1:25: LIMIT") + tail);
}

TEST(ParseErrors, Joins) {
  const std::string view_msg =
      "joins are not supported: a view reads one stream; a view is a mergeable aggregation of one stream";
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s JOIN t ON s.a = t.a"), "views.sql:1:34: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s, t"), "views.sql:1:33: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s x LEFT JOIN t"), "views.sql:1:36: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s inner join t"), "views.sql:1:34: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s CROSS JOIN t"), "views.sql:1:34: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s NATURAL JOIN t"), "views.sql:1:34: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s AS x FULL OUTER JOIN t"), "views.sql:1:39: " + view_msg);
  EXPECT_EQ(QueryError("SELECT a FROM v, w"), "query:1:16: joins are not supported: a query reads one view");
  EXPECT_EQ(QueryError("SELECT a FROM v RIGHT JOIN w"), "query:1:17: joins are not supported: a query reads one view");
}

TEST(ParseErrors, Subqueries) {
  const std::string view_msg = "subqueries are not supported in views: a view is a single SELECT over one stream";
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM (SELECT a FROM s)"), "views.sql:1:32: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s WHERE a IN (SELECT b FROM t)"),
            "views.sql:1:45: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT (SELECT 1) FROM s"), "views.sql:1:25: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s WHERE a > ( select max(a) from s)"),
            "views.sql:1:44: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s WHERE EXISTS (SELECT 1 FROM t)"),
            "views.sql:1:47: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS (SELECT a FROM s)"), "views.sql:1:18: " + view_msg);
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s WHERE a IN ((WITH x AS (SELECT 1) SELECT 1))"),
            "views.sql:1:46: " + view_msg);
  EXPECT_EQ(QueryError("SELECT a FROM (SELECT a FROM v)"),
            "query:1:15: subqueries are not supported in queries: a query is a single SELECT over one view");
}

TEST(ParseErrors, SetOperationsWithAndDistinct) {
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s UNION SELECT a FROM t"),
            "views.sql:1:34: UNION is not supported: a view is a single SELECT over one stream; define one view per "
            "SELECT");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a FROM s GROUP BY a union all SELECT a FROM t"),
            "views.sql:1:45: UNION is not supported: a view is a single SELECT over one stream; define one view per "
            "SELECT");
  EXPECT_EQ(QueryError("SELECT a FROM v EXCEPT SELECT a FROM w"),
            "query:1:17: EXCEPT is not supported: a query is a single SELECT over one view; run one query per SELECT");
  EXPECT_EQ(QueryError("SELECT a FROM v intersect SELECT a FROM w"),
            "query:1:17: INTERSECT is not supported: a query is a single SELECT over one view; run one query per "
            "SELECT");
  EXPECT_EQ(ScriptError("WITH x AS (SELECT 1) SELECT * FROM x"),
            "views.sql:1:1: WITH is not supported: a view is a single SELECT over one stream");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS WITH x AS (SELECT 1) SELECT * FROM x"),
            "views.sql:1:18: WITH is not supported: a view is a single SELECT over one stream");
  EXPECT_EQ(QueryError("with x as (select 1) select * from x"),
            "query:1:1: WITH is not supported: a query is a single SELECT over one view");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT DISTINCT a FROM s"),
            "views.sql:1:25: SELECT DISTINCT is not supported: GROUP BY the selected columns instead");
}

TEST(ParseErrors, CreateStream) {
  EXPECT_EQ(
      ScriptError("CREATE STREAM s (a DECIMAL)"),
      "views.sql:1:20: unknown type 'DECIMAL'; accepted types are INT, INTEGER, BIGINT, DOUBLE, DOUBLE PRECISION, "
      "FLOAT, REAL, TEXT, VARCHAR, STRING, BOOLEAN, BOOL and TIMESTAMP");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a)"), "views.sql:1:19: expected a type but found ')'");
  EXPECT_EQ(ScriptError("CREATE STREAM s ()"), "views.sql:1:18: a stream needs at least one column");
  EXPECT_EQ(ScriptError("CREATE STREAM s a INT"), "views.sql:1:17: expected '(' but found 'a'");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT b TEXT)"), "views.sql:1:24: expected ',' or ')' but found 'b'");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT,)"), "views.sql:1:24: expected column name but found ')'");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT NOT)"), "views.sql:1:27: expected NULL but found ')'");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT NOT NULL NULL)"),
            "views.sql:1:33: conflicting NULL and NOT NULL for column 'a'");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a VARCHAR(x))"), "views.sql:1:28: expected a length but found 'x'");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT"), "views.sql:1:23: expected ',' or ')' but found end of input");
  EXPECT_EQ(
      ScriptError("CREATE STREAM s (order INT)"),
      "views.sql:1:18: expected column name but found reserved word 'order'; write \"order\" to use it as a name");
  EXPECT_EQ(ScriptError("CREATE STREAM select (a INT)"),
            "views.sql:1:15: expected stream name but found reserved word 'select'; write \"select\" to use it as a "
            "name");
  EXPECT_EQ(ScriptError("CREATE TABLE t (a INT)"),
            "views.sql:1:8: CREATE TABLE is not supported: declare the input as CREATE STREAM name (column TYPE, ...)");
  EXPECT_EQ(ScriptError("CREATE STREAM s (a INT) x"), "views.sql:1:25: expected ';' but found 'x'");
}

TEST(ParseErrors, LexicalErrorsComeThroughWithLocations) {
  EXPECT_EQ(ScriptError("CREATE VIEW v AS\n  SELECT 'abc FROM s"),
            "views.sql:2:10: unterminated string literal: missing closing '");
  EXPECT_EQ(ScriptError("CREATE VIEW v AS SELECT a /* oops FROM s"),
            "views.sql:1:27: unterminated block comment: '/*' without a closing '*/'");
  EXPECT_EQ(QueryError("SELECT a FROM v WHERE a = $1"), "query:1:27: unexpected character '$'");
}

TEST(ParseErrors, TextCopiesAreBounded) {
  // 900 nested additions over a 100 KB operand would copy ~90 MB of source text.
  std::string sql = "SELECT '" + std::string(100000, 'x') + "'";
  for (int i = 0; i < 900; ++i) sql += "+a";
  sql += " FROM v";
  const std::string error = QueryError(sql);
  EXPECT_NE(error.find("statement is too large"), std::string::npos) << error.substr(0, 200);
}

TEST(ParseErrors, NestingLimits) {
  const std::string deep = std::string(300, '(') + "a" + std::string(300, ')');
  EXPECT_EQ(ExprError(deep), "query:1:264: expression is nested too deeply (more than 256 levels)");
  std::string nots;
  for (int i = 0; i < 300; ++i) nots += "NOT ";
  EXPECT_EQ(ExprError(nots + "a"), "query:1:1028: expression is nested too deeply (more than 256 levels)");
  std::string chain = "a";
  for (int i = 0; i < 1200; ++i) chain += "+a";
  EXPECT_EQ(ExprError(chain),
            "query:1:8: expression is too deep (more than 1000 levels); write long OR chains of "
            "equalities as IN (...)");
}

}  // namespace
}  // namespace lf::sql
