#include "engine/dead_letters.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/testing/fault_file_system.h"

namespace lf {
namespace {

constexpr const char* kPath = "/d/rejects/rejects.jsonl";

void Write(FaultFileSystem* fs, const std::string& data) {
  ASSERT_TRUE(fs->CreateDirs("/d/rejects").ok());
  auto f = fs->NewWritableFile(kPath);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(data).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

std::string Line(int i) { return "{\"line\":" + std::to_string(i) + ",\"reason\":\"malformed_json\"}"; }

std::string Lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += Line(i) + "\n";
  return s;
}

TEST(DeadLetters, MissingStoreHasNone) {
  FaultFileSystem fs;
  auto r = ReadRecentDeadLetters(&fs, kPath, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
}

TEST(DeadLetters, NewestFirstUpToTheLimit) {
  FaultFileSystem fs;
  Write(&fs, Lines(1, 6));
  auto r = ReadRecentDeadLetters(&fs, kPath, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{Line(5), Line(4), Line(3)}));
  r = ReadRecentDeadLetters(&fs, kPath, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 5u);
  EXPECT_EQ(r->back(), Line(1));
  r = ReadRecentDeadLetters(&fs, kPath, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(DeadLetters, AnAppendInProgressIsLeftOut) {
  FaultFileSystem fs;
  Write(&fs, Lines(1, 3) + "{\"line\":3,\"rea");
  auto r = ReadRecentDeadLetters(&fs, kPath, 5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{Line(2), Line(1)}));
  Write(&fs, "{\"line\":1");  // no complete line at all
  r = ReadRecentDeadLetters(&fs, kPath, 5);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(DeadLetters, ReadsOnlyTheTailOfABigStore) {
  FaultFileSystem fs;
  // About 4 MB: many blocks of 64 KiB; the last lines come back whole.
  Write(&fs, Lines(1, 100001));
  auto r = ReadRecentDeadLetters(&fs, kPath, 1000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1000u);
  EXPECT_EQ(r->front(), Line(100000));
  EXPECT_EQ(r->back(), Line(99001));
  // A tail limit smaller than the lines asked for: only whole lines, and
  // never the one the limit cuts.
  r = ReadRecentDeadLetters(&fs, kPath, 100000, 1000);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->empty());
  EXPECT_LT(r->size(), 1000 / Line(100000).size() + 1);
  for (size_t i = 0; i < r->size(); ++i) EXPECT_EQ((*r)[i], Line(100000 - static_cast<int>(i)));
}

}  // namespace
}  // namespace lf
