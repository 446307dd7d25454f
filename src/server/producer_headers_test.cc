// The producer headers: both or neither, id length, seq syntax.
#include "server/producer_headers.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using Opt = std::optional<std::string>;

TEST(ProducerHeaders, NeitherIsNoProducer) {
  auto r = ParseProducerHeaders(std::nullopt, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(ProducerHeaders, Valid) {
  auto r = ParseProducerHeaders(Opt("producer-1"), Opt("0"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->id, "producer-1");
  EXPECT_EQ((*r)->seq, 0u);
  r = ParseProducerHeaders(Opt(std::string(64, 'x')), Opt("18446744073709551615"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->seq, UINT64_MAX);
}

TEST(ProducerHeaders, Invalid) {
  for (const auto& [id, seq] : std::vector<std::pair<Opt, Opt>>{
           {Opt("p"), std::nullopt},
           {std::nullopt, Opt("1")},
           {Opt(""), Opt("1")},
           {Opt(std::string(65, 'x')), Opt("1")},
           {Opt("p"), Opt("")},
           {Opt("p"), Opt("-1")},
           {Opt("p"), Opt("01")},
           {Opt("p"), Opt("1 ")},
           {Opt("p"), Opt("0x10")},
           {Opt("p"), Opt("18446744073709551616")},
       }) {
    auto r = ParseProducerHeaders(id, seq);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument)
        << id.value_or("<none>") << " " << seq.value_or("<none>");
  }
}

}  // namespace
}  // namespace lf
