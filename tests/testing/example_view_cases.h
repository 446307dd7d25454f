// The example views (the ones `lambdaflow run` serves without --views) as
// SQLite queries over a table events(zipcode, ProductName, price,
// timestamp), with the columns to compare and their tolerances: the oracle
// the integration tests check answers against. "{cover}" in a query stands
// for the condition that selects the events an answer covers (e.g. each
// partition's offsets below its S); CoveredSql fills it in.
#pragma once

#include <string>
#include <vector>

#include "testing/oracle_support.h"

namespace lf::test {

struct ExampleViewCase {
  std::string view, sql;
  std::vector<OutCol> cols;
};

inline const std::vector<ExampleViewCase>& ExampleViewCases() {
  static const std::vector<ExampleViewCase> cases = {
      {"revenue_by_product",
       "SELECT ProductName, COUNT(*), SUM(price), MIN(price), MAX(price), AVG(price), SUM(ABS(price)), AVG(ABS(price)) "
       "FROM events WHERE {cover} GROUP BY ProductName ORDER BY ProductName",
       {{"ProductName", Kind::kText},
        {"orders", Kind::kInt},
        {"revenue", Kind::kDoubleApprox, 6},
        {"min_price", Kind::kDoubleExact},
        {"max_price", Kind::kDoubleExact},
        {"avg_price", Kind::kDoubleApprox, 7}}},
      {"orders_by_zip_hour",
       "SELECT zipcode, (timestamp / 3600000) * 3600000 AS hour, COUNT(*), SUM(price), COUNT(DISTINCT ProductName), "
       "SUM(ABS(price)) FROM events WHERE {cover} GROUP BY zipcode, hour ORDER BY zipcode, hour",
       {{"zipcode", Kind::kInt},
        {"hour", Kind::kTimestamp},
        {"orders", Kind::kInt},
        {"revenue", Kind::kDoubleApprox, 5},
        {"products", Kind::kApprox5}}},
      {"price_bands_by_day",
       "SELECT (timestamp / 86400000) * 86400000 AS day, "
       "CASE WHEN price < 20 THEN 'low' WHEN price < 60 THEN 'mid' ELSE 'high' END AS band, COUNT(*), "
       "COUNT(*) FILTER (WHERE price >= 50), "
       "SUM(price) FILTER (WHERE ProductName IN ('product1', 'product2', 'product3')), "
       "SUM(ABS(price)) FILTER (WHERE ProductName IN ('product1', 'product2', 'product3')) "
       "FROM events WHERE {cover} AND zipcode BETWEEN 90000 AND 96999 GROUP BY day, band ORDER BY day, band",
       {{"day", Kind::kTimestamp},
        {"band", Kind::kText},
        {"orders", Kind::kInt},
        {"big_orders", Kind::kInt},
        {"top3_revenue", Kind::kDoubleApprox, 5}}},
  };
  return cases;
}

// The case's query with {cover} replaced by `cover` ("TRUE": every event).
inline std::string CoveredSql(const ExampleViewCase& c, const std::string& cover) {
  std::string sql = c.sql;
  sql.replace(sql.find("{cover}"), 7, cover);
  return sql;
}

}  // namespace lf::test
