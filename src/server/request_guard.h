// The security checks every request passes before a handler runs (README,
// "Security"): the bearer token (compared in constant time, the scheme in
// any case), browser cross-site writes, and DNS rebinding of a loopback
// server. They look at the header only, so that a refused request's body
// is never read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/http_message.h"

namespace lf {

struct GuardOptions {
  std::string token;             // empty: no token needed
  bool token_for_reads = false;  // the token is needed for every endpoint but /healthz
  bool loopback_only = false;    // the server listens on loopback: only loopback Host names
};

// An answer that refuses the request, or nullopt when it may proceed.
struct Refusal {
  int status;
  std::string code;    // the JSON error code, e.g. "unauthorized"
  std::string detail;  // what, why, and what to do
  bool www_authenticate = false;
};

// `write`: the request appends events (POST /v1/events) or is another
// worker's (GET /v1/internal/...): it needs the token whenever one is set;
// reads are the rest.
// Every POST is refused when a browser says it comes from another site.
// `health`: GET /healthz, open to every client that reaches the server.
std::optional<Refusal> CheckRequest(const GuardOptions& options, const HttpRequest& head, bool write, bool health);

// True when a == b, in time that depends on their lengths only.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The token of an `Authorization: Bearer <token>` value (scheme in any
// case), or nullopt.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// A Host header value naming this machine's loopback interface:
// localhost, 127.x.y.z or [::1], each with or without a port.
bool IsLoopbackHostHeader(std::string_view host);

// A listen address on the loopback interface (localhost, 127.x.y.z, ::1).
bool IsLoopbackListenAddress(std::string_view host);

}  // namespace lf
