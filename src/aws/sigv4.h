// AWS Signature Version 4, written over OpenSSL (SHA-256, HMAC-SHA256).
//
// Why not a library: Debian's libs3 signs only with Signature Version 2
// (refused by S3 buckets created since 2020) and curl 7.88's built-in
// CURLOPT_AWS_SIGV4 does not canonicalize the path and the query string
// (a key with a space or '+', a continuation token with '=' or '/' signs
// wrong). Here every step of the published algorithm is explicit:
//
//   canonical request = method \n canonical URI \n canonical query \n
//                       canonical headers \n signed headers \n payload hash
//   string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n scope \n sha256(canonical request)
//   signing key       = HMAC chain "AWS4"+secret → date → region → service → "aws4_request"
//
// The canonical URI is the URI-encoded path, each byte other than the
// unreserved A-Za-z0-9-._~ as %XY with upper-case hex, '/' kept. S3 encodes
// the object key once; the other services encode the already-encoded path
// a second time (the caller picks, UriEncodePath). Query parameters are
// encoded name and value alike ('/' and '=' too), sorted by encoded name
// then value. Header names are lower-cased, values trimmed with inner runs
// of spaces folded to one, sorted by name.
//
// Tested against AWS's published examples (sigv4_test.cc). Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lf::aws {

using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes every byte but A-Za-z0-9-._~ (and '/' unless encode_slash).
std::string UriEncode(std::string_view s, bool encode_slash);
// The canonical URI of `path` (starting with '/', not yet encoded): S3
// encodes once (double_encode false); other services twice.
std::string UriEncodePath(std::string_view path, bool double_encode);
// name=value pairs (decoded) as the canonical query string; also the query
// string to send, so that what is signed is what goes on the wire.
std::string CanonicalQueryString(const Params& query);

std::string Sha256Hex(std::string_view data);
// The SHA-256 of nothing, S3's x-amz-content-sha256 of a bodiless request.
inline constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty without temporary credentials
};

struct RequestToSign {
  std::string method;          // GET, PUT, ...
  std::string canonical_uri;   // UriEncodePath's result, exactly as sent
  Params query;                // decoded names and values
  Params headers;              // every header to sign; must include host
  std::string payload_sha256;  // hex, or "UNSIGNED-PAYLOAD"
};

std::string CanonicalRequest(const RequestToSign& r);
// "host;range;x-amz-date": the lower-cased, sorted header names.
std::string SignedHeaders(const RequestToSign& r);
std::string StringToSign(const RequestToSign& r, std::string_view amz_date, std::string_view region,
                         std::string_view service);
// The hex signature and the Authorization header's value. `amz_date` is
// "YYYYMMDDTHHMMSSZ" (UTC), also sent as x-amz-date (the caller adds it,
// with x-amz-security-token for a session token, to the signed headers).
std::string Signature(const RequestToSign& r, const Credentials& creds, std::string_view amz_date,
                      std::string_view region, std::string_view service);
std::string AuthorizationHeader(const RequestToSign& r, const Credentials& creds, std::string_view amz_date,
                                std::string_view region, std::string_view service);

// "YYYYMMDDTHHMMSSZ" of a Unix time in seconds.
std::string AmzDate(int64_t unix_seconds);

}  // namespace lf::aws
