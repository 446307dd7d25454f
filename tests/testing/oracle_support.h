// Helpers shared by the integration tests that compare the real lambdaflow
// binary with SQLite (tests/oracle, tests/live): files and temporary
// directories, timestamp and text formatting in lambdaflow's output forms, an
// in-memory SQLite database, and the comparison of a view's TSV with the rows
// of an SQLite query.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace lf::test {

// ---------------------------------------------------------------------------
// Files and processes.

std::string ReadFile(const std::filesystem::path& p);
void WriteFile(const std::filesystem::path& p, std::string_view data);

// `s` quoted for /bin/sh.
std::string ShellQuote(const std::string& s);

// Runs a shell command; returns its exit status (or -1 if it did not exit).
int RunShell(const std::string& cmd);

// A fresh directory under the system's temporary directory, named
// `<prefix>-XXXXXX`. Removed at destruction unless the current test failed;
// then kept, and its path printed to stderr for inspection.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "lf-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---------------------------------------------------------------------------
// Formatting.

// The shortest text that reads back as `d` (lambdaflow's form of doubles).
std::string Shortest(double d);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d);
void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d);

// Epoch milliseconds as "YYYY-MM-DD HH:MM:SS.fff" (sep 'T' and zulu: ISO-8601).
std::string FormatTimestamp(int64_t ms, char sep = ' ', bool zulu = false);

// "YYYY-MM-DD HH:MM:SS[.fff]" (or with 'T') -> ms; nullopt otherwise.
std::optional<int64_t> ParseTimestamp(std::string_view s);

// Text as lambdaflow's TSV writes it: \\ \t \n \r escaped.
std::string TsvEscape(std::string_view s);

// A JSON string literal.
std::string JsonString(std::string_view s);

// An SQL string literal ('' for a quote).
std::string SqlString(std::string_view s);

std::vector<std::string> Split(std::string_view s, char sep);

// A seeded random source for generated test data.
struct Rng {
  explicit Rng(uint64_t seed) : gen(seed) {}
  uint64_t operator()() { return gen(); }
  int64_t Int(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(gen() % static_cast<uint64_t>(hi - lo + 1)); }
  bool Chance(int percent) { return Int(0, 99) < percent; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int64_t>(v.size()) - 1))];
  }
  std::mt19937_64 gen;
};

// ---------------------------------------------------------------------------
// SQLite.

// An in-memory database with case-sensitive LIKE (as lambdaflow's).
class Db {
 public:
  Db();
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }

  // Runs `sql`; an error is a test failure (ADD_FAILURE).
  void Exec(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------------------
// Comparing one view's TSV with the same query in SQLite.

enum class Kind {
  kInt,           // exact, as text
  kDoubleExact,   // exact, as a number (and shortest form)
  kDoubleApprox,  // SUM/AVG of doubles: 1e-9 relative plus summation error
  kText,          // exact bytes
  kTimestamp,     // SQLite holds ms; lambdaflow prints "YYYY-MM-DD HH:MM:SS.fff"
  kApprox5,       // APPROX_COUNT_DISTINCT against COUNT(DISTINCT): within 5% (+1)
};

struct OutCol {
  std::string name;
  Kind kind;
  int abs_col = -1;  // kDoubleApprox: index of the SQLite column holding the sum (avg) of |x|
};

// Compares `tsv` (a header line of column names, then one line per row, as
// lambdaflow writes it) with the rows of `sqlite_sql`, which yields
// cols.size() columns in order (then any helper columns) and is ordered as
// lambdaflow's rows must be. Integers, text and timestamps compare exactly
// (as text); kDoubleExact exactly as numbers; kDoubleApprox within 1e-9
// relative plus 1e-12 of the sum of absolute values (any summation order's
// rounding); kApprox5 within 5% plus one. Returns a description of each
// difference (at most 10); empty when they agree.
std::vector<std::string> CompareView(sqlite3* db, const std::string& sqlite_sql, const std::vector<OutCol>& cols,
                                     const std::string& tsv);

}  // namespace lf::test
