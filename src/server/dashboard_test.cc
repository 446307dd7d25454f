#include "server/dashboard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace lf {
namespace {

// Whether `text` has `marker`, then (past blanks and `skip` characters) a
// URL that leaves the page's server: `//host` or `http(s)://`. (A scan
// rather than std::regex, whose inlined code trips GCC 12's
// -Wmaybe-uninitialized under the sanitizer build.)
bool PointsElsewhere(std::string_view text, std::string_view marker, std::string_view skip) {
  for (size_t at = text.find(marker); at != std::string_view::npos; at = text.find(marker, at + 1)) {
    size_t i = at + marker.size();
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || skip.find(text[i]) != skip.npos))
      ++i;
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("//") || rest.starts_with("http://") || rest.starts_with("https://")) return true;
  }
  return false;
}

// The page must work offline and behind any proxy: nothing it loads comes
// from elsewhere (the browser test checks what it draws).
TEST(Dashboard, LoadsNothingFromElsewhere) {
  std::string page(DashboardHtml());
  ASSERT_FALSE(page.empty());
  std::transform(page.begin(), page.end(), page.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* marker : {"src", "href"}) EXPECT_FALSE(PointsElsewhere(page, marker, "=\"'")) << marker;
  EXPECT_FALSE(PointsElsewhere(page, "url(", "\"'"));
  EXPECT_EQ(page.find("@import"), std::string::npos);
  // Its only requests are to the server's own API, by absolute path.
  for (const char* call : {"get(", "request("}) EXPECT_FALSE(PointsElsewhere(page, call, "\"")) << call;
  // The scan itself finds what it looks for.
  EXPECT_TRUE(PointsElsewhere("<img src = \"https://x/y.png\">", "src", "=\"'"));
  EXPECT_TRUE(PointsElsewhere("get( \"//cdn/x\")", "get(", "\""));
  EXPECT_FALSE(PointsElsewhere("get(\"/v1/views\")", "get(", "\""));
}

// User data reaches the page as text: the script never writes HTML.
TEST(Dashboard, NeverWritesHtml) {
  const std::string page(DashboardHtml());
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"})
    EXPECT_EQ(page.find(sink), std::string::npos) << sink;
}

}  // namespace
}  // namespace lf
