#include "server/dashboard.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace lf {
namespace {

// The page must work offline and behind any proxy: nothing it loads comes
// from elsewhere (the browser test checks what it draws).
TEST(Dashboard, LoadsNothingFromElsewhere) {
  const std::string page(DashboardHtml());
  ASSERT_FALSE(page.empty());
  const std::regex external(R"((src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//)",
                            std::regex::icase);
  EXPECT_FALSE(std::regex_search(page, external));
  // Its only requests are to the server's own API, by absolute path.
  const std::regex fetches(R"((get|request)\(\s*"(https?:)?//)");
  EXPECT_FALSE(std::regex_search(page, fetches));
}

// User data reaches the page as text: the script never writes HTML.
TEST(Dashboard, NeverWritesHtml) {
  const std::string page(DashboardHtml());
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"})
    EXPECT_EQ(page.find(sink), std::string::npos) << sink;
}

}  // namespace
}  // namespace lf
