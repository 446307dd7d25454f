// HTTP over libcurl (see the header).
#include "aws/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <mutex>

namespace lf::aws {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<HttpResponse*>(user)->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    r->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  r->headers.emplace_back(std::move(name), std::string(value));
  return size * n;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return std::string();
}

HttpClient::HttpClient(HttpClientOptions options) : options_(options) { GlobalInit(); }

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::TakeHandle() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReturnHandle(void* handle) {
  std::lock_guard<std::mutex> l(mu_);
  idle_.push_back(handle);
}

Result<HttpResponse> HttpClient::Perform(const HttpRequest& req) {
  CURL* h = static_cast<CURL*>(TakeHandle());
  if (h == nullptr) return Status::Internal("HTTP client: curl_easy_init failed");
  curl_easy_reset(h);  // options only: the connection cache stays
  HttpResponse resp;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) { headers.reset(curl_slist_append(headers.release(), line.c_str())); };
  for (const auto& [k, v] : req.headers) add_header(k + ": " + v);
  add_header("Expect:");  // no 100-continue round trip
  const bool has_body = req.method == "PUT" || req.method == "POST";
  if (has_body) {
    bool has_type = std::any_of(req.headers.begin(), req.headers.end(), [](const auto& kv) {
      return kv.first.size() == 12 && strncasecmp(kv.first.c_str(), "content-type", 12) == 0;
    });
    if (!has_type) add_header("Content-Type:");  // curl would say form-urlencoded
  }
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp);
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (has_body) {
    // Never a null pointer: with one, libcurl would read the body from a
    // read callback (stdin by default) instead of sending nothing.
    static const char kNoBody[] = "";
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data() != nullptr ? req.body.data() : kNoBody);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  ReturnHandle(h);
  if (rc != CURLE_OK) {
    const std::string what = req.method + " " + req.url + ": " + curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return Status::DeadlineExceeded(what);
    return Status::Unavailable(what);
  }
  resp.status = status;
  return resp;
}

}  // namespace lf::aws
