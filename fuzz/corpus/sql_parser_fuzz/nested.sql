create stream s (a int, b text, t timestamp);
create view w as select a, count(*) filter (where (((a + 1) * 2) > 3) or b = 'x') as n,
  min(case when a < 0 then -a when a is null then 0 else a end) as m,
  approx_count_distinct(b) as d, extract(hour from t) as h
from s where a not between 1 and 2 and b not in ('a', 'b') group by a, h;
