#include "server/http_transport.h"

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"

namespace lf {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadSize = 64 << 10;
// After an answer that closes the connection while the client may still be
// sending (e.g. a 413 before the body), the rest is read and dropped for a
// while, so that the client reads the answer instead of a reset.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr size_t kLingerBytes = 4 << 20;

// The handler threads: a queue of at most one request per connection.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    cv_.NotifyAll();
    for (auto& t : threads_) t.join();
  }
  void Submit(std::function<void()> task) {
    {
      MutexLock lock(&mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.NotifyOne();
  }

 private:
  void Run() {
    MutexLock lock(&mu_);
    while (true) {
      while (!stop_ && tasks_.empty()) cv_.Wait(&mu_);
      if (tasks_.empty()) return;  // stop_, and nothing left to run
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.Unlock();
      task();
      lock.Lock();
    }
  }
  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// The short description of a parse error for a 400 answer.
std::string ParseErrorText(const beast::error_code& ec) {
  if (ec == http::error::bad_content_length) return "invalid or conflicting Content-Length";
  if (ec == http::error::bad_transfer_encoding) return "invalid Transfer-Encoding (or one with a Content-Length)";
  return ec.message();
}

}  // namespace

class Connection;

// State shared by the listener and the connections.
struct Shared {
  HttpHandler* handler;
  TransportOptions options;
  std::unique_ptr<WorkerPool> pool;
  std::atomic<bool> stopping{false};
  size_t body_budget = 0;             // max_body_bytes_in_flight, resolved
  std::atomic<size_t> body_bytes{0};  // charged by the connections
  Mutex mu;
  CondVar cv;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections GUARDED_BY(mu);
};

// One client connection: reads a request, has it answered, writes the
// answer, and again. Every member is used on the connection's I/O thread
// only (and `request_` by the handler thread while it is being handled).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared* shared)
      : shared_(shared), socket_(std::move(socket)), buffer_(shared->options.max_header_bytes + kReadSize) {}
  ~Connection() {
    Release();
    MutexLock lock(&shared_->mu);
    shared_->connections.erase(this);
    shared_->cv.NotifyAll();
  }

  void Start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // At shutdown: closes the connection unless it is in the middle of a
  // request (reading its body, handled or being answered).
  void CancelIfWaiting() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kHeader) self->Close();
    });
  }

  // Closes the connection if its current wait is over its deadline: the
  // pending operation then ends with operation_aborted.
  void CheckDeadline(Clock::time_point now) {
    net::post(socket_.get_executor(), [self = shared_from_this(), now] {
      if (now >= self->deadline_) self->Close();
    });
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandling, kWriting, kClosing };

  const TransportOptions& opts() const { return shared_->options; }

  // Timeouts are deadlines that a sweep checks (HttpTransport::Impl::Sweep)
  // rather than a timer per operation: setting one costs no system call.
  void ExpiresAfter(std::chrono::milliseconds timeout) { deadline_ = Clock::now() + timeout; }

  // Counts this request's body as `total` bytes against the budget of
  // bodies in flight; false (and nothing charged) when over it.
  bool Charge(size_t total) {
    if (total <= charged_) return true;
    const size_t delta = total - charged_;
    if (shared_->body_bytes.fetch_add(delta) + delta > shared_->body_budget) {
      shared_->body_bytes.fetch_sub(delta);
      return false;
    }
    charged_ = total;
    return true;
  }
  void Release() {
    shared_->body_bytes.fetch_sub(charged_);
    charged_ = 0;
  }
  void FailBusy() {
    Fail(503, "unavailable",
         "the server is reading or handling too many request bodies at once (" + std::to_string(shared_->body_budget) +
             " bytes); retry in a second");
  }

  void WaitForRequest() {
    if (shared_->stopping) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(opts().max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(opts().max_body_bytes));
    request_ = HttpRequest();  // frees the previous body
    Release();
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    phase_ = Phase::kIdle;
    ExpiresAfter(opts().idle_timeout);
    socket_.async_read_some(buffer_.prepare(kReadSize), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    phase_ = Phase::kHeader;
    started_ = Clock::now();
    ExpiresAfter(opts().header_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset)
      return Close();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return Fail(431, "header_too_large",
                  "the request header is over " + std::to_string(opts().max_header_bytes) + " bytes");
    if (ec == http::error::body_limit) return FailTooLarge();
    if (ec) return Fail(400, "bad_request", "malformed request: " + ParseErrorText(ec));

    const auto& msg = parser_->get();
    request_.method = std::string(msg.method_string());
    request_.target = std::string(msg.target());
    size_t fields = 0;
    for (const auto& f : msg) {
      if (++fields > opts().max_header_fields)
        return Fail(431, "header_too_large",
                    "the request has more than " + std::to_string(opts().max_header_fields) + " header fields");
      request_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    const size_t q = request_.target.find('?');
    request_.path = request_.target.substr(0, q);
    if (request_.path.empty() || request_.path.front() != '/')
      return Fail(400, "bad_request", "the request target must be a path starting with '/'");
    if (q != std::string::npos) {
      auto params = ParseQuery(std::string_view(request_.target).substr(q + 1));
      if (!params.ok()) return Fail(400, "bad_request", "query string: " + params.status().message());
      request_.params = std::move(*params);
    }
    if (version_ >= 11 && !request_.Header("Host"))
      return Fail(400, "bad_request", "an HTTP/1.1 request needs a Host header");
    if (request_.Header("Transfer-Encoding") && !parser_->chunked())
      return Fail(501, "not_implemented", "only the chunked transfer coding is supported");
    if (request_.method == "POST" && !parser_->chunked() && !parser_->content_length())
      return Fail(411, "length_required", "a POST needs a Content-Length (or Transfer-Encoding: chunked) header");
    if (std::optional<HttpResponse> early = shared_->handler->Screen(request_)) {
      if (!parser_->is_done()) early->close = true;  // its body is not read
      return Write(std::move(*early));
    }
    if (parser_->is_done()) return Dispatch();
    if (parser_->content_length() && !Charge(static_cast<size_t>(*parser_->content_length()))) return FailBusy();
    const std::string* expect = request_.Header("Expect");
    if (expect && EqualsIgnoreCase(*expect, "100-continue") && version_ >= 11) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      ExpiresAfter(opts().write_timeout);
      return net::async_write(socket_, net::buffer(kContinue),
                              [self = shared_from_this()](beast::error_code ec, size_t) {
                                if (ec) return self->Close();
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  void ReadBody() {
    phase_ = Phase::kBody;
    ExpiresAfter(opts().body_timeout);
    http::async_read_some(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->FailTooLarge();
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
          ec == net::error::connection_reset)
        return self->Close();
      if (ec) return self->Fail(400, "bad_request", "malformed request body: " + ParseErrorText(ec));
      if (self->parser_->chunked() && !self->Charge(self->parser_->get().body().size())) return self->FailBusy();
      if (self->parser_->is_done()) return self->Dispatch();
      self->ReadBody();
    });
  }

  void Dispatch() {
    phase_ = Phase::kHandling;
    request_.body = std::move(parser_->get().body());
    if (shared_->handler->Cheap(request_)) return Write(Handle());
    deadline_ = Clock::time_point::max();
    shared_->pool->Submit([self = shared_from_this()] {
      HttpResponse res = self->Handle();
      net::post(self->socket_.get_executor(), [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    });
  }

  // The handler's answer; an exception (which no handler should let out)
  // becomes a 500 rather than the end of the process.
  HttpResponse Handle() {
    try {
      return shared_->handler->Handle(request_);
    } catch (const std::exception& e) {
      return shared_->handler->Error(500, "internal", std::string("unexpected exception: ") + e.what());
    } catch (...) {
      return shared_->handler->Error(500, "internal", "unexpected exception");
    }
  }

  void FailTooLarge() {
    Fail(413, "payload_too_large",
         "the request body is over the limit of " + std::to_string(opts().max_body_bytes) +
             " bytes (max_body_bytes); send smaller batches");
  }

  // An answer of the transport itself; the connection closes after it.
  void Fail(int status, std::string_view code, std::string detail) {
    if (request_.method.empty()) request_.method = "-";
    HttpResponse res = shared_->handler->Error(status, code, std::move(detail));
    if (status == 503) res.headers.emplace_back("Retry-After", "1");
    res.close = true;
    Write(std::move(res));
  }

  // Writes the answer: the status line and header fields built here, the
  // body as it is (none for HEAD).
  void Write(HttpResponse res) {
    phase_ = Phase::kWriting;
    const bool close = res.close || !keep_alive_ || shared_->stopping;
    status_ = res.status;
    std::string& h = out_head_;
    h.assign(version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    h += std::to_string(res.status);
    h += ' ';
    const auto reason = http::obsolete_reason(static_cast<http::status>(res.status));
    h.append(reason.data(), reason.size());
    h += "\r\n";
    if (!res.content_type.empty()) h += "Content-Type: " + res.content_type + "\r\n";
    for (const auto& [k, v] : res.headers) h += k + ": " + v + "\r\n";
    h += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    if (close) {
      h += "Connection: close\r\n";
    } else if (version_ == 10) {
      h += "Connection: keep-alive\r\n";
    }
    h += "\r\n";
    out_body_ = std::move(res.body);
    if (request_.method == "HEAD") out_body_.clear();
    ExpiresAfter(opts().write_timeout);
    const std::array<net::const_buffer, 2> buffers = {net::buffer(out_head_), net::buffer(out_body_)};
    net::async_write(socket_, buffers, [self = shared_from_this(), close](beast::error_code ec, size_t) {
      self->deadline_ = Clock::time_point::max();
      self->shared_->handler->Answered(self->request_, self->status_,
                                       std::chrono::duration<double>(Clock::now() - self->started_).count());
      if (ec) return self->Close();
      if (close) return self->Linger();
      self->WaitForRequest();
    });
  }

  // Half-closes, then drops what the client still sends for a while.
  void Linger() {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    ExpiresAfter(kLingerTimeout);
    LingerRead();
  }
  void LingerRead() {
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(kReadSize), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->Close();
      self->LingerRead();
    });
  }

  void Close() {
    phase_ = Phase::kClosing;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Shared* const shared_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  Clock::time_point deadline_ = Clock::time_point::max();  // of the pending read or write
  std::string out_head_, out_body_;                        // the answer being written
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  Phase phase_ = Phase::kIdle;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  int status_ = 0;
  size_t lingered_ = 0;
  size_t charged_ = 0;  // of shared_->body_bytes, for the current body
  Clock::time_point started_;
};

class HttpTransport::Impl {
 public:
  Impl(HttpHandler* handler, TransportOptions options) : iocs_(MakeContexts(options.io_threads)), acceptor_(*iocs_[0]) {
    shared_.handler = handler;
    shared_.options = std::move(options);
    const size_t body = shared_.options.max_body_bytes;
    shared_.body_budget = shared_.options.max_body_bytes_in_flight > 0
                              ? shared_.options.max_body_bytes_in_flight
                              : std::max<size_t>(body > SIZE_MAX / 4 ? SIZE_MAX : 4 * body, size_t{256} << 20);
  }

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < std::max(1, threads); ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  Status Bind() {
    beast::error_code ec;
    const std::string& host = shared_.options.host;
    const std::string where = host + ":" + std::to_string(shared_.options.port);
    tcp::resolver resolver(*iocs_[0]);
    auto results = resolver.resolve(host, std::to_string(shared_.options.port), ec);
    if (ec || results.empty())
      return Status::IOError("cannot listen on " + where + ": cannot resolve '" + host + "' (" + ec.message() + ")");
    const tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return Status::IOError("cannot listen on " + where + ": " + ec.message() +
                             " (is the port in use? choose another with --listen)");
    port_ = acceptor_.local_endpoint().port();
    RaiseFileLimit();
    return Status::OK();
  }

  int port() const { return port_; }

  Status Serve() {
    if (!acceptor_.is_open()) return Status::Internal("HttpTransport::Serve before a successful Bind");
    shared_.pool = std::make_unique<WorkerPool>(shared_.options.worker_threads);
    Accept();
    Sweep();
    std::vector<std::thread> io;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> busy;
    for (auto& ioc : iocs_) {
      busy.push_back(net::make_work_guard(*ioc));
      io.emplace_back([&ioc] { ioc->run(); });
    }
    {
      MutexLock lock(&shared_.mu);
      while (!shared_.stopping.load()) shared_.cv.Wait(&shared_.mu);
    }
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);  // the sweep goes on: requests in flight keep their deadlines
    });
    std::vector<std::shared_ptr<Connection>> open;
    {
      MutexLock lock(&shared_.mu);
      for (auto& [raw, weak] : shared_.connections)
        if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    for (auto& c : open) c->CancelIfWaiting();
    open.clear();
    {
      MutexLock lock(&shared_.mu);
      const auto deadline = Clock::now() + shared_.options.stop_timeout;
      while (!shared_.connections.empty() && shared_.cv.WaitUntil(&shared_.mu, deadline)) {
      }
    }
    for (auto& ioc : iocs_) ioc->stop();
    for (auto& t : io) t.join();
    shared_.pool.reset();  // runs what is queued (their writes go nowhere), joins
    return Status::OK();
  }

  // Every 250 ms: closes the connections whose wait is over its deadline
  // (so timeouts are accurate to a quarter second).
  void Sweep() {
    sweep_timer_.expires_after(std::chrono::milliseconds(250));
    sweep_timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      const auto now = Clock::now();
      std::vector<std::shared_ptr<Connection>> open;
      {
        MutexLock lock(&shared_.mu);
        open.reserve(shared_.connections.size());
        for (auto& [raw, weak] : shared_.connections)
          if (auto c = weak.lock()) open.push_back(std::move(c));
      }
      for (auto& c : open) c->CheckDeadline(now);
      open.clear();
      Sweep();
    });
  }

  void Stop() {
    MutexLock lock(&shared_.mu);
    shared_.stopping = true;
    shared_.cv.NotifyAll();
  }

 private:
  void Accept() {
    // Connections are spread over the I/O threads; each stays on its own.
    net::io_context& ioc = *iocs_[next_++ % iocs_.size()];
    acceptor_.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) Admit(std::move(socket));
      Accept();
    });
  }

  void Admit(tcp::socket socket) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<Connection> c;
    {
      MutexLock lock(&shared_.mu);
      if (shared_.connections.size() >= shared_.options.max_connections || shared_.stopping) {
        // Over the limit: a best-effort 503 without waiting, then close.
        static const std::string kBusy = [] {
          const std::string body =
              "{\"error\":\"unavailable\",\"detail\":\"too many connections; retry in a second\"}\n";
          return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                 "Connection: close\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
        }();
        socket.non_blocking(true, ignored);
        socket.write_some(net::buffer(kBusy), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        return;
      }
      c = std::make_shared<Connection>(std::move(socket), &shared_);
      shared_.connections.emplace(c.get(), c);
    }
    c->Start();
  }

  // Each connection is a file descriptor: allow max_connections of them
  // beside the data directory's files.
  void RaiseFileLimit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    const rlim_t want = static_cast<rlim_t>(shared_.options.max_connections) + 1024;
    if (lim.rlim_cur >= want) return;
    lim.rlim_cur = std::min(want, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }

  Shared shared_;
  // One context per I/O thread (run by it alone: no locking inside Asio,
  // and a connection's completions never hop between threads).
  std::vector<std::unique_ptr<net::io_context>> iocs_;
  tcp::acceptor acceptor_;
  net::steady_timer sweep_timer_{*iocs_[0]};
  size_t next_ = 0;  // used by the accept handler only
  int port_ = 0;
};

HttpTransport::HttpTransport(HttpHandler* handler, TransportOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}
HttpTransport::~HttpTransport() = default;
Status HttpTransport::Bind() { return impl_->Bind(); }
int HttpTransport::port() const { return impl_->port(); }
Status HttpTransport::Serve() { return impl_->Serve(); }
void HttpTransport::Stop() { impl_->Stop(); }

}  // namespace lf
