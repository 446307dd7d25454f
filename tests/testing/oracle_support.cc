#include "testing/oracle_support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lf::test {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

int RunShell(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "kept for inspection: %s\n", path_.c_str());
  } else {
    fs::remove_all(path_, ec);
  }
}

std::string Shortest(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

std::string FormatTimestamp(int64_t ms, char sep, bool zulu) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld%c%02lld:%02lld:%02lld.%03lld%s", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), sep, static_cast<long long>(rem / 3600000),
                static_cast<long long>(rem / 60000 % 60), static_cast<long long>(rem / 1000 % 60),
                static_cast<long long>(rem % 1000), zulu ? "Z" : "");
  return buf;
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  int y, mo, d, h, mi, sec;
  char sep;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &sec) != 7) return std::nullopt;
  int64_t ms = 0;
  size_t dot = str.find('.');
  if (dot != std::string::npos) {
    std::string frac = str.substr(dot + 1, 3);
    while (frac.size() < 3) frac += '0';
    ms = std::atoll(frac.c_str());
  }
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
}

std::string TsvEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string SqlString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// ---------------------------------------------------------------------------
// SQLite.

Db::Db() {
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) std::abort();
  Exec("PRAGMA case_sensitive_like = ON");
}

Db::~Db() { sqlite3_close(db_); }

void Db::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    ADD_FAILURE() << "sqlite: " << (err ? err : "?") << "\n" << sql;
    sqlite3_free(err);
  }
}

// ---------------------------------------------------------------------------
// Comparing one view's TSV with the same query in SQLite.

std::vector<std::string> CompareView(sqlite3* db, const std::string& sqlite_sql, const std::vector<OutCol>& cols,
                                     const std::string& tsv) {
  std::vector<std::string> diffs;
  auto diff = [&](std::string s) {
    if (diffs.size() < 10) diffs.push_back(std::move(s));
  };
  std::vector<std::string> lines = Split(tsv, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) {
    diff("lambdaflow wrote no header line");
    return diffs;
  }
  std::vector<std::string> header = Split(lines[0], '\t');
  std::vector<std::string> want_header;
  for (const auto& c : cols) want_header.push_back(c.name);
  if (header != want_header) {
    std::string got, want;
    for (auto& h : header) got += h + " | ";
    for (auto& h : want_header) want += h + " | ";
    diff("header: lambdaflow [" + got + "] expected [" + want + "]");
    return diffs;
  }

  // SQLite's answer: per row, the expected text of each column, the numbers
  // behind it and the helper columns.
  struct Cell {
    bool null = true;
    std::string text;
    double d = 0;
  };
  std::vector<std::vector<Cell>> want;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sqlite_sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    diff(std::string("sqlite cannot prepare: ") + sqlite3_errmsg(db));
    return diffs;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<Cell> row(static_cast<size_t>(sqlite3_column_count(st)));
    for (int ci = 0; ci < sqlite3_column_count(st); ++ci) {
      Cell& cell = row[static_cast<size_t>(ci)];
      cell.null = sqlite3_column_type(st, ci) == SQLITE_NULL;
      cell.d = sqlite3_column_double(st, ci);
      if (cell.null) {
        cell.text = "\\N";
        continue;
      }
      Kind kind = static_cast<size_t>(ci) < cols.size() ? cols[static_cast<size_t>(ci)].kind : Kind::kDoubleApprox;
      switch (kind) {
        case Kind::kInt:
        case Kind::kApprox5:
          cell.text = std::to_string(sqlite3_column_int64(st, ci));
          break;
        case Kind::kDoubleExact:
        case Kind::kDoubleApprox:
          cell.text = Shortest(cell.d);
          break;
        case Kind::kText:
          cell.text = TsvEscape(std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st, ci)),
                                                 static_cast<size_t>(sqlite3_column_bytes(st, ci))));
          break;
        case Kind::kTimestamp:
          cell.text = FormatTimestamp(sqlite3_column_int64(st, ci));
          break;
      }
    }
    want.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) diff(std::string("sqlite: ") + sqlite3_errmsg(db));
  sqlite3_finalize(st);

  const size_t got_rows = lines.size() - 1;
  if (got_rows != want.size()) {
    diff("lambdaflow has " + std::to_string(got_rows) + " rows, sqlite " + std::to_string(want.size()));
  }
  for (size_t r = 0; r < std::max(got_rows, want.size()) && diffs.size() < 10; ++r) {
    std::string want_line;
    if (r < want.size()) {
      for (size_t c = 0; c < cols.size(); ++c) want_line += (c ? "\t" : "") + want[r][c].text;
    }
    if (r >= got_rows) {
      diff("row " + std::to_string(r + 1) + ": missing in lambdaflow; sqlite: " + want_line);
      continue;
    }
    if (r >= want.size()) {
      diff("row " + std::to_string(r + 1) + ": extra in lambdaflow: " + lines[r + 1]);
      continue;
    }
    std::vector<std::string> got = Split(lines[r + 1], '\t');
    if (got.size() != cols.size()) {
      diff("row " + std::to_string(r + 1) + ": " + std::to_string(got.size()) + " fields: " + lines[r + 1]);
      continue;
    }
    std::string bad;
    for (size_t c = 0; c < cols.size(); ++c) {
      const Cell& w = want[r][c];
      const std::string& g = got[c];
      bool ok = g == w.text;
      if (!ok && !w.null && g != "\\N") {
        double a = std::strtod(g.c_str(), nullptr);
        if (cols[c].kind == Kind::kDoubleExact) {
          ok = a == w.d;
        } else if (cols[c].kind == Kind::kDoubleApprox) {
          double abs_sum = cols[c].abs_col >= 0 ? std::fabs(want[r][static_cast<size_t>(cols[c].abs_col)].d) : 0;
          ok = std::fabs(a - w.d) <= 1e-9 * std::max(std::fabs(a), std::fabs(w.d)) + 1e-12 * abs_sum;
        } else if (cols[c].kind == Kind::kApprox5) {
          // HyperLogLog: 5%, plus one for register collisions, which decide
          // alone at very small cardinalities (2-4 distinct values).
          ok = std::fabs(a - w.d) <= 0.05 * w.d + 1;
        }
      }
      if (!ok) bad += " " + cols[c].name + " (lambdaflow " + g + ", sqlite " + w.text + ")";
    }
    if (!bad.empty()) {
      diff("row " + std::to_string(r + 1) + ":" + bad + "\n    lambdaflow: " + lines[r + 1] +
           "\n    sqlite:     " + want_line);
    }
  }
  return diffs;
}

}  // namespace lf::test
