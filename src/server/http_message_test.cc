#include "server/http_message.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ParseQueryTest, ValueIsEverythingAfterTheFirstEquals) {
  // Regression: `?ProductName=zzz=product1` filtered on "zzz".
  auto q = ParseQuery("ProductName=zzz=product1");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].first, "ProductName");
  EXPECT_EQ((*q)[0].second, "zzz=product1");
}

TEST(ParseQueryTest, DecodesEscapesAndPlusAndKeepsOrder) {
  auto q = ParseQuery("b=x%3Dy&a=hello+world&&flag&c=%e2%82%ac");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[0], (std::pair<std::string, std::string>("b", "x=y")));
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>("a", "hello world")));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>("flag", "")));
  EXPECT_EQ((*q)[3].second, "\xe2\x82\xac");
}

TEST(ParseQueryTest, MalformedEscapeIsAnError) {
  EXPECT_FALSE(ParseQuery("a=%zz").ok());
  EXPECT_FALSE(ParseQuery("a=%4").ok());
  EXPECT_FALSE(ParseQuery("a=%").ok());
}

TEST(PercentDecodeTest, PlusIsLiteralInPaths) {
  auto d = PercentDecode("a+b%20c", false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "a+b c");
}

TEST(HttpRequestTest, HeaderNamesAreCaseInsensitive) {
  HttpRequest r;
  r.headers = {{"content-type", "text/plain"}, {"X-A", "1"}, {"x-a", "2"}};
  ASSERT_NE(r.Header("Content-Type"), nullptr);
  EXPECT_EQ(*r.Header("Content-Type"), "text/plain");
  EXPECT_EQ(*r.Header("X-A"), "1");
  EXPECT_EQ(r.Header("Host"), nullptr);
}

}  // namespace
}  // namespace lf
