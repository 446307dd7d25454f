// AwsConfig: where and as whom lambdaflow talks to AWS, read from AWS's own
// environment variables (nothing lambdaflow-specific):
//
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   required
//   AWS_SESSION_TOKEN                          temporary credentials (sent as x-amz-security-token)
//   AWS_REGION (or AWS_DEFAULT_REGION)         required for AWS itself; us-east-1 for custom endpoints
//   AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL)  an S3-compatible store: path-style addressing
//   AWS_ENDPOINT_URL_KINESIS (or AWS_ENDPOINT_URL)  a Kinesis-compatible endpoint
//
// Without a custom endpoint S3 is addressed virtual-hosted style
// (https://BUCKET.s3.REGION.amazonaws.com/KEY), with one path-style
// (ENDPOINT/BUCKET/KEY), which every S3-compatible store understands.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "common/status.h"

namespace lf::aws {

// An endpoint URL taken apart: "http://127.0.0.1:4568" → http, 127.0.0.1:4568, "".
struct Endpoint {
  std::string scheme;     // http or https
  std::string authority;  // host[:port], also the Host header (and signed as such)
  std::string base_path;  // "" or "/something" without a trailing '/'

  std::string Url(std::string_view encoded_path_and_query) const {
    return scheme + "://" + authority + base_path + std::string(encoded_path_and_query);
  }
};

// InvalidArgument naming `what` (e.g. "AWS_ENDPOINT_URL_S3") for anything
// but http(s)://host[:port][/path].
Result<Endpoint> ParseEndpoint(const std::string& url, const std::string& what);

// Where a bucket's objects are: the endpoint and the path prefix of its
// keys ("/BUCKET" path-style, "" virtual-hosted).
struct S3BucketEndpoint {
  Endpoint endpoint;
  std::string bucket_path;
};

struct AwsConfig {
  Credentials credentials;
  std::string region;
  std::optional<Endpoint> s3_endpoint;       // custom: path-style
  std::optional<Endpoint> kinesis_endpoint;  // custom

  // Reads the variables above through `getenv` (the process environment
  // when empty). InvalidArgument saying which variable to set when one is
  // missing or malformed.
  using GetEnv = std::function<std::optional<std::string>(const char*)>;
  static Result<AwsConfig> FromEnvironment(const GetEnv& getenv = {});

  S3BucketEndpoint S3For(const std::string& bucket) const;
  Endpoint Kinesis() const;
};

}  // namespace lf::aws
