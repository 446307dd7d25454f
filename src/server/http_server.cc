#include "server/http_server.h"

#include "server/api.h"
#include "server/http_transport.h"
#include "server/request_guard.h"

namespace lf {

HttpServer::HttpServer(Pipeline* pipeline, ServerOptions options) {
  GuardOptions guard;
  guard.token = options.token;
  guard.token_for_reads = options.require_token_for_reads;
  guard.loopback_only = IsLoopbackListenAddress(options.host);
  api_ = std::make_unique<Api>(pipeline, std::move(guard));
  TransportOptions t;
  t.host = options.host;
  t.port = options.port;
  t.max_body_bytes = options.max_body_bytes;
  t.worker_threads = std::max(1, options.threads);
  transport_ = std::make_unique<HttpTransport>(api_.get(), std::move(t));
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() { return transport_->Bind(); }
int HttpServer::port() const { return transport_->port(); }
void HttpServer::set_group(GroupWorker* group) { api_->set_group(group); }
Status HttpServer::Serve() { return transport_->Serve(); }

void HttpServer::Stop() {
  api_->set_stopping();
  transport_->Stop();
}

}  // namespace lf
