// The hardened transport (src/server/http_transport.h) in process, with
// timeouts and limits short enough to watch: slow clients are cut off, the
// connection limit holds, pipelined answers keep their order even when the
// first one is slow, and Stop waits for a request in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "hostile/raw_client.h"
#include "server/http_transport.h"
#include "server/status_http.h"

namespace lf {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using test::RawConnection;

// Answers every request with its path; /slow takes 300 ms on the pool.
class EchoHandler : public HttpHandler {
 public:
  std::optional<HttpResponse> Screen(const HttpRequest&) override { return std::nullopt; }
  bool Cheap(const HttpRequest& r) override { return r.path != "/slow"; }
  HttpResponse Handle(const HttpRequest& r) override {
    if (r.path == "/slow") std::this_thread::sleep_for(milliseconds(300));
    ++handled;
    HttpResponse res;
    res.content_type = "text/plain";
    res.body = r.path;
    return res;
  }
  HttpResponse Error(int status, std::string_view code, std::string detail) override {
    return ErrorResponse(status, code, detail);
  }
  void Answered(const HttpRequest&, int, double) override {}
  std::atomic<int> handled{0};
};

class TransportTest : public ::testing::Test {
 protected:
  void Start(TransportOptions o) {
    o.port = 0;
    transport_ = std::make_unique<HttpTransport>(&handler_, o);
    ASSERT_TRUE(transport_->Bind().ok());
    serving_ = std::thread([this] { served_ = transport_->Serve(); });
  }
  void TearDown() override {
    if (transport_) transport_->Stop();
    if (serving_.joinable()) serving_.join();
  }
  std::string Get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"; }

  EchoHandler handler_;
  std::unique_ptr<HttpTransport> transport_;
  std::thread serving_;
  Status served_;
};

TEST_F(TransportTest, SlowHeaderIsCutOffAtTheHeaderTimeout) {
  TransportOptions o;
  o.header_timeout = milliseconds(400);
  Start(o);
  RawConnection c(transport_->port());
  const auto t0 = Clock::now();
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHo"));  // and then nothing more
  EXPECT_TRUE(c.WaitClosed(milliseconds(3000)));
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, milliseconds(350));
  EXPECT_LT(took, milliseconds(2000));
}

TEST_F(TransportTest, TricklingHeaderIsCutOffToo) {
  // The header timeout runs from the first byte: one byte every 100 ms
  // does not keep the connection.
  TransportOptions o;
  o.header_timeout = milliseconds(500);
  Start(o);
  RawConnection c(transport_->port());
  const std::string header = "GET /x HTTP/1.1\r\nHost: h\r\nX-Slow: " + std::string(100, 'a');
  bool cut = false;
  for (size_t i = 0; i < 30 && !cut; ++i) {
    cut = !c.Send(header.substr(i, 1)) || c.WaitClosed(milliseconds(100));
  }
  EXPECT_TRUE(cut) << "a header trickling for 3 s was not cut off after 0.5 s";
}

TEST_F(TransportTest, StalledBodyIsCutOffAtTheBodyTimeout) {
  TransportOptions o;
  o.body_timeout = milliseconds(400);
  Start(o);
  RawConnection c(transport_->port());
  ASSERT_TRUE(c.Send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly a part"));
  EXPECT_TRUE(c.WaitClosed(milliseconds(3000)));
  EXPECT_EQ(handler_.handled.load(), 0);
}

TEST_F(TransportTest, IdleKeepAliveIsClosedAtTheIdleTimeout) {
  TransportOptions o;
  o.idle_timeout = milliseconds(400);
  Start(o);
  RawConnection c(transport_->port());
  ASSERT_TRUE(c.Send(Get("/a")));
  auto a = c.Read(milliseconds(2000));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->body, "/a");
  EXPECT_TRUE(c.WaitClosed(milliseconds(3000)));
}

TEST_F(TransportTest, ConnectionsOverTheLimitGet503) {
  TransportOptions o;
  o.max_connections = 3;
  Start(o);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(transport_->port()));
    ASSERT_TRUE(held.back()->Send(Get("/held")));
    ASSERT_TRUE(held.back()->Read(milliseconds(2000)).has_value());
  }
  RawConnection extra(transport_->port());
  auto a = extra.Read(milliseconds(2000));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 503);
  EXPECT_EQ(a->Header("retry-after"), "1");
  held.pop_back();  // one closes: a new connection is served again
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    RawConnection again(transport_->port());
    again.Send(Get("/again"));
    auto b = again.Read(milliseconds(2000));
    served = b && b->status == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST_F(TransportTest, BodiesInFlightAreBounded) {
  TransportOptions o;
  o.max_body_bytes = 1000;
  o.max_body_bytes_in_flight = 1500;
  Start(o);
  auto post = [](size_t length) {
    return "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
  };
  RawConnection a(transport_->port());
  ASSERT_TRUE(a.Send(post(1000) + std::string(10, 'a')));  // 1000 bytes held, most still to come
  std::this_thread::sleep_for(milliseconds(100));
  RawConnection b(transport_->port());
  ASSERT_TRUE(b.Send(post(1000)));
  auto busy = b.Read(milliseconds(2000));
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->Header("retry-after"), "1");
  // A chunked body is counted as it arrives: 600 more bytes are over too.
  RawConnection c(transport_->port());
  ASSERT_TRUE(c.Send("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                     std::string(600, 'c') + "\r\n"));
  auto busy2 = c.Read(milliseconds(2000));
  ASSERT_TRUE(busy2.has_value());
  EXPECT_EQ(busy2->status, 503);
  // Once the first body is answered, its bytes are free again.
  ASSERT_TRUE(a.Send(std::string(990, 'a')));
  auto done = a.Read(milliseconds(2000));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->status, 200);
  RawConnection d(transport_->port());
  ASSERT_TRUE(d.Send(post(1000) + std::string(1000, 'd')));
  auto ok = d.Read(milliseconds(2000));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TransportTest, PipelinedAnswersKeepTheirOrderBehindASlowOne) {
  Start(TransportOptions{});
  RawConnection c(transport_->port());
  ASSERT_TRUE(c.Send(Get("/slow") + Get("/fast1") + Get("/fast2")));
  for (const char* path : {"/slow", "/fast1", "/fast2"}) {
    auto a = c.Read(milliseconds(3000));
    ASSERT_TRUE(a.has_value()) << path;
    EXPECT_EQ(a->body, path);
  }
}

TEST_F(TransportTest, StopAnswersTheRequestInFlight) {
  Start(TransportOptions{});
  RawConnection c(transport_->port());
  ASSERT_TRUE(c.Send(Get("/slow")));
  std::this_thread::sleep_for(milliseconds(100));  // the handler is running
  transport_->Stop();
  auto a = c.Read(milliseconds(3000));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->body, "/slow");
  EXPECT_EQ(a->Header("connection"), "close");
  serving_.join();
  EXPECT_TRUE(served_.ok()) << served_.ToString();
}

}  // namespace
}  // namespace lf
