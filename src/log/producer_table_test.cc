// The producer table: the dedup rule, eviction, and the checkpoint coding.
#include "log/producer_table.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using V = ProducerTable::Verdict;

TEST(ProducerTable, Rule) {
  ProducerTable t;
  EXPECT_EQ(t.Classify({"a", 5}).verdict, V::kAppend);  // unknown: any seq
  t.Record("a", 5, 0, 10);
  EXPECT_EQ(t.Classify({"a", 6}).verdict, V::kAppend);
  auto dup = t.Classify({"a", 5});
  EXPECT_EQ(dup.verdict, V::kDuplicate);
  EXPECT_EQ(dup.last, (ProducerLast{5, 0, 10}));
  EXPECT_EQ(t.Classify({"a", 4}).verdict, V::kOutOfOrder);
  EXPECT_EQ(t.Classify({"a", 7}).verdict, V::kOutOfOrder);
  EXPECT_EQ(t.Classify({"a", 0}).verdict, V::kOutOfOrder);
  t.Record("a", UINT64_MAX, 10, 10);
  EXPECT_EQ(t.Classify({"a", 0}).verdict, V::kOutOfOrder);  // no wrap-around
}

TEST(ProducerTable, EvictsTheProducerThatEndedLowest) {
  ProducerTable t;
  for (uint64_t i = 0; i < ProducerTable::kMaxProducers; ++i) t.Record("p" + std::to_string(i), 0, i, i + 1);
  t.Record("p0", 1, ProducerTable::kMaxProducers, ProducerTable::kMaxProducers + 1);  // p0 is recent again
  t.Record("new", 0, ProducerTable::kMaxProducers + 1, ProducerTable::kMaxProducers + 2);
  EXPECT_EQ(t.size(), ProducerTable::kMaxProducers);
  EXPECT_TRUE(t.Find("p0").has_value());
  EXPECT_FALSE(t.Find("p1").has_value());  // ended lowest
  EXPECT_TRUE(t.Find("new").has_value());
}

TEST(ProducerTable, CheckpointRoundTrip) {
  ProducerTable t;
  t.Record(std::string("bin\0ary \n id", 12), 3, 4, 9);
  t.Record("x", 0, 9, 9);
  const std::string text = t.Encode(20);
  uint64_t as_of = 0;
  auto back = ProducerTable::Decode(text, "PRODUCERS", &as_of);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(as_of, 20u);
  EXPECT_TRUE(*back == t);
  // Every truncation and every flipped byte is corruption.
  for (size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_EQ(ProducerTable::Decode(text.substr(0, cut), "PRODUCERS", &as_of).status().code(), StatusCode::kCorruption);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    std::string bad = text;
    bad[i] ^= 0x04;
    auto r = ProducerTable::Decode(bad, "PRODUCERS", &as_of);
    EXPECT_FALSE(r.ok()) << "byte " << i;
  }
}

}  // namespace
}  // namespace lf
