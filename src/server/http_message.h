// The request and answer of one HTTP exchange as the API's handlers see
// them, independent of the transport (http_transport.h) that parsed them:
// the path, the decoded query parameters, the header fields and the body.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lf {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent, e.g. "/v1/views/x?limit=3"
  std::string path;    // the target before '?', not decoded
  HttpFields params;   // query parameters, decoded, in order
  HttpFields headers;  // names as sent
  std::string body;

  // The first field of that name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  // The first query parameter of that name, or nullptr.
  const std::string* Param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  HttpFields headers;  // besides Content-Type, Content-Length and Connection
  std::string body;
  bool close = false;  // close the connection after this answer
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`);
// InvalidArgument for a malformed escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// The parameters of a query string (`a=1&b=x%3Dy`), decoded: a parameter's
// value is everything after its FIRST '=' (`p=a=b` is p → "a=b"); a
// parameter without '=' has an empty value; empty items (`a=1&&b=2`) are
// skipped. InvalidArgument for a malformed escape.
Result<HttpFields> ParseQuery(std::string_view query);

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace lf
