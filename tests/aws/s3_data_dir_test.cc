// A data directory whose shared store is on S3 (`--store s3://...`),
// against s3rver (behind the shim, or bare): what is sealed and published
// is read back by a second opener (through its segment cache and without
// it); the startup probe lets one writer go on over the bare s3rver (which
// overwrites silently) with a warning and refuses several; a second writer
// of the same store fences the first one through a conditional-write
// conflict on the manifest chain.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "aws/s3_emulator.h"
#include "engine/data_dir.h"
#include "testing/oracle_support.h"

namespace lf::test {
namespace {

constexpr const char* kViews = R"sql(CREATE STREAM events (k INT, v INT NOT NULL, ts TIMESTAMP NOT NULL);
CREATE VIEW by_k AS SELECT k, COUNT(*) AS n, SUM(v) AS sv FROM events GROUP BY k;
)sql";

class S3DataDirTest : public ::testing::Test {
 protected:
  void StartEmulator(bool bare) {
    std::string skip, error;
    s3_ = S3Emulator::Start(bare, &skip, &error);
    if (!s3_ && !skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(s3_, nullptr) << error;
    const aws::AwsConfig c = s3_->Config();
    ::setenv("AWS_ACCESS_KEY_ID", c.credentials.access_key_id.c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", c.credentials.secret_access_key.c_str(), 1);
    ::setenv("AWS_REGION", c.region.c_str(), 1);
    ::setenv("AWS_ENDPOINT_URL_S3", c.s3_endpoint->Url("").c_str(), 1);
    ::unsetenv("AWS_SESSION_TOKEN");
  }

  Result<std::unique_ptr<DataDir>> Open(const std::string& name, bool read_only, int writers = 1) {
    DataDirOptions o;
    // A second data directory over a store sealed by another one starts
    // its log at the sealed watermark.
    o.log.restart_at_sealed = true;
    o.store = s3_->Url("dd");
    o.store_writers = writers;
    o.seal_events = 100;
    o.default_views_text = kViews;
    o.operator_log = [this](const std::string& line) { log_.push_back(line); };
    return DataDir::Open(fs_.get(), (tmp_.path() / name).string(), "", read_only, o);
  }

  // Appends `n` events (k = i % 5, v = i) to partition 0 of `d`'s log.
  static void AppendEvents(DataDir* d, int from, int n) {
    std::vector<std::string> lines;
    for (int i = from; i < from + n; ++i)
      lines.push_back("{\"k\":" + std::to_string(i % 5) + ",\"v\":" + std::to_string(i) +
                      ",\"ts\":\"2026-01-01T00:00:00Z\"}");
    std::vector<std::string_view> views(lines.begin(), lines.end());
    ASSERT_TRUE(d->log()->Append(0, views).ok());
  }

  // The sum of v over the sealed master dataset, read through `d`.
  static int64_t SumOfSealed(DataDir* d, uint64_t* events) {
    int64_t sum = 0;
    *events = 0;
    for (const auto& seg : d->master()->Snapshot().segments) {
      Status st = d->master()->ScanRaw(seg, [&](uint64_t, std::string_view e) {
        const size_t at = e.find("\"v\":");
        sum += std::strtoll(std::string(e.substr(at + 4)).c_str(), nullptr, 10);
        ++*events;
        return Status::OK();
      });
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    return sum;
  }

  TempDir tmp_{"lf-s3dd"};
  std::unique_ptr<FileSystem> fs_ = NewPosixFileSystem();
  std::unique_ptr<S3Emulator> s3_;
  std::vector<std::string> log_;
};

TEST_F(S3DataDirTest, SealedSegmentsAreReadBackThroughTheCacheAndWithout) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator(false));
  {
    auto d = Open("a", false);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ((*d)->store_path(), s3_->Url("dd"));
    ASSERT_NO_FATAL_FAILURE(AppendEvents(d->get(), 0, 250));
    auto sealed = (*d)->Seal(/*all=*/true);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(*sealed, 250u);
    uint64_t events = 0;
    EXPECT_EQ(SumOfSealed(d->get(), &events), 249 * 250 / 2);
    EXPECT_EQ(events, 250u);
    EXPECT_FALSE(std::filesystem::is_empty(tmp_.path() / "a" / "cache" / "objects"))
        << "sealed segments are written through to the cache";
    EXPECT_TRUE(log_.empty()) << log_.front();
  }
  // The store is recorded in the data directory; a reader without a cache
  // (read-only openers leave DIR as it is) reads the same.
  {
    DataDirOptions o;
    auto d = DataDir::Open(fs_.get(), (tmp_.path() / "a").string(), "", /*read_only=*/true, o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ((*d)->store_path(), s3_->Url("dd"));
    uint64_t events = 0;
    EXPECT_EQ(SumOfSealed(d->get(), &events), 249 * 250 / 2);
    EXPECT_EQ(events, 250u);
  }
  // Another --store is refused.
  {
    DataDirOptions o;
    o.store = s3_->Url("other");
    auto d = DataDir::Open(fs_.get(), (tmp_.path() / "a").string(), "", false, o);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.status().message().find("uses the store " + s3_->Url("dd")), std::string::npos)
        << d.status().ToString();
  }
}

TEST_F(S3DataDirTest, ProbeWarnsOneWriterAndRefusesSeveralOnAStoreThatOverwrites) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator(/*bare=*/true));
  {
    auto refused = Open("several", false, /*writers=*/2);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("does not honour conditional writes"), std::string::npos)
        << refused.status().ToString();
  }
  auto one = Open("one", false);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_FALSE(log_.empty());
  EXPECT_NE(log_.front().find("warning: the store " + s3_->Url("dd") + " does not honour conditional writes"),
            std::string::npos)
      << log_.front();
}

TEST_F(S3DataDirTest, SecondWriterFencesTheFirst) {
  ASSERT_NO_FATAL_FAILURE(StartEmulator(false));
  auto a = Open("a", false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_NO_FATAL_FAILURE(AppendEvents(a->get(), 0, 100));
  ASSERT_TRUE((*a)->Seal(true).ok());
  // A second process writes the same store from another data directory:
  // it claims every partition (a new owner epoch).
  auto b = Open("b", false);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_NO_FATAL_FAILURE(AppendEvents(a->get(), 100, 100));
  auto sealed = (*a)->Seal(true);
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().code(), StatusCode::kFenced) << sealed.status().ToString();
  EXPECT_NE((*a)->master()->FencedReason(0), "");
  // What the first writer published stays, and the second one reads it.
  uint64_t events = 0;
  EXPECT_EQ(SumOfSealed(b->get(), &events), 99 * 100 / 2);
  EXPECT_EQ(events, 100u);
}

}  // namespace
}  // namespace lf::test
