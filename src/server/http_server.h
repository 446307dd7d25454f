// The HTTP API of `lambdaflow run` (README, "HTTP API") over a Pipeline, on
// cpp-httplib: ingest (POST /v1/events), merged views and queries,
// health, status, Prometheus metrics and the dashboard.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/status.h"
#include "pipeline/pipeline.h"

namespace httplib {
class Server;
}

namespace lf {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port)
  size_t max_body_bytes = 64 << 20;
  int threads = 16;  // worker threads; a keep-alive connection holds one while open
  // When set, POST /v1/events requires `Authorization: Bearer <token>`.
  std::string token;
};

class HttpServer {
 public:
  HttpServer(Pipeline* pipeline, ServerOptions options);
  ~HttpServer();

  // Binds the listening socket; an error names the address (e.g. in use).
  Status Bind();
  int port() const { return port_; }
  // Serves until Stop (from another thread or a signal handler's thread).
  Status Serve();
  void Stop();

 private:
  class Routes;
  Pipeline* const pipeline_;
  const ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<Routes> routes_;
  int port_ = 0;
};

}  // namespace lf
