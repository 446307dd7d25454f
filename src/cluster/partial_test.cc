// The partial-state format (docs/formats/partial.md): it round-trips, has
// one spelling, and every kind of damage is refused with the line.
#include "cluster/partial.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

Partial Sample() {
  Partial p;
  p.writer_id = "host-a:12:0badf00d";
  p.view = "revenue_by_product";
  p.fingerprint = 0x0123456789abcdefULL;
  p.caught_up_ms = 1700000000123;
  p.partitions = {{0, 3, 100, 150}, {5, 1, 0, 7}};
  p.state = std::string("LFSTATE1\0\n binary \nend\n", 24);
  return p;
}

TEST(PartialTest, RoundTripsWithOneSpelling) {
  const Partial p = Sample();
  const std::string bytes = EncodePartial(p);
  EXPECT_EQ(bytes,
            "lambdaflow-partial 1\nwriter host-a:12:0badf00d\nview revenue_by_product\nfingerprint 0123456789abcdef\n"
            "caught_up_ms 1700000000123\npartition 0 3 100 150\npartition 5 1 0 7\nstate 24\n" +
                p.state + "end\n");
  auto back = DecodePartial(bytes, "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(EncodePartial(*back), bytes);
  Partial empty = p;
  empty.partitions.clear();
  empty.state.clear();
  auto e = DecodePartial(EncodePartial(empty), "test");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(*e, empty);
}

TEST(PartialTest, EveryTruncationAndTrailingByteIsRefused) {
  const std::string bytes = EncodePartial(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodePartial(bytes.substr(0, n), "w");
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  EXPECT_FALSE(DecodePartial(bytes + "x", "w").ok());
}

TEST(PartialTest, DamagedHeadersAreRefusedWithWhatIsWrong) {
  const std::string good = EncodePartial(Sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string b = good;
    const size_t at = b.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    b.replace(at, from.size(), to);
    auto r = DecodePartial(b, "worker 10.0.0.2:8080");
    EXPECT_FALSE(r.ok()) << to;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(with("lambdaflow-partial 1", "lambdaflow-partial 2").find("not a partial state"), std::string::npos);
  EXPECT_NE(with("writer host", "writer bad/host").find("bad writer id"), std::string::npos);
  EXPECT_NE(with("fingerprint 0123", "fingerprint 0X23").find("hex"), std::string::npos);
  EXPECT_NE(with("caught_up_ms 17", "caught_up_ms 017").find("caught_up_ms"), std::string::npos);
  EXPECT_NE(with("partition 5 1 0 7", "partition 5 1 8 7").find("W > S"), std::string::npos);
  EXPECT_NE(with("partition 5 1 0 7", "partition 0 1 0 7").find("not ascending"), std::string::npos);
  EXPECT_NE(with("partition 5 1 0 7", "partition 5 1 0").find("expected 'partition"), std::string::npos);
  EXPECT_NE(with("partition 5 1 0 7", "partition 5 1 0 7 9").find("expected 'partition"), std::string::npos);
  EXPECT_NE(with("partition 5 1 0 7", "partition 5 -1 0 7").find("decimal"), std::string::npos);
  EXPECT_NE(with("state 24", "state 99").find("truncated state"), std::string::npos);
  EXPECT_NE(with("state 24", "state 2").find("'end'"), std::string::npos);
  EXPECT_NE(with("view revenue", "views revenue").find("expected 'view"), std::string::npos);
  EXPECT_NE(with("state 24", "state 98").find("10.0.0.2:8080"), std::string::npos);
}

}  // namespace
}  // namespace lf
