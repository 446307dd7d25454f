// The signer against AWS's published examples: the S3 examples of
// "Signature Calculations for the Authorization Header" (GET an object with
// a range, PUT an object whose key needs encoding, GET a bucket
// sub-resource, GET a listing with parameters) and the canonicalization
// rules the examples do not reach (query sorting and encoding, header
// folding, double-encoded paths of the non-S3 services).
#include "aws/sigv4.h"

#include <gtest/gtest.h>

namespace lf::aws {
namespace {

const Credentials kExampleCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr char kDate[] = "20130524T000000Z";

TEST(SigV4Test, S3GetObjectExample) {
  RequestToSign r{"GET",
                  UriEncodePath("/test.txt", false),
                  {},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Range", "bytes=0-9"},
                   {"x-amz-content-sha256", std::string(kEmptySha256)},
                   {"x-amz-date", kDate}},
                  std::string(kEmptySha256)};
  EXPECT_EQ(CanonicalRequest(r),
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(r, kDate, "us-east-1", "s3"),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(Signature(r, kExampleCreds, kDate, "us-east-1", "s3"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(AuthorizationHeader(r, kExampleCreds, kDate, "us-east-1", "s3"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObjectExampleEncodesTheKey) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = Sha256Hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  RequestToSign r{"PUT",
                  UriEncodePath("/test$file.text", false),
                  {},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                   {"x-amz-date", kDate},
                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                   {"x-amz-content-sha256", hash}},
                  hash};
  EXPECT_EQ(r.canonical_uri, "/test%24file.text");
  EXPECT_EQ(SignedHeaders(r), "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(Signature(r, kExampleCreds, kDate, "us-east-1", "s3"),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3GetBucketLifecycleExampleHasAnEmptyValuedParameter) {
  RequestToSign r{"GET",
                  UriEncodePath("/", false),
                  {{"lifecycle", ""}},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"x-amz-date", kDate},
                   {"x-amz-content-sha256", std::string(kEmptySha256)}},
                  std::string(kEmptySha256)};
  EXPECT_NE(CanonicalRequest(r).find("\n/\nlifecycle=\n"), std::string::npos) << CanonicalRequest(r);
  EXPECT_EQ(Signature(r, kExampleCreds, kDate, "us-east-1", "s3"),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3ListObjectsExampleSortsTheQuery) {
  RequestToSign r{"GET",
                  UriEncodePath("/", false),
                  {{"prefix", "J"}, {"max-keys", "2"}},  // given out of order
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"x-amz-date", kDate},
                   {"x-amz-content-sha256", std::string(kEmptySha256)}},
                  std::string(kEmptySha256)};
  EXPECT_EQ(CanonicalQueryString(r.query), "max-keys=2&prefix=J");
  EXPECT_EQ(Signature(r, kExampleCreds, kDate, "us-east-1", "s3"),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, UriEncodingKeepsOnlyUnreservedBytes) {
  EXPECT_EQ(UriEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b+c=d/e*f%", true), "a%20b%2Bc%3Dd%2Fe%2Af%25");
  EXPECT_EQ(UriEncode("a/b", false), "a/b");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", true), "%E1%88%B4");  // UTF-8 bytes, upper-case hex
}

TEST(SigV4Test, PathsEncodeOnceForS3AndTwiceElsewhere) {
  EXPECT_EQ(UriEncodePath("/bucket/a b/c+d", false), "/bucket/a%20b/c%2Bd");
  EXPECT_EQ(UriEncodePath("/bucket/a b", true), "/bucket/a%2520b");
  EXPECT_EQ(UriEncodePath("", false), "/");
  EXPECT_EQ(UriEncodePath("/", true), "/");
}

TEST(SigV4Test, QueryValuesAreEncodedAndSortedByNameThenValue) {
  // A continuation token holds '/', '+' and '='; each must be encoded.
  EXPECT_EQ(CanonicalQueryString({{"list-type", "2"}, {"continuation-token", "1/a+b=="}, {"b", "2"}, {"b", "1"}}),
            "b=1&b=2&continuation-token=1%2Fa%2Bb%3D%3D&list-type=2");
  // Sorted by the encoded bytes: upper case before lower case.
  EXPECT_EQ(CanonicalQueryString({{"Param2", "value2"}, {"Param1", "value1"}, {"param1", "x"}}),
            "Param1=value1&Param2=value2&param1=x");
}

TEST(SigV4Test, HeadersAreLowerCasedTrimmedFoldedAndJoined) {
  RequestToSign r{"GET", "/", {}, {{"Host", "h"}, {"My-Header", "  a   b  c "}, {"my-header", "d"}}, "x"};
  EXPECT_EQ(CanonicalRequest(r), "GET\n/\n\nhost:h\nmy-header:a b c,d\n\nhost;my-header\nx");
}

TEST(SigV4Test, SignatureDependsOnEveryPart) {
  RequestToSign r{"GET", "/k", {}, {{"host", "h"}, {"x-amz-date", kDate}}, std::string(kEmptySha256)};
  const std::string base = Signature(r, kExampleCreds, kDate, "us-east-1", "s3");
  EXPECT_NE(Signature(r, kExampleCreds, kDate, "eu-west-1", "s3"), base);
  EXPECT_NE(Signature(r, kExampleCreds, kDate, "us-east-1", "kinesis"), base);
  EXPECT_NE(Signature(r, kExampleCreds, "20130525T000000Z", "us-east-1", "s3"), base);
  RequestToSign other = r;
  other.canonical_uri = "/K";
  EXPECT_NE(Signature(other, kExampleCreds, kDate, "us-east-1", "s3"), base);
}

TEST(SigV4Test, AmzDateIsUtc) {
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
}

}  // namespace
}  // namespace lf::aws
