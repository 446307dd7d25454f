// The live tests' world: the views (and their SQLite equivalents), the
// random event lines a producer sends, and the ledger of accepted events by
// log offset. Included by live_test.cc only.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/oracle_support.h"
#include "testing/server_process.h"

namespace lf::test::live {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// The views, and the same views in SQLite.

inline constexpr const char* kViews = R"sql(-- tests/live: the views of the live tests
CREATE STREAM events (k INT, name TEXT, v INT NOT NULL, price DOUBLE, ts TIMESTAMP NOT NULL);

CREATE VIEW by_k AS
SELECT k, COUNT(*) AS n, SUM(v) AS sv, MIN(v) AS minv, MAX(v) AS maxv, MIN(name) AS minname, MAX(ts) AS maxts
FROM events
GROUP BY k;

CREATE VIEW totals AS
SELECT COUNT(*) AS n, SUM(v) AS sv, COUNT(k) AS nk, COUNT(price) AS np, MIN(ts) AS mints, MAX(ts) AS maxts,
       APPROX_COUNT_DISTINCT(name) AS names
FROM events;

CREATE VIEW big_by_name AS
SELECT name, COUNT(*) AS n, SUM(v) AS sv, MIN(k) AS mink, MAX(price) AS maxp,
       COUNT(*) FILTER (WHERE price >= 50) AS pricey
FROM events
WHERE v >= 0 AND (name LIKE 'p%' OR k BETWEEN 3 AND 9)
GROUP BY name;

CREATE VIEW revenue AS
SELECT k, DATE_TRUNC('hour', ts) AS hour, COUNT(*) AS n, SUM(price) AS revenue, AVG(price) AS avg_price,
       AVG(v) AS avg_v, MIN(price) AS min_price
FROM events
GROUP BY k, hour;
)sql";

// A view in SQLite: `inner` selects its columns under lambdaflow's names,
// then helper columns, from the rows of `events` with off < {S}; `order` is
// its GROUP BY columns (the order of lambdaflow's rows).
struct ViewSpec {
  std::string name;
  std::string inner;
  std::string order;
  std::vector<OutCol> cols;
};

inline const std::vector<ViewSpec>& Views() {
  static const std::vector<ViewSpec> views = {
      {"by_k",
       "SELECT k, COUNT(*) AS n, SUM(v) AS sv, MIN(v) AS minv, MAX(v) AS maxv, MIN(name) AS minname, MAX(ts) AS maxts "
       "FROM events WHERE off < {S} GROUP BY k",
       "k",
       {{"k", Kind::kInt},
        {"n", Kind::kInt},
        {"sv", Kind::kInt},
        {"minv", Kind::kInt},
        {"maxv", Kind::kInt},
        {"minname", Kind::kText},
        {"maxts", Kind::kTimestamp}}},
      {"totals",
       "SELECT COUNT(*) AS n, SUM(v) AS sv, COUNT(k) AS nk, COUNT(price) AS np, MIN(ts) AS mints, MAX(ts) AS maxts, "
       "COUNT(DISTINCT name) AS names FROM events WHERE off < {S}",
       "",
       {{"n", Kind::kInt},
        {"sv", Kind::kInt},
        {"nk", Kind::kInt},
        {"np", Kind::kInt},
        {"mints", Kind::kTimestamp},
        {"maxts", Kind::kTimestamp},
        {"names", Kind::kApprox5}}},
      {"big_by_name",
       "SELECT name, COUNT(*) AS n, SUM(v) AS sv, MIN(k) AS mink, MAX(price) AS maxp, "
       "COUNT(*) FILTER (WHERE price >= 50) AS pricey FROM events "
       "WHERE off < {S} AND v >= 0 AND (name LIKE 'p%' OR k BETWEEN 3 AND 9) GROUP BY name",
       "name",
       {{"name", Kind::kText},
        {"n", Kind::kInt},
        {"sv", Kind::kInt},
        {"mink", Kind::kInt},
        {"maxp", Kind::kDoubleExact},
        {"pricey", Kind::kInt}}},
      {"revenue",
       "SELECT k, (ts / 3600000) * 3600000 AS hour, COUNT(*) AS n, SUM(price) AS revenue, AVG(price) AS avg_price, "
       "AVG(v) AS avg_v, MIN(price) AS min_price, SUM(ABS(price)) AS h_abs_sum, AVG(ABS(price)) AS h_abs_avg "
       "FROM events WHERE off < {S} GROUP BY k, hour",
       "k, hour",
       {{"k", Kind::kInt},
        {"hour", Kind::kTimestamp},
        {"n", Kind::kInt},
        {"revenue", Kind::kDoubleApprox, 7},
        {"avg_price", Kind::kDoubleApprox, 8},
        {"avg_v", Kind::kDoubleApprox},
        {"min_price", Kind::kDoubleExact}}},
  };
  return views;
}

inline const ViewSpec& View(const std::string& name) {
  for (const auto& v : Views())
    if (v.name == name) return v;
  std::abort();
}

// ---------------------------------------------------------------------------
// Random events.

struct Event {
  std::optional<int64_t> k;
  std::optional<std::string> name;
  int64_t v = 0;
  std::optional<double> price;
  int64_t ts = 0;
};

inline const std::vector<std::string>& Names() {
  static const std::vector<std::string> names = {
      "product1", "product2", "product3", "product10", "p", "pä", "p'q", "p\tq", "Product2",
      "",         "zz",       "日本",     "naïve",     "~", "é",  "q",   "r\\s", "pp pp",
  };
  return names;
}

// One line of a POST body: a valid event (with its value) or an invalid line.
struct Line {
  std::string text;
  std::optional<Event> event;
};

class EventGen {
 public:
  explicit EventGen(uint64_t seed)
      : rng_(seed), ts_((DaysFromCivil(2014, 11, 1) * 86400 + 19 * 3600 + 35 * 60 + 41) * 1000 + 158) {}

  // 1-200 lines, about 6% of them invalid.
  std::vector<Line> Batch() {
    std::vector<Line> lines(static_cast<size_t>(rng_.Int(1, 200)));
    for (auto& l : lines) l = rng_.Chance(6) ? Invalid() : Valid();
    return lines;
  }

 private:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  std::string Object(Fields fields) {
    for (size_t i = fields.size(); i > 1; --i)
      std::swap(fields[i - 1], fields[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(i) - 1))]);
    std::string out = "{";
    for (size_t i = 0; i < fields.size(); ++i)
      out += (i ? "," : "") + JsonString(fields[i].first) + ":" + fields[i].second;
    return out + "}";
  }

  std::string TsJson(int64_t ts) {
    switch (rng_.Int(0, 9)) {
      case 6:
        return "\"" + FormatTimestamp(ts, 'T', true) + "\"";
      case 7:
        return std::to_string(ts);  // epoch milliseconds
      case 8:
        return "\"" + FormatTimestamp(ts + 2 * 3600000, 'T') + "+02:00\"";
      case 9:
        return "\"" + FormatTimestamp(ts) + std::to_string(rng_.Int(0, 9)) + "\"";  // a 4th digit, truncated
      default:
        return "\"" + FormatTimestamp(ts) + "\"";  // the seed's form
    }
  }

  Line Valid() {
    Event e;
    Fields f;
    const int64_t k = rng_.Int(0, 99);
    if (k >= 12) {
      e.k = rng_.Int(-5, 40);
      f.push_back({"k", std::to_string(*e.k)});
    } else if (k >= 8) {
      f.push_back({"k", "null"});
    }
    const int64_t n = rng_.Int(0, 99);
    if (n >= 10) {
      e.name = rng_.Pick(Names());
      f.push_back({"name", JsonString(*e.name)});
    } else if (n >= 6) {
      f.push_back({"name", "null"});
    }
    e.v = rng_.Int(-1000, 1000);
    f.push_back({"v", std::to_string(e.v)});
    const int64_t p = rng_.Int(0, 99);
    if (p >= 40) {
      e.price = static_cast<double>(rng_.Int(0, 20000)) / 100;  // cents: inexact in binary
    } else if (p >= 10) {
      e.price = static_cast<double>(rng_.Int(-400, 400)) / 4;  // exact quarters, never -0.0
    } else if (p >= 5) {
      f.push_back({"price", "null"});
    }
    if (e.price) f.push_back({"price", Shortest(*e.price)});
    ts_ += rng_.Int(0, 1500);
    e.ts = rng_.Chance(2)
               ? rng_.Int(DaysFromCivil(2014, 1, 1), DaysFromCivil(2016, 12, 31)) * 86400000 + rng_.Int(0, 86399999)
               : ts_;
    f.push_back({"ts", TsJson(e.ts)});
    if (rng_.Chance(5)) f.push_back({"extra", "{\"ignored\":[1,2,{\"x\":null}]}"});
    return {Object(std::move(f)), std::move(e)};
  }

  Line Invalid() {
    const std::string ts = "\"" + FormatTimestamp(ts_) + "\"";
    switch (rng_.Int(0, 9)) {
      case 0:
        return {Object({{"k", "1"}, {"name", "\"product1\""}, {"ts", ts}}), std::nullopt};  // v missing
      case 1:
        return {Object({{"k", "1"}, {"v", "\"12\""}, {"ts", ts}}), std::nullopt};  // v a string
      case 2:
        return {Object({{"k", "1.5"}, {"v", "3"}, {"ts", ts}}), std::nullopt};  // k a fraction
      case 3:
        return {Object({{"v", "3"}, {"ts", "\"yesterday\""}}), std::nullopt};
      case 4:
        return {"{\"k\":1,\"v\":5,\"ts\":\"2014-11-01", std::nullopt};  // malformed JSON
      case 5:
        return {"[1,2,3]", std::nullopt};
      case 6:
        return {Object({{"name", "7"}, {"v", "3"}, {"ts", ts}}), std::nullopt};  // name a number
      case 7:
        return {Object({{"v", "3000000000"}, {"ts", ts}}), std::nullopt};  // beyond INT
      case 8:
        return {Object({{"k", "2"}, {"v", "3"}}), std::nullopt};  // ts missing (NOT NULL)
      default:
        return {Object({{"v", "null"}, {"ts", ts}}), std::nullopt};  // v null (NOT NULL)
    }
  }

  Rng rng_;
  int64_t ts_;
};

// ---------------------------------------------------------------------------
// The events the log holds, by partition and offset, as the producer learns them.

class Ledger {
 public:
  explicit Ledger(int partitions = 1) : parts_(static_cast<size_t>(partitions)) {}
  int partitions() const { return static_cast<int>(parts_.size()); }

  // Records `events` at offsets [from, from + size) of `partition`; false
  // if one of them was recorded already.
  bool Record(int partition, uint64_t from, const std::vector<Event>& events) {
    std::lock_guard lock(mu_);
    Part& part = parts_[static_cast<size_t>(partition)];
    if (part.events.size() < from + events.size()) part.events.resize(from + events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      auto& slot = part.events[from + i];
      if (slot) return false;
      slot = events[i];
    }
    while (part.prefix < part.events.size() && part.events[part.prefix]) ++part.prefix;
    cv_.notify_all();
    return true;
  }
  bool Record(uint64_t from, const std::vector<Event>& events) { return Record(0, from, events); }

  // Waits until every offset below s[p] of every partition p is recorded
  // (true), or the ledger is closed or `timeout` passes without that (false).
  bool WaitFor(const std::vector<uint64_t>& s, milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return CoversLocked(s) || closed_; });
    return CoversLocked(s);
  }

  // No more events are coming (the producer stopped): waiters give up.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  void Reopen() {
    std::lock_guard lock(mu_);
    closed_ = false;
  }

  // Every offset of `partition` below prefix(partition) is recorded.
  uint64_t prefix(int partition = 0) {
    std::lock_guard lock(mu_);
    return parts_[static_cast<size_t>(partition)].prefix;
  }
  std::vector<uint64_t> prefixes() {
    std::lock_guard lock(mu_);
    std::vector<uint64_t> out;
    for (const Part& p : parts_) out.push_back(p.prefix);
    return out;
  }

  // The events at offsets [from, to) of `partition`, all recorded.
  std::vector<Event> Slice(int partition, uint64_t from, uint64_t to) {
    std::lock_guard lock(mu_);
    const Part& part = parts_[static_cast<size_t>(partition)];
    std::vector<Event> out;
    for (uint64_t o = from; o < to && o < part.prefix; ++o) out.push_back(*part.events[o]);
    return out;
  }

 private:
  struct Part {
    std::vector<std::optional<Event>> events;
    uint64_t prefix = 0;
  };
  bool CoversLocked(const std::vector<uint64_t>& s) const {
    if (s.size() != parts_.size()) return false;
    for (size_t p = 0; p < s.size(); ++p)
      if (parts_[p].prefix < s[p]) return false;
    return true;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Part> parts_;  // GUARDED_BY(mu_)
  bool closed_ = false;      // GUARDED_BY(mu_)
};

}  // namespace lf::test::live
