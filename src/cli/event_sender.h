// The HTTP client side of the CLI (README, "HTTP API"): server URLs, single
// requests with the server's error answers turned into a Status, and the
// sender behind `lambdaflow produce --to`, which POSTs seed events to
// /v1/events over keep-alive connections and measures acknowledgment latency.
//
// httplib stays out of this header so that the commands including it do not
// pay for parsing it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/progress_counters.h"
#include "common/status.h"

namespace lf::cli {

// A server as given on the command line: "http://HOST:PORT[/PREFIX]" (the
// scheme defaults to http; https works too).
struct ServerUrl {
  std::string origin;  // "http://127.0.0.1:8080": what httplib::Client takes
  std::string prefix;  // "" or "/PREFIX", without a trailing slash

  // The full URL of `target` (a path with an optional query), for messages.
  std::string Url(std::string_view target) const { return origin + prefix + std::string(target); }
};

// `flag` names the option in the error message ("--to").
Result<ServerUrl> ParseServerUrl(std::string_view url, std::string_view flag);

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of a header (case-insensitive name), "" when absent.
  std::string Header(std::string_view name) const;
};

// One request on a fresh connection. A transport failure (refused, reset,
// timed out) is an IOError naming the URL; any HTTP status is an answer.
Result<HttpAnswer> HttpGet(const ServerUrl& server, const std::string& target);
Result<HttpAnswer> HttpPost(const ServerUrl& server, const std::string& target, const std::string& body,
                            const std::string& content_type);

// The {"error": code, "detail": ...} body of an error answer. A body that is
// not such an object (a proxy's HTML page, say) becomes the detail, shortened.
struct ServerError {
  std::string code;
  std::string detail;
};
ServerError ParseServerError(int status, std::string_view body);

// ---- produce --to ----

struct SendOptions {
  ServerUrl server;
  int64_t count = 0;  // 0: until *interrupted
  double rate = 0;    // events per second over all connections; 0: no pacing
  uint64_t seed = 1;
  int64_t batch = 1000;  // events per request
  int connections = 1;
  std::string token;  // sent as "Authorization: Bearer <token>" when not empty
  // Set (by a signal handler) to stop after the requests in flight.
  const std::atomic<bool>* interrupted = nullptr;
  // Advanced by the events of each request answered 2xx; may be null.
  ProgressCounters* progress = nullptr;
};

// A 503 answer is retried after its Retry-After, a lost answer (once the
// server has answered the connection before) after 1 s, with the same
// producer seq, so the server appends the batch once; a batch is given up
// after this many tries.
inline constexpr int kMaxSendTries = 30;

struct SendReport {
  int64_t sent = 0;  // events in requests answered 2xx
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t requests = 0;  // requests answered 2xx
  int64_t retries = 0;   // 503 answers and lost answers retried
  int connections = 0;
  double seconds = 0;
  bool interrupted = false;
  std::vector<double> latency_ms;  // per request answered 2xx, sorted

  // Nearest-rank percentile (q in (0, 1]) of latency_ms; 0 when empty.
  double LatencyPercentile(double q) const;
};

// Sends `count` seed events of `seed`, the same multiset whatever the number
// of connections (each connection takes the next batch of one shared
// generator). Fills *report in any case; returns the first error that
// stopped the run (a transport failure, a non-2xx answer other than a
// retried 503, an unparsable answer), after the other connections finished
// their requests in flight.
Status SendEvents(const SendOptions& options, SendReport* report);

}  // namespace lf::cli
