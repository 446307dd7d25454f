// Live tests: the real `lambdaflow run` server, fed over HTTP while it is
// queried, against SQLite over exactly the events each answer covers.
//
// The lambda equation (the README, "Concepts" and "HTTP API"): every answer carries
// "watermarks": {"batch": [W], "speed": [S]} and must equal the view
// recomputed over the log's events [0, S). A producer thread POSTs seeded
// random NDJSON bodies (1-200 lines, a few invalid lines of predictable
// rejection) and records every accepted event under the log offset the answer
// gives it. A query thread asks the server (whole views as JSON and TSV, key
// lookups, filters, ?order_by=&limit=, POST /v1/query), waits until the
// producer has recorded every offset below the answer's S (an answer may
// include events whose POST answer has not arrived yet), and compares the rows
// with SQLite over exactly those events.
//
// LiveEquation: the above while batch versions come and go (small segments,
//   a short batch interval): at least 120 answers, at least 3 batch versions,
//   W <= S, S never decreasing, some answers merging both layers (0 < W < S);
//   at the end S reaches every acknowledged event and SIGTERM exits 0.
// KillAndRestart (3 seeds, each with another fsync policy): the same, then
//   kill -9 at a seeded random moment while a POST may be in flight; restart
//   on the same data directory: the log holds every acknowledged event, and
//   beyond them a prefix of the in-flight POST's valid lines (that prefix
//   extends the offset -> event map); answers taken before the kill are
//   checked against it too; then production and comparison go on (at least
//   25 answers after the restart).
// HttpErrors: the error answers of the README's HTTP API, each a JSON
//   {"error", "detail"} with the right status and a useful detail.
// KeyLookupValidatesOrderByAndLimit: a key lookup refuses a bad order_by or
//   limit like the other paths do.
// SigtermWithIdleKeepAliveConnection: SIGTERM ends the server within 5 s
//   while a client holds an idle keep-alive connection.
//
// Comparison (tests/testing/oracle_support.h): integers, text and timestamps
// exactly; MIN/MAX of doubles exactly; SUM/AVG of doubles within 1e-9
// relative plus 1e-12 of the sum of absolute values; APPROX_COUNT_DISTINCT
// within 5% (+1) of COUNT(DISTINCT).
//
// A failing test keeps its temporary directory (data directory, views file,
// the servers' stderr) and prints the servers' stderr.

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

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using lf::test::CompareView;
using lf::test::DaysFromCivil;
using lf::test::Db;
using lf::test::FormatTimestamp;
using lf::test::JsonString;
using lf::test::Kind;
using lf::test::OutCol;
using lf::test::ReadFile;
using lf::test::ServerProcess;
using lf::test::Shortest;
using lf::test::SqlString;
using lf::test::TempDir;
using lf::test::TsvEscape;
using lf::test::WriteFile;

// ---------------------------------------------------------------------------
// The views, and the same views in SQLite.

constexpr const char* kViews = R"sql(-- tests/live: the views of the live tests
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

const std::vector<ViewSpec>& Views() {
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

const ViewSpec& View(const std::string& name) {
  for (const auto& v : Views())
    if (v.name == name) return v;
  std::abort();
}

// ---------------------------------------------------------------------------
// Random events.

struct Rng {
  explicit Rng(uint64_t seed) : gen(seed) {}
  int64_t Int(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(gen() % static_cast<uint64_t>(hi - lo + 1)); }
  bool Chance(int percent) { return Int(0, 99) < percent; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int64_t>(v.size()) - 1))];
  }
  std::mt19937_64 gen;
};

struct Event {
  std::optional<int64_t> k;
  std::optional<std::string> name;
  int64_t v = 0;
  std::optional<double> price;
  int64_t ts = 0;
};

const std::vector<std::string>& Names() {
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
// The events the log holds, by offset, as the producer learns them.

class Ledger {
 public:
  // Records `events` at offsets [from, from + size); false if one of them
  // was recorded already.
  bool Record(uint64_t from, const std::vector<Event>& events) {
    std::lock_guard lock(mu_);
    if (events_.size() < from + events.size()) events_.resize(from + events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      auto& slot = events_[from + i];
      if (slot) return false;
      slot = events[i];
    }
    while (prefix_ < events_.size() && events_[prefix_]) ++prefix_;
    cv_.notify_all();
    return true;
  }

  // Waits until every offset below `s` is recorded (true), or the ledger is
  // closed or `timeout` passes without that (false).
  bool WaitFor(uint64_t s, milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return prefix_ >= s || closed_; });
    return prefix_ >= s;
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

  // Every offset below prefix() is recorded.
  uint64_t prefix() {
    std::lock_guard lock(mu_);
    return prefix_;
  }

  // The events at offsets [from, to), all recorded.
  std::vector<Event> Slice(uint64_t from, uint64_t to) {
    std::lock_guard lock(mu_);
    std::vector<Event> out;
    for (uint64_t o = from; o < to && o < prefix_; ++o) out.push_back(*events_[o]);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Event>> events_;  // GUARDED_BY(mu_)
  uint64_t prefix_ = 0;                       // GUARDED_BY(mu_)
  bool closed_ = false;                       // GUARDED_BY(mu_)
};

// ---------------------------------------------------------------------------
// The producer.

std::unique_ptr<httplib::Client> NewClient(const ServerProcess& s) {
  auto c = std::make_unique<httplib::Client>(s.host(), s.port());
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(20, 0);
  c->set_write_timeout(20, 0);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);  // headers and body leave in two writes: no Nagle delay between them
  return c;
}

struct ProducerState {
  uint64_t next_from = 0;        // where the next accepted events must land (one producer: contiguous)
  std::vector<Event> in_flight;  // the valid events of a POST that got no answer (the server was killed)
  int posts = 0;
  uint64_t accepted = 0, rejected = 0;
  Clock::time_point last_answer{}, in_flight_sent{};  // of the last answered POST, of the unanswered one
};

// Checks one POST /v1/events answer against its body; returns the accepted
// range's start, or an error.
std::optional<uint64_t> CheckPostAnswer(const httplib::Result& res, const std::vector<Line>& lines,
                                        std::string* error) {
  if (res->status != 200) {
    *error = "status " + std::to_string(res->status) + ": " + res->body;
    return std::nullopt;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  uint64_t accepted = 0, partition = 0, from = 0, to = 0;
  simdjson::dom::array rejected;
  if (parser.parse(res->body).get(doc) || doc["accepted"].get(accepted) || doc["rejected"].get(rejected) ||
      doc["offsets"]["partition"].get(partition) || doc["offsets"]["from"].get(from) || doc["offsets"]["to"].get(to)) {
    *error = "malformed answer: " + res->body;
    return std::nullopt;
  }
  std::vector<uint64_t> want_rejected, got_rejected;
  uint64_t want_accepted = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].event) {
      ++want_accepted;
    } else {
      want_rejected.push_back(i + 1);
    }
  }
  for (simdjson::dom::element r : rejected) {
    uint64_t line = 0;
    std::string_view reason, detail;
    if (r["line"].get(line) || r["reason"].get(reason) || r["detail"].get(detail) || reason.empty()) {
      *error = "malformed reject in answer: " + res->body;
      return std::nullopt;
    }
    got_rejected.push_back(line);
  }
  if (accepted != want_accepted || got_rejected != want_rejected || partition != 0 || to - from != accepted) {
    std::string want_lines;
    for (uint64_t l : want_rejected) want_lines += " " + std::to_string(l);
    *error = "expected " + std::to_string(want_accepted) + " accepted, rejected lines" + want_lines +
             ", offsets of partition 0 spanning the accepted lines; got " + res->body;
    return std::nullopt;
  }
  return from;
}

// POSTs batches until `stop`, recording the accepted events in `ledger`.
// Once `killed` is set, a failed request ends the run quietly (the server
// was killed): its valid events are kept in state->in_flight. Closes the
// ledger at the end.
void Produce(const ServerProcess& server, EventGen& gen, Rng& pacing, Ledger& ledger, const std::atomic<bool>& stop,
             const std::atomic<bool>& killed, ProducerState* state) {
  auto client = NewClient(server);
  while (!stop) {
    std::vector<Line> lines = gen.Batch();
    std::string body;
    std::vector<Event> valid;
    for (const auto& l : lines) {
      body += l.text + "\n";
      if (l.event) valid.push_back(*l.event);
    }
    const auto sent = Clock::now();
    auto res = client->Post("/v1/events", body, "application/x-ndjson");
    if (!res) {
      state->in_flight_sent = sent;
      if (!killed) ADD_FAILURE() << "POST /v1/events failed: " << httplib::to_string(res.error());
      state->in_flight = std::move(valid);
      break;
    }
    std::string error;
    std::optional<uint64_t> from = CheckPostAnswer(res, lines, &error);
    if (!from) {
      ADD_FAILURE() << "POST /v1/events of " << lines.size() << " lines: " << error << "\nbody:\n" << body;
      break;
    }
    if (*from != state->next_from) {
      ADD_FAILURE() << "POST /v1/events: accepted events at " << *from << ", expected " << state->next_from
                    << " (one producer: the log must be contiguous)";
      break;
    }
    if (!ledger.Record(*from, valid)) {
      ADD_FAILURE() << "POST /v1/events: offsets from " << *from << " were given out before";
      break;
    }
    state->next_from = *from + valid.size();
    state->last_answer = Clock::now();
    state->accepted += valid.size();
    state->rejected += lines.size() - valid.size();
    ++state->posts;
    std::this_thread::sleep_for(milliseconds(pacing.Int(0, 6)));
  }
  ledger.Close();
}

// ---------------------------------------------------------------------------
// Queries, and their answers against SQLite.

struct Query {
  std::string kind;  // for statistics
  std::string what;  // the request, for messages
  bool post = false;
  std::string path;  // GET
  httplib::Params params;
  std::string sql;  // POST /v1/query
  bool tsv = false;
  std::string view;        // GET: the expected "view"
  std::string oracle_sql;  // SQLite, with {S}
  std::vector<OutCol> cols;
};

struct Answer {
  uint64_t w = 0, s = 0;
  std::optional<int64_t> version;
  std::string tsv;  // header line, then rows, as lambdaflow's TSV
  std::string body;
};

std::string CellText(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return "\\N";
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(v));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(v));
    case simdjson::dom::element_type::DOUBLE:
      return Shortest(double(v));
    case simdjson::dom::element_type::STRING:
      return TsvEscape(std::string_view(v));
    case simdjson::dom::element_type::BOOL:
      return bool(v) ? "true" : "false";
    default:
      return "<nested>";
  }
}

std::optional<uint64_t> OneWatermark(std::string_view text) {
  uint64_t w = 0;
  if (text.empty() || text.find(',') != std::string_view::npos) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    w = w * 10 + static_cast<uint64_t>(c - '0');
  }
  return w;
}

// Reads an answer over views (JSON, or TSV with the watermark headers).
// Returns an error, or "" with *a filled.
std::string ParseAnswer(const httplib::Response& res, const Query& q, Answer* a) {
  a->body = res.body;
  if (q.tsv) {
    auto w = OneWatermark(res.get_header_value("X-Lambdaflow-Batch-Watermark"));
    auto s = OneWatermark(res.get_header_value("X-Lambdaflow-Speed-Watermark"));
    const std::string version = res.get_header_value("X-Lambdaflow-Batch-Version");
    if (!w || !s || version.empty()) return "missing or malformed watermark headers";
    a->w = *w;
    a->s = *s;
    if (version != "none") a->version = std::stoll(version);
    if (res.get_header_value("Content-Type").rfind("text/tab-separated-values", 0) != 0)
      return "Content-Type " + res.get_header_value("Content-Type");
    a->tsv = res.body;
    return "";
  }
  if (res.get_header_value("Content-Type").rfind("application/json", 0) != 0)
    return "Content-Type " + res.get_header_value("Content-Type");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array batch, speed, columns, rows;
  std::string_view view;
  if (parser.parse(res.body).get(doc) || doc["watermarks"]["batch"].get(batch) ||
      doc["watermarks"]["speed"].get(speed) || doc["columns"].get(columns) || doc["rows"].get(rows) ||
      doc["view"].get(view))
    return "malformed answer";
  if (batch.size() != 1 || speed.size() != 1 || batch.at(0).get(a->w) || speed.at(0).get(a->s))
    return "watermarks must be one offset each (one partition)";
  simdjson::dom::element version;
  if (doc["batch_version"].get(version)) return "no batch_version";
  if (!version.is_null()) {
    int64_t v = 0;
    if (version.get(v)) return "batch_version is neither null nor an integer";
    a->version = v;
  }
  if (!q.view.empty() && view != q.view) return "\"view\" is '" + std::string(view) + "'";
  std::string tsv;
  bool first = true;
  for (simdjson::dom::element c : columns) {
    std::string_view name;
    if (c["name"].get(name)) return "malformed column";
    tsv += (first ? "" : "\t") + TsvEscape(name);
    first = false;
  }
  tsv += "\n";
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get(cells)) return "a row is not an array";
    if (cells.size() != columns.size()) return "a row of " + std::to_string(cells.size()) + " cells";
    first = true;
    for (simdjson::dom::element cell : cells) {
      tsv += (first ? "" : "\t") + CellText(cell);
      first = false;
    }
    tsv += "\n";
  }
  a->tsv = std::move(tsv);
  return "";
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

// The query thread's side: the SQLite copy of the ledger, the answers' checks
// and their statistics.
class Checker {
 public:
  Checker(Ledger& ledger, uint64_t seed, std::string context) : ledger_(ledger), rng_(seed), context_(context) {
    db_.Exec(
        "CREATE TABLE events (off INTEGER PRIMARY KEY, k INTEGER, name TEXT, v INTEGER NOT NULL, price REAL, "
        "ts INTEGER NOT NULL)");
  }

  // A random query over the views.
  Query Next() {
    Query q;
    auto whole = [&](const ViewSpec& v, std::string where, std::string order, std::string limit) {
      return "SELECT * FROM (" + v.inner + ")" + where + (order.empty() ? "" : " ORDER BY " + order) + limit;
    };
    const ViewSpec& by_k = View("by_k");
    const ViewSpec& big = View("big_by_name");
    const ViewSpec& revenue = View("revenue");
    switch (rng_.Int(0, 13)) {
      case 0:
      case 1:
      case 2: {  // a whole view
        const ViewSpec& v = rng_.Pick(Views());
        q.view = v.name;
        q.path = "/v1/views/" + v.name;
        q.tsv = rng_.Chance(30);
        if (q.tsv) q.params.emplace("format", "tsv");
        q.oracle_sql = whole(v, "", v.order, "");
        q.cols = v.cols;
        q.kind = q.tsv ? "view (tsv)" : "view";
        break;
      }
      case 3:
      case 4: {  // a key lookup by integer
        const int64_t k = rng_.Int(-6, 41);
        q.view = "by_k";
        q.path = "/v1/views/by_k";
        q.params.emplace("k", std::to_string(k));
        q.oracle_sql = whole(by_k, " WHERE k = " + std::to_string(k), by_k.order, "");
        q.cols = by_k.cols;
        q.kind = "lookup k";
        break;
      }
      case 5: {  // a key lookup by text (URL-encoded: quotes, tabs, unicode)
        const std::string name = rng_.Chance(10) ? "nosuchname" : rng_.Pick(Names());
        q.view = "big_by_name";
        q.path = "/v1/views/big_by_name";
        q.params.emplace("name", name);
        q.oracle_sql = whole(big, " WHERE name = " + SqlString(name), big.order, "");
        q.cols = big.cols;
        q.kind = "lookup name";
        break;
      }
      case 6: {  // a filter on part of the key
        const int64_t k = rng_.Int(-6, 41);
        q.view = "revenue";
        q.path = "/v1/views/revenue";
        q.params.emplace("k", std::to_string(k));
        q.oracle_sql = whole(revenue, " WHERE k = " + std::to_string(k), revenue.order, "");
        q.cols = revenue.cols;
        q.kind = "filter k";
        break;
      }
      case 7: {  // a key lookup of (INT, TIMESTAMP) at an hour that has events
        const int64_t k = rng_.Int(-5, 40);
        const int64_t hour = ts_.empty() ? 0 : rng_.Pick(ts_) / 3600000 * 3600000;
        q.view = "revenue";
        q.path = "/v1/views/revenue";
        q.params.emplace("k", std::to_string(k));
        q.params.emplace("hour", FormatTimestamp(hour));
        q.oracle_sql = whole(revenue, " WHERE k = " + std::to_string(k) + " AND hour = " + std::to_string(hour),
                             revenue.order, "");
        q.cols = revenue.cols;
        q.kind = "lookup k, hour";
        break;
      }
      case 8:
      case 9: {  // ?order_by=&limit=
        const std::string limit = std::to_string(rng_.Int(0, 12));
        const int which = static_cast<int>(rng_.Int(0, 2));
        const ViewSpec& v = which == 0 ? by_k : which == 1 ? big : revenue;
        const char* order_by[] = {"n desc,k", "sv, name", "k desc, hour DESC"};
        const char* order_sql[] = {"n DESC, k", "sv, name", "k DESC, hour DESC"};
        q.view = v.name;
        q.path = "/v1/views/" + v.name;
        q.params.emplace("order_by", order_by[which]);
        q.params.emplace("limit", limit);
        q.oracle_sql = whole(v, "", order_sql[which], " LIMIT " + limit);
        q.cols = v.cols;
        q.kind = "order_by+limit";
        break;
      }
      case 10: {
        q.post = true;
        q.sql = "SELECT k, n, sv FROM by_k WHERE n >= 3 ORDER BY sv DESC, k LIMIT 8";
        q.oracle_sql = "SELECT k, n, sv FROM (" + by_k.inner + ") WHERE n >= 3 ORDER BY sv DESC, k LIMIT 8";
        q.cols = {{"k", Kind::kInt}, {"n", Kind::kInt}, {"sv", Kind::kInt}};
        q.kind = "query by_k";
        break;
      }
      case 11: {
        q.post = true;
        q.sql = "SELECT name, n, pricey FROM big_by_name WHERE name LIKE 'p%' ORDER BY n DESC, name LIMIT 5";
        q.oracle_sql =
            "SELECT name, n, pricey FROM (" + big.inner + ") WHERE name LIKE 'p%' ORDER BY n DESC, name LIMIT 5";
        q.cols = {{"name", Kind::kText}, {"n", Kind::kInt}, {"pricey", Kind::kInt}};
        q.kind = "query big_by_name";
        break;
      }
      case 12: {
        q.post = true;
        q.sql = "SELECT COUNT(*) AS g, SUM(n) AS total, MAX(min_price) AS m FROM revenue";
        q.oracle_sql = "SELECT COUNT(*) AS g, SUM(n) AS total, MAX(min_price) AS m FROM (" + revenue.inner + ")";
        q.cols = {{"g", Kind::kInt}, {"total", Kind::kInt}, {"m", Kind::kDoubleExact}};
        q.kind = "query aggregate";
        break;
      }
      default: {
        q.post = true;
        q.tsv = true;
        q.sql = "SELECT * FROM totals";
        q.oracle_sql = whole(View("totals"), "", "", "");
        q.cols = View("totals").cols;
        q.kind = "query totals (tsv)";
        break;
      }
    }
    if (q.post) {
      q.what = "POST /v1/query " + q.sql;
    } else {
      q.what = "GET " + q.path;
      for (const auto& [key, value] : q.params)
        q.what += (&key == &q.params.begin()->first ? "?" : "&") + key + "=" + value;
    }
    if (q.post && q.tsv) q.what += " (?format=tsv)";
    return q;
  }

  // Sends `q`. False when the request failed (no answer: the server is gone).
  bool Ask(httplib::Client& client, const Query& q, bool defer_if_unrecorded) {
    httplib::Result res = q.post ? client.Post(q.tsv ? "/v1/query?format=tsv" : "/v1/query",
                                               "{\"sql\":" + JsonString(q.sql) + "}", "application/json")
                                 : client.Get(q.path, q.params, httplib::Headers{});
    if (!res) {
      error_ = httplib::to_string(res.error());
      return false;
    }
    if (res->status != 200) {
      Fail(q.what + ": status " + std::to_string(res->status) + ": " + res->body);
      return true;
    }
    Answer a;
    const std::string error = ParseAnswer(*res, q, &a);
    if (!error.empty()) {
      Fail(q.what + ": " + error + "\n" + res->body.substr(0, 2000));
      return true;
    }
    CheckWatermarks(q, a);
    if (!ledger_.WaitFor(a.s, milliseconds(20000))) {
      if (defer_if_unrecorded) {
        deferred_.push_back({q, a});
        return true;
      }
      Fail(q.what + ": the answer covers the log up to S=" + std::to_string(a.s) + " but only " +
           std::to_string(ledger_.prefix()) + " events were acknowledged");
      return true;
    }
    Compare(q, a);
    return true;
  }

  // W <= S, S never decreasing; the batch versions seen.
  void CheckWatermarks(const Query& q, const Answer& a) {
    if (a.w > a.s) Fail(q.what + ": W=" + std::to_string(a.w) + " > S=" + std::to_string(a.s));
    if (a.s < last_s_) Fail(q.what + ": S went back from " + std::to_string(last_s_) + " to " + std::to_string(a.s));
    last_s_ = std::max(last_s_, a.s);
    if (a.version) NoteVersion(*a.version);
    if (a.w > 0 && a.w < a.s) ++merged_;
  }

  // Compares the answer with SQLite over the events [0, S), all recorded.
  void Compare(const Query& q, const Answer& a) {
    Load(a.s);
    std::vector<std::string> diffs =
        CompareView(db_.get(), ReplaceAll(q.oracle_sql, "{S}", std::to_string(a.s)), q.cols, a.tsv);
    if (!diffs.empty()) {
      std::string text;
      for (const auto& d : diffs) text += "  " + d + "\n";
      Fail(q.what + ": differs from sqlite over the events [0, " + std::to_string(a.s) + ") (W=" + std::to_string(a.w) +
           ", batch version " + (a.version ? std::to_string(*a.version) : "none") + ")\nsqlite: " +
           ReplaceAll(q.oracle_sql, "{S}", std::to_string(a.s)) + "\n" + text + "answer: " + a.body.substr(0, 3000));
    }
    ++compared_;
    auto& [n, nonempty] = kinds_[q.kind];
    ++n;
    if (a.tsv.find('\n') + 1 < a.tsv.size()) ++nonempty;
  }

  // Compares the answers that covered events unknown at the time (once the
  // restart told which of the in-flight events the log kept); an answer
  // covering events that the log no longer has is a failure.
  void CompareDeferred() {
    for (const auto& [q, a] : deferred_) {
      if (ledger_.prefix() < a.s) {
        Fail(q.what + " (answered before the kill): covered the log up to S=" + std::to_string(a.s) +
             ", but after the restart the log holds only " + std::to_string(ledger_.prefix()) + " events");
        continue;
      }
      Compare(q, a);
    }
    deferred_.clear();
  }

  void NoteVersion(int64_t v) {
    std::lock_guard lock(mu_);
    versions_.insert(v);
  }
  size_t num_versions() {
    std::lock_guard lock(mu_);
    return versions_.size();
  }
  // A new server process: S starts over (it must still cover every acknowledged event).
  void ResetS() { last_s_ = 0; }
  uint64_t last_s() const { return last_s_; }
  int compared() const { return compared_; }
  int merged() const { return merged_; }
  int failures() const { return failures_; }
  const std::string& error() const { return error_; }
  // Per kind of query: answers compared, of them with rows (read once the
  // query thread has ended).
  const std::map<std::string, std::pair<int, int>>& kinds() const { return kinds_; }

 private:
  void Fail(const std::string& what) {
    if (++failures_ <= 5) ADD_FAILURE() << context_ << ": " << what;
  }

  // Inserts the events [loaded_, s) into SQLite.
  void Load(uint64_t s) {
    if (s <= loaded_) return;
    std::vector<Event> events = ledger_.Slice(loaded_, s);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_.get(), "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", -1, &st, nullptr) != SQLITE_OK)
      std::abort();
    db_.Exec("BEGIN");
    for (const Event& e : events) {
      sqlite3_reset(st);
      sqlite3_bind_int64(st, 1, static_cast<int64_t>(loaded_++));
      e.k ? sqlite3_bind_int64(st, 2, *e.k) : sqlite3_bind_null(st, 2);
      e.name ? sqlite3_bind_text(st, 3, e.name->data(), static_cast<int>(e.name->size()), SQLITE_TRANSIENT)
             : sqlite3_bind_null(st, 3);
      sqlite3_bind_int64(st, 4, e.v);
      e.price ? sqlite3_bind_double(st, 5, *e.price) : sqlite3_bind_null(st, 5);
      sqlite3_bind_int64(st, 6, e.ts);
      if (sqlite3_step(st) != SQLITE_DONE) ADD_FAILURE() << sqlite3_errmsg(db_.get());
      ts_.push_back(e.ts);
    }
    db_.Exec("COMMIT");
    sqlite3_finalize(st);
  }

  Ledger& ledger_;
  Rng rng_;
  const std::string context_;
  Db db_;
  uint64_t loaded_ = 0;
  std::vector<int64_t> ts_;  // of the loaded events
  uint64_t last_s_ = 0;
  std::atomic<int> compared_{0}, merged_{0}, failures_{0};
  std::vector<std::pair<Query, Answer>> deferred_;
  std::map<std::string, std::pair<int, int>> kinds_;  // answers compared, of them with rows
  std::string error_;
  std::mutex mu_;
  std::set<int64_t> versions_;  // GUARDED_BY(mu_)
};

// Queries until `stop`, or until the server is gone once `killed` is set;
// every 8th request is GET /v1/status, for the batch versions. With
// `may_defer`, an answer covering events that the producer never recorded
// (the server was killed before answering their POST) is kept for later.
void QueryLoop(const ServerProcess& server, Checker& checker, const std::atomic<bool>& stop,
               const std::atomic<bool>& killed, bool may_defer) {
  auto client = NewClient(server);
  for (int i = 0; !stop; ++i) {
    if (i % 8 == 7) {
      auto res = client->Get("/v1/status");
      if (!res) {
        if (!killed) ADD_FAILURE() << "GET /v1/status failed: " << httplib::to_string(res.error());
        return;
      }
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      int64_t version = 0;
      if (!parser.parse(res->body).get(doc) && !doc["batch_version"].get(version)) checker.NoteVersion(version);
      continue;
    }
    if (!checker.Ask(*client, checker.Next(), may_defer)) {
      if (!killed) ADD_FAILURE() << "query failed: " << checker.error();
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// The fixture: a temporary directory, the views file, the server processes.

class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(LAMBDAFLOW_BIN)) << LAMBDAFLOW_BIN;
    dir_ = std::make_unique<TempDir>("lf-live");
    WriteFile(dir_->path() / "views.sql", kViews);
  }

  void TearDown() override {
    if (server_) server_->Kill9();
    if (HasFailure()) {
      for (int i = 1; i <= starts_; ++i) {
        std::string text = ReadFile(StderrPath(i));
        if (text.size() > 20000) text = "...\n" + text.substr(text.size() - 20000);
        std::fprintf(stderr, "---- stderr of server start %d (%s):\n%s----\n", i, StderrPath(i).c_str(), text.c_str());
      }
    }
    server_.reset();
    dir_.reset();
  }

  fs::path StderrPath(int start) const { return dir_->path() / ("server-" + std::to_string(start) + ".stderr"); }
  fs::path DataDir() const { return dir_->path() / "data"; }

  // Starts `lambdaflow run` on the data directory with small segments and a
  // short batch interval (plus `extra` flags); fails the test if it does not
  // come up.
  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "run", "--data", DataDir().string(), "--views", (dir_->path() / "views.sql").string(), "--listen=127.0.0.1:0"};
    for (const char* flag : {"--seal-events=400", "--seal-age=0.2", "--batch-interval=0.3", "--micro-batch-ms=10"})
      args.push_back(flag);
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = ServerProcess::Start(LAMBDAFLOW_BIN, args, StderrPath(++starts_), milliseconds(10000), &error);
    ASSERT_NE(server_, nullptr) << "lambdaflow run did not start: " << error;
  }

  // Stops the server with SIGTERM; it must exit 0.
  void StopServer() {
    std::string how;
    EXPECT_EQ(server_->Terminate(milliseconds(15000), &how), 0) << "lambdaflow run after SIGTERM: " << how;
    server_.reset();
  }

  // Once the producer stopped: the answers reach S = every acknowledged
  // event, and then equal SQLite over all of them.
  void CheckCatchUp(Checker& checker, Ledger& ledger) {
    auto client = NewClient(*server_);
    const uint64_t acked = ledger.prefix();
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    while (checker.last_s() < acked && Clock::now() < deadline) {
      Query q;
      q.view = "totals";
      q.path = "/v1/views/totals";
      q.oracle_sql = "SELECT * FROM (" + View("totals").inner + ")";
      q.cols = View("totals").cols;
      q.what = "GET " + q.path;
      ASSERT_TRUE(checker.Ask(*client, q, false)) << checker.error();
      if (checker.last_s() < acked) std::this_thread::sleep_for(milliseconds(20));
    }
    ASSERT_EQ(checker.last_s(), acked) << "the speed watermark did not reach the acknowledged events";
    for (const auto& v : Views()) {
      Query q;
      q.view = v.name;
      q.path = "/v1/views/" + v.name;
      q.oracle_sql = "SELECT * FROM (" + v.inner + ")" + (v.order.empty() ? "" : " ORDER BY " + v.order);
      q.cols = v.cols;
      q.what = "GET " + q.path + " (at the end)";
      ASSERT_TRUE(checker.Ask(*client, q, false)) << checker.error();
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  int starts_ = 0;
};

// Sets the flag and joins the threads when the scope ends, also on a failed
// ASSERT.
class Joiner {
 public:
  Joiner(std::atomic<bool>& stop, Ledger& ledger) : stop_(stop), ledger_(ledger) {}
  ~Joiner() { Join(); }
  void Add(std::thread t) { threads_.push_back(std::move(t)); }
  void Join() {
    stop_ = true;
    ledger_.Close();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

 private:
  std::atomic<bool>& stop_;
  Ledger& ledger_;
  std::vector<std::thread> threads_;
};

TEST_F(LiveTest, LiveEquation) {
  constexpr uint64_t kSeed = 0x11fe0001;
  const auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Ledger ledger;
  Checker checker(ledger, kSeed + 1, "seed " + std::to_string(kSeed) + ", data " + DataDir().string());
  EventGen gen(kSeed);
  Rng pacing(kSeed + 2);
  ProducerState produced;
  std::atomic<bool> stop{false}, killed{false};
  {
    Joiner joiner(stop, ledger);
    joiner.Add(std::thread([&] { Produce(*server_, gen, pacing, ledger, stop, killed, &produced); }));
    joiner.Add(std::thread([&] { QueryLoop(*server_, checker, stop, killed, false); }));
    // At least 120 answers over at least 3 batch versions and 5 s; at most 40 s.
    while (Clock::now() - start < std::chrono::seconds(40) && checker.failures() == 0 &&
           (checker.compared() < 120 || checker.num_versions() < 3 || Clock::now() - start < std::chrono::seconds(5)))
      std::this_thread::sleep_for(milliseconds(20));
    joiner.Join();
  }
  ASSERT_EQ(checker.failures(), 0);
  EXPECT_GE(checker.compared(), 120);
  EXPECT_GE(checker.num_versions(), 3u) << "batch versions seen";
  EXPECT_GT(checker.merged(), 0) << "no answer merged the batch and the speed layer (0 < W < S)";
  EXPECT_GT(produced.rejected, 0u);
  // Every kind of query was compared, and not only over empty answers.
  std::string kinds;
  for (const auto& [kind, counts] : checker.kinds()) {
    kinds += "; " + (kind.empty() ? std::string("final") : kind) + " " + std::to_string(counts.first) + " (" +
             std::to_string(counts.second) + " with rows)";
    EXPECT_GT(counts.second, 0) << "no answer of kind '" << kind << "' had rows";
  }
  EXPECT_EQ(checker.kinds().size(), 11u) << kinds;
  ASSERT_NO_FATAL_FAILURE(CheckCatchUp(checker, ledger));
  StopServer();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "LiveEquation: %d posts, %llu events accepted, %llu rejected; %d answers compared (%d merging both "
      "layers), %zu batch versions, %.1f s\n",
      produced.posts, static_cast<unsigned long long>(produced.accepted),
      static_cast<unsigned long long>(produced.rejected), checker.compared(), checker.merged(), checker.num_versions(),
      secs);
  std::printf("LiveEquation: answers by kind%s\n", kinds.c_str());
}

// LiveTest with a seed number.
class LiveSeeded : public LiveTest, public ::testing::WithParamInterface<int> {};

TEST_P(LiveSeeded, KillAndRestart) {
  const uint64_t seed = 0x4b111000u + static_cast<uint64_t>(GetParam());
  // Per seed a different fsync policy, so that the kill also lands between
  // an append and its acknowledgement (a long group-commit window).
  const std::vector<std::vector<std::string>> policies = {
      {}, {"--fsync", "always"}, {"--fsync", "interval", "--fsync-interval-ms", "40"}};
  const std::vector<std::string>& flags = policies[static_cast<size_t>(GetParam()) % policies.size()];
  const auto start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  Ledger ledger;
  const std::string context = "seed " + std::to_string(seed) + ", data " + DataDir().string();
  Checker checker(ledger, seed + 1, context);
  EventGen gen(seed);
  Rng pacing(seed + 2);
  const milliseconds kill_after(pacing.Int(300, 1500));
  ProducerState produced;
  Clock::time_point kill_time;

  // Phase 1: produce and query, then kill -9 at a seeded moment.
  {
    std::atomic<bool> stop{false}, killed{false};
    Joiner joiner(stop, ledger);
    joiner.Add(std::thread([&] { Produce(*server_, gen, pacing, ledger, stop, killed, &produced); }));
    joiner.Add(std::thread([&] { QueryLoop(*server_, checker, stop, killed, true); }));
    std::this_thread::sleep_for(kill_after);
    killed = true;
    kill_time = Clock::now();
    server_->Kill9();
    joiner.Join();
  }
  ASSERT_EQ(checker.failures(), 0);
  const uint64_t acked = ledger.prefix();
  ASSERT_EQ(acked, produced.next_from);
  const ProducerState at_kill = produced;
  const int answers_before = checker.compared();

  // Restart on the same data directory: every acknowledged event is in the
  // log; beyond them, at most a prefix of the in-flight POST's valid lines.
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  uint64_t log_end = 0;
  {
    auto client = NewClient(*server_);
    auto res = client->Get("/v1/status");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array ends;
    ASSERT_FALSE(parser.parse(res->body).get(doc) || doc["log_end"].get(ends) || ends.size() != 1 ||
                 ends.at(0).get(log_end))
        << res->body;
  }
  ASSERT_GE(log_end, acked) << context << ": acknowledged events were lost";
  ASSERT_LE(log_end - acked, produced.in_flight.size())
      << context << ": the log has more events than were acknowledged plus the in-flight POST's";
  std::vector<Event> kept(produced.in_flight.begin(), produced.in_flight.begin() + (log_end - acked));
  ledger.Reopen();
  ASSERT_TRUE(ledger.Record(acked, kept));
  produced.next_from = log_end;
  checker.CompareDeferred();
  checker.ResetS();

  // Phase 2: produce and query on; the first answer already covers every
  // acknowledged event.
  const int before_restart = checker.compared();
  {
    std::atomic<bool> stop{false}, killed{false};
    auto client = NewClient(*server_);
    Query q = checker.Next();
    ASSERT_TRUE(checker.Ask(*client, q, false)) << checker.error();
    EXPECT_GE(checker.last_s(), acked) << context << ": " << q.what << " after the restart";
    Joiner joiner(stop, ledger);
    joiner.Add(std::thread([&] { Produce(*server_, gen, pacing, ledger, stop, killed, &produced); }));
    joiner.Add(std::thread([&] { QueryLoop(*server_, checker, stop, killed, false); }));
    const auto phase2 = Clock::now();
    while (Clock::now() - phase2 < std::chrono::seconds(30) && checker.failures() == 0 &&
           (checker.compared() - before_restart < 25 || Clock::now() - phase2 < milliseconds(800)))
      std::this_thread::sleep_for(milliseconds(20));
    joiner.Join();
  }
  ASSERT_EQ(checker.failures(), 0);
  EXPECT_GE(checker.compared() - before_restart, 25);
  ASSERT_NO_FATAL_FAILURE(CheckCatchUp(checker, ledger));
  StopServer();
  // Times relative to the kill (negative: before it).
  auto at = [&](Clock::time_point t) {
    if (t == Clock::time_point{}) return std::string("none");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f ms", std::chrono::duration<double, std::milli>(t - kill_time).count());
    return std::string(buf);
  };
  std::printf(
      "KillAndRestart seed %llu (%s): killed at %lld ms; last POST answer at %s, unanswered POST sent at %s "
      "(relative to the kill); %llu events acknowledged, %zu in flight of which %llu kept; %d answers compared "
      "before the kill (%d of them after the restart), %d after; %.1f s\n",
      static_cast<unsigned long long>(seed), flags.empty() ? "default fsync" : flags[1].c_str(),
      static_cast<long long>(kill_after.count()), at(at_kill.last_answer).c_str(), at(at_kill.in_flight_sent).c_str(),
      static_cast<unsigned long long>(acked), at_kill.in_flight.size(),
      static_cast<unsigned long long>(log_end - acked), answers_before, before_restart - answers_before,
      checker.compared() - before_restart, std::chrono::duration<double>(Clock::now() - start).count());
}

INSTANTIATE_TEST_SUITE_P(Seeds, LiveSeeded, ::testing::Range(0, 3));

// ---------------------------------------------------------------------------
// Error answers.

// `res` is an error answer: `status`, JSON {"error": code, "detail": ...}
// whose detail contains each of `details`.
void ExpectError(const httplib::Result& res, int status, const std::string& code,
                 const std::vector<std::string>& details, const std::string& what) {
  ASSERT_TRUE(res) << what << ": " << httplib::to_string(res.error());
  if (res->status != status) {
    ADD_FAILURE() << what << ": status " << res->status << ", expected " << status << " " << code
                  << "; body: " << res->body;
    return;
  }
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("application/json", 0), 0u)
      << what << ": Content-Type " << res->get_header_value("Content-Type");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  std::string_view error, detail;
  ASSERT_FALSE(parser.parse(res->body).get(doc) || doc.get(obj) || doc["error"].get(error) || doc["detail"].get(detail))
      << what << ": not a JSON {\"error\", \"detail\"}: " << res->body;
  EXPECT_EQ(obj.size(), 2u) << what << ": " << res->body;
  EXPECT_EQ(error, code) << what << ": " << res->body;
  EXPECT_GE(detail.size(), 10u) << what << ": detail too short to help: " << res->body;
  for (const auto& d : details) EXPECT_NE(detail.find(d), std::string_view::npos) << what << ": " << res->body;
}

TEST_F(LiveTest, HttpErrors) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--max-body-bytes", "4096"}));
  auto client = NewClient(*server_);

  ExpectError(client->Post("/v1/query", "{\"sql\": ", "application/json"), 400, "bad_request", {"sql"},
              "POST /v1/query, malformed JSON");
  ExpectError(client->Post("/v1/query", "{\"query\": \"SELECT * FROM by_k\"}", "application/json"), 400, "bad_request",
              {"sql"}, "POST /v1/query, JSON without \"sql\"");
  ExpectError(client->Post("/v1/query", "{\"sql\": \"SELECT k\\nFROM by_k\\nWHERE k = = 1\"}", "application/json"), 400,
              "bad_request", {"3:11"}, "POST /v1/query, bad SQL on line 3");
  ExpectError(client->Post("/v1/query", "SELECT k FROM by_k WHER k = 1", "text/plain"), 400, "bad_request", {"1:"},
              "POST /v1/query, bad SQL as text/plain");
  ExpectError(client->Post("/v1/query", "{\"sql\": \"SELECT zz FROM by_k\"}", "application/json"), 400, "bad_request",
              {"1:8", "zz"}, "POST /v1/query, unknown column");
  ExpectError(client->Get("/v1/views/nope"), 404, "not_found", {"nope"}, "GET /v1/views/nope");
  ExpectError(client->Post("/v1/query", "{\"sql\": \"SELECT * FROM nope\"}", "application/json"), 404, "not_found",
              {"nope", "1:15"}, "POST /v1/query FROM nope");
  ExpectError(client->Get("/v1/views/by_k?k=notanumber"), 400, "bad_request", {"notanumber", "k"},
              "GET /v1/views/by_k?k=notanumber");
  ExpectError(client->Get("/v1/views/revenue?hour=noon"), 400, "bad_request", {"noon", "hour"},
              "GET /v1/views/revenue?hour=noon");
  ExpectError(client->Get("/v1/views/by_k?nosuchcolumn=1"), 400, "bad_request", {"nosuchcolumn"},
              "GET /v1/views/by_k?nosuchcolumn=1");
  ExpectError(client->Get("/v1/views/by_k?order_by=zz"), 400, "bad_request", {"zz"}, "GET ?order_by=zz");
  ExpectError(client->Get("/v1/views/by_k?limit=-1"), 400, "bad_request", {"-1"}, "GET ?limit=-1");
  ExpectError(client->Get("/v1/views/by_k?format=xml"), 400, "bad_request", {"xml"}, "GET ?format=xml");
  ExpectError(client->Get("/v2/nothing/here"), 404, "not_found", {"/v2/nothing/here"}, "GET an unknown path");
  ExpectError(client->Delete("/v1/events"), 404, "not_found", {}, "DELETE /v1/events");

  // An empty body accepts nothing: offsets from == to == the log's end (0).
  auto empty = client->Post("/v1/events", "", "application/x-ndjson");
  ASSERT_TRUE(empty) << httplib::to_string(empty.error());
  EXPECT_EQ(empty->status, 200) << empty->body;
  EXPECT_NE(empty->body.find("\"accepted\":0"), std::string::npos) << empty->body;
  EXPECT_NE(empty->body.find("\"offsets\":{\"partition\":0,\"from\":0,\"to\":0}"), std::string::npos) << empty->body;

  // A body over --max-body-bytes: 413, and nothing of it in the log.
  std::string line = "{\"k\":1,\"name\":\"product1\",\"v\":5,\"price\":1.25,\"ts\":\"2014-11-01 19:35:41.158\"}\n";
  std::string big, small;
  while (big.size() + line.size() <= 6000) big += line;
  while (small.size() + line.size() <= 4096) small += line;
  ExpectError(client->Post("/v1/events", big, "application/x-ndjson"), 413, "payload_too_large", {"4096"},
              "POST /v1/events of " + std::to_string(big.size()) + " bytes");
  auto fresh = NewClient(*server_);  // the server may close the connection after a 413
  auto res = fresh->Post("/v1/events", small, "application/x-ndjson");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const uint64_t lines_in_small = small.size() / line.size();
  EXPECT_NE(res->body.find("\"offsets\":{\"partition\":0,\"from\":0,\"to\":" + std::to_string(lines_in_small) + "}"),
            std::string::npos)
      << "the 413 body must not have been appended: " << res->body;

  // The error answers did not stop the server.
  res = fresh->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  client.reset();
  fresh.reset();
  StopServer();
}

// A filter on all the key columns is a key lookup; it must still refuse what
// the other paths refuse: an unknown order_by column, a malformed limit.
TEST_F(LiveTest, KeyLookupValidatesOrderByAndLimit) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto client = NewClient(*server_);
  ExpectError(client->Get("/v1/views/by_k?order_by=zz"), 400, "bad_request", {"zz"}, "GET by_k?order_by=zz");
  ExpectError(client->Get("/v1/views/by_k?k=1&order_by=zz"), 400, "bad_request", {"zz"},
              "GET by_k?k=1&order_by=zz (a key lookup)");
  ExpectError(client->Get("/v1/views/by_k?limit=abc"), 400, "bad_request", {"abc"}, "GET by_k?limit=abc");
  ExpectError(client->Get("/v1/views/by_k?k=1&limit=abc"), 400, "bad_request", {"abc"},
              "GET by_k?k=1&limit=abc (a key lookup)");
  ExpectError(client->Get("/v1/views/by_k?k=1&limit=-1"), 400, "bad_request", {"-1"},
              "GET by_k?k=1&limit=-1 (a key lookup)");
  client.reset();
  StopServer();
}

// SIGTERM ends the server promptly, also while a client holds an idle
// keep-alive connection (as browsers, `produce --to` and load balancers do).
TEST_F(LiveTest, SigtermWithIdleKeepAliveConnection) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto client = NewClient(*server_);
  auto res = client->Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200);
  const auto start = Clock::now();
  std::string how;
  EXPECT_EQ(server_->Terminate(milliseconds(5000), &how), 0) << "lambdaflow run after SIGTERM: " << how;
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(secs, 5.0) << "SIGTERM took " << secs << " s with an idle keep-alive connection open";
}

}  // namespace
