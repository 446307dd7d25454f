-- The two views of the seed application, as measured by bench/eval_bench.sh.
-- bench/duckdb_views.mjs runs the same queries in DuckDB.
CREATE STREAM events (
  zipcode     INT,
  ProductName TEXT NOT NULL,
  price       DOUBLE,
  timestamp   TIMESTAMP NOT NULL
);

-- Revenue per product.
CREATE VIEW revenue_by_product AS
SELECT ProductName,
       COUNT(*)   AS orders,
       SUM(price) AS revenue,
       MIN(price) AS min_price,
       MAX(price) AS max_price,
       AVG(price) AS avg_price
FROM events
GROUP BY ProductName;

-- Orders per zipcode and hour.
CREATE VIEW orders_by_zip_hour AS
SELECT zipcode,
       DATE_TRUNC('hour', timestamp) AS hour,
       COUNT(*)   AS orders,
       SUM(price) AS revenue
FROM events
GROUP BY zipcode, hour;
