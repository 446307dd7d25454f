#include "server/api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "common/format.h"
#include "common/time.h"
#include "plan/result_format.h"
#include "server/dashboard.h"
#include "server/producer_headers.h"
#include "server/recent_rejects.h"
#include "server/render.h"
#include "server/status_http.h"
#include "serving/query.h"

namespace lf {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kTsv = "text/tab-separated-values; charset=utf-8";

HttpResponse Body(std::string body, const char* content_type) {
  HttpResponse res;
  res.content_type = content_type;
  res.body = std::move(body);
  return res;
}

// What a path is: its metrics route, the methods it allows, and for
// /v1/views/{name} the decoded name.
struct Route {
  size_t index = Api::kRoutes.size() - 1;  // "other"
  const char* allow = nullptr;             // nullptr: no such endpoint
  std::string view;                        // of /v1/views/{name}
};

Route Match(const std::string& path) {
  static constexpr const char* kGet = "GET, HEAD";
  static constexpr const char* kPost = "POST";
  auto route = [](std::string_view name, const char* allow) {
    Route r;
    r.index = static_cast<size_t>(std::find(Api::kRoutes.begin(), Api::kRoutes.end(), name) - Api::kRoutes.begin());
    r.allow = allow;
    return r;
  };
  if (path == "/") return route("/", kGet);
  if (path == "/healthz") return route("/healthz", kGet);
  if (path == "/v1/status") return route("/v1/status", kGet);
  if (path == "/v1/history") return route("/v1/history", kGet);
  if (path == "/v1/rejects") return route("/v1/rejects", kGet);
  if (path == "/metrics") return route("/metrics", kGet);
  if (path == "/v1/events") return route("/v1/events", kPost);
  if (path == "/v1/query") return route("/v1/query", kPost);
  if (path == "/v1/views") return route("/v1/views", kGet);
  if (path == "/v1/internal/partial") return route("/v1/internal/partial", kGet);
  constexpr std::string_view kViews = "/v1/views/";
  if (path.size() > kViews.size() && path.compare(0, kViews.size(), kViews) == 0 &&
      path.find('/', kViews.size()) == std::string::npos) {
    auto name = PercentDecode(std::string_view(path).substr(kViews.size()), false);
    Route r = route("/v1/views", kGet);
    if (!name.ok()) {
      r.allow = nullptr;
      return r;
    }
    r.view = std::move(*name);
    return r;
  }
  Route r;
  for (const char* prefix : Api::kRoutes)  // a metrics label for unknown paths under a known one
    if (std::string_view(prefix) != "/" && path.rfind(prefix, 0) == 0) r = route(prefix, nullptr);
  r.allow = nullptr;
  return r;
}

bool Allows(const char* allow, const std::string& method) {
  if (method == "POST") return std::string_view(allow) == "POST";
  return (method == "GET" || method == "HEAD") && std::string_view(allow) != "POST";
}

// A value typed like `type` from the text of a query parameter.
Result<Value> ParseCell(TypeId type, const std::string& column, const std::string& text) {
  auto bad = [&](const char* what) {
    return Status::InvalidArgument("filter on column '" + column + "': '" + text + "' is not " + what);
  };
  Value v;
  v.type = type;
  v.is_null = false;
  switch (type) {
    case TypeId::kInt:
    case TypeId::kBigInt: {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v.i);
      if (ec != std::errc() || end != text.data() + text.size()) return bad("an integer");
      return v;
    }
    case TypeId::kBoolean:
      if (text == "true" || text == "false") {
        v.i = text == "true";
        return v;
      }
      return bad("true or false");
    case TypeId::kDouble: {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v.d);
      if (ec != std::errc() || end != text.data() + text.size()) return bad("a number");
      return v;
    }
    case TypeId::kTimestamp: {
      auto ms = ParseTimestamp(text);
      if (!ms) return bad("a timestamp");
      v.i = *ms;
      return v;
    }
    case TypeId::kText:
      v.s = text;
      return v;
    default:
      return bad("a supported value");
  }
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// A SQL literal for a parsed filter value.
std::string SqlLiteral(const Value& v) {
  std::string out;
  switch (v.type) {
    case TypeId::kText:
      out = "'";
      for (char c : v.s) {
        if (c == '\'') out.push_back('\'');
        out.push_back(c);
      }
      return out + "'";
    case TypeId::kDouble:
      out = "CAST('";
      AppendDouble(v.d, &out);
      return out + "' AS DOUBLE)";
    case TypeId::kTimestamp:
      out = "TIMESTAMP '";
      AppendTimestamp(v.i, &out);
      return out + "'";
    case TypeId::kBoolean:
      return v.i ? "TRUE" : "FALSE";
    default:
      return std::to_string(v.i);
  }
}

// The ORDER BY list (SQL, without the keywords) of an `order_by`
// parameter: comma-separated column names, each optionally `asc`/`desc`.
Result<std::string> OrderBySql(const std::string& spec, const std::vector<std::string>& columns,
                               const std::string& view) {
  std::string sql;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    auto trim = [&] {
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
    };
    trim();
    std::string dir;
    for (const char* d : {" desc", " asc", " DESC", " ASC"}) {
      const std::string suffix = d;
      if (item.size() > suffix.size() && item.compare(item.size() - suffix.size(), suffix.size(), suffix) == 0) {
        dir = suffix;
        item.resize(item.size() - suffix.size());
        trim();
      }
    }
    if (std::find(columns.begin(), columns.end(), item) == columns.end())
      return Status::InvalidArgument("order_by: view '" + view + "' has no column '" + item + "'");
    sql += (sql.empty() ? "" : ", ") + QuoteIdentifier(item) + dir;
  }
  return sql;
}

bool IsOption(const std::string& key) { return key == "format" || key == "limit" || key == "order_by"; }

}  // namespace

Api::Api(Pipeline* p, GuardOptions guard)
    : p_(p),
      guard_(std::move(guard)),
      started_(std::chrono::steady_clock::now()),
      recorder_([p] { return SamplePipeline(*p, NowMs()); }, &history_) {
  const ServedViews& served = p_->served();
  for (size_t v = 0; v < served.num_views(); ++v) {
    const ViewPlan& plan = served.plan(v);
    views_.push_back(ViewInfo{plan.output_names(), plan.output_types(), KeyColumns(plan)});
  }
  for (size_t i = 0; i < kRoutes.size(); ++i)
    latency_.push_back(std::make_unique<Histogram>(Histogram::LatencyBounds()));
}

// The internal route exists only for a worker of a group: a single
// process answers, counts and reports it as it always did (an unknown path).
size_t Api::RouteOf(const std::string& path) const {
  const size_t route = Match(path).index;
  return !group_ && kRoutes[route] == std::string_view("/v1/internal/partial") ? kRoutes.size() - 1 : route;
}

std::optional<HttpResponse> Api::Screen(const HttpRequest& head) {
  Route route = Match(head.path);
  if (!group_ && head.path == "/v1/internal/partial") route.allow = nullptr;
  if (!route.allow) return ErrorResponse(404, "not_found", "no such endpoint: " + head.method + " " + head.path);
  if (!Allows(route.allow, head.method)) {
    HttpResponse res = ErrorResponse(
        405, "method_not_allowed", head.method + " is not allowed on " + head.path + " (allowed: " + route.allow + ")");
    res.headers.emplace_back("Allow", route.allow);
    return res;
  }
  // Another worker's ask needs the token whenever one is set: it reads
  // every event of the partitions this worker owns.
  const bool write = head.path == "/v1/events" || head.path == "/v1/internal/partial";
  const bool health = head.path == "/healthz";
  if (auto refusal = CheckRequest(guard_, head, write, health)) {
    HttpResponse res = ErrorResponse(refusal->status, refusal->code, refusal->detail);
    if (refusal->www_authenticate) res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
  }
  return std::nullopt;
}

int Api::ViewOf(const std::string& name) const { return p_->served().FindView(name); }

bool Api::IsKeyLookup(int view, const HttpRequest& req) const {
  if (view < 0) return false;
  const std::vector<std::string>& keys = views_[static_cast<size_t>(view)].keys;
  size_t filters = 0;
  for (const auto& [key, value] : req.params) {
    if (IsOption(key)) {
      if (key == "order_by") return false;
      continue;
    }
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) return false;
    ++filters;
  }
  return filters > 0 && filters == keys.size();
}

bool Api::Cheap(const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;  // ingest waits for the log; SQL may be long
  const Route route = Match(req.path);
  if (group_ && (!route.view.empty() || req.path == "/v1/internal/partial")) return false;  // may ask other workers
  if (!route.view.empty()) return IsKeyLookup(ViewOf(route.view), req);
  // The views list counts groups and the rejects are read from disk; the
  // rest are small.
  return req.path != "/v1/views" && req.path != "/v1/rejects";
}

HttpResponse Api::Handle(const HttpRequest& req) {
  const Route route = Match(req.path);
  const std::string_view name = kRoutes[route.index];
  if (!route.view.empty()) return GetView(req, route.view);
  if (name == "/v1/events") return PostEvents(req);
  if (name == "/v1/query") return PostQuery(req);
  if (name == "/v1/internal/partial") return GetPartial(req);
  if (name == "/v1/views") return Body(ViewsJson(*p_), kJson);
  if (name == "/healthz") {
    if (stopping_) return ErrorResponse(503, "unavailable", "shutting down");
    return Body("{\"status\":\"ok\"}\n", kJson);
  }
  if (name == "/v1/status") {
    const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::string body = StatusJson(*p_, up);
    if (group_) body.insert(body.rfind('}'), ",\"group\":" + group_->StatusJson());
    return Body(std::move(body), kJson);
  }
  if (name == "/metrics") return Body(MetricsText(*p_, HttpMetrics()), "text/plain; version=0.0.4; charset=utf-8");
  if (name == "/v1/history") {
    int64_t since = 0;
    if (const std::string* since_text = req.Param("since")) {
      const std::string& t = *since_text;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), since);
      if (ec != std::errc() || end != t.data() + t.size())
        return ErrorResponse(400, "bad_request", "since must be an integer (ms since the epoch), got '" + t + "'");
    }
    return Body(history_.Json(since), kJson);
  }
  if (name == "/v1/rejects") {
    const std::string* limit_text = req.Param("limit");
    auto limit = ParseRejectsLimit(limit_text ? *limit_text : "");
    if (!limit.ok()) return StatusResponse(limit.status());
    auto body = RecentRejectsJson(p_->file_system(), p_->rejects_path(), *limit);
    if (!body.ok()) return StatusResponse(body.status());
    return Body(std::move(*body), kJson);
  }
  if (name == "/") return Body(std::string(DashboardHtml()), "text/html; charset=utf-8");
  return ErrorResponse(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
}

HttpResponse Api::Error(int status, std::string_view code, std::string detail) {
  return ErrorResponse(status, code, detail);
}

void Api::Answered(const HttpRequest& req, int status, double seconds) {
  const size_t route = req.path.empty() ? kRoutes.size() - 1 : RouteOf(req.path);
  latency_[route]->Observe(seconds);
  MutexLock lock(&mu_);
  ++requests_[{route, status}];
}

std::string Api::HttpMetrics() {
  std::string out;
  {
    MutexLock lock(&mu_);
    std::string samples;
    for (const auto& [k, n] : requests_)
      samples += std::string("lambdaflow_http_requests_total{route=\"") + kRoutes[k.first] + "\",status=\"" +
                 std::to_string(k.second) + "\"} " + std::to_string(n) + "\n";
    AppendMetric(&out, "lambdaflow_http_requests_total", "counter", "HTTP requests answered, by route and status.",
                 samples);
  }
  std::string samples;
  for (size_t r = 0; r < kRoutes.size(); ++r)
    if (group_ || kRoutes[r] != std::string_view("/v1/internal/partial"))
      AppendHistogramSamples(&samples, "lambdaflow_http_request_duration_seconds",
                             std::string("route=\"") + kRoutes[r] + "\"", latency_[r]->Read());
  AppendMetric(&out, "lambdaflow_http_request_duration_seconds", "histogram",
               "Time from a request's first byte read to its answer written, by route.", samples);
  return out;
}

HttpResponse Api::PostEvents(const HttpRequest& req) {
  auto header = [&](const char* name) {
    const std::string* v = req.Header(name);
    return v ? std::optional<std::string>(*v) : std::nullopt;
  };
  auto producer = ParseProducerHeaders(header(kProducerIdHeader), header(kProducerSeqHeader));
  if (!producer.ok()) return StatusResponse(producer.status());
  std::optional<int> partition;
  if (const std::string* text = req.Param("partition")) {
    int value = -1;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (text->empty() || ec != std::errc() || ptr != end || value < 0)
      return StatusResponse(Status::InvalidArgument("?partition= must be a partition number (0 to " +
                                                    std::to_string(p_->partitions() - 1) + "), got '" + *text + "'"));
    partition = value;
  }
  auto report = p_->Accept(req.body, *producer, partition);
  if (!report.ok()) return StatusResponse(report.status());
  std::string out = "{\"accepted\":" + std::to_string(report->accepted) + ",\"rejected\":[";
  for (size_t i = 0; i < report->rejects.size(); ++i) {
    const Reject& r = report->rejects[i];
    if (i) out.push_back(',');
    out += "{\"line\":" + std::to_string(r.line) + ",\"reason\":\"" + RejectReasonName(r.reason) + "\",\"detail\":";
    AppendJsonString(r.detail, &out);
    out += "}";
  }
  out += "]";
  auto range_json = [](const OffsetRange& r) {
    return "{\"partition\":" + std::to_string(r.partition) + ",\"from\":" + std::to_string(r.from) +
           ",\"to\":" + std::to_string(r.to) + "}";
  };
  // "offsets" when the body went to one partition; "ranges" always.
  if (report->ranges.size() == 1) out += ",\"offsets\":" + range_json(report->offsets);
  out += ",\"ranges\":[";
  for (size_t i = 0; i < report->ranges.size(); ++i) out += (i ? "," : "") + range_json(report->ranges[i]);
  out += "]";
  if (report->duplicate) out += ",\"duplicate\":true";
  out += "}\n";
  return Body(std::move(out), kJson);
}

// `r` in the asked format with its coverage.
HttpResponse Api::Answer(const HttpRequest& req, const ViewResult& r, const Coverage& c) {
  const std::string* f = req.Param("format");
  const std::string format = f ? *f : "json";
  if (format == "tsv") {
    std::string out;
    AppendTsv(r, &out);
    HttpResponse res = Body(std::move(out), kTsv);
    res.headers.emplace_back("X-Lambdaflow-Batch-Watermark", JoinWatermark(c.batch));
    res.headers.emplace_back("X-Lambdaflow-Speed-Watermark", JoinWatermark(c.speed));
    const int64_t now = NowMs();
    res.headers.emplace_back("X-Lambdaflow-Batch-Version", c.batch_version ? std::to_string(*c.batch_version) : "none");
    if (c.batch_version)
      res.headers.emplace_back("X-Lambdaflow-Batch-Age-Ms",
                               std::to_string(std::max<int64_t>(0, now - c.batch_created_ms)));
    res.headers.emplace_back("X-Lambdaflow-Freshness-Ms", std::to_string(std::max<int64_t>(0, now - c.caught_up_ms)));
    return res;
  }
  if (format == "json") {
    std::string out;
    AppendAnswerJson(r, c, NowMs(), &out);
    return Body(std::move(out), kJson);
  }
  return ErrorResponse(400, "bad_request", "format must be json or tsv, got '" + format + "'");
}

HttpResponse Api::GetView(const HttpRequest& req, const std::string& name) {
  const int view = ViewOf(name);
  if (view < 0) return ErrorResponse(404, "not_found", "unknown view '" + name + "'");
  const ViewPlan& plan = p_->served().plan(static_cast<size_t>(view));
  const ViewInfo& info = views_[static_cast<size_t>(view)];
  const auto& names = info.names;
  auto column_of = [&](const std::string& c) -> int {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == c) return static_cast<int>(i);
    return -1;
  };
  // Filters: every parameter that is not an option; each at most once.
  std::map<std::string, Value> filters;
  for (size_t i = 0; i < req.params.size(); ++i) {
    const auto& [key, text] = req.params[i];
    for (size_t j = 0; j < i; ++j)
      if (req.params[j].first == key)
        return ErrorResponse(400, "bad_request", "the parameter '" + key + "' is given more than once");
    if (IsOption(key)) continue;
    const int c = column_of(key);
    if (c < 0) return ErrorResponse(400, "bad_request", "view '" + plan.name() + "' has no column '" + key + "'");
    auto v = ParseCell(info.types[static_cast<size_t>(c)], key, text);
    if (!v.ok()) return StatusResponse(v.status());
    filters[key] = std::move(*v);
  }
  // The options, checked before any path is taken.
  std::string order_by;  // SQL, without ORDER BY
  if (const std::string* spec = req.Param("order_by")) {
    auto sql = OrderBySql(*spec, names, plan.name());
    if (!sql.ok()) return StatusResponse(sql.status());
    order_by = std::move(*sql);
  }
  std::optional<uint64_t> limit;
  if (const std::string* text = req.Param("limit")) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc() || end != text->data() + text->size())
      return ErrorResponse(400, "bad_request", "limit must be a non-negative integer, got '" + *text + "'");
    limit = n;
  }
  // A filter on exactly the key columns is a key lookup.
  const std::vector<std::string>& keys = info.keys;
  bool lookup = !filters.empty() && filters.size() == keys.size();
  for (const auto& k : keys) lookup = lookup && filters.count(k);
  std::unique_ptr<ServedViews> gathered;
  if (lookup) {
    std::vector<Value> key_values;
    for (const auto& k : keys) key_values.push_back(filters[k]);
    auto a = ViewsFor(view, &gathered).Lookup(static_cast<size_t>(view), key_values);
    if (!a.ok()) return StatusResponse(a.status());
    if (limit && *limit == 0) a->result.rows.clear();
    return Answer(req, a->result, a->coverage);
  }
  if (filters.empty() && !limit && order_by.empty()) {
    auto a = ViewsFor(view, &gathered).Materialize(static_cast<size_t>(view));
    if (!a.ok()) return StatusResponse(a.status());
    return Answer(req, *a->result, a->coverage);
  }
  // Otherwise a query over the merged view.
  std::string sql = "SELECT * FROM " + QuoteIdentifier(plan.name());
  const char* sep = " WHERE ";
  for (const auto& [k, v] : filters) {
    sql += sep + QuoteIdentifier(k) + " = " + SqlLiteral(v);
    sep = " AND ";
  }
  if (!order_by.empty()) sql += " ORDER BY " + order_by;
  if (limit) sql += " LIMIT " + std::to_string(*limit);
  return RunSql(req, sql);
}

HttpResponse Api::PostQuery(const HttpRequest& req) {
  std::string sql;
  const std::string* type = req.Header("Content-Type");
  if (type && type->rfind("text/plain", 0) == 0) {
    sql = req.body;
  } else {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view text;
    if (parser.parse(req.body).get(doc) != simdjson::SUCCESS || doc["sql"].get_string().get(text) != simdjson::SUCCESS)
      return ErrorResponse(400, "bad_request",
                           "the body must be a JSON object {\"sql\": \"SELECT ...\"} (or SQL text with "
                           "Content-Type: text/plain)");
    sql = std::string(text);
  }
  return RunSql(req, sql);
}

HttpResponse Api::RunSql(const HttpRequest& req, const std::string& sql) {
  const ServedViews& served = p_->served();
  int view = -1;
  auto prepared = PrepareQuery(sql, "query", [&](std::string_view name, StreamSchema* columns) {
    view = served.FindView(name);
    if (view >= 0) *columns = served.Columns(static_cast<size_t>(view));
    return view >= 0;
  });
  if (!prepared.ok()) {
    if (view < 0 && prepared.status().message().find("unknown view") != std::string::npos)
      return ErrorResponse(404, "not_found", prepared.status().message());
    return StatusResponse(prepared.status());
  }
  std::unique_ptr<ServedViews> gathered;
  auto answer = ViewsFor(view, &gathered).Query(static_cast<size_t>(view), prepared->bound);
  if (!answer.ok()) return StatusResponse(answer.status());
  return Answer(req, answer->result, answer->coverage);
}

const ServedViews& Api::ViewsFor(int view, std::unique_ptr<ServedViews>* gathered) {
  const ServedViews& served = p_->served();
  if (!group_ || view < 0) return served;
  std::optional<Gathered> g = group_->GatherView(static_cast<size_t>(view));
  if (!g) return served;  // owns every partition, or nobody else could answer
  std::vector<const ViewPlan*> plans;
  ViewStates states;
  for (size_t v = 0; v < served.num_views(); ++v) {
    plans.push_back(&served.plan(v));
    states.push_back(v == static_cast<size_t>(view) ? std::move(g->state) : served.plan(v).NewState());
  }
  QueryLimits limits = served.limits();
  limits.concurrency = 0;  // on this request's thread: it is a handler thread already
  *gathered = std::make_unique<ServedViews>(std::move(plans), limits);
  (*gathered)->Install(std::move(states), std::move(g->coverage));
  return **gathered;
}

HttpResponse Api::GetPartial(const HttpRequest& req) {
  if (!group_)
    return ErrorResponse(404, "not_found", "this server is not a worker of a group (run --group): it has no partials");
  const std::string* name = req.Param("view");
  if (!name) return ErrorResponse(400, "bad_request", "GET /v1/internal/partial needs ?view=NAME");
  const int view = ViewOf(*name);
  if (view < 0) return ErrorResponse(404, "not_found", "unknown view '" + *name + "'");
  auto body = group_->PartialBody(static_cast<size_t>(view));
  if (!body.ok()) return StatusResponse(body.status());
  return Body(std::move(*body), kPartialContentType);
}

}  // namespace lf
