// The HTTP front door of `lambdaflow run` under hostile traffic: every
// reproduction of the hardening issue (abused framing, limits, slow
// clients, floods, pipelining, methods, security headers) as a named
// regression test against the real binary, through a raw socket so that
// any byte sequence can be sent.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hostile/raw_client.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
constexpr milliseconds kAnswer{5000};
constexpr size_t kLimit = 1 << 20;  // --max-body-bytes of the servers below

std::string Event(const std::string& product = "product2") {
  return R"({"zipcode":95126,"ProductName":")" + product +
         R"(","price":16,"timestamp":"2014-11-01 19:35:41.158"})"
         "\n";
}
std::string Events(int n) {
  std::string body;
  for (int i = 0; i < n; ++i) body += Event();
  return body;
}

// The server settings of the issue's reproductions: 4 handler threads, a
// 1 MiB body limit, on loopback.
class Hostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Start({}); }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  static void Start(std::vector<std::string> extra) {
    dir_ = std::make_unique<TempDir>("lf-hostile");
    std::vector<std::string> args = {"run",      "--data",           (dir_->path() / "data").string(),
                                     "--listen", "127.0.0.1:0",      "--http-threads",
                                     "4",        "--max-body-bytes", std::to_string(kLimit)};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = ServerProcess::Start(LAMBDAFLOW_BIN, args, dir_->path() / "server.err", milliseconds(20000), &error);
    ASSERT_NE(server_, nullptr) << error;
  }
  static int port() { return server_->port(); }
  std::string Host() const { return "Host: 127.0.0.1:" + std::to_string(port()) + "\r\n"; }

  // The server still answers /healthz quickly.
  void ExpectHealthy() {
    const auto t0 = Clock::now();
    // Bounds loose enough for a loaded 2-core CI machine; the bug they
    // catch held /healthz for more than 40 s.
    auto a = RawGet(port(), "/healthz", milliseconds(5000));
    ASSERT_TRUE(a.has_value()) << "no /healthz answer within 5 s";
    EXPECT_EQ(a->status, 200);
    EXPECT_LT(Clock::now() - t0, milliseconds(3000));
  }

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<ServerProcess> server_;
};
std::unique_ptr<TempDir> Hostile::dir_;
std::unique_ptr<ServerProcess> Hostile::server_;

// Finding 1: a chunked body skipped max_body_bytes (1.5 MB accepted).
TEST_F(Hostile, ChunkedBodyOverTheLimitIs413) {
  RawConnection c(port());
  ASSERT_TRUE(c.ok());
  std::string req = "POST /v1/events HTTP/1.1\r\n" + Host() + "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunk = Events(1000);  // ~95 KB
  for (size_t sent = 0; sent < kLimit * 3 / 2; sent += chunk.size()) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    req += size + chunk + "\r\n";
  }
  req += "0\r\n\r\n";
  c.Send(req);
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 413);
  EXPECT_NE(a->body.find("payload_too_large"), std::string::npos) << a->body;
  // A chunked body within the limit is accepted.
  RawConnection ok(port());
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", Event().size());
  ok.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Transfer-Encoding: chunked\r\n\r\n" + size + Event() +
          "\r\n0\r\n\r\n");
  auto b = ok.Read(kAnswer);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 200) << b->body;
}

// Finding 1, the flood: a chunked body that never ends grew the server by
// its size. Ten of them, 20 MB each, leave it bounded and responsive.
TEST_F(Hostile, ChunkedFloodKeepsMemoryBounded) {
  const long before = RssKib(server_->pid());
  std::vector<std::thread> floods;
  std::atomic<int> refused{0};
  for (int i = 0; i < 10; ++i)
    floods.emplace_back([&] {
      RawConnection c(port());
      if (!c.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Transfer-Encoding: chunked\r\n\r\n")) return;
      const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
      for (size_t sent = 0; sent < (20u << 20); sent += chunk.size())
        if (!c.Send(chunk)) break;
      auto a = c.Read(milliseconds(2000));
      if (!a || a->status == 413) ++refused;  // the answer, or a reset after it
    });
  for (auto& t : floods) t.join();
  EXPECT_EQ(refused.load(), 10);
  const long after = RssKib(server_->pid());
  EXPECT_LT(after - before, 64 * 1024) << "RSS grew from " << before << " to " << after << " KiB";
  ExpectHealthy();
}

// Finding 2: a POST without Content-Length was read without limit and
// never answered.
TEST_F(Hostile, PostWithoutContentLengthIs411) {
  RawConnection c(port());
  c.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "\r\n" + Events(3));
  c.ShutdownWrite();
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value()) << "no answer";
  EXPECT_EQ(a->status, 411);
  EXPECT_TRUE(c.WaitClosed(kAnswer));
}

// Finding 3: two different Content-Length headers were accepted.
TEST_F(Hostile, ConflictingContentLengthsAre400) {
  RawConnection c(port());
  const std::string body = Event();
  c.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Content-Length: " + std::to_string(body.size()) +
         "\r\nContent-Length: " + std::to_string(body.size() - 10) + "\r\n\r\n" + body);
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 400);
  EXPECT_TRUE(c.WaitClosed(kAnswer));
  // Content-Length with Transfer-Encoding: the smuggling shape.
  RawConnection d(port());
  d.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  auto b = d.Read(kAnswer);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 400);
}

TEST_F(Hostile, Http11WithoutHostIs400) {
  RawConnection c(port());
  c.Send("GET /healthz HTTP/1.1\r\n\r\n");
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 400);
  // HTTP/1.0 had no Host header.
  RawConnection d(port());
  d.Send("GET /healthz HTTP/1.0\r\n\r\n");
  auto b = d.Read(kAnswer);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 200);
}

TEST_F(Hostile, UnknownTransferCodingIs501) {
  RawConnection c(port());
  c.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Transfer-Encoding: gzip\r\n\r\nxxxx");
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 501);
}

// Finding 4: a form content type over 8 KB hit httplib's form limit (413).
TEST_F(Hostile, FormContentTypeBodyIsRawNdjson) {
  const std::string body = Events(500);  // ~47 KB
  auto a = RawPost(port(), "/v1/events", body, kAnswer, "Content-Type: application/x-www-form-urlencoded\r\n");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200) << a->body;
  EXPECT_NE(a->body.find("\"accepted\":500"), std::string::npos) << a->body;
}

// Finding 5: slow-loris clients held every worker; /healthz went
// unanswered. 100 of them now hold sockets only.
TEST_F(Hostile, SlowLorisLeavesHealthAndIngestResponsive) {
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(slow.back()->ok());
  }
  const std::string header = "GET /v1/views HTTP/1.1\r\n" + Host() + "X-Slow: ";
  for (size_t byte = 0; byte < 6; ++byte) {
    for (auto& c : slow) c->Send(header.substr(byte, 1));
    ExpectHealthy();
    const auto t0 = Clock::now();
    auto a = RawPost(port(), "/v1/events", Events(10), milliseconds(5000));
    ASSERT_TRUE(a.has_value()) << "ingest unanswered with 100 slow-loris connections open";
    EXPECT_EQ(a->status, 200);
    EXPECT_LT(Clock::now() - t0, milliseconds(3000));
    std::this_thread::sleep_for(milliseconds(200));
  }
}

// Finding 6: 20 MB of headers were accepted (~140 MB of memory).
TEST_F(Hostile, HeaderFloodIs431AndBounded) {
  const long before = RssKib(server_->pid());
  std::vector<std::thread> floods;
  std::atomic<int> refused{0};
  for (int i = 0; i < 10; ++i)
    floods.emplace_back([&] {
      RawConnection c(port());
      if (!c.Send("GET /healthz HTTP/1.1\r\n" + Host())) return;
      const std::string line = "X-Flood: " + std::string(1000, 'f') + "\r\n";
      for (size_t sent = 0; sent < (20u << 20); sent += line.size())
        if (!c.Send(line)) break;
      auto a = c.Read(milliseconds(2000));
      if (!a || a->status == 431) ++refused;
    });
  for (auto& t : floods) t.join();
  EXPECT_EQ(refused.load(), 10);
  EXPECT_LT(RssKib(server_->pid()) - before, 32 * 1024);
  // One flood read to its answer: 431.
  RawConnection c(port());
  c.Send("GET /healthz HTTP/1.1\r\n" + Host() + "X-Big: " + std::string(20000, 'b') + "\r\n\r\n");
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 431);
  ExpectHealthy();
}

TEST_F(Hostile, TooManyHeaderFieldsIs431) {
  std::string fields;
  for (int i = 0; i < 200; ++i) fields += "X-F" + std::to_string(i) + ": 1\r\n";
  auto a = RawGet(port(), "/healthz", kAnswer, fields);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 431);
}

// Finding 7: `Range: bytes=0-,0-,...` x1800 turned a 29 KB view into a
// 52 MB 206 answer. Ranges are not served: the whole answer, once.
TEST_F(Hostile, MultiRangeIsIgnored) {
  ASSERT_EQ(RawPost(port(), "/v1/events", Events(50), kAnswer)->status, 200);
  std::string ranges = "Range: bytes=0-";
  for (int i = 0; i < 1800; ++i) ranges += ",0-";
  auto plain = RawGet(port(), "/v1/views", kAnswer);
  auto ranged = RawGet(port(), "/v1/views", kAnswer, ranges + "\r\n");
  ASSERT_TRUE(plain && ranged);
  EXPECT_EQ(ranged->status, 200);
  EXPECT_LT(ranged->body.size(), plain->body.size() + 64);  // the same answer (its numbers may have moved)
}

// Finding 8: `?ProductName=zzz=product1` filtered on `zzz`.
TEST_F(Hostile, FilterValueKeepsEveryEqualsSign) {
  ASSERT_EQ(
      RawPost(port(), "/v1/events", Event("zzz") + Event("zzz=product1") + Event("zzz=product1"), kAnswer)->status,
      200);
  std::string body;
  for (int i = 0; i < 200; ++i) {  // until the speed layer has the events
    auto a = RawGet(port(), "/v1/views/revenue_by_product?ProductName=zzz%3Dproduct1&format=tsv", kAnswer);
    ASSERT_TRUE(a.has_value());
    body = a->body;
    if (body.find("zzz=product1\t2\t") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(body.find("zzz=product1\t2\t"), std::string::npos) << body;
  auto a = RawGet(port(), "/v1/views/revenue_by_product?ProductName=zzz=product1&format=tsv", kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200);
  EXPECT_NE(a->body.find("zzz=product1\t2\t"), std::string::npos) << a->body;
  EXPECT_EQ(a->body.find("zzz\t1\t"), std::string::npos) << a->body;
}

TEST_F(Hostile, RepeatedFilterParameterIs400) {
  auto a = RawGet(port(), "/v1/views/revenue_by_product?ProductName=a&ProductName=b", kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 400);
  auto b = RawGet(port(), "/v1/views/revenue_by_product?ProductName=%zz", kAnswer);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 400);
}

// Pipelined requests after the first were dropped.
TEST_F(Hostile, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection c(port());
  const std::string body = Events(2);
  c.Send("GET /healthz HTTP/1.1\r\n" + Host() + "\r\n" + "GET /nope HTTP/1.1\r\n" + Host() + "\r\n" +
         "POST /v1/events HTTP/1.1\r\n" + Host() + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body + "GET /v1/views/unknown HTTP/1.1\r\n" + Host() + "\r\n" + "HEAD /healthz HTTP/1.1\r\n" + Host() +
         "\r\n" + "GET /healthz HTTP/1.1\r\n" + Host() + "\r\n");
  const int expected[] = {200, 404, 200, 404, 200, 200};
  for (size_t i = 0; i < std::size(expected); ++i) {
    auto a = c.Read(kAnswer, /*head=*/i == 4);
    ASSERT_TRUE(a.has_value()) << "answer " << i << " missing";
    EXPECT_EQ(a->status, expected[i]) << "answer " << i;
    if (i == 2) {
      EXPECT_NE(a->body.find("\"accepted\":2"), std::string::npos) << a->body;
    }
    if (i == 4) {
      EXPECT_EQ(a->Header("content-length"), "16");
    }
  }
}

TEST_F(Hostile, OtherMethodsAre405WithAllow) {
  for (const char* method : {"PUT", "DELETE", "OPTIONS", "PATCH"}) {
    RawConnection c(port());
    c.Send(std::string(method) + " /v1/events HTTP/1.1\r\n" + Host() + "Content-Length: 0\r\n\r\n");
    auto a = c.Read(kAnswer);
    ASSERT_TRUE(a.has_value()) << method;
    EXPECT_EQ(a->status, 405) << method;
    EXPECT_EQ(a->Header("allow"), "POST") << method;
  }
  auto a = RawPost(port(), "/v1/views", "", kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 405);
  EXPECT_EQ(a->Header("allow"), "GET, HEAD");
}

// `Expect: 100-continue` with an oversized Content-Length: 413 at once,
// without the body being sent.
TEST_F(Hostile, ExpectContinueOverTheLimitIs413WithoutTheBody) {
  RawConnection c(port());
  c.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Content-Length: " + std::to_string(2 * kLimit) +
         "\r\nExpect: 100-continue\r\n\r\n");
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 413);
  // Within the limit: 100 Continue, then the answer.
  RawConnection d(port());
  const std::string body = Events(3);
  d.Send("POST /v1/events HTTP/1.1\r\n" + Host() + "Content-Length: " + std::to_string(body.size()) +
         "\r\nExpect: 100-continue\r\n\r\n");
  auto cont = d.Read(kAnswer);
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->status, 100);
  d.Send(body);
  auto b = d.Read(kAnswer);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 200);
}

// Browser cross-site POSTs and DNS rebinding of this loopback server.
TEST_F(Hostile, CrossSitePostsAreRefused) {
  auto a = RawPost(port(), "/v1/events", Event(), kAnswer, "Sec-Fetch-Site: cross-site\r\n");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 403);
  auto b = RawPost(port(), "/v1/query", R"({"sql":"SELECT * FROM revenue_by_product"})", kAnswer,
                   "Origin: http://evil.example\r\n");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, 403);
  auto same = RawPost(port(), "/v1/events", Event(), kAnswer,
                      "Origin: http://127.0.0.1:" + std::to_string(port()) + "\r\nSec-Fetch-Site: same-origin\r\n");
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->status, 200) << same->body;
}

TEST_F(Hostile, NonLoopbackHostIsRefusedOnLoopback) {
  RawConnection c(port());
  c.Send("GET /v1/views HTTP/1.1\r\nHost: rebind.evil.example:" + std::to_string(port()) + "\r\n\r\n");
  auto a = c.Read(kAnswer);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 403);
  for (const std::string& host :
       std::vector<std::string>{"localhost", "127.0.0.1", "[::1]:" + std::to_string(port())}) {
    RawConnection d(port());
    d.Send("GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    auto b = d.Read(kAnswer);
    ASSERT_TRUE(b.has_value()) << host;
    EXPECT_EQ(b->status, 200) << host;
  }
}

// A server with a token required for reads as well.
class HostileToken : public Hostile {
 protected:
  static void SetUpTestSuite() { Start({"--token", "s3cret-token", "--require-token-for-reads"}); }
};

// The token was compared with `==` and a lowercase `bearer` was refused.
TEST_F(HostileToken, TokenSchemeIsCaseInsensitive) {
  for (const char* auth : {"Bearer s3cret-token", "bearer s3cret-token", "BEARER  s3cret-token"}) {
    auto a = RawPost(port(), "/v1/events", Event(), kAnswer, std::string("Authorization: ") + auth + "\r\n");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 200) << auth;
  }
  for (const char* auth : {"Bearer s3cret-toke", "Bearer s3cret-token2", "Basic s3cret-token", "s3cret-token"}) {
    auto a = RawPost(port(), "/v1/events", Event(), kAnswer, std::string("Authorization: ") + auth + "\r\n");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 401) << auth;
    EXPECT_EQ(a->Header("www-authenticate"), "Bearer");
  }
}

TEST_F(HostileToken, ReadsNeedTheTokenButHealthDoesNot) {
  EXPECT_EQ(RawGet(port(), "/v1/views", kAnswer)->status, 401);
  EXPECT_EQ(RawGet(port(), "/metrics", kAnswer)->status, 401);
  EXPECT_EQ(RawGet(port(), "/v1/views", kAnswer, "Authorization: Bearer s3cret-token\r\n")->status, 200);
  EXPECT_EQ(RawGet(port(), "/healthz", kAnswer)->status, 200);
}

}  // namespace
}  // namespace lf::test
