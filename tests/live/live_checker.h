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

#include "common/murmur2.h"
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

// How the producer picks partitions: with one partition, none; else
// `?partition=P` for about half the requests and round-robin (no parameter)
// for the others; with `by_key`, never a parameter: the server splits each
// body by murmur2 of k (`--partition-by k`).
struct ProduceMode {
  int partitions = 1;
  bool by_key = false;
};

struct ProducerState {
  explicit ProducerState(int partitions = 1) : next_from(static_cast<size_t>(partitions), 0) {}
  // Per partition, where the next accepted events must land (one producer: contiguous).
  std::vector<uint64_t> next_from;
  std::vector<Event> in_flight;            // the valid events of a POST that got no answer (the server was killed)
  std::optional<int> in_flight_partition;  // its ?partition=, if it had one
  int posts = 0;
  int busy = 0;  // 503 answers (the archiver behind: backpressure), each followed by a resend of the same body
  uint64_t accepted = 0, rejected = 0;
  Clock::time_point last_answer{}, in_flight_sent{};  // of the last answered POST, of the unanswered one
};

// Checks one POST /v1/events answer against its body; returns the accepted
// ranges (partition, from, to) in partition order, or an error. `expect`:
// the partition every accepted event must land in, if known.
struct Range {
  int partition = 0;
  uint64_t from = 0, to = 0;
};
inline std::optional<std::vector<Range>> CheckPostAnswer(const httplib::Result& res, const std::vector<Line>& lines,
                                                         int partitions, bool by_key, std::optional<int> expect,
                                                         std::string* error) {
  if (res->status != 200) {
    *error = "status " + std::to_string(res->status) + ": " + res->body;
    return std::nullopt;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  uint64_t accepted = 0;
  simdjson::dom::array rejected, ranges;
  if (parser.parse(res->body).get(doc) || doc["accepted"].get(accepted) || doc["rejected"].get(rejected) ||
      doc["ranges"].get(ranges)) {
    *error = "malformed answer: " + res->body;
    return std::nullopt;
  }
  std::vector<Range> out;
  uint64_t spanned = 0;
  for (simdjson::dom::element r : ranges) {
    Range range;
    uint64_t partition = 0;
    if (r["partition"].get(partition) || r["from"].get(range.from) || r["to"].get(range.to) ||
        partition >= static_cast<uint64_t>(partitions) || range.to < range.from ||
        (!out.empty() && static_cast<int>(partition) <= out.back().partition)) {
      *error = "malformed or unordered ranges: " + res->body;
      return std::nullopt;
    }
    range.partition = static_cast<int>(partition);
    spanned += range.to - range.from;
    out.push_back(range);
  }
  // One partition: "offsets" is that range.
  if (!by_key || out.size() == 1) {
    uint64_t partition = 0, from = 0, to = 0;
    if (out.size() != 1 || doc["offsets"]["partition"].get(partition) || doc["offsets"]["from"].get(from) ||
        doc["offsets"]["to"].get(to) || partition != static_cast<uint64_t>(out[0].partition) || from != out[0].from ||
        to != out[0].to) {
      *error = "expected one range, equal to \"offsets\": " + res->body;
      return std::nullopt;
    }
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
  const bool wrong_partition = expect && out.size() == 1 && out[0].partition != *expect;
  if (accepted != want_accepted || got_rejected != want_rejected || spanned != accepted || wrong_partition) {
    std::string want_lines;
    for (uint64_t l : want_rejected) want_lines += " " + std::to_string(l);
    *error = "expected " + std::to_string(want_accepted) + " accepted, rejected lines" + want_lines +
             ", ranges spanning the accepted lines" +
             (expect ? " in partition " + std::to_string(*expect) : std::string()) + "; got " + res->body;
    return std::nullopt;
  }
  return out;
}

// The events of `valid` by partition, for a body split by key: murmur2 of
// k's decimal text; NULL keys go to the one partition whose range is longer
// than its keyed events (the request's round-robin partition). Empty when
// the ranges do not fit.
inline std::optional<std::vector<std::vector<Event>>> SplitByKey(const std::vector<Event>& valid,
                                                                 const std::vector<Range>& ranges, int partitions) {
  std::vector<uint64_t> keyed(static_cast<size_t>(partitions), 0), spanned(static_cast<size_t>(partitions), 0);
  uint64_t nulls = 0;
  for (const Event& e : valid) {
    if (e.k) {
      ++keyed[static_cast<size_t>(KeyPartition(std::to_string(*e.k), partitions))];
    } else {
      ++nulls;
    }
  }
  for (const Range& r : ranges) spanned[static_cast<size_t>(r.partition)] = r.to - r.from;
  std::optional<int> null_partition;
  for (int p = 0; p < partitions; ++p) {
    const uint64_t extra = spanned[static_cast<size_t>(p)] - keyed[static_cast<size_t>(p)];
    if (spanned[static_cast<size_t>(p)] < keyed[static_cast<size_t>(p)]) return std::nullopt;
    if (extra == 0) continue;
    if (extra != nulls || null_partition) return std::nullopt;
    null_partition = p;
  }
  if (nulls > 0 && !null_partition) return std::nullopt;
  std::vector<std::vector<Event>> out(static_cast<size_t>(partitions));
  for (const Event& e : valid)
    out[static_cast<size_t>(e.k ? KeyPartition(std::to_string(*e.k), partitions) : *null_partition)].push_back(e);
  return out;
}

// POSTs batches until `stop`, recording the accepted events in `ledger`.
// Once `killed` is set, a failed request ends the run quietly (the server
// was killed): its valid events are kept in state->in_flight. Closes the
// ledger at the end.
inline void Produce(const ServerProcess& server, EventGen& gen, Rng& pacing, Ledger& ledger,
                    const std::atomic<bool>& stop, const std::atomic<bool>& killed, ProducerState* state,
                    ProduceMode mode = {}) {
  auto client = NewClient(server);
  while (!stop) {
    std::vector<Line> lines = gen.Batch();
    std::string body;
    std::vector<Event> valid;
    for (const auto& l : lines) {
      body += l.text + "\n";
      if (l.event) valid.push_back(*l.event);
    }
    std::optional<int> partition;
    if (mode.partitions == 1) partition = 0;
    std::string path = "/v1/events";
    if (mode.partitions > 1 && !mode.by_key && pacing.Chance(50)) {
      partition = static_cast<int>(pacing.Int(0, mode.partitions - 1));
      path += "?partition=" + std::to_string(*partition);
    }
    auto sent = Clock::now();
    auto res = client->Post(path, body, "application/x-ndjson");
    // 503 is backpressure (nothing of the body was appended): a producer
    // sends the same body again shortly, as the answer says. Bounded, so
    // that a server that never recovers fails the test.
    for (int tries = 0; res && res->status == 503 && !stop && tries < 400; ++tries) {
      ++state->busy;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      sent = Clock::now();
      res = client->Post(path, body, "application/x-ndjson");
    }
    // Told to stop while the server still answered 503: nothing of the body
    // was appended (not in flight either), and there is nothing to record.
    if (res && res->status == 503 && stop) break;
    if (!res) {
      state->in_flight_sent = sent;
      if (!killed) ADD_FAILURE() << "POST " << path << " failed: " << httplib::to_string(res.error());
      state->in_flight = std::move(valid);
      state->in_flight_partition = partition;
      break;
    }
    std::string error;
    auto ranges = CheckPostAnswer(res, lines, mode.partitions, mode.by_key, partition, &error);
    if (!ranges) {
      ADD_FAILURE() << "POST " << path << " of " << lines.size() << " lines: " << error << "\nbody:\n" << body;
      break;
    }
    std::vector<std::vector<Event>> by_partition(static_cast<size_t>(mode.partitions));
    if (mode.by_key) {
      auto split = SplitByKey(valid, *ranges, mode.partitions);
      if (!split) {
        ADD_FAILURE() << "POST " << path << ": the ranges do not match murmur2 of the keys: " << res->body;
        break;
      }
      by_partition = std::move(*split);
    } else {
      by_partition[static_cast<size_t>((*ranges)[0].partition)] = valid;
    }
    bool ok = true;
    for (const Range& r : *ranges) {
      const auto& events = by_partition[static_cast<size_t>(r.partition)];
      uint64_t& next = state->next_from[static_cast<size_t>(r.partition)];
      if (r.from != next) {
        ADD_FAILURE() << "POST " << path << ": accepted events of partition " << r.partition << " at " << r.from
                      << ", expected " << next << " (one producer: each partition must be contiguous)";
        ok = false;
        break;
      }
      if (!ledger.Record(r.partition, r.from, events)) {
        ADD_FAILURE() << "POST " << path << ": offsets of partition " << r.partition << " from " << r.from
                      << " were given out before";
        ok = false;
        break;
      }
      next = r.from + events.size();
    }
    if (!ok) break;
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
  std::vector<uint64_t> w, s;  // per partition
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

// "120,340": one offset per partition.
inline std::optional<std::vector<uint64_t>> WatermarkList(std::string_view text) {
  std::vector<uint64_t> out;
  uint64_t w = 0;
  bool digit = false;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',') {
      if (!digit) return std::nullopt;
      out.push_back(w);
      w = 0;
      digit = false;
      continue;
    }
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    w = w * 10 + static_cast<uint64_t>(c - '0');
    digit = true;
  }
  return out;
}

// "off < {S}" of the oracle's SQL for the per-partition speed watermarks.
inline std::string CoverPredicate(const std::vector<uint64_t>& s) {
  if (s.size() == 1) return "off < " + std::to_string(s[0]);
  std::string out = "(";
  for (size_t p = 0; p < s.size(); ++p)
    out += (p ? " OR " : "") + std::string("p = ") + std::to_string(p) + " AND off < " + std::to_string(s[p]);
  return out + ")";
}

inline std::string Join(const std::vector<uint64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

// Reads an answer over views (JSON, or TSV with the watermark headers).
// Returns an error, or "" with *a filled.
inline std::string ParseAnswer(const httplib::Response& res, const Query& q, size_t partitions, Answer* a) {
  a->body = res.body;
  if (q.tsv) {
    auto w = WatermarkList(res.get_header_value("X-Lambdaflow-Batch-Watermark"));
    auto s = WatermarkList(res.get_header_value("X-Lambdaflow-Speed-Watermark"));
    const std::string version = res.get_header_value("X-Lambdaflow-Batch-Version");
    if (!w || !s || version.empty() || w->size() != partitions || s->size() != partitions)
      return "missing or malformed watermark headers (one offset per partition)";
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
  if (batch.size() != partitions || speed.size() != partitions)
    return "watermarks must be one offset per partition (" + std::to_string(partitions) + ")";
  for (size_t p = 0; p < partitions; ++p) {
    uint64_t w = 0, s = 0;
    if (batch.at(p).get(w) || speed.at(p).get(s)) return "a watermark is not an offset";
    a->w.push_back(w);
    a->s.push_back(s);
  }
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
  Checker(Ledger& ledger, uint64_t seed, std::string context)
      : ledger_(ledger),
        rng_(seed),
        context_(context),
        loaded_(static_cast<size_t>(ledger.partitions()), 0),
        last_s_(static_cast<size_t>(ledger.partitions()), 0) {
    db_.Exec(
        "CREATE TABLE events (p INTEGER NOT NULL, off INTEGER NOT NULL, k INTEGER, name TEXT, v INTEGER NOT NULL, "
        "price REAL, ts INTEGER NOT NULL, PRIMARY KEY (p, off))");
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
    const std::string error = ParseAnswer(*res, q, last_s_.size(), &a);
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
      Fail(q.what + ": the answer covers the log up to S=" + Join(a.s) + " but only " + Join(ledger_.prefixes()) +
           " events were acknowledged");
      return true;
    }
    Compare(q, a);
    return true;
  }

  // W <= S, S never decreasing, per partition; the batch versions seen.
  void CheckWatermarks(const Query& q, const Answer& a) {
    bool merged = false;
    for (size_t p = 0; p < a.s.size(); ++p) {
      const std::string in = a.s.size() > 1 ? " in partition " + std::to_string(p) : "";
      if (a.w[p] > a.s[p]) Fail(q.what + ": W=" + std::to_string(a.w[p]) + " > S=" + std::to_string(a.s[p]) + in);
      if (a.s[p] < last_s_[p])
        Fail(q.what + ": S went back from " + std::to_string(last_s_[p]) + " to " + std::to_string(a.s[p]) + in);
      last_s_[p] = std::max(last_s_[p], a.s[p]);
      if (a.w[p] > 0 && a.w[p] < a.s[p]) merged = true;
    }
    if (a.version) NoteVersion(*a.version);
    if (merged) ++merged_;
  }

  // Compares the answer with SQLite over the events below S, all recorded.
  void Compare(const Query& q, const Answer& a) {
    Load(a.s);
    const std::string sql = ReplaceAll(q.oracle_sql, "off < {S}", CoverPredicate(a.s));
    std::vector<std::string> diffs = CompareView(db_.get(), sql, q.cols, a.tsv);
    if (!diffs.empty()) {
      std::string text;
      for (const auto& d : diffs) text += "  " + d + "\n";
      Fail(q.what + ": differs from sqlite over the events below S=" + Join(a.s) + " (W=" + Join(a.w) +
           ", batch version " + (a.version ? std::to_string(*a.version) : "none") + ")\nsqlite: " + sql + "\n" + text +
           "answer: " + a.body.substr(0, 3000));
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
      const std::vector<uint64_t> have = ledger_.prefixes();
      bool covered = true;
      for (size_t p = 0; p < a.s.size(); ++p) covered = covered && have[p] >= a.s[p];
      if (!covered) {
        Fail(q.what + " (answered before the kill): covered the log up to S=" + Join(a.s) +
             ", but after the restart the log holds only " + Join(have) + " events");
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
  void ResetS() { std::fill(last_s_.begin(), last_s_.end(), 0); }
  uint64_t last_s() const { return last_s_[0]; }
  const std::vector<uint64_t>& last_s_all() const { return last_s_; }
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

  // Inserts the events [loaded_[p], s[p]) of every partition p into SQLite.
  void Load(const std::vector<uint64_t>& s) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_.get(), "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st, nullptr) != SQLITE_OK)
      std::abort();
    db_.Exec("BEGIN");
    for (size_t p = 0; p < s.size(); ++p) {
      if (s[p] <= loaded_[p]) continue;
      std::vector<Event> events = ledger_.Slice(static_cast<int>(p), loaded_[p], s[p]);
      for (const Event& e : events) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, static_cast<int64_t>(p));
        sqlite3_bind_int64(st, 2, static_cast<int64_t>(loaded_[p]++));
        e.k ? sqlite3_bind_int64(st, 3, *e.k) : sqlite3_bind_null(st, 3);
        e.name ? sqlite3_bind_text(st, 4, e.name->data(), static_cast<int>(e.name->size()), SQLITE_TRANSIENT)
               : sqlite3_bind_null(st, 4);
        sqlite3_bind_int64(st, 5, e.v);
        e.price ? sqlite3_bind_double(st, 6, *e.price) : sqlite3_bind_null(st, 6);
        sqlite3_bind_int64(st, 7, e.ts);
        if (sqlite3_step(st) != SQLITE_DONE) ADD_FAILURE() << sqlite3_errmsg(db_.get());
        ts_.push_back(e.ts);
      }
    }
    db_.Exec("COMMIT");
    sqlite3_finalize(st);
  }

  Ledger& ledger_;
  Rng rng_;
  const std::string context_;
  Db db_;
  std::vector<uint64_t> loaded_;  // per partition
  std::vector<int64_t> ts_;       // of the loaded events
  std::vector<uint64_t> last_s_;  // per partition
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
