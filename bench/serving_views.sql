-- The views of the serving benchmarks (bench/serving_bench.sh): the example
-- views' stream, one view with 2000 x 50 = 100,000 keys for queries, and
-- the example revenue view for freshness.
CREATE STREAM events (
  zipcode     INT,
  ProductName TEXT NOT NULL,
  price       DOUBLE,
  timestamp   TIMESTAMP NOT NULL
);

CREATE VIEW by_zip_product AS
SELECT zipcode, ProductName, COUNT(*) AS orders, SUM(price) AS revenue
FROM events
GROUP BY zipcode, ProductName;

CREATE VIEW revenue_by_product AS
SELECT ProductName, COUNT(*) AS orders, SUM(price) AS revenue
FROM events
GROUP BY ProductName;
