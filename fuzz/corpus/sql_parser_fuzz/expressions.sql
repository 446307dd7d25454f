CREATE STREAM events (zipcode INT NOT NULL, "Product Name" TEXT, price DOUBLE, timestamp TIMESTAMP NOT NULL);
/* block comment */ CREATE VIEW v AS
SELECT zipcode % 100 AS zip2, UPPER("Product Name") AS p,
       CASE price WHEN 1 THEN 'one' ELSE 'many' END AS c,
       DATE_TRUNC('minute', timestamp) AS m,
       SUM(price * 2 - 1.5e0 / 3) AS s, COUNT(price) AS n, AVG(-price) AS a
FROM events
WHERE NOT (price IS NULL) AND ("Product Name" LIKE 'product1%' OR zipcode IN (95126, 98029))
  AND price BETWEEN 1 AND 100 AND 'it''s' <> 'x'
GROUP BY zip2, p, c, m;
