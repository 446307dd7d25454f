#include "server/recent_rejects.h"

#include <gtest/gtest.h>

#include "common/testing/fault_file_system.h"

namespace lf {
namespace {

TEST(RecentRejects, NewestFirstAndDamagedLinesLeftOut) {
  FaultFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/d").ok());
  auto f = fs.NewWritableFile("/d/rejects.jsonl");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("{\"line\":1,\"raw\":\"<script>\"}\nnot json\n{\"line\":3}\n").ok());
  ASSERT_TRUE((*f)->Close().ok());
  auto j = RecentRejectsJson(&fs, "/d/rejects.jsonl", 20);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, "{\"rejects\":[{\"line\":3},{\"line\":1,\"raw\":\"<script>\"}],\"limit\":20}");
  j = RecentRejectsJson(&fs, "/d/rejects.jsonl", 1);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, "{\"rejects\":[{\"line\":3}],\"limit\":1}");
  j = RecentRejectsJson(&fs, "/d/missing.jsonl", 5);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, "{\"rejects\":[],\"limit\":5}");
}

TEST(RecentRejects, Limit) {
  EXPECT_EQ(*ParseRejectsLimit(""), kDefaultRecentRejects);
  EXPECT_EQ(*ParseRejectsLimit("0"), 0u);
  EXPECT_EQ(*ParseRejectsLimit("1000"), 1000u);
  EXPECT_FALSE(ParseRejectsLimit("1001").ok());
  EXPECT_FALSE(ParseRejectsLimit("-1").ok());
  EXPECT_FALSE(ParseRejectsLimit("ten").ok());
  EXPECT_FALSE(ParseRejectsLimit("5 ").ok());
}

}  // namespace
}  // namespace lf
