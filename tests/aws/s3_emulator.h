// S3Emulator: a test's handle on s3_emulator.mjs — s3rver (npm, installed
// into tests/aws/node_modules by scripts/install-deps.sh), alone (bare) or
// behind the shim that enforces conditional writes, checks SigV4
// signatures and injects faults. Start() runs it under node in a child
// process (node_helper.h) with a fresh data directory.
#pragma once

#include <memory>
#include <string>

#include "aws/aws_config.h"
#include "aws/node_helper.h"

namespace lf::test {

class S3Emulator {
 public:
  static constexpr char kBucket[] = "lf-test";

  // nullptr with *skip set when node is not installed (the test skips), or
  // with *error set when the emulator does not start (the test fails).
  static std::unique_ptr<S3Emulator> Start(bool bare, std::string* skip, std::string* error);
  S3Emulator(const S3Emulator&) = delete;
  S3Emulator& operator=(const S3Emulator&) = delete;

  // Credentials and endpoint for the store: AWS_ENDPOINT_URL_S3 of the
  // emulator, s3rver's own keys.
  aws::AwsConfig Config() const;
  std::string Url(const std::string& prefix) const { return std::string("s3://") + kBucket + "/" + prefix; }
  int port() const { return port_; }

  // The shim's control endpoint: the next `count` requests (of `method`,
  // or any; FailNext: of keys starting with `key_prefix`, or any) get
  // `status` / lose their answer after being applied.
  bool FailNext(int count, int status, const std::string& method = "", const std::string& key_prefix = "");
  bool LoseNextAnswers(int count, const std::string& method = "");
  bool DelayNextAnswers(int count, int ms, const std::string& method = "");
  // Whether the shim enforces If-None-Match/If-Match on PUT and on
  // CompleteMultipartUpload (both by default).
  bool EnforceConditions(bool on_put, bool on_complete);
  // Requests the shim saw ("{...}" JSON), for messages.
  std::string Stats();

 private:
  S3Emulator() = default;
  std::string Control(const std::string& method, const std::string& path_and_query);

  std::unique_ptr<NodeHelper> helper_;
  int port_ = 0;
};

}  // namespace lf::test
