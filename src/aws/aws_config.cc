// AWS configuration from the environment (see the header).
#include "aws/aws_config.h"

#include <cstdlib>

namespace lf::aws {

Result<Endpoint> ParseEndpoint(const std::string& url, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(what + "='" + url + "': " + why +
                                   "; expected http(s)://host[:port][/path], e.g. http://127.0.0.1:4568");
  };
  Endpoint e;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    e.scheme = "http";
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    e.scheme = "https";
    rest = url.substr(8);
  } else {
    return bad("not an http or https URL");
  }
  const size_t slash = rest.find('/');
  e.authority = rest.substr(0, slash);
  if (slash != std::string::npos) e.base_path = rest.substr(slash);
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  if (e.authority.empty()) return bad("no host");
  for (char c : e.authority) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
                    c == ']' || c == '_';
    if (!ok) return bad("the host has a character other than letters, digits, '.', '-', ':'");
  }
  if (e.base_path.find_first_of("?#") != std::string::npos) return bad("a query or fragment is not allowed");
  return e;
}

Result<AwsConfig> AwsConfig::FromEnvironment(const GetEnv& getenv_fn) {
  auto get = [&](const char* name) -> std::string {
    std::optional<std::string> v;
    if (getenv_fn) {
      v = getenv_fn(name);
    } else if (const char* p = std::getenv(name)) {
      v = std::string(p);
    }
    return v.value_or("");
  };
  AwsConfig c;
  c.credentials.access_key_id = get("AWS_ACCESS_KEY_ID");
  c.credentials.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  c.credentials.session_token = get("AWS_SESSION_TOKEN");
  if (c.credentials.access_key_id.empty() || c.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set (and AWS_SESSION_TOKEN "
        "for temporary credentials)");
  }
  const std::string any = get("AWS_ENDPOINT_URL");
  const std::string s3 = get("AWS_ENDPOINT_URL_S3");
  const std::string kinesis = get("AWS_ENDPOINT_URL_KINESIS");
  if (!s3.empty() || !any.empty()) {
    ASSIGN_OR_RETURN(Endpoint e,
                     ParseEndpoint(s3.empty() ? any : s3, s3.empty() ? "AWS_ENDPOINT_URL" : "AWS_ENDPOINT_URL_S3"));
    c.s3_endpoint = e;
  }
  if (!kinesis.empty() || !any.empty()) {
    ASSIGN_OR_RETURN(Endpoint e, ParseEndpoint(kinesis.empty() ? any : kinesis,
                                               kinesis.empty() ? "AWS_ENDPOINT_URL" : "AWS_ENDPOINT_URL_KINESIS"));
    c.kinesis_endpoint = e;
  }
  c.region = get("AWS_REGION");
  if (c.region.empty()) c.region = get("AWS_DEFAULT_REGION");
  if (c.region.empty()) {
    if (!c.s3_endpoint && !c.kinesis_endpoint) {
      return Status::InvalidArgument("AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1)");
    }
    c.region = "us-east-1";  // what S3-compatible stores and emulators expect in the signature's scope
  }
  for (char ch : c.region) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') {
      return Status::InvalidArgument("AWS_REGION='" + c.region + "': not a region name (e.g. eu-west-1)");
    }
  }
  return c;
}

S3BucketEndpoint AwsConfig::S3For(const std::string& bucket) const {
  if (s3_endpoint) return {*s3_endpoint, "/" + bucket};
  // Names with dots do not match the wildcard certificate: path-style for them.
  if (bucket.find('.') != std::string::npos) return {{"https", "s3." + region + ".amazonaws.com", ""}, "/" + bucket};
  return {{"https", bucket + ".s3." + region + ".amazonaws.com", ""}, ""};
}

Endpoint AwsConfig::Kinesis() const {
  if (kinesis_endpoint) return *kinesis_endpoint;
  return {"https", "kinesis." + region + ".amazonaws.com", ""};
}

}  // namespace lf::aws
