#include "server/request_guard.h"

#include <charconv>

namespace lf {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of `a` is compared, to itself when b is shorter, so that the
  // time tells the length of the expected token at most, never a prefix.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    const unsigned char x = static_cast<unsigned char>(a[i]);
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : static_cast<unsigned char>(~x);
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme))
    return std::nullopt;
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ' && rest.front() != '\t') return std::nullopt;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  if (rest.empty()) return std::nullopt;
  return rest;
}

namespace {

// 127.x.y.z with each part a decimal byte.
bool IsIpv4Loopback(std::string_view s) {
  int parts = 0;
  while (true) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end == s.data() || v > 255 || end - s.data() > 3) return false;
    if (parts == 0 && v != 127) return false;
    ++parts;
    s.remove_prefix(static_cast<size_t>(end - s.data()));
    if (s.empty()) return parts == 4;
    if (s.front() != '.' || parts == 4) return false;
    s.remove_prefix(1);
  }
}

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool IsLoopbackHostHeader(std::string_view host) {
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {  // [IPv6] or [IPv6]:port
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && IsPort(rest.substr(1)))) return false;
    return name.substr(1, close - 1) == "::1";
  }
  const size_t colon = name.rfind(':');
  if (colon != std::string_view::npos) {
    if (!IsPort(name.substr(colon + 1))) return false;
    name = name.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "localhost." is the same name
  return EqualsIgnoreCase(name, "localhost") || IsIpv4Loopback(name);
}

bool IsLoopbackListenAddress(std::string_view host) {
  if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "::1" || EqualsIgnoreCase(host, "localhost") || IsIpv4Loopback(host);
}

std::optional<Refusal> CheckRequest(const GuardOptions& options, const HttpRequest& head, bool write, bool health) {
  const std::string* host = head.Header("Host");
  // DNS rebinding: a page of evil.example whose name now resolves to
  // 127.0.0.1 reaches a loopback server with `Host: evil.example`.
  if (options.loopback_only && host && !IsLoopbackHostHeader(*host))
    return Refusal{403, "forbidden",
                   "Host '" + *host +
                       "' is not a loopback name, and this server listens on loopback (a defence against DNS "
                       "rebinding): use localhost, 127.0.0.1 or [::1], or listen on another address (--listen)"};
  if (head.method == "POST") {
    // A browser's cross-site request: a page elsewhere posting into this
    // server (an HTML form or a no-preflight fetch can send one).
    if (const std::string* site = head.Header("Sec-Fetch-Site"); site && EqualsIgnoreCase(*site, "cross-site"))
      return Refusal{403, "forbidden",
                     "cross-site requests from a browser may not POST here (Sec-Fetch-Site: cross-site); send "
                     "requests from a producer or client, not from a web page of another site"};
    if (const std::string* origin = head.Header("Origin")) {
      const bool same =
          host && (EqualsIgnoreCase(*origin, "http://" + *host) || EqualsIgnoreCase(*origin, "https://" + *host));
      if (!same)
        return Refusal{
            403, "forbidden",
            "Origin '" + *origin + "' is not this server's own (" + (host ? "http://" + *host : "no Host") +
                "): a browser page of another origin may not POST here; send requests from a producer or client"};
    }
  }
  if (!options.token.empty() && !health && (write || options.token_for_reads)) {
    const std::string* auth = head.Header("Authorization");
    std::optional<std::string_view> token = auth ? BearerToken(*auth) : std::nullopt;
    // Compared even when absent, so that the time says nothing.
    const bool ok = ConstantTimeEquals(options.token, token.value_or(std::string_view()));
    if (!ok || !token)
      return Refusal{
          401, "unauthorized",
          (write ? head.method + " " + head.path : std::string("this server's endpoints (require_token_for_reads)")) +
              " need the header 'Authorization: Bearer <token>' with the server's token",
          true};
  }
  return std::nullopt;
}

}  // namespace lf
