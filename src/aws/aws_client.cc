// Signed, retried AWS requests (see the header).
#include "aws/aws_client.h"

#include <chrono>
#include <random>
#include <thread>

namespace lf::aws {

namespace {

int64_t SystemSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool Contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

}  // namespace

AwsClient::AwsClient(Endpoint endpoint, Credentials credentials, std::string region, AwsClientOptions options)
    : endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      region_(std::move(region)),
      options_(std::move(options)),
      http_(options_.http) {
  std::random_device rd;
  seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

bool AwsClient::RetryableAnswer(const HttpResponse& r) {
  if (r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504 || r.status == 429) return true;
  if (r.status >= 400) {
    // Throttling and server-side timeouts answered with a 400 (S3's
    // RequestTimeout, Kinesis's throughput limits).
    return Contains(r.body, "<Code>SlowDown</Code>") || Contains(r.body, "<Code>RequestTimeout</Code>") ||
           Contains(r.body, "ProvisionedThroughputExceededException") || Contains(r.body, "ThrottlingException") ||
           Contains(r.body, "LimitExceededException");
  }
  return false;
}

Result<AwsClient::Sent> AwsClient::Send(const AwsRequest& req) {
  const std::string canonical_uri = UriEncodePath(endpoint_.base_path + req.path, options_.service != "s3");
  // The path as sent is encoded once (S3 and the rest alike); only the
  // signature of non-S3 services encodes it twice.
  const std::string wire_path = UriEncodePath(endpoint_.base_path + req.path, false);
  const std::string query = CanonicalQueryString(req.query);
  HttpRequest http{req.method,
                   endpoint_.scheme + "://" + endpoint_.authority + wire_path + (query.empty() ? "" : "?" + query),
                   {},
                   req.body};
  const std::string payload_hash = Sha256Hex(req.body);

  Backoff backoff(options_.retry, seed_.fetch_add(0x9e3779b97f4a7c15ULL));
  Sent sent;
  Status last;
  const int attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      retries_.fetch_add(1, std::memory_order_relaxed);
      const int64_t delay = backoff.NextDelayMs();
      if (options_.sleep_ms) {
        options_.sleep_ms(delay);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      }
    }
    const std::string amz_date = AmzDate(options_.now_seconds ? options_.now_seconds() : SystemSeconds());
    RequestToSign r{req.method, canonical_uri, req.query, req.headers, payload_hash};
    r.headers.emplace_back("host", endpoint_.authority);
    r.headers.emplace_back("x-amz-date", amz_date);
    if (options_.s3_payload_header) r.headers.emplace_back("x-amz-content-sha256", payload_hash);
    if (!credentials_.session_token.empty()) r.headers.emplace_back("x-amz-security-token", credentials_.session_token);
    http.headers = r.headers;
    http.headers.emplace_back("Authorization",
                              AuthorizationHeader(r, credentials_, amz_date, region_, options_.service));

    requests_.fetch_add(1, std::memory_order_relaxed);
    sent.attempts = attempt + 1;
    auto resp = http_.Perform(http);
    if (!resp.ok()) {
      last = resp.status();
      sent.ambiguous = true;
      continue;
    }
    if (RetryableAnswer(*resp)) {
      std::string snippet = resp->body.substr(0, 200);
      last = Status::Unavailable(req.method + " " + http.url + ": HTTP " + std::to_string(resp->status) +
                                 (snippet.empty() ? "" : ": " + snippet));
      sent.ambiguous = true;
      continue;
    }
    sent.response = std::move(*resp);
    return sent;
  }
  return Status(last.code(), last.message() + " (gave up after " + std::to_string(attempts) +
                                 " attempts; is the endpoint " + endpoint_.Url("") + " reachable?)");
}

}  // namespace lf::aws
