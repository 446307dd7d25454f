// The live tests' clients: the producer loop (POST /v1/events, checked
// against its body), the query kinds, and the checker that compares every
// answer with SQLite over exactly the events it covers. Included by
// live_test.cc only.
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

#include "live/live_events.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

namespace lf::test::live {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// The producer.

inline std::unique_ptr<httplib::Client> NewClient(const ServerProcess& s) {
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
inline std::optional<uint64_t> CheckPostAnswer(const httplib::Result& res, const std::vector<Line>& lines,
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
inline void Produce(const ServerProcess& server, EventGen& gen, Rng& pacing, Ledger& ledger,
                    const std::atomic<bool>& stop, const std::atomic<bool>& killed, ProducerState* state) {
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

inline std::string CellText(simdjson::dom::element v) {
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

inline std::optional<uint64_t> OneWatermark(std::string_view text) {
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
inline std::string ParseAnswer(const httplib::Response& res, const Query& q, Answer* a) {
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

inline std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
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
inline void QueryLoop(const ServerProcess& server, Checker& checker, const std::atomic<bool>& stop,
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

}  // namespace lf::test::live
