// HttpClient: one HTTP request, one attempt, over libcurl, with connect and
// total timeouts and connections kept alive between requests. Retries are
// the caller's (aws_client.h), because only the caller knows whether a
// request may be sent again and must be signed anew.
//
// Outcomes: a response (any status), or a transport failure:
// DeadlineExceeded (a timeout) or Unavailable (refused, reset, no answer);
// after either, the request may or may not have taken effect.
//
// Thread-safe: idle curl handles (and their connections) are pooled.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lf::aws {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // fully encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // must outlive the call
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The first header of that (lower-case) name, "" when absent.
  std::string Header(std::string_view lower_name) const;
};

struct HttpClientOptions {
  int64_t connect_timeout_ms = 5000;
  int64_t timeout_ms = 120000;  // the whole request, body included
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Perform(const HttpRequest& request);

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  const HttpClientOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*; guarded by mu_
};

}  // namespace lf::aws
