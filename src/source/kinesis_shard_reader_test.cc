// The shard reader against a fake shard: at most one GetRecords per
// interval, an expired iterator renewed after the last record (nothing read
// twice or skipped), a closed shard finished; and which shards are readable
// after splits, merges and retention.
#include "source/kinesis_shard_reader.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

// A shard of `records` sequence numbers 100, 101, ...; iterators are
// "at:<index>"; `expire` makes the next GetRecords fail as expired.
struct FakeShard {
  int records = 10;
  bool closed = false;
  int per_call = 3;
  int expire = 0;
  std::vector<std::string> iterator_requests;

  static std::string Seq(int i) { return std::to_string(100 + i); }

  KinesisShardApi Api() {
    KinesisShardApi api;
    api.get_iterator = [this](const std::string&, const std::string& type,
                              const std::string& seq) -> Result<std::string> {
      iterator_requests.push_back(type + " " + seq);
      if (type == "TRIM_HORIZON") return std::string("at:0");
      return "at:" + std::to_string(std::stoi(seq) - 100 + 1);
    };
    api.get_records = [this](const std::string& iterator, int) -> Result<KinesisGetRecordsResult> {
      if (expire > 0) {
        --expire;
        return Status::OutOfRange("GetRecords: ExpiredIteratorException");
      }
      const int at = std::stoi(iterator.substr(3));
      KinesisGetRecordsResult r;
      int i = at;
      for (; i < records && i < at + per_call; ++i) r.records.push_back({Seq(i), "k", "d" + std::to_string(i), 0});
      r.next_iterator = closed && i >= records ? "" : "at:" + std::to_string(i);
      return r;
    };
    return api;
  }
};

struct FakeTime {
  int64_t now = 1000;
  std::vector<int64_t> sleeps;
  KinesisShardReaderOptions Options() {
    KinesisShardReaderOptions o;
    o.now_ms = [this] { return now; };
    o.sleep_ms = [this](int64_t ms) {
      sleeps.push_back(ms);
      now += ms;
    };
    return o;
  }
};

std::vector<std::string> DrainData(KinesisShardReader* r, int polls) {
  std::vector<std::string> out;
  for (int i = 0; i < polls; ++i) {
    auto got = r->Poll();
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) break;
    for (const auto& rec : *got) out.push_back(rec.data);
  }
  return out;
}

TEST(KinesisShardReaderTest, AtMostOneGetRecordsPerIntervalPerShard) {
  FakeShard shard;
  FakeTime time;
  KinesisShardReader r(shard.Api(), "shardId-0", "", time.Options());
  ASSERT_TRUE(r.Poll().ok());
  time.now += 50;  // the caller comes back after 50 ms: the reader waits 150 more
  ASSERT_TRUE(r.Poll().ok());
  ASSERT_EQ(time.sleeps, (std::vector<int64_t>{150}));
  time.now += 500;  // later than the interval: no wait
  ASSERT_TRUE(r.Poll().ok());
  EXPECT_EQ(time.sleeps.size(), 1u);
  EXPECT_EQ(r.calls(), 3u);
}

TEST(KinesisShardReaderTest, StartsAfterTheGivenSequenceNumberOrAtTheOldest) {
  FakeShard shard;
  FakeTime time;
  KinesisShardReader from_start(shard.Api(), "s", "", time.Options());
  EXPECT_EQ(DrainData(&from_start, 1), (std::vector<std::string>{"d0", "d1", "d2"}));
  KinesisShardReader resumed(shard.Api(), "s", FakeShard::Seq(4), time.Options());
  EXPECT_EQ(DrainData(&resumed, 1), (std::vector<std::string>{"d5", "d6", "d7"}));
  EXPECT_EQ(resumed.last_sequence_number(), FakeShard::Seq(7));
  EXPECT_EQ(shard.iterator_requests, (std::vector<std::string>{"TRIM_HORIZON ", "AFTER_SEQUENCE_NUMBER 104"}));
}

TEST(KinesisShardReaderTest, AnExpiredIteratorIsRenewedAfterTheLastRecord) {
  FakeShard shard;
  FakeTime time;
  KinesisShardReader r(shard.Api(), "s", "", time.Options());
  std::vector<std::string> data = DrainData(&r, 2);  // d0..d5
  shard.expire = 1;                                  // the reader paused past the iterator's life
  for (const auto& d : DrainData(&r, 3)) data.push_back(d);
  EXPECT_EQ(r.renewals(), 1u);
  EXPECT_EQ(shard.iterator_requests.back(), "AFTER_SEQUENCE_NUMBER 105");
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) expected.push_back("d" + std::to_string(i));
  EXPECT_EQ(data, expected);  // nothing twice, nothing skipped
}

TEST(KinesisShardReaderTest, AnIteratorThatKeepsExpiringIsAnError) {
  FakeShard shard;
  shard.expire = 100;
  FakeTime time;
  KinesisShardReaderOptions o = time.Options();
  o.expired_renewals = 2;
  KinesisShardReader r(shard.Api(), "s", "", o);
  auto got = r.Poll();
  EXPECT_EQ(got.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(r.renewals(), 2u);
}

TEST(KinesisShardReaderTest, AClosedShardIsFinishedAtItsEnd) {
  FakeShard shard;
  shard.closed = true;
  FakeTime time;
  KinesisShardReader r(shard.Api(), "s", "", time.Options());
  EXPECT_EQ(DrainData(&r, 10).size(), 10u);
  EXPECT_TRUE(r.finished());
  const uint64_t calls = r.calls();
  auto more = r.Poll();
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->empty());
  EXPECT_EQ(r.calls(), calls);  // no request once finished
}

KinesisShard Shard(std::string id, std::string parent = "", std::string adjacent = "") {
  KinesisShard s;
  s.shard_id = std::move(id);
  s.parent_shard_id = std::move(parent);
  s.adjacent_parent_shard_id = std::move(adjacent);
  return s;
}

TEST(ReadableShardsTest, ChildrenWaitForAllTheirParents) {
  // 0 split into 1 and 2; then 1 and 2 merged into 3.
  const std::vector<KinesisShard> shards{Shard("0"), Shard("1", "0"), Shard("2", "0"), Shard("3", "1", "2")};
  EXPECT_EQ(ReadableShards(shards, {}), (std::vector<std::string>{"0"}));
  EXPECT_EQ(ReadableShards(shards, {"0"}), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ReadableShards(shards, {"0", "1"}), (std::vector<std::string>{"2"}));  // 3 waits for 2 too
  EXPECT_EQ(ReadableShards(shards, {"0", "1", "2"}), (std::vector<std::string>{"3"}));
  EXPECT_TRUE(ReadableShards(shards, {"0", "1", "2", "3"}).empty());
}

TEST(ReadableShardsTest, AParentTrimmedByRetentionDoesNotBlock) {
  // Shard 0 aged out of the stream: ListShards no longer names it.
  const std::vector<KinesisShard> shards{Shard("1", "0"), Shard("2", "0")};
  EXPECT_EQ(ReadableShards(shards, {}), (std::vector<std::string>{"1", "2"}));
}

}  // namespace
}  // namespace lf
