-- The stream of the paper's KinesisProducer, and three views over it.
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
       COUNT(*)                      AS orders,
       SUM(price)                    AS revenue,
       APPROX_COUNT_DISTINCT(ProductName) AS products
FROM events
GROUP BY zipcode, hour;

-- Daily order mix by price band, for the west-coast zip codes.
CREATE VIEW price_bands_by_day AS
SELECT DATE_TRUNC('day', timestamp) AS day,
       CASE WHEN price < 20 THEN 'low'
            WHEN price < 60 THEN 'mid'
            ELSE 'high' END AS band,
       COUNT(*) AS orders,
       COUNT(*) FILTER (WHERE price >= 50) AS big_orders,
       SUM(price) FILTER (WHERE ProductName IN ('product1', 'product2', 'product3')) AS top3_revenue
FROM events
WHERE zipcode BETWEEN 90000 AND 96999
GROUP BY day, band;
