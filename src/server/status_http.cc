#include "server/status_http.h"

#include "server/render.h"

namespace lf {

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view detail) {
  HttpResponse res;
  res.status = status;
  res.content_type = "application/json";
  res.body = ErrorJson(code, detail);
  return res;
}

HttpResponse StatusResponse(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "bad_request", st.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", st.message());
    case StatusCode::kDeadlineExceeded:  // a query over its time budget (as Druid: 504)
      return ErrorResponse(504, "query_timeout", st.message());
    case StatusCode::kResourceExhausted:  // a query over its memory budget (as Druid: 400)
      return ErrorResponse(400, "resource_limit_exceeded", st.message());
    case StatusCode::kConflict:
      return ErrorResponse(409, "conflict", st.message());
    case StatusCode::kUnavailable: {
      HttpResponse res = ErrorResponse(503, "unavailable", st.message());
      res.headers.emplace_back("Retry-After", "1");
      return res;
    }
    default:
      return ErrorResponse(500, "internal", st.ToString());
  }
}

}  // namespace lf
