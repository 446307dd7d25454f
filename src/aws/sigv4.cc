// AWS Signature Version 4 (see the header for the algorithm).
#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

namespace lf::aws {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string ToHex(const unsigned char* p, size_t n) {
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trimmed, inner runs of spaces folded to one (the header value rule).
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Lower-cased names, sorted; values of a repeated name joined by ','.
std::vector<std::pair<std::string, std::string>> SortedHeaders(const Params& headers) {
  std::vector<std::pair<std::string, std::string>> h;
  for (const auto& [name, value] : headers) h.emplace_back(Lower(name), CanonicalHeaderValue(value));
  std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& kv : h) {
    if (!out.empty() && out.back().first == kv.first) {
      out.back().second += "," + kv.second;
    } else {
      out.push_back(std::move(kv));
    }
  }
  return out;
}

std::string Scope(std::string_view amz_date, std::string_view region, std::string_view service) {
  return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
}

}  // namespace

std::string UriEncode(std::string_view s, bool encode_slash) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 15]);
    }
  }
  return out;
}

std::string UriEncodePath(std::string_view path, bool double_encode) {
  std::string once = UriEncode(path.empty() ? std::string_view("/") : path, /*encode_slash=*/false);
  return double_encode ? UriEncode(once, false) : once;
}

std::string CanonicalQueryString(const Params& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, true), UriEncode(v, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return ToHex(out, sizeof(out));
}

std::string SignedHeaders(const RequestToSign& r) {
  std::string out;
  for (const auto& [name, value] : SortedHeaders(r.headers)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const RequestToSign& r) {
  std::string out = r.method + "\n" + r.canonical_uri + "\n" + CanonicalQueryString(r.query) + "\n";
  for (const auto& [name, value] : SortedHeaders(r.headers)) out += name + ":" + value + "\n";
  out += "\n" + SignedHeaders(r) + "\n" + r.payload_sha256;
  return out;
}

std::string StringToSign(const RequestToSign& r, std::string_view amz_date, std::string_view region,
                         std::string_view service) {
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + Scope(amz_date, region, service) + "\n" +
         Sha256Hex(CanonicalRequest(r));
}

std::string Signature(const RequestToSign& r, const Credentials& creds, std::string_view amz_date,
                      std::string_view region, std::string_view service) {
  std::string key = Hmac("AWS4" + creds.secret_access_key, amz_date.substr(0, 8));
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  const std::string sig = Hmac(key, StringToSign(r, amz_date, region, service));
  return ToHex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::string AuthorizationHeader(const RequestToSign& r, const Credentials& creds, std::string_view amz_date,
                                std::string_view region, std::string_view service) {
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + Scope(amz_date, region, service) +
         ", SignedHeaders=" + SignedHeaders(r) + ", Signature=" + Signature(r, creds, amz_date, region, service);
}

std::string AmzDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace lf::aws
