// The HTTP server of `lambdaflow run`: the API (api.h) over a Pipeline,
// served by the hardened Beast transport (http_transport.h), with the
// security defaults of the README ("Security").
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/status.h"
#include "pipeline/pipeline.h"

namespace lf {

class Api;
class GroupWorker;
class HttpTransport;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port)
  size_t max_body_bytes = 64 << 20;
  int threads = 16;  // handler threads (ingest, queries); I/O runs on its own few threads
  // When set, POST /v1/events requires `Authorization: Bearer <token>`.
  std::string token;
  // With a token: every endpoint but /healthz requires it.
  bool require_token_for_reads = false;
};

class HttpServer {
 public:
  HttpServer(Pipeline* pipeline, ServerOptions options);
  ~HttpServer();

  // Binds the listening socket; an error names the address (e.g. in use).
  Status Bind();
  int port() const;
  // A worker of a group (`run --group`, cluster/group_worker.h): set after
  // Bind (the worker publishes the bound port) and before Serve.
  void set_group(GroupWorker* group);
  // Serves until Stop (from another thread or a signal handler's thread),
  // then finishes the requests in flight.
  Status Serve();
  void Stop();

 private:
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace lf
