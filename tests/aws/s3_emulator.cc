#include "aws/s3_emulator.h"

#include "aws/http_client.h"

namespace lf::test {

std::unique_ptr<S3Emulator> S3Emulator::Start(bool bare, std::string* skip, std::string* error) {
  std::vector<std::string> args{"--dir", "{dir}", "--bucket", kBucket};
  if (bare) args.push_back("--bare");
  // s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps
  // in its legacy provider.
  auto helper = NodeHelper::Start({"--openssl-legacy-provider"}, "s3_emulator.mjs", args, "s3rver", skip, error);
  if (!helper) return nullptr;
  std::unique_ptr<S3Emulator> e(new S3Emulator());
  e->port_ = helper->port();
  e->helper_ = std::move(helper);
  return e;
}

aws::AwsConfig S3Emulator::Config() const {
  aws::AwsConfig c;
  c.credentials = {"S3RVER", "S3RVER", ""};
  c.region = "us-east-1";
  c.s3_endpoint = aws::Endpoint{"http", "127.0.0.1:" + std::to_string(port_), ""};
  return c;
}

std::string S3Emulator::Control(const std::string& method, const std::string& path_and_query) {
  aws::HttpClient http;
  auto r = http.Perform({method, "http://127.0.0.1:" + std::to_string(port_) + path_and_query, {}, {}});
  if (!r.ok() || r->status != 200) return "";
  return r->body;
}

bool S3Emulator::FailNext(int count, int status, const std::string& method, const std::string& key_prefix) {
  return !Control("POST", "/_shim/fault?kind=status&status=" + std::to_string(status) +
                              "&count=" + std::to_string(count) + (method.empty() ? "" : "&method=" + method) +
                              (key_prefix.empty() ? "" : "&prefix=" + key_prefix))
              .empty();
}

bool S3Emulator::LoseNextAnswers(int count, const std::string& method) {
  return !Control("POST",
                  "/_shim/fault?kind=lose&count=" + std::to_string(count) + (method.empty() ? "" : "&method=" + method))
              .empty();
}

bool S3Emulator::DelayNextAnswers(int count, int ms, const std::string& method) {
  return !Control("POST", "/_shim/fault?kind=delay&ms=" + std::to_string(ms) + "&count=" + std::to_string(count) +
                              (method.empty() ? "" : "&method=" + method))
              .empty();
}

bool S3Emulator::EnforceConditions(bool on_put, bool on_complete) {
  return !Control("POST", std::string("/_shim/conditional?put=") + (on_put ? "1" : "0") +
                              "&complete=" + (on_complete ? "1" : "0"))
              .empty();
}

std::string S3Emulator::Stats() { return Control("GET", "/_shim/stats"); }

}  // namespace lf::test
