// The live dashboard served at `GET /` (README, "HTTP API"): one
// self-contained HTML page that polls the JSON API every second.
#pragma once

#include <string_view>

namespace lf {

// The page: HTML, CSS and vanilla JavaScript, no external resources, so it
// works offline and behind any proxy. Static storage; never changes.
std::string_view DashboardHtml();

}  // namespace lf
