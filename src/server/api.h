// The lambdaflow HTTP API (README, "HTTP API") as an HttpHandler: routing
// (404, 405 with Allow), the security checks (request_guard.h), ingest,
// merged views and queries, health, status, Prometheus metrics (with
// request latency histograms) and the dashboard. Transport-independent:
// http_transport.h feeds it.
//
// Thread safety: every method may be called from any thread at once.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/group_worker.h"
#include "common/histogram.h"
#include "common/mutex.h"
#include "pipeline/pipeline.h"
#include "server/history.h"
#include "server/http_transport.h"
#include "server/request_guard.h"

namespace lf {

class Api : public HttpHandler {
 public:
  Api(Pipeline* pipeline, GuardOptions guard);

  // This worker is one of a group's (`run --group`): reads of views gather
  // every partition's state from its owner (cluster/group_worker.h), and
  // GET /v1/internal/partial answers other workers. Set before the first
  // request; `group` must outlive the Api.
  void set_group(GroupWorker* group) { group_ = group; }

  std::optional<HttpResponse> Screen(const HttpRequest& head) override;
  bool Cheap(const HttpRequest& request) override;
  HttpResponse Handle(const HttpRequest& request) override;
  HttpResponse Error(int status, std::string_view code, std::string detail) override;
  void Answered(const HttpRequest& request, int status, double seconds) override;

  // /healthz answers 503 from now on.
  void set_stopping() {
    stopping_ = true;
    recorder_.Stop();  // the pipeline is stopped after the server
  }

  // The routes, for metrics labels: "/v1/events", ..., "/", "other".
  static constexpr std::array<const char*, 11> kRoutes = {
      "/v1/events", "/v1/views", "/v1/query", "/v1/status",           "/v1/history", "/v1/rejects",
      "/healthz",   "/metrics",  "/",         "/v1/internal/partial", "other"};

 private:
  struct ViewInfo {
    std::vector<std::string> names;
    std::vector<TypeId> types;
    std::vector<std::string> keys;  // see KeyColumns
  };

  HttpResponse PostEvents(const HttpRequest& req);
  HttpResponse GetView(const HttpRequest& req, const std::string& name);
  HttpResponse PostQuery(const HttpRequest& req);
  HttpResponse RunSql(const HttpRequest& req, const std::string& sql);
  HttpResponse Answer(const HttpRequest& req, const ViewResult& r, const Coverage& c);
  HttpResponse GetPartial(const HttpRequest& req);
  // The views a read of `view` answers from: the pipeline's served views,
  // or, in a group when partitions are owned elsewhere, a one-off
  // ServedViews (held by *gathered) with the gathered state of `view`.
  const ServedViews& ViewsFor(int view, std::unique_ptr<ServedViews>* gathered);
  // The view of GET /v1/views/{name} (-1 when unknown) and whether the
  // request is a key lookup.
  int ViewOf(const std::string& name) const;
  // The metrics route of a path (index into kRoutes).
  size_t RouteOf(const std::string& path) const;
  bool IsKeyLookup(int view, const HttpRequest& req) const;
  std::string HttpMetrics();

  Pipeline* const p_;
  const GuardOptions guard_;
  GroupWorker* group_ = nullptr;
  std::vector<ViewInfo> views_;
  const std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Histogram>> latency_;  // per kRoutes entry
  Mutex mu_;
  std::map<std::pair<size_t, int>, uint64_t> requests_ GUARDED_BY(mu_);  // (route, status) → count
  History history_;
  HistoryRecorder recorder_;  // after history_: stopped before it goes
};

}  // namespace lf
