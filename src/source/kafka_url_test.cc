#include "source/kafka_url.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(KafkaUrlTest, Parses) {
  auto u = ParseKafkaUrl("kafka://127.0.0.1:9092/events", "--to");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->brokers, "127.0.0.1:9092");
  EXPECT_EQ(u->topic, "events");
  auto many = ParseKafkaUrl("kafka://a:1,b.example:9093,[::1]:9094/sales.v2_x-y", "--to");
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->brokers, "a:1,b.example:9093,[::1]:9094");
  EXPECT_EQ(many->topic, "sales.v2_x-y");
}

TEST(KafkaUrlTest, RefusesWithTheReason) {
  for (const auto& [url, why] : std::vector<std::pair<std::string, std::string>>{
           {"http://a:1/t", "not a kafka:// URL"},
           {"kafka://a:1", "no topic"},
           {"kafka:///t", "no broker"},
           {"kafka://a/t", "not HOST:PORT"},
           {"kafka://a:x/t", "bad port"},
           {"kafka://a:1,/t", "not HOST:PORT"},
           {"kafka://a:1/", "1 to 249"},
           {"kafka://a:1/t/u", "only letters"},
       }) {
    auto r = ParseKafkaUrl(url, "--to");
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << url << ": " << r.status().message();
    EXPECT_NE(r.status().message().find("--to"), std::string::npos);
    EXPECT_NE(r.status().message().find("kafka://HOST:PORT"), std::string::npos);
  }
}

}  // namespace
}  // namespace lf
