// The one mapping from an engine Status to an HTTP error answer (README,
// "HTTP API", error codes). A new StatusCode that a client should see as
// something other than 500 gets its line here.
#pragma once

#include "common/status.h"
#include "server/http_message.h"

namespace lf {

// {"error": code, "detail": detail} with that status.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view detail);

// InvalidArgument 400 bad_request, NotFound 404 not_found, Unavailable 503
// unavailable (with Retry-After: 1), anything else 500 internal.
HttpResponse StatusResponse(const Status& status);

}  // namespace lf
