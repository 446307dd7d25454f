#include "serving/query.h"

#include <gtest/gtest.h>

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
