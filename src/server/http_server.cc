#include "server/http_server.h"

#include <httplib.h>
#include <simdjson.h>

#include <charconv>
#include <map>
#include <mutex>
#include <optional>

#include "common/format.h"
#include "common/time.h"
#include "plan/result_format.h"
#include "server/dashboard.h"
#include "server/render.h"
#include "serving/query.h"

namespace lf {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kTsv = "text/tab-separated-values; charset=utf-8";

// Sets the body without copying it (httplib 0.11's set_content copies).
void SetBody(httplib::Response& res, std::string body, const char* content_type) {
  res.body = std::move(body);
  res.set_header("Content-Type", content_type);
}

void SendError(httplib::Response& res, int status, std::string_view code, std::string_view detail) {
  res.status = status;
  res.set_content(ErrorJson(code, detail), kJson);
}

// Maps an engine error to its HTTP status and error code.
void SendStatus(httplib::Response& res, const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      return SendError(res, 400, "bad_request", st.message());
    case StatusCode::kNotFound:
      return SendError(res, 404, "not_found", st.message());
    case StatusCode::kUnavailable:
      res.set_header("Retry-After", "1");
      return SendError(res, 503, "unavailable", st.message());
    case StatusCode::kDeadlineExceeded:  // a query over its time budget (as Druid: 504)
      return SendError(res, 504, "query_timeout", st.message());
    case StatusCode::kResourceExhausted:  // a query over its memory budget (as Druid: 400)
      return SendError(res, 400, "resource_limit_exceeded", st.message());
    default:
      return SendError(res, 500, "internal", st.ToString());
  }
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
    case TypeId::kBigInt:
    case TypeId::kBoolean: {
      if (type == TypeId::kBoolean) {
        if (text == "true" || text == "false") {
          v.i = text == "true";
          return v;
        }
        return bad("true or false");
      }
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v.i);
      if (ec != std::errc() || end != text.data() + text.size()) return bad("an integer");
      return v;
    }
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

std::string RouteOf(const std::string& path) {
  for (const char* r : {"/v1/events", "/v1/views", "/v1/query", "/v1/status", "/healthz", "/metrics"})
    if (path.rfind(r, 0) == 0) return r;
  return path == "/" ? "/" : "other";
}

}  // namespace

// The handlers, and the counters they keep.
class HttpServer::Routes {
 public:
  explicit Routes(Pipeline* p) : p_(p), started_(std::chrono::steady_clock::now()) {
    const ServedViews& served = p_->served();
    for (size_t v = 0; v < served.num_views(); ++v) {
      const ViewPlan& plan = served.plan(v);
      views_.push_back(ViewInfo{plan.output_names(), plan.output_types(), KeyColumns(plan)});
    }
  }

  void Install(httplib::Server& s) {
    s.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(DashboardHtml()), "text/html; charset=utf-8");
    });
    s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      if (stopping_) return SendError(res, 503, "unavailable", "shutting down");
      res.set_content("{\"status\":\"ok\"}\n", kJson);
    });
    s.Get("/v1/status", [this](const httplib::Request&, httplib::Response& res) {
      const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      res.set_content(StatusJson(*p_, up), kJson);
    });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(MetricsText(*p_, HttpCounters()), "text/plain; version=0.0.4");
    });
    s.Post("/v1/events", [this](const httplib::Request& req, httplib::Response& res) { PostEvents(req, res); });
    s.Get("/v1/views",
          [this](const httplib::Request&, httplib::Response& res) { res.set_content(ViewsJson(*p_), kJson); });
    s.Get(R"(/v1/views/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) { GetView(req, res); });
    s.Post("/v1/query", [this](const httplib::Request& req, httplib::Response& res) { PostQuery(req, res); });
  }

  void Count(const httplib::Request& req, const httplib::Response& res) {
    std::lock_guard lock(mu_);
    ++requests_[{RouteOf(req.path), res.status}];
  }

  std::string HttpCounters() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [k, n] : requests_)
      out += "lambdaflow_http_requests_total{route=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " +
             std::to_string(n) + "\n";
    return out;
  }

  void set_stopping() { stopping_ = true; }

 private:
  void PostEvents(const httplib::Request& req, httplib::Response& res) {
    auto report = p_->Accept(req.body);
    if (!report.ok()) return SendStatus(res, report.status());
    std::string out = "{\"accepted\":" + std::to_string(report->accepted) + ",\"rejected\":[";
    for (size_t i = 0; i < report->rejects.size(); ++i) {
      const Reject& r = report->rejects[i];
      if (i) out.push_back(',');
      out += "{\"line\":" + std::to_string(r.line) + ",\"reason\":\"" + RejectReasonName(r.reason) + "\",\"detail\":";
      AppendJsonString(r.detail, &out);
      out += "}";
    }
    out += "],\"offsets\":{\"partition\":" + std::to_string(report->offsets.partition) +
           ",\"from\":" + std::to_string(report->offsets.from) + ",\"to\":" + std::to_string(report->offsets.to) +
           "}}\n";
    SetBody(res, std::move(out), kJson);
  }

  // Sends `r` in the asked format with its coverage.
  void SendAnswer(const httplib::Request& req, httplib::Response& res, const ViewResult& r, const Coverage& c) {
    const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
    if (format == "tsv") {
      std::string out;
      AppendTsv(r, &out);
      res.set_header("X-Lambdaflow-Batch-Watermark", JoinWatermark(c.batch));
      res.set_header("X-Lambdaflow-Speed-Watermark", JoinWatermark(c.speed));
      const int64_t now = NowMs();
      res.set_header("X-Lambdaflow-Batch-Version", c.batch_version ? std::to_string(*c.batch_version) : "none");
      if (c.batch_version)
        res.set_header("X-Lambdaflow-Batch-Age-Ms", std::to_string(std::max<int64_t>(0, now - c.batch_created_ms)));
      res.set_header("X-Lambdaflow-Freshness-Ms", std::to_string(std::max<int64_t>(0, now - c.caught_up_ms)));
      SetBody(res, std::move(out), kTsv);
    } else if (format == "json") {
      std::string out;
      AppendAnswerJson(r, c, NowMs(), &out);
      SetBody(res, std::move(out), kJson);
    } else {
      SendError(res, 400, "bad_request", "format must be json or tsv, got '" + format + "'");
    }
  }

  void GetView(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const int view = p_->served().FindView(name);
    if (view < 0) return SendError(res, 404, "not_found", "unknown view '" + name + "'");
    const ViewPlan& plan = p_->served().plan(static_cast<size_t>(view));
    const ViewInfo& info = views_[static_cast<size_t>(view)];
    const auto& names = info.names;
    const auto& types = info.types;
    auto column_of = [&](const std::string& c) -> int {
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == c) return static_cast<int>(i);
      return -1;
    };
    // Filters: every parameter that is not an option.
    std::map<std::string, Value> filters;
    for (const auto& [key, text] : req.params) {
      if (key == "format" || key == "limit" || key == "order_by") continue;
      const int c = column_of(key);
      if (c < 0) return SendError(res, 400, "bad_request", "view '" + plan.name() + "' has no column '" + key + "'");
      auto v = ParseCell(types[static_cast<size_t>(c)], key, text);
      if (!v.ok()) return SendStatus(res, v.status());
      filters[key] = std::move(*v);
    }
    // The options, checked before any path is taken.
    std::string order_by;  // SQL, without ORDER BY
    if (req.has_param("order_by")) {
      auto sql = OrderBySql(req.get_param_value("order_by"), names, plan.name());
      if (!sql.ok()) return SendStatus(res, sql.status());
      order_by = std::move(*sql);
    }
    std::optional<uint64_t> limit;
    if (req.has_param("limit")) {
      const std::string text = req.get_param_value("limit");
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size())
        return SendError(res, 400, "bad_request", "limit must be a non-negative integer, got '" + text + "'");
      limit = n;
    }
    // A filter on exactly the key columns is a key lookup.
    const std::vector<std::string>& keys = info.keys;
    bool lookup = !filters.empty() && filters.size() == keys.size();
    for (const auto& k : keys) lookup = lookup && filters.count(k);
    if (lookup) {
      std::vector<Value> key_values;
      for (const auto& k : keys) key_values.push_back(filters[k]);
      auto a = p_->served().Lookup(static_cast<size_t>(view), key_values);
      if (!a.ok()) return SendStatus(res, a.status());
      if (limit && *limit == 0) a->result.rows.clear();
      return SendAnswer(req, res, a->result, a->coverage);
    }
    if (filters.empty() && !limit && order_by.empty()) {
      auto a = p_->served().Materialize(static_cast<size_t>(view));
      if (!a.ok()) return SendStatus(res, a.status());
      return SendAnswer(req, res, *a->result, a->coverage);
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
    RunSql(req, res, sql);
  }

  void PostQuery(const httplib::Request& req, httplib::Response& res) {
    std::string sql;
    const std::string type = req.get_header_value("Content-Type");
    if (type.rfind("text/plain", 0) == 0) {
      sql = req.body;
    } else {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      std::string_view text;
      if (parser.parse(req.body).get(doc) != simdjson::SUCCESS ||
          doc["sql"].get_string().get(text) != simdjson::SUCCESS)
        return SendError(res, 400, "bad_request",
                         "the body must be a JSON object {\"sql\": \"SELECT ...\"} (or SQL text with "
                         "Content-Type: text/plain)");
      sql = std::string(text);
    }
    RunSql(req, res, sql);
  }

  void RunSql(const httplib::Request& req, httplib::Response& res, const std::string& sql) {
    const ServedViews& served = p_->served();
    int view = -1;
    auto prepared = PrepareQuery(sql, "query", [&](std::string_view name, StreamSchema* columns) {
      view = served.FindView(name);
      if (view >= 0) *columns = served.Columns(static_cast<size_t>(view));
      return view >= 0;
    });
    if (!prepared.ok()) {
      if (view < 0 && prepared.status().message().find("unknown view") != std::string::npos)
        return SendError(res, 404, "not_found", prepared.status().message());
      return SendStatus(res, prepared.status());
    }
    auto answer = served.Query(static_cast<size_t>(view), prepared->bound);
    if (!answer.ok()) return SendStatus(res, answer.status());
    SendAnswer(req, res, answer->result, answer->coverage);
  }

  // What a request needs of a view, computed once.
  struct ViewInfo {
    std::vector<std::string> names;
    std::vector<TypeId> types;
    std::vector<std::string> keys;  // see KeyColumns
  };

  Pipeline* const p_;
  std::vector<ViewInfo> views_;
  const std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // GUARDED_BY(mu_)
};

HttpServer::HttpServer(Pipeline* pipeline, ServerOptions options)
    : pipeline_(pipeline),
      options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()),
      routes_(std::make_unique<Routes>(pipeline)) {
  const int threads = std::max(2, options_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_keep_alive_max_count(1 << 20);
  // An idle keep-alive connection holds a worker thread until this timeout,
  // also at shutdown: keep it short so that SIGTERM stops promptly.
  server_->set_keep_alive_timeout(2);
  server_->set_tcp_nodelay(true);
  routes_->Install(*server_);
  const size_t limit = options_.max_body_bytes;
  // Errors httplib answers itself (no route, body too large) get the JSON
  // error shape too; answers of the handlers already have a body.
  server_->set_error_handler(
      httplib::Server::HandlerWithResponse([limit](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413) {
          SendError(res, 413, "payload_too_large",
                    "the request body is over the limit of " + std::to_string(limit) +
                        " bytes (max_body_bytes); send smaller batches");
        } else if (res.status == 404) {
          SendError(res, 404, "not_found", "no such endpoint: " + req.method + " " + req.path);
        } else {
          SendError(res, res.status, "bad_request",
                    "the request could not be handled (HTTP " + std::to_string(res.status) + ")");
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(res, 500, "internal", what);
  });
  if (!options_.token.empty()) {
    server_->set_pre_routing_handler(
        [expected = "Bearer " + options_.token](const httplib::Request& req, httplib::Response& res) {
          if (req.path != "/v1/events" || req.get_header_value("Authorization") == expected)
            return httplib::Server::HandlerResponse::Unhandled;
          res.set_header("WWW-Authenticate", "Bearer");
          SendError(res, 401, "unauthorized", "POST /v1/events needs the header 'Authorization: Bearer <token>'");
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  server_->set_logger(
      [r = routes_.get()](const httplib::Request& req, const httplib::Response& res) { r->Count(req, res); });
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() {
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
    if (port_ < 0) return Status::IOError("cannot listen on " + options_.host + " (any port)");
    return Status::OK();
  }
  if (!server_->bind_to_port(options_.host, options_.port))
    return Status::IOError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                           " (is the port in use? choose another with --listen)");
  port_ = options_.port;
  return Status::OK();
}

Status HttpServer::Serve() {
  if (!server_->listen_after_bind()) return Status::IOError("the HTTP server stopped with an error");
  return Status::OK();
}

void HttpServer::Stop() {
  routes_->set_stopping();
  server_->stop();
}

}  // namespace lf
