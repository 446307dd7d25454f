#include "serving/query.h"

#include <gtest/gtest.h>

#include <limits>

#include "plan/result_format.h"

namespace lf {
namespace {

ViewResult Revenue() {
  ViewResult v;
  v.name = "revenue";
  v.column_names = {"ProductName", "orders", "revenue"};
  v.column_types = {TypeId::kText, TypeId::kBigInt, TypeId::kDouble};
  v.rows = {{Value::Text("p1"), Value::Int(10), Value::Double(100.5)},
            {Value::Text("p2"), Value::Int(30), Value::Double(20)},
            {Value::Text("p3"), Value::Int(20), Value::Null(TypeId::kDouble)},
            {Value::Text("p4"), Value::Int(5), Value::Double(400)}};
  return v;
}

std::string RunSql(const std::string& sql) {
  ViewResult v = Revenue();
  auto r = RunQuery(sql, "query", [&](std::string_view name) -> const ViewResult* {
    return name == "revenue" || name == "REVENUE" ? &v : nullptr;
  });
  if (!r.ok()) return "error: " + r.status().message();
  std::string tsv;
  AppendTsv(*r, &tsv);
  return tsv;
}

TEST(Query, WholeView) {
  EXPECT_EQ(RunSql("SELECT * FROM revenue"),
            "ProductName\torders\trevenue\np1\t10\t100.5\np2\t30\t20\np3\t20\t\\N\np4\t5\t400\n");
}

TEST(Query, KeyLookup) { EXPECT_EQ(RunSql("SELECT orders FROM revenue WHERE productname = 'p2'"), "orders\n30\n"); }

TEST(Query, TopN) {
  EXPECT_EQ(RunSql("SELECT ProductName, orders FROM revenue ORDER BY orders DESC LIMIT 2"),
            "ProductName\torders\np2\t30\np3\t20\n");
  // NULLs sort last when descending, first when ascending.
  EXPECT_EQ(RunSql("SELECT ProductName FROM revenue ORDER BY revenue DESC"), "ProductName\np4\np1\np2\np3\n");
  EXPECT_EQ(RunSql("SELECT ProductName FROM revenue ORDER BY 1 DESC LIMIT 1"), "ProductName\np4\n");
  EXPECT_EQ(RunSql("SELECT ProductName, revenue / orders AS per FROM revenue ORDER BY per LIMIT 1"),
            "ProductName\tper\np3\t\\N\n");
}

// Regression: ORDER BY compared doubles with `<`, which is no order once a
// NaN is present (and disagreed with the views' own key order: every NaN
// one value above +inf, as PostgreSQL and DuckDB sort them).
TEST(Query, OrderByPutsNanAboveInfinity) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  ViewResult v;
  v.name = "d";
  v.column_names = {"k", "x"};
  v.column_types = {TypeId::kText, TypeId::kDouble};
  const std::vector<double> xs = {5, nan, -3, inf, 1, nan, 2, 0, -inf};
  for (size_t i = 0; i < xs.size(); ++i) v.rows.push_back({Value::Text("r" + std::to_string(i)), Value::Double(xs[i])});
  auto run = [&](const std::string& sql) {
    auto r = RunQuery(sql, "query", [&](std::string_view) -> const ViewResult* { return &v; });
    if (!r.ok()) return "error: " + r.status().message();
    std::string tsv;
    AppendTsv(*r, &tsv);
    return tsv;
  };
  EXPECT_EQ(run("SELECT x FROM d ORDER BY x"), "x\n-inf\n-3\n0\n1\n2\n5\ninf\nnan\nnan\n");
  EXPECT_EQ(run("SELECT x FROM d ORDER BY x DESC LIMIT 3"), "x\nnan\nnan\ninf\n");
  EXPECT_EQ(run("SELECT k FROM d ORDER BY x, k LIMIT 2"), "k\nr8\nr2\n");
}

TEST(Query, AggregatesOverAView) {
  EXPECT_EQ(RunSql("SELECT SUM(orders) AS total, COUNT(*) AS n, MAX(revenue) AS top FROM revenue"),
            "total\tn\ttop\n65\t4\t400\n");
  EXPECT_EQ(RunSql("SELECT orders > 10 AS big, COUNT(*) AS n FROM revenue GROUP BY big ORDER BY n DESC"),
            "big\tn\nfalse\t2\ntrue\t2\n");
}

TEST(Query, Errors) {
  EXPECT_EQ(RunSql("SELECT * FROM revenu"), "error: query:1:15: unknown view 'revenu'");
  EXPECT_EQ(RunSql("SELECT ordrs FROM revenue"),
            "error: query:1:8: unknown column 'ordrs' (did you mean 'orders'?) in view 'revenue'");
  EXPECT_EQ(RunSql("SELECT orders FROM revenue ORDER BY revenu"),
            "error: query:1:37: unknown column 'revenu' (did you mean 'revenue'?) in view 'revenue'");
  EXPECT_EQ(RunSql("SELECT orders FROM revenue ORDER BY 3"),
            "error: query:1:37: ORDER BY position 3 is not in the select list (1..1)");
}

}  // namespace
}  // namespace lf
