// The Kinesis producer's batching and resending against a fake PutRecords:
// request limits (500 records, 5 MiB), only failed entries sent again,
// giving up after the rounds, whole-request errors; and the decimal
// comparison of sequence numbers.
#include "source/kinesis_producer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace lf {
namespace {

struct FakeKinesis {
  std::vector<std::vector<KinesisPutEntry>> requests;
  // Entries (by data) to fail, and how many more times each.
  std::map<std::string, int> fail_times;
  std::multiset<std::string> stored;

  KinesisProducer::Sender Sender() {
    return [this](const std::vector<KinesisPutEntry>& batch) -> Result<KinesisPutResult> {
      requests.push_back(batch);
      KinesisPutResult r;
      for (const auto& e : batch) {
        auto it = fail_times.find(e.data);
        if (it != fail_times.end() && it->second > 0) {
          --it->second;
          r.entries.push_back({"", "", "ProvisionedThroughputExceededException", "slow down"});
          ++r.failed;
        } else {
          stored.insert(e.data);
          r.entries.push_back({std::to_string(stored.size()), "shardId-000000000000", "", ""});
        }
      }
      return r;
    };
  }
};

KinesisProducerOptions NoSleep() {
  KinesisProducerOptions o;
  o.sleep_ms = [](int64_t) {};
  return o;
}

TEST(KinesisProducerTest, RequestsHoldAtMost500Records) {
  FakeKinesis k;
  KinesisProducer p(k.Sender(), NoSleep());
  for (int i = 0; i < 1234; ++i) ASSERT_TRUE(p.Add({std::to_string(90000 + i % 2000), "e" + std::to_string(i)}).ok());
  ASSERT_TRUE(p.Flush().ok());
  ASSERT_EQ(k.requests.size(), 3u);
  EXPECT_EQ(k.requests[0].size(), 500u);
  EXPECT_EQ(k.requests[1].size(), 500u);
  EXPECT_EQ(k.requests[2].size(), 234u);
  EXPECT_EQ(p.delivered(), 1234u);
  EXPECT_EQ(k.stored.size(), 1234u);
}

TEST(KinesisProducerTest, RequestsHoldAtMost5MiB) {
  FakeKinesis k;
  KinesisProducer p(k.Sender(), NoSleep());
  const std::string big(1 << 20 >> 1, 'x');  // 512 KiB records: 10 fit only with their keys under 5 MiB
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(p.Add({"k", big + std::to_string(i % 10)}).ok());
  ASSERT_TRUE(p.Flush().ok());
  for (const auto& req : k.requests) {
    uint64_t bytes = 0;
    for (const auto& e : req) bytes += e.data.size() + e.partition_key.size();
    EXPECT_LE(bytes, uint64_t{5} << 20);
  }
  EXPECT_EQ(k.requests.size(), 3u);  // 9 + 9 + 7
  EXPECT_EQ(p.delivered(), 25u);
}

TEST(KinesisProducerTest, OnlyFailedEntriesAreSentAgain) {
  FakeKinesis k;
  k.fail_times = {{"e3", 1}, {"e7", 2}};
  KinesisProducer p(k.Sender(), NoSleep());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.Add({"95126", "e" + std::to_string(i)}).ok());
  ASSERT_TRUE(p.Flush().ok());
  ASSERT_EQ(k.requests.size(), 3u);
  EXPECT_EQ(k.requests[1].size(), 2u);  // e3 and e7
  ASSERT_EQ(k.requests[2].size(), 1u);  // e7 again
  EXPECT_EQ(k.requests[2][0].data, "e7");
  EXPECT_EQ(p.resent(), 3u);
  // Every record stored exactly once.
  EXPECT_EQ(k.stored.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(k.stored.count("e" + std::to_string(i)), 1u);
}

TEST(KinesisProducerTest, GivesUpAfterTheRoundsAndSaysSo) {
  FakeKinesis k;
  k.fail_times = {{"stuck", 1000}};
  KinesisProducerOptions o = NoSleep();
  o.resend.max_attempts = 4;
  KinesisProducer p(k.Sender(), o);
  ASSERT_TRUE(p.Add({"1", "ok"}).ok());
  ASSERT_TRUE(p.Add({"1", "stuck"}).ok());
  const Status st = p.Flush();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("1 Kinesis records still failed after 4 rounds"), std::string::npos) << st.message();
  EXPECT_EQ(p.delivered(), 1u);
  EXPECT_EQ(p.failed(), 1u);
  EXPECT_EQ(k.requests.size(), 4u);
}

TEST(KinesisProducerTest, AFailedRequestStopsWithItsError) {
  KinesisProducer p([](const std::vector<KinesisPutEntry>&) -> Result<KinesisPutResult> {
    return Status::NotFound("PutRecords on kinesis://nope: ResourceNotFoundException");
  });
  ASSERT_TRUE(p.Add({"1", "a"}).ok());
  EXPECT_EQ(p.Flush().code(), StatusCode::kNotFound);
  EXPECT_EQ(p.failed(), 1u);
}

TEST(KinesisProducerTest, RecordsOverTheLimitsAreRefused) {
  FakeKinesis k;
  KinesisProducer p(k.Sender(), NoSleep());
  EXPECT_EQ(p.Add({"", "x"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.Add({std::string(257, 'k'), "x"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.Add({"k", std::string(1 << 20, 'x')}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(p.Add({"k", std::string((1 << 20) - 1, 'x')}).ok());
}

TEST(KinesisUrlTest, StreamNamesAreChecked) {
  EXPECT_EQ(*ParseKinesisUrl("kinesis://events-1.a_b", "--to"), "events-1.a_b");
  for (const char* bad : {"kinesis://", "kafka://h/t", "kinesis://a/b", "kinesis://a b"}) {
    auto r = ParseKinesisUrl(bad, "--to");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos);
  }
}

TEST(SequenceNumberTest, ComparedAsDecimalNumbersOfAnyLength) {
  // Longer than any integer type: Kinesis's are up to 129 digits.
  const std::string a = "49680886232215837248756598794433242001055297332494467074";
  const std::string b = "49680886232215837248756598794433242001055297332494467075";
  EXPECT_LT(CompareSequenceNumbers(a, b), 0);
  EXPECT_GT(CompareSequenceNumbers(b, a), 0);
  EXPECT_EQ(CompareSequenceNumbers(a, a), 0);
  EXPECT_LT(CompareSequenceNumbers("9", "10"), 0);  // not lexicographic
  EXPECT_EQ(CompareSequenceNumbers("007", "7"), 0);
  EXPECT_LT(CompareSequenceNumbers(std::string(128, '9'), "1" + std::string(128, '0')), 0);
}

}  // namespace
}  // namespace lf
