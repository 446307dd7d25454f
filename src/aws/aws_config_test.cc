// AWS configuration from (fake) environments: required variables, custom
// endpoints and their addressing style, malformed values named in errors.
#include "aws/aws_config.h"

#include <gtest/gtest.h>

#include <map>

namespace lf::aws {
namespace {

Result<AwsConfig> From(std::map<std::string, std::string> env) {
  return AwsConfig::FromEnvironment([env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(AwsConfigTest, AwsItselfIsVirtualHosted) {
  auto c = From({{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}, {"AWS_REGION", "eu-west-1"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "AK");
  EXPECT_TRUE(c->credentials.session_token.empty());
  const S3BucketEndpoint b = c->S3For("my-bucket");
  EXPECT_EQ(b.endpoint.Url(b.bucket_path + "/k"), "https://my-bucket.s3.eu-west-1.amazonaws.com/k");
  const S3BucketEndpoint dotted = c->S3For("my.bucket");
  EXPECT_EQ(dotted.endpoint.Url(dotted.bucket_path + "/k"), "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
  EXPECT_EQ(c->Kinesis().Url("/"), "https://kinesis.eu-west-1.amazonaws.com/");
}

TEST(AwsConfigTest, CustomEndpointsArePathStyle) {
  auto c = From({{"AWS_ACCESS_KEY_ID", "AK"},
                 {"AWS_SECRET_ACCESS_KEY", "SK"},
                 {"AWS_SESSION_TOKEN", "TOKEN"},
                 {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"},
                 {"AWS_ENDPOINT_URL_KINESIS", "http://localhost:4567"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->region, "us-east-1");
  EXPECT_EQ(c->credentials.session_token, "TOKEN");
  const S3BucketEndpoint b = c->S3For("b");
  EXPECT_EQ(b.endpoint.authority, "127.0.0.1:9000");
  EXPECT_EQ(b.endpoint.Url(b.bucket_path + "/a/b"), "http://127.0.0.1:9000/b/a/b");
  EXPECT_EQ(c->Kinesis().Url("/"), "http://localhost:4567/");
  // The S3-specific variable wins over the general one.
  auto s3 = From({{"AWS_ACCESS_KEY_ID", "AK"},
                  {"AWS_SECRET_ACCESS_KEY", "SK"},
                  {"AWS_ENDPOINT_URL", "http://a:1"},
                  {"AWS_ENDPOINT_URL_S3", "https://s3.example.com/base"}});
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->S3For("b").endpoint.Url("/b/k"), "https://s3.example.com/base/b/k");
  EXPECT_EQ(s3->Kinesis().authority, "a:1");
}

TEST(AwsConfigTest, MissingOrMalformedSettingsSayWhatToSet) {
  auto no_key = From({{"AWS_REGION", "eu-west-1"}});
  EXPECT_EQ(no_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_key.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  auto no_region = From({{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}});
  EXPECT_NE(no_region.status().message().find("AWS_REGION"), std::string::npos);
  auto bad_url =
      From({{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"}, {"AWS_ENDPOINT_URL_S3", "ftp://x"}});
  EXPECT_NE(bad_url.status().message().find("AWS_ENDPOINT_URL_S3='ftp://x'"), std::string::npos);
  EXPECT_EQ(ParseEndpoint("http://", "X").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEndpoint("http://a b", "X").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEndpoint("http://h/p?q", "X").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lf::aws
