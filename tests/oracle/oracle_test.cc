// Oracle tests: the real `lambdaflow eval` against SQLite over the same events.
//
// RandomViews: for a fixed list of seeds, random events (NULLs, negative
// integers, doubles, short texts with unicode and control characters,
// timestamps across months and years) and random views over them (GROUP BY of
// 0-2 expressions, WHERE, aggregates with optional FILTER). Every view is
// written once as a small expression tree and rendered twice: as lambdaflow
// SQL and as SQLite SQL (DATE_TRUNC and EXTRACT emulated on integer
// milliseconds). The generator stays inside the subset where the two
// dialects agree: no mixed text/number comparisons, no integer overflow, no
// NULL literals, non-negative timestamps, no -0.0 inputs.
//
// ExampleViews: examples/views.sql over `lambdaflow produce --count 10000`,
// against hand-written SQLite equivalents; APPROX_COUNT_DISTINCT within 5% of
// COUNT(DISTINCT). ExampleViewsServedByRun: the same events sent to
// `lambdaflow run` with `produce --to`, its merged views against the same.
//
// Comparison: integers, text and timestamps exactly (as text); MIN/MAX and
// group keys of doubles exactly (as numbers); SUM and AVG of doubles within
// 1e-9 relative, plus the rounding error that any summation order may
// legitimately add (1e-12 of the sum of absolute values). Rows must come in
// ascending order of the group columns, NULLs first. The comparison and the
// formatting helpers live in tests/testing/oracle_support.h (shared with
// tests/live).

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "testing/example_view_cases.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif
#ifndef LF_SOURCE_DIR
#error "LF_SOURCE_DIR must name the source tree"
#endif

namespace {

namespace fs = std::filesystem;

using lf::test::CompareView;
using lf::test::CoveredSql;
using lf::test::DaysFromCivil;
using lf::test::Db;
using lf::test::ExampleViewCases;
using lf::test::FormatTimestamp;
using lf::test::JsonString;
using lf::test::Kind;
using lf::test::OutCol;
using lf::test::ParseTimestamp;
using lf::test::ReadFile;
using lf::test::Rng;
using lf::test::RunShell;
using lf::test::ShellQuote;
using lf::test::Shortest;
using lf::test::Split;
using lf::test::SqlString;
using lf::test::WriteFile;

// A temporary directory, kept when the test fails.
class TempDir : public lf::test::TempDir {
 public:
  TempDir() : lf::test::TempDir("lf-oracle") {}
};

// ---------------------------------------------------------------------------
// Running `lambdaflow eval`.

struct EvalResult {
  int exit_code = -1;
  std::string stderr_text;
  std::string rejects;
};

EvalResult RunEval(const fs::path& dir, const fs::path& views, const fs::path& events, const fs::path& out,
                   const std::string& extra = "") {
  fs::create_directories(out);
  fs::path err = dir / "eval.stderr", rejects = dir / "rejects.ndjson";
  fs::remove(rejects);
  std::string cmd = ShellQuote(LAMBDAFLOW_BIN) + " eval --views " + ShellQuote(views.string()) + " --out " +
                    ShellQuote(out.string()) + " --rejects " + ShellQuote(rejects.string()) + extra + " " +
                    ShellQuote(events.string()) + " </dev/null >/dev/null 2>" + ShellQuote(err.string());
  EvalResult r;
  r.exit_code = RunShell(cmd);
  r.stderr_text = ReadFile(err);
  if (fs::exists(rejects)) r.rejects = ReadFile(rejects);
  return r;
}

// ---------------------------------------------------------------------------
// Random events.

struct Event {
  std::optional<int64_t> zipcode, qty;
  std::optional<double> price, weight;
  std::optional<std::string> name;
  int64_t ts = 0;
};

const std::vector<std::string>& TextPool() {
  static const std::vector<std::string> pool = {
      "product1", "product2",  "product3", "product10",   "Product2", "",     "a",
      "a b",      "tab\there", "x\ty\t",   "back\\slash", "quote\"d", "it's", "Ärger",
      "ärger",    "日本",      "naïve",    "🚀 launch",    "zz",       "~",    "é",
  };
  return pool;
}

std::vector<Event> RandomEvents(Rng& rng, size_t n) {
  static const std::vector<int64_t> zips = {90001, 90002, 94105, 95126, 95127, 96999, 97000, -7, 0, 1, 12};
  const int64_t from = DaysFromCivil(2014, 1, 1) * 86400000, to = DaysFromCivil(2016, 12, 31) * 86400000;
  std::vector<Event> events(n);
  for (auto& e : events) {
    if (!rng.Chance(10)) e.zipcode = rng.Pick(zips);
    if (!rng.Chance(12)) e.qty = rng.Int(-1000, 1000);
    if (!rng.Chance(12)) {
      if (rng.Chance(70)) {
        e.price = static_cast<double>(rng.Int(-2000, 2000)) / 4;  // exact quarters
      } else {
        e.price = static_cast<double>(rng.Int(-99999, 99999)) / 100;  // cents: inexact in binary
      }
      if (*e.price == 0) e.price = 0.0;  // never -0.0
    }
    if (!rng.Chance(15)) e.weight = static_cast<double>(rng.Int(0, 10000)) / 1000;
    if (!rng.Chance(10)) e.name = rng.Pick(TextPool());
    if (rng.Chance(20)) {
      e.ts = DaysFromCivil(2016, 2, rng.Int(28, 29)) * 86400000 + rng.Int(0, 86399999);  // around the leap day
    } else {
      e.ts = rng.Int(from, to);
    }
  }
  return events;
}

std::string EventsNdjson(Rng& rng, const std::vector<Event>& events) {
  std::string out;
  auto num = [](const auto& v) { return v ? Shortest(static_cast<double>(*v)) : std::string("null"); };
  for (const auto& e : events) {
    out += "{\"zipcode\":" + (e.zipcode ? std::to_string(*e.zipcode) : "null");
    out += ",\"qty\":" + (e.qty ? std::to_string(*e.qty) : "null");
    out += ",\"price\":" + num(e.price);
    out += ",\"weight\":" + num(e.weight);
    out += ",\"ProductName\":" + (e.name ? JsonString(*e.name) : "null");
    int form = static_cast<int>(rng.Int(0, 9));
    if (form < 7) {
      out += ",\"timestamp\":\"" + FormatTimestamp(e.ts) + "\"}\n";  // the seed's form
    } else if (form < 9) {
      out += ",\"timestamp\":\"" + FormatTimestamp(e.ts, 'T', true) + "\"}\n";  // ISO-8601
    } else {
      out += ",\"timestamp\":" + std::to_string(e.ts) + "}\n";  // epoch milliseconds
    }
  }
  return out;
}

constexpr const char* kStream =
    "CREATE STREAM events (\n  zipcode INT,\n  qty INT,\n  price DOUBLE,\n  weight DOUBLE,\n"
    "  ProductName TEXT,\n  timestamp TIMESTAMP NOT NULL\n);\n";

void LoadEvents(Db& db, const std::vector<Event>& events) {
  db.Exec(
      "CREATE TABLE events (zipcode INTEGER, qty INTEGER, price REAL, weight REAL, ProductName TEXT, "
      "timestamp INTEGER NOT NULL)");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", -1, &st, nullptr), SQLITE_OK);
  db.Exec("BEGIN");
  for (const auto& e : events) {
    sqlite3_reset(st);
    e.zipcode ? sqlite3_bind_int64(st, 1, *e.zipcode) : sqlite3_bind_null(st, 1);
    e.qty ? sqlite3_bind_int64(st, 2, *e.qty) : sqlite3_bind_null(st, 2);
    e.price ? sqlite3_bind_double(st, 3, *e.price) : sqlite3_bind_null(st, 3);
    e.weight ? sqlite3_bind_double(st, 4, *e.weight) : sqlite3_bind_null(st, 4);
    e.name ? sqlite3_bind_text(st, 5, e.name->data(), static_cast<int>(e.name->size()), SQLITE_TRANSIENT)
           : sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, e.ts);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db.get());
  }
  db.Exec("COMMIT");
  sqlite3_finalize(st);
}

// ---------------------------------------------------------------------------
// Random views: an expression tree rendered to both dialects.

enum class Ty { kInt, kDouble, kText, kTs, kBool };
enum class Dialect { kLambdaflow, kSqlite };

struct Expr {
  enum K {
    kCol,
    kLit,
    kBin,
    kCmp,
    kAnd,
    kOr,
    kNot,
    kIsNull,
    kIn,
    kBetween,
    kLike,
    kCase,
    kCastDouble,
    kCoalesce,
    kDateTrunc,
    kExtract
  } k;
  Ty ty;
  std::string s;  // column name, literal as SQL, operator, unit or field
  bool negated = false;
  std::vector<Expr> kids;
};

Expr Leaf(Expr::K k, Ty ty, std::string s) { return Expr{k, ty, std::move(s), false, {}}; }
Expr Node(Expr::K k, Ty ty, std::string s, std::vector<Expr> kids, bool negated = false) {
  return Expr{k, ty, std::move(s), negated, std::move(kids)};
}

std::string Render(const Expr& e, Dialect d) {
  auto r = [&](size_t i) { return Render(e.kids[i], d); };
  switch (e.k) {
    case Expr::kCol:
    case Expr::kLit:
      return e.s;
    case Expr::kBin:
    case Expr::kCmp:
      return "(" + r(0) + " " + e.s + " " + r(1) + ")";
    case Expr::kAnd:
      return "(" + r(0) + " AND " + r(1) + ")";
    case Expr::kOr:
      return "(" + r(0) + " OR " + r(1) + ")";
    case Expr::kNot:
      return "(NOT " + r(0) + ")";
    case Expr::kIsNull:
      return "(" + r(0) + (e.negated ? " IS NOT NULL)" : " IS NULL)");
    case Expr::kIn: {
      std::string out = "(" + r(0) + (e.negated ? " NOT IN (" : " IN (");
      for (size_t i = 1; i < e.kids.size(); ++i) out += (i > 1 ? ", " : "") + r(i);
      return out + "))";
    }
    case Expr::kBetween:
      return "(" + r(0) + (e.negated ? " NOT BETWEEN " : " BETWEEN ") + r(1) + " AND " + r(2) + ")";
    case Expr::kLike:
      return "(" + r(0) + (e.negated ? " NOT LIKE " : " LIKE ") + r(1) + ")";
    case Expr::kCase: {
      std::string out = "CASE";
      size_t i = 0;
      for (; i + 1 < e.kids.size(); i += 2) out += " WHEN " + r(i) + " THEN " + r(i + 1);
      if (i < e.kids.size()) out += " ELSE " + r(i);
      return out + " END";
    }
    case Expr::kCastDouble:
      return "CAST(" + r(0) + (d == Dialect::kSqlite ? " AS REAL)" : " AS DOUBLE)");
    case Expr::kCoalesce:
      return "COALESCE(" + r(0) + ", " + r(1) + ")";
    case Expr::kDateTrunc: {
      if (d == Dialect::kLambdaflow) return "DATE_TRUNC('" + e.s + "', " + r(0) + ")";
      if (e.s == "minute") return "((" + r(0) + " / 60000) * 60000)";
      if (e.s == "hour") return "((" + r(0) + " / 3600000) * 3600000)";
      if (e.s == "day") return "((" + r(0) + " / 86400000) * 86400000)";
      return "(CAST(strftime('%s', " + r(0) + " / 1000, 'unixepoch', 'start of " + e.s + "') AS INTEGER) * 1000)";
    }
    case Expr::kExtract: {
      if (d == Dialect::kLambdaflow) return "EXTRACT(" + e.s + " FROM " + r(0) + ")";
      if (e.s == "minute") return "((" + r(0) + " / 60000) % 60)";
      if (e.s == "hour") return "((" + r(0) + " / 3600000) % 24)";
      const char* f = e.s == "day" ? "%d" : e.s == "month" ? "%m" : "%Y";
      return std::string("CAST(strftime('") + f + "', " + r(0) + " / 1000, 'unixepoch') AS INTEGER)";
    }
  }
  return "?";
}

class ViewGen {
 public:
  explicit ViewGen(Rng& rng) : rng_(rng) {}

  Expr IntLit(int64_t lo, int64_t hi) {
    int64_t v = rng_.Int(lo, hi);
    return Leaf(Expr::kLit, Ty::kInt, v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v));
  }
  Expr DoubleLit() {
    double v = static_cast<double>(rng_.Int(-4000, 4000)) / 8;
    std::string s = Shortest(v);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return Leaf(Expr::kLit, Ty::kDouble, v < 0 ? "(" + s + ")" : s);
  }
  Expr TextLit() { return Leaf(Expr::kLit, Ty::kText, SqlString(rng_.Pick(TextPool()))); }
  Expr TsCol() { return Leaf(Expr::kCol, Ty::kTs, "timestamp"); }

  Expr Int(int depth) {
    int choice = static_cast<int>(rng_.Int(0, depth > 0 ? 10 : 2));
    switch (choice) {
      case 0:
        return Leaf(Expr::kCol, Ty::kInt, rng_.Chance(50) ? "zipcode" : "qty");
      case 1:
        return Leaf(Expr::kCol, Ty::kInt, "qty");
      case 2:
        return IntLit(-20, 20);
      case 3:
        return Node(Expr::kBin, Ty::kInt, rng_.Chance(50) ? "+" : "-", {Int(depth - 1), Int(depth - 1)});
      case 4:
        return Node(Expr::kBin, Ty::kInt, "*", {Int(0), IntLit(-10, 10)});
      case 5:  // truncating division; a zero divisor (a column can be 0) gives NULL in both
        return Node(Expr::kBin, Ty::kInt, "/", {Int(depth - 1), rng_.Chance(70) ? IntLit(-300, 300) : Int(0)});
      case 6:
        return Node(Expr::kCase, Ty::kInt, "", CaseKids(depth, [&] { return Int(depth - 1); }));
      case 7:
        return Node(Expr::kCoalesce, Ty::kInt, "", {Int(depth - 1), Int(0)});
      case 8:
        return Node(Expr::kExtract, Ty::kInt,
                    rng_.Pick(std::vector<std::string>{"minute", "hour", "day", "month", "year"}), {TsCol()});
      default:
        return Int(0);
    }
  }

  Expr Double(int depth) {
    int choice = static_cast<int>(rng_.Int(0, depth > 0 ? 9 : 2));
    switch (choice) {
      case 0:
        return Leaf(Expr::kCol, Ty::kDouble, "price");
      case 1:
        return Leaf(Expr::kCol, Ty::kDouble, "weight");
      case 2:
        return DoubleLit();
      case 3:
        return Node(Expr::kBin, Ty::kDouble, rng_.Chance(50) ? "+" : "-",
                    {Double(depth - 1), rng_.Chance(70) ? Double(depth - 1) : Int(0)});
      case 4:
        return Node(Expr::kBin, Ty::kDouble, "*", {Double(depth - 1), rng_.Chance(50) ? Double(0) : Int(0)});
      case 5:
        return Node(Expr::kBin, Ty::kDouble, "/", {Double(depth - 1), rng_.Chance(50) ? Double(0) : IntLit(1, 9)});
      case 6:
        return Node(Expr::kCastDouble, Ty::kDouble, "", {Int(depth - 1)});
      case 7:
        return Node(Expr::kCase, Ty::kDouble, "", CaseKids(depth, [&] { return Double(depth - 1); }));
      case 8:
        return Node(Expr::kCoalesce, Ty::kDouble, "", {Double(depth - 1), DoubleLit()});
      default:
        return Double(0);
    }
  }

  Expr Text(int depth) {
    int choice = static_cast<int>(rng_.Int(0, depth > 0 ? 4 : 1));
    switch (choice) {
      case 0:
        return Leaf(Expr::kCol, Ty::kText, "ProductName");
      case 1:
        return rng_.Chance(30) ? TextLit() : Leaf(Expr::kCol, Ty::kText, "ProductName");
      case 2:
        return Node(Expr::kCase, Ty::kText, "", CaseKids(depth, [&] { return TextLit(); }));
      case 3:
        return Node(Expr::kCoalesce, Ty::kText, "", {Leaf(Expr::kCol, Ty::kText, "ProductName"), TextLit()});
      default:
        return Text(0);
    }
  }

  Expr Ts() {
    if (rng_.Chance(30)) return TsCol();
    return Node(Expr::kDateTrunc, Ty::kTs,
                rng_.Pick(std::vector<std::string>{"minute", "hour", "day", "month", "year"}), {TsCol()});
  }

  Expr Any(int depth) {
    switch (rng_.Int(0, 3)) {
      case 0:
        return Int(depth);
      case 1:
        return Double(depth);
      case 2:
        return Text(depth);
      default:
        return Ts();
    }
  }

  Expr Bool(int depth) {
    static const std::vector<std::string> cmp = {"=", "<>", "<", "<=", ">", ">="};
    int choice = static_cast<int>(rng_.Int(0, depth > 0 ? 11 : 7));
    switch (choice) {
      case 0:
        return Node(Expr::kCmp, Ty::kBool, rng_.Pick(cmp), {Int(1), Int(1)});
      case 1:
        return Node(Expr::kCmp, Ty::kBool, rng_.Pick(cmp), {Double(1), rng_.Chance(50) ? Double(1) : Int(0)});
      case 2:
        return Node(Expr::kCmp, Ty::kBool, rng_.Pick(cmp), {Text(1), TextLit()});
      case 3:
        return Node(Expr::kIsNull, Ty::kBool, "", {Any(1)}, rng_.Chance(50));
      case 4: {
        std::vector<Expr> kids;
        if (rng_.Chance(50)) {
          kids.push_back(Int(1));
          for (int i = 0, n = static_cast<int>(rng_.Int(1, 4)); i < n; ++i) kids.push_back(IntLit(-10, 20));
          if (rng_.Chance(50)) kids.push_back(Leaf(Expr::kLit, Ty::kInt, "95126"));
        } else {
          kids.push_back(Text(1));
          for (int i = 0, n = static_cast<int>(rng_.Int(1, 4)); i < n; ++i) kids.push_back(TextLit());
        }
        return Node(Expr::kIn, Ty::kBool, "", std::move(kids), rng_.Chance(30));
      }
      case 5: {
        if (rng_.Chance(50))
          return Node(Expr::kBetween, Ty::kBool, "", {Int(1), IntLit(-500, 100), IntLit(0, 96000)}, rng_.Chance(30));
        return Node(Expr::kBetween, Ty::kBool, "", {Double(1), DoubleLit(), DoubleLit()}, rng_.Chance(30));
      }
      case 6: {
        static const std::vector<std::string> pats = {"'product%'", "'%2'",   "'%\u00e4%'", "'_'",
                                                      "'a%b'",      "'%\t%'", "'P%'",       "'%'"};
        return Node(Expr::kLike, Ty::kBool, "", {Text(1), Leaf(Expr::kLit, Ty::kText, rng_.Pick(pats))},
                    rng_.Chance(30));
      }
      case 7:
        return Node(Expr::kCmp, Ty::kBool, rng_.Pick(cmp), {Leaf(Expr::kCol, Ty::kInt, "zipcode"), IntLit(0, 96000)});
      case 8:
        return Node(Expr::kAnd, Ty::kBool, "", {Bool(depth - 1), Bool(depth - 1)});
      case 9:
        return Node(Expr::kOr, Ty::kBool, "", {Bool(depth - 1), Bool(depth - 1)});
      case 10:
        return Node(Expr::kNot, Ty::kBool, "", {Bool(depth - 1)});
      default:
        return Bool(0);
    }
  }

  // A group key: usually of modest cardinality.
  Expr GroupKey() {
    switch (rng_.Int(0, 9)) {
      case 0:
        return Leaf(Expr::kCol, Ty::kInt, "zipcode");
      case 1:
        return Leaf(Expr::kCol, Ty::kText, "ProductName");
      case 2:
        return Node(Expr::kBin, Ty::kInt, "/", {Leaf(Expr::kCol, Ty::kInt, "qty"), IntLit(100, 400)});
      case 3:
        return Node(Expr::kDateTrunc, Ty::kTs, rng_.Pick(std::vector<std::string>{"day", "month", "year"}), {TsCol()});
      case 4:
        return Node(Expr::kExtract, Ty::kInt, rng_.Pick(std::vector<std::string>{"hour", "month"}), {TsCol()});
      case 5:
        return Node(Expr::kCase, Ty::kText, "", CaseKids(1, [&] { return TextLit(); }));
      case 6:
        return Node(Expr::kCoalesce, Ty::kText, "", {Leaf(Expr::kCol, Ty::kText, "ProductName"), TextLit()});
      case 7:
        return Node(Expr::kBin, Ty::kDouble, "*", {Leaf(Expr::kCol, Ty::kDouble, "weight"), IntLit(1, 2)});
      case 8:
        return Leaf(Expr::kCol, Ty::kDouble, "price");
      default:
        return Any(1);
    }
  }

  template <class F>
  std::vector<Expr> CaseKids(int depth, F value) {
    std::vector<Expr> kids;
    for (int i = 0, n = static_cast<int>(rng_.Int(1, 2)); i < n; ++i) {
      kids.push_back(Bool(depth > 0 ? depth - 1 : 0));
      kids.push_back(value());
    }
    if (rng_.Chance(70)) kids.push_back(value());
    return kids;
  }

 private:
  Rng& rng_;
};

Kind KindOf(Ty t) {
  switch (t) {
    case Ty::kInt:
      return Kind::kInt;
    case Ty::kDouble:
      return Kind::kDoubleExact;
    case Ty::kText:
      return Kind::kText;
    case Ty::kTs:
      return Kind::kTimestamp;
    case Ty::kBool:
      return Kind::kInt;
  }
  return Kind::kText;
}

struct View {
  std::string name;
  std::string lf_sql;      // CREATE VIEW ...;
  std::string sqlite_sql;  // SELECT ... ORDER BY ...
  std::vector<OutCol> cols;
};

View RandomView(Rng& rng, const std::string& name) {
  ViewGen gen(rng);
  View v;
  v.name = name;
  std::vector<std::string> lf_items, sq_items, sq_helpers, lf_group, sq_group;
  int keys = static_cast<int>(rng.Int(0, 2));
  for (int i = 0; i < keys; ++i) {
    Expr key = gen.GroupKey();
    std::string alias = "g" + std::to_string(i);
    lf_items.push_back(Render(key, Dialect::kLambdaflow) + " AS " + alias);
    sq_items.push_back(Render(key, Dialect::kSqlite) + " AS " + alias);
    // By alias or by the expression itself; never a bare literal, which
    // GROUP BY reads as an output column ordinal.
    bool by_alias = rng.Chance(60) || key.k == Expr::kLit;
    lf_group.push_back(by_alias ? alias : Render(key, Dialect::kLambdaflow));
    sq_group.push_back(alias);
    v.cols.push_back({alias, KindOf(key.ty)});
  }
  int aggs = static_cast<int>(rng.Int(1, 4));
  for (int i = 0; i < aggs; ++i) {
    std::string alias = "a" + std::to_string(i);
    std::optional<Expr> arg;
    std::string fn;
    Kind kind = Kind::kInt;
    bool helper = false;
    switch (rng.Int(0, 6)) {
      case 0:
        fn = "COUNT";
        break;  // COUNT(*)
      case 1:
        fn = "COUNT";
        arg = gen.Any(1);
        break;
      case 2:
      case 3: {
        fn = rng.Chance(50) ? "SUM" : "AVG";
        arg = rng.Chance(40) ? gen.Int(1) : gen.Double(1);
        kind = fn == "AVG" || arg->ty == Ty::kDouble ? Kind::kDoubleApprox : Kind::kInt;
        helper = kind == Kind::kDoubleApprox;
        break;
      }
      default: {
        fn = rng.Chance(50) ? "MIN" : "MAX";
        switch (rng.Int(0, 3)) {
          case 0:
            arg = gen.Int(1);
            break;
          case 1:
            arg = gen.Double(1);
            break;
          case 2:
            arg = gen.Text(1);
            break;
          default:
            arg = gen.Ts();
            break;
        }
        kind = KindOf(arg->ty);
      }
    }
    std::optional<Expr> filter;
    if (rng.Chance(30)) filter = gen.Bool(1);
    auto render = [&](Dialect d, const std::string& f, const std::string& a) {
      std::string out = f + "(" + a + ")";
      if (filter) out += " FILTER (WHERE " + Render(*filter, d) + ")";
      return out;
    };
    std::string lf_arg = arg ? Render(*arg, Dialect::kLambdaflow) : "*";
    std::string sq_arg = arg ? Render(*arg, Dialect::kSqlite) : "*";
    lf_items.push_back(render(Dialect::kLambdaflow, fn, lf_arg) + " AS " + alias);
    sq_items.push_back(render(Dialect::kSqlite, fn, sq_arg));
    OutCol col{alias, kind};
    if (helper) {
      col.abs_col = -2 - static_cast<int>(sq_helpers.size());  // fixed up below
      sq_helpers.push_back(render(Dialect::kSqlite, fn == "AVG" ? "AVG" : "SUM", "ABS(CAST(" + sq_arg + " AS REAL))"));
    }
    v.cols.push_back(col);
  }
  for (auto& c : v.cols) {
    if (c.abs_col <= -2) c.abs_col = static_cast<int>(v.cols.size()) + (-2 - c.abs_col);
  }

  std::optional<Expr> where;
  if (rng.Chance(60)) where = gen.Bool(2);

  auto join = [](const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
    return out;
  };
  v.lf_sql = "CREATE VIEW " + name + " AS\nSELECT " + join(lf_items, ",\n       ") + "\nFROM events";
  std::string sq = "SELECT " + join(sq_items, ", ");
  if (!sq_helpers.empty()) sq += ", " + join(sq_helpers, ", ");
  sq += " FROM events";
  if (where) {
    v.lf_sql += "\nWHERE " + Render(*where, Dialect::kLambdaflow);
    sq += " WHERE " + Render(*where, Dialect::kSqlite);
  }
  if (keys > 0) {
    v.lf_sql += "\nGROUP BY " + join(lf_group, ", ");
    sq += " GROUP BY " + join(sq_group, ", ") + " ORDER BY " + join(sq_group, ", ");
  }
  v.lf_sql += ";\n";
  v.sqlite_sql = sq;
  return v;
}

// ---------------------------------------------------------------------------
// The tests.

TEST(Oracle, BinaryExists) { ASSERT_TRUE(fs::exists(LAMBDAFLOW_BIN)) << LAMBDAFLOW_BIN; }

constexpr int kIterations = 30;
constexpr int kViewsPerIteration = 16;

class RandomViews : public ::testing::TestWithParam<int> {};

TEST_P(RandomViews, MatchSqlite) {
  const uint64_t seed = 0x5eed0000u + static_cast<uint64_t>(GetParam());
  Rng rng(seed);
  TempDir dir;
  size_t n = static_cast<size_t>(GetParam() == 0 ? 0 : GetParam() == 1 ? 1 : rng.Int(2, 1500));
  std::vector<Event> events = RandomEvents(rng, n);
  WriteFile(dir.path() / "events.ndjson", EventsNdjson(rng, events));
  Db db;
  LoadEvents(db, events);

  std::vector<View> views;
  std::string script = kStream;
  for (int i = 0; i < kViewsPerIteration; ++i) {
    views.push_back(RandomView(rng, "v" + std::to_string(i)));
    script += "\n" + views.back().lf_sql;
  }
  WriteFile(dir.path() / "views.sql", script);

  const std::string where = "seed " + std::to_string(seed) + " (iteration " + std::to_string(GetParam()) + ", " +
                            std::to_string(n) + " events; files kept in " + dir.path().string() + ")";
  EvalResult r = RunEval(dir.path(), dir.path() / "views.sql", dir.path() / "events.ndjson", dir.path() / "out");
  EXPECT_TRUE(r.rejects.empty()) << where << ": lambdaflow rejected events:\n" << r.rejects;
  if (r.exit_code != 0) {
    // Find the views that fail on their own, to name them.
    std::string failing;
    for (const auto& v : views) {
      fs::path one = dir.path() / (v.name + ".sql");
      WriteFile(one, std::string(kStream) + "\n" + v.lf_sql);
      EvalResult single = RunEval(dir.path(), one, dir.path() / "events.ndjson", dir.path() / ("out_" + v.name));
      if (single.exit_code != 0) failing += "\n" + v.lf_sql + "  -> " + single.stderr_text;
    }
    FAIL() << where << ": lambdaflow eval exited " << r.exit_code << ":\n"
           << r.stderr_text << "\nviews failing alone:" << (failing.empty() ? std::string(" none") : failing);
  }
  for (const auto& v : views) {
    fs::path tsv = dir.path() / "out" / (v.name + ".tsv");
    if (!fs::exists(tsv)) {
      ADD_FAILURE() << where << ": no output for view " << v.name << "\n" << v.lf_sql;
      continue;
    }
    std::vector<std::string> diffs = CompareView(db.get(), v.sqlite_sql, v.cols, ReadFile(tsv));
    if (!diffs.empty()) {
      std::string text;
      for (const auto& d : diffs) text += "  " + d + "\n";
      ADD_FAILURE() << where << ": view " << v.name << " differs from sqlite\n"
                    << v.lf_sql << "sqlite: " << v.sqlite_sql << "\n"
                    << text;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomViews, ::testing::Range(0, kIterations));

// examples/views.sql over the seed generator's events.
// Loads the events of `events` (seed-shaped NDJSON) into db's table `events`.
void LoadSeedEvents(Db& db, const fs::path& events) {
  db.Exec("CREATE TABLE events (zipcode INTEGER, ProductName TEXT NOT NULL, price REAL, timestamp INTEGER NOT NULL)");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), "INSERT INTO events VALUES (?, ?, ?, ?)", -1, &st, nullptr), SQLITE_OK);
  db.Exec("BEGIN");
  simdjson::dom::parser parser;
  std::string text = ReadFile(events);
  size_t lines = 0;
  for (const std::string& line : Split(text, '\n')) {
    if (line.empty()) continue;
    ++lines;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
    sqlite3_reset(st);
    int64_t zip;
    double price;
    std::string_view name, ts_text;
    int64_t ts = 0;
    doc["zipcode"].get(zip) == simdjson::SUCCESS ? sqlite3_bind_int64(st, 1, zip) : sqlite3_bind_null(st, 1);
    ASSERT_EQ(doc["ProductName"].get(name), simdjson::SUCCESS) << line;
    sqlite3_bind_text(st, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    doc["price"].get(price) == simdjson::SUCCESS ? sqlite3_bind_double(st, 3, price) : sqlite3_bind_null(st, 3);
    if (doc["timestamp"].get(ts_text) == simdjson::SUCCESS) {
      auto parsed = ParseTimestamp(ts_text);
      ASSERT_TRUE(parsed.has_value()) << line;
      ts = *parsed;
    } else {
      ASSERT_EQ(doc["timestamp"].get(ts), simdjson::SUCCESS) << line;
    }
    sqlite3_bind_int64(st, 4, ts);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  }
  db.Exec("COMMIT");
  sqlite3_finalize(st);
  ASSERT_EQ(lines, 10000u);
}

// Compares the example views, as `tsv_of(view)` gives them, with SQLite over
// the table `events`.
void CheckExampleViews(Db& db, const std::function<std::string(const std::string& view)>& tsv_of) {
  for (const auto& c : ExampleViewCases()) {
    std::string tsv_text = tsv_of(c.view);
    EXPECT_GT(Split(tsv_text, '\n').size(), 2u) << c.view << " is empty";
    const std::string sql = CoveredSql(c, "TRUE");
    std::vector<std::string> diffs = CompareView(db.get(), sql, c.cols, tsv_text);
    std::string out;
    for (const auto& d : diffs) out += "  " + d + "\n";
    EXPECT_TRUE(diffs.empty()) << c.view << " differs from sqlite (" << sql << ")\n" << out;
  }

  // Over all groups of orders_by_zip_hour, the estimates add up to within 5%
  // of the exact distinct counts (no systematic bias hides behind the +1).
  std::vector<std::string> rows = Split(tsv_of("orders_by_zip_hour"), '\n');
  double approx_total = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::vector<std::string> f = Split(rows[i], '\t');
    if (f.size() == 5) approx_total += std::strtod(f[4].c_str(), nullptr);
  }
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(),
                               "SELECT SUM(n) FROM (SELECT COUNT(DISTINCT ProductName) AS n FROM events "
                               "GROUP BY zipcode, timestamp / 3600000)",
                               -1, &q, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  double exact_total = sqlite3_column_double(q, 0);
  sqlite3_finalize(q);
  EXPECT_NEAR(approx_total, exact_total, 0.05 * exact_total);
}

TEST(Oracle, ExampleViews) {
  TempDir dir;
  fs::path events = dir.path() / "events.ndjson";
  ASSERT_EQ(RunShell(ShellQuote(LAMBDAFLOW_BIN) + " produce --count 10000 --seed 11 >" + ShellQuote(events.string())),
            0);
  Db db;
  LoadSeedEvents(db, events);
  EvalResult r = RunEval(dir.path(), fs::path(LF_SOURCE_DIR) / "examples" / "views.sql", events, dir.path() / "out");
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_TRUE(r.rejects.empty()) << r.rejects;

  CheckExampleViews(db, [&](const std::string& view) { return ReadFile(dir.path() / "out" / (view + ".tsv")); });
}

// The same events sent to `lambdaflow run` (the built-in example views) with
// `lambdaflow produce --to`, and its merged views asked with `query --server`.
TEST(Oracle, ExampleViewsServedByRun) {
  TempDir dir;
  std::string error;
  auto server = lf::test::ServerProcess::Start(
      LAMBDAFLOW_BIN, {"run", "--data", (dir.path() / "data").string(), "--listen", "127.0.0.1:0"},
      dir.path() / "server.err", std::chrono::milliseconds(10000), &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  ASSERT_EQ(RunShell(ShellQuote(LAMBDAFLOW_BIN) + " produce --count 10000 --seed 11 --batch 700 --to " + url +
                     " 2>/dev/null"),
            0);
  fs::path events = dir.path() / "events.ndjson";
  ASSERT_EQ(RunShell(ShellQuote(LAMBDAFLOW_BIN) + " produce --count 10000 --seed 11 >" + ShellQuote(events.string())),
            0);
  Db db;
  LoadSeedEvents(db, events);
  auto tsv_of = [&](const std::string& view) {
    const fs::path out = dir.path() / (view + ".tsv"), err = dir.path() / (view + ".err");
    // The answers cover every accepted event once the speed layer has
    // consumed them (a micro-batch or so after the last acknowledgment).
    for (int attempt = 0; attempt < 200; ++attempt) {
      EXPECT_EQ(RunShell(ShellQuote(LAMBDAFLOW_BIN) + " query --server " + url + " " + view + " --format tsv >" +
                         ShellQuote(out.string()) + " 2>" + ShellQuote(err.string())),
                0);
      if (ReadFile(err).find("speed watermark [10000]") != std::string::npos) return ReadFile(out);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << view << ": the answers never covered 10000 events: " << ReadFile(err);
    return std::string();
  };
  CheckExampleViews(db, tsv_of);
  std::string how;
  EXPECT_EQ(server->Terminate(std::chrono::milliseconds(10000), &how), 0) << how;
}

}  // namespace
