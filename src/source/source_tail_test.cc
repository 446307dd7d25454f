#include "source/source_tail.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lf {
namespace {

std::vector<std::pair<uint64_t, std::string>> ReadAll(const SourceTail& t, int p, uint64_t from, uint64_t to) {
  std::vector<std::pair<uint64_t, std::string>> out;
  EXPECT_TRUE(t.Read(p, from, to, [&](uint64_t o, std::string_view r) {
                 out.emplace_back(o, std::string(r));
                 return Status::OK();
               }).ok());
  return out;
}

TEST(SourceTailTest, RangesOfPositionsHoldTheRecordsBetweenGaps) {
  SourceTail t(2);
  t.Reset(1, 100);
  EXPECT_EQ(t.Position(1), 100u);
  ASSERT_TRUE(t.Append(1, 100, "a").ok());
  ASSERT_TRUE(t.Append(1, 103, "b").ok());  // 101, 102: a gap (transaction markers)
  t.Advance(1, 105);                        // coverage past the last record
  EXPECT_EQ(t.Position(1), 105u);
  EXPECT_EQ(ReadAll(t, 1, 100, 105), (std::vector<std::pair<uint64_t, std::string>>{{100, "a"}, {103, "b"}}));
  EXPECT_EQ(ReadAll(t, 1, 101, 103).size(), 0u);
  EXPECT_EQ(t.bytes(1), 2u);
  EXPECT_FALSE(t.Read(1, 100, 106, [](uint64_t, std::string_view) { return Status::OK(); }).ok())
      << "beyond the position";
  EXPECT_FALSE(t.Append(1, 104, "c").ok()) << "below the position";
  t.DropBelow(1, 103);
  EXPECT_EQ(t.bytes(1), 1u);
  EXPECT_FALSE(t.Read(1, 100, 105, [](uint64_t, std::string_view) { return Status::OK(); }).ok()) << "a dropped range";
  EXPECT_EQ(ReadAll(t, 1, 103, 105), (std::vector<std::pair<uint64_t, std::string>>{{103, "b"}}));
  EXPECT_EQ(t.Position(0), 0u) << "partitions are independent";
}

}  // namespace
}  // namespace lf
