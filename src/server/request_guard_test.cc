#include "server/request_guard.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

HttpRequest Head(std::string method, std::string path, HttpFields headers) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

TEST(RequestGuardTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secre"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(RequestGuardTest, BearerSchemeIsCaseInsensitive) {
  EXPECT_EQ(BearerToken("Bearer abc").value_or(""), "abc");
  EXPECT_EQ(BearerToken("bearer abc").value_or(""), "abc");
  EXPECT_EQ(BearerToken("BEARER   abc ").value_or(""), "abc");
  EXPECT_FALSE(BearerToken("Basic abc").has_value());
  EXPECT_FALSE(BearerToken("Bearerabc").has_value());
  EXPECT_FALSE(BearerToken("Bearer ").has_value());
}

TEST(RequestGuardTest, LoopbackHostNames) {
  for (const char* ok : {"localhost", "LOCALHOST:8080", "127.0.0.1", "127.0.0.1:80", "127.1.2.3:65535", "[::1]",
                         "[::1]:8080", "localhost."})
    EXPECT_TRUE(IsLoopbackHostHeader(ok)) << ok;
  for (const char* bad : {"evil.example", "evil.example:8080", "127.0.0.1.evil.example", "128.0.0.1", "127.0.0.256",
                          "[::2]", "[::1]x", "localhost:port", "", "127.0.0", "localhost.evil"})
    EXPECT_FALSE(IsLoopbackHostHeader(bad)) << bad;
  EXPECT_TRUE(IsLoopbackListenAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackListenAddress("::1"));
  EXPECT_TRUE(IsLoopbackListenAddress("localhost"));
  EXPECT_FALSE(IsLoopbackListenAddress("0.0.0.0"));
}

TEST(RequestGuardTest, DnsRebindingIsRefusedOnLoopbackOnly) {
  GuardOptions loopback;
  loopback.loopback_only = true;
  const HttpRequest evil = Head("GET", "/v1/views", {{"Host", "evil.example:8080"}});
  auto r = CheckRequest(loopback, evil, false, false);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(CheckRequest(GuardOptions{}, evil, false, false).has_value());
  EXPECT_FALSE(CheckRequest(loopback, Head("GET", "/v1/views", {{"Host", "127.0.0.1:9"}}), false, false));
}

TEST(RequestGuardTest, CrossSitePostsAreRefused) {
  GuardOptions o;
  auto post = [&](HttpFields h) { return CheckRequest(o, Head("POST", "/v1/events", std::move(h)), true, false); };
  EXPECT_EQ(post({{"Host", "127.0.0.1:8080"}, {"Sec-Fetch-Site", "cross-site"}})->status, 403);
  EXPECT_EQ(post({{"Host", "127.0.0.1:8080"}, {"Origin", "http://evil.example"}})->status, 403);
  EXPECT_EQ(post({{"Host", "127.0.0.1:8080"}, {"Origin", "null"}})->status, 403);
  EXPECT_FALSE(post({{"Host", "127.0.0.1:8080"}, {"Origin", "http://127.0.0.1:8080"}}).has_value());
  EXPECT_FALSE(post({{"Host", "127.0.0.1:8080"}, {"Sec-Fetch-Site", "same-origin"}}).has_value());
  EXPECT_FALSE(post({{"Host", "127.0.0.1:8080"}}).has_value());
  // A GET from another site is a read (and cannot read the answer without CORS).
  EXPECT_FALSE(CheckRequest(o, Head("GET", "/v1/views", {{"Sec-Fetch-Site", "cross-site"}}), false, false));
}

TEST(RequestGuardTest, TokenForWritesAndOptionallyReads) {
  GuardOptions o;
  o.token = "s3cret";
  auto check = [&](const char* method, const char* path, HttpFields h, bool write, bool health) {
    return CheckRequest(o, Head(method, path, std::move(h)), write, health);
  };
  EXPECT_EQ(check("POST", "/v1/events", {}, true, false)->status, 401);
  EXPECT_EQ(check("POST", "/v1/events", {{"Authorization", "Bearer wrong"}}, true, false)->status, 401);
  EXPECT_FALSE(check("POST", "/v1/events", {{"Authorization", "bearer s3cret"}}, true, false));
  EXPECT_FALSE(check("GET", "/v1/views", {}, false, false));
  // Another worker's ask is a "write": it needs the token even for a GET,
  // and the refusal names what was asked.
  auto internal = check("GET", "/v1/internal/partial", {}, true, false);
  ASSERT_TRUE(internal.has_value());
  EXPECT_EQ(internal->status, 401);
  EXPECT_NE(internal->detail.find("GET /v1/internal/partial"), std::string::npos) << internal->detail;
  EXPECT_FALSE(check("GET", "/v1/internal/partial", {{"Authorization", "Bearer s3cret"}}, true, false));
  o.token_for_reads = true;
  EXPECT_EQ(check("GET", "/v1/views", {}, false, false)->status, 401);
  EXPECT_FALSE(check("GET", "/v1/views", {{"Authorization", "Bearer s3cret"}}, false, false));
  EXPECT_FALSE(check("GET", "/healthz", {}, false, true));
}

}  // namespace
}  // namespace lf
