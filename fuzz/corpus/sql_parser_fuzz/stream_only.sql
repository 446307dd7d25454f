CREATE STREAM events (zipcode INT, ProductName TEXT, price DOUBLE, timestamp TIMESTAMP);
