// A hardened HTTP/1.1 server on Boost.Beast and Asio, for hostile traffic,
// that knows nothing of lambdaflow: it hands each complete request to an
// HttpHandler and writes the answers back.
//
// Why Beast: its parser was written for untrusted input (header and body
// limits that apply to every framing, chunked included; conflicting
// Content-Length and Transfer-Encoding are errors) and Asio lets a few
// threads hold thousands of slow connections. cpp-httplib 0.11, which this
// replaced, has a thread per connection, no limit on chunked bodies or
// header size, and no read timeouts (README, "Security"). libmicrohttpd
// bounds these too; it was not measured here (not packaged on the build
// machines): Beast came with Boost, is header-only, and leaves the choice
// of thread per request to us (cheap answers on the I/O thread, blocking
// ones on a pool), which is what kept key lookups as fast as before.
// BENCHMARKS.md has the serving figures before and after.
//
// Threads:
//  - `io_threads` I/O threads run every socket operation (accept, reads
//    with limits and timeouts, writes). A connection holds no thread while
//    it waits, so slow clients hold sockets only.
//  - `worker_threads` handler threads run requests that may block or take
//    long (ingest waits for the group commit; queries), from a queue that
//    holds at most one request per connection. Requests the handler calls
//    cheap (HttpHandler::Cheap) run on the I/O thread instead, saving two
//    thread hand-offs.
// A connection reads its next request only after it has written the
// previous answer, so pipelined requests are answered in order.
//
// Limits and timeouts (TransportOptions): the header (request line and
// fields) in bytes and fields → 431; the body in bytes, for Content-Length
// and chunked bodies alike → 413 (with `Expect: 100-continue`, before the
// body is sent); a POST with neither → 411; a transfer coding other than
// chunked → 501. A connection is closed when it is idle, or sends its
// header or a part of its body, too slowly. Over `max_connections`, a new
// connection gets 503 and is closed; over `max_body_bytes_in_flight`, a
// request gets 503 (so memory stays bounded whatever clients send).
//
// Thread safety: Serve runs on one thread; Stop may be called from any.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http_message.h"

namespace lf {

struct TransportOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  size_t max_body_bytes = 64 << 20;
  // All bodies being read or handled at once, in bytes (a Content-Length
  // body counts whole from its header on); over it, 503 + Retry-After.
  // 0: the larger of 4 x max_body_bytes and 256 MiB.
  size_t max_body_bytes_in_flight = 0;
  size_t max_header_bytes = 16 << 10;  // request line and fields
  size_t max_header_fields = 100;
  size_t max_connections = 1024;
  int io_threads = 2;
  int worker_threads = 16;
  std::chrono::milliseconds idle_timeout{30'000};    // keep-alive: waiting for a request's first byte
  std::chrono::milliseconds header_timeout{10'000};  // from its first byte to its last header byte
  std::chrono::milliseconds body_timeout{10'000};    // longest wait for more body bytes
  std::chrono::milliseconds write_timeout{30'000};   // longest write of one answer
  std::chrono::milliseconds stop_timeout{10'000};    // Stop waits this long for requests in flight
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // On an I/O thread, with the header read (the body is not): an answer
  // here is sent without reading the body (the connection then closes
  // unless there was none). Keep it quick: no I/O, no locks held long.
  virtual std::optional<HttpResponse> Screen(const HttpRequest& head) = 0;
  // Whether Handle is quick and never blocks for this request: it then
  // runs on the I/O thread.
  virtual bool Cheap(const HttpRequest& request) = 0;
  // The answer, with the whole body read. HEAD requests come as they are;
  // the transport drops the body of the answer.
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
  // The transport's own answers (limits, bad framing) in the handler's
  // error shape.
  virtual HttpResponse Error(int status, std::string_view code, std::string detail) = 0;
  // After each answer is written (or the connection failed while writing).
  virtual void Answered(const HttpRequest& request, int status, double seconds) = 0;
};

class HttpTransport {
 public:
  HttpTransport(HttpHandler* handler, TransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Binds the listening socket; an error names the address (e.g. in use).
  Status Bind();
  int port() const;
  // Serves until Stop: stops accepting, closes idle connections and
  // connections still sending a header, waits (up to stop_timeout) for the
  // requests in flight to be answered, then returns.
  Status Serve();
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lf
