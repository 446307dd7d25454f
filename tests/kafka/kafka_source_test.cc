// KafkaSource and KafkaProducer against librdkafka's mock cluster (in its
// own process): exact reads from chosen offsets, resuming from a position,
// a broker down and up again, injected request errors, transaction markers
// (position past the last record), and retention loss reported loudly.
#include "source/kafka_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "kafka/mock_cluster.h"
#include "source/kafka_producer.h"

namespace lf {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = test::MockCluster::Start({.brokers = 1, .topic = "events", .partitions = 4}, &error);
    ASSERT_NE(cluster_, nullptr) << error;
  }

  KafkaUrl Url(const std::string& topic = "events") const { return {cluster_->bootstrap(), topic}; }

  // Produces records "v<first>".."v<first+n-1>" keyed "k<i % 50>"; returns
  // how many were delivered.
  int64_t Produce(int first, int n, const std::string& topic = "events", size_t pad = 0) {
    KafkaProducerOptions o;
    o.url = Url(topic);
    auto p = KafkaProducer::Open(o);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return 0;
    // Incompressible padding (the producer compresses with lz4).
    std::mt19937_64 rng(static_cast<uint64_t>(first));
    std::string padding(pad, ' ');
    for (int i = first; i < first + n; ++i) {
      for (char& c : padding) c = static_cast<char>('a' + rng() % 26);
      EXPECT_TRUE((*p)->Produce("k" + std::to_string(i % 50), "v" + std::to_string(i) + padding).ok());
    }
    const Status st = (*p)->Flush(seconds(30));
    EXPECT_TRUE(st.ok()) << st.ToString();
    return (*p)->delivered();
  }

  std::unique_ptr<KafkaSource> Open(const std::string& topic = "events") {
    KafkaSourceOptions o;
    o.url = Url(topic);
    auto s = KafkaSource::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Polls until `want` records arrived (or `timeout`); (partition, offset) -> value.
  static std::map<std::pair<uint32_t, uint64_t>, std::string> Read(KafkaSource* s, size_t want, milliseconds timeout,
                                                                   Status* error = nullptr) {
    std::map<std::pair<uint32_t, uint64_t>, std::string> got;
    const auto deadline = Clock::now() + timeout;
    RecordBatch batch;
    while (got.size() < want && Clock::now() < deadline) {
      batch.Clear();
      const Status st = s->Poll(1000, milliseconds(100), &batch);
      for (const SourceRecord& r : batch.records()) {
        const bool fresh = got.emplace(std::make_pair(r.partition, r.offset), std::string(r.value)).second;
        EXPECT_TRUE(fresh) << "record " << r.partition << "@" << r.offset << " delivered twice";
      }
      if (!st.ok()) {
        if (error != nullptr) *error = st;
        break;
      }
    }
    return got;
  }

  static std::vector<PartitionStart> AllAt(uint32_t partitions, uint64_t offset) {
    std::vector<PartitionStart> v;
    for (uint32_t p = 0; p < partitions; ++p) v.push_back({p, offset});
    return v;
  }

  std::unique_ptr<test::MockCluster> cluster_;
};

TEST_F(KafkaSourceTest, ReadsExactlyTheRecordsFromTheGivenOffsets) {
  constexpr int kEvents = 2000;
  ASSERT_EQ(Produce(0, kEvents), kEvents);
  auto source = Open();
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->partition_count(), 4u);
  ASSERT_TRUE(source->Assign(AllAt(4, 0)).ok());
  auto got = Read(source.get(), kEvents, seconds(30));
  ASSERT_EQ(got.size(), static_cast<size_t>(kEvents));
  std::set<std::string> values;
  for (const auto& [at, v] : got) values.insert(v);
  EXPECT_EQ(values.size(), static_cast<size_t>(kEvents));
  // Nothing more arrives, and every position is the partition's end.
  EXPECT_TRUE(Read(source.get(), 1, milliseconds(500)).empty());
  uint64_t total = 0;
  for (uint32_t p = 0; p < 4; ++p) {
    auto b = source->Bounds(p, seconds(5));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(*source->Position(p), b->high_watermark) << "partition " << p;
    total += b->high_watermark - b->log_start;
  }
  EXPECT_EQ(total, static_cast<uint64_t>(kEvents));

  // From offset 100 in every partition: exactly the records at or after it.
  auto from100 = Open();
  ASSERT_TRUE(from100->Assign(AllAt(4, 100)).ok());
  size_t want = 0;
  for (const auto& [at, v] : got) want += at.second >= 100;
  auto tail = Read(from100.get(), want, seconds(30));
  EXPECT_EQ(tail.size(), want);
  for (const auto& [at, v] : tail) {
    EXPECT_GE(at.second, 100u);
    EXPECT_EQ(v, got.at(at));
  }
  EXPECT_TRUE(Read(from100.get(), 1, milliseconds(300)).empty());
}

TEST_F(KafkaSourceTest, ResumesFromAPositionWithoutLossOrDuplicate) {
  ASSERT_EQ(Produce(0, 1000), 1000);
  auto first = Open();
  ASSERT_TRUE(first->Assign({{1, 0}, {3, 0}}).ok());  // a subset of the partitions
  auto part1 = Read(first.get(), 1, seconds(30));
  ASSERT_FALSE(part1.empty());
  for (const auto& [at, v] : part1) EXPECT_TRUE(at.first == 1 || at.first == 3);
  const std::vector<PartitionStart> resume = {{1, *first->Position(1)}, {3, *first->Position(3)}};
  first.reset();  // a restart

  ASSERT_EQ(Produce(1000, 500), 500);
  auto second = Open();
  ASSERT_TRUE(second->Assign(resume).ok());
  uint64_t want = 0;
  for (uint32_t p : {1u, 3u}) {
    want += second->Bounds(p, seconds(5))->high_watermark - resume[p == 1 ? 0 : 1].offset;
  }
  auto part2 = Read(second.get(), want, seconds(30));
  EXPECT_EQ(part2.size(), want);
  for (const auto& [at, v] : part2) EXPECT_FALSE(part1.count(at)) << at.first << "@" << at.second << " read twice";
  for (uint32_t p : {1u, 3u}) EXPECT_EQ(*second->Position(p), second->Bounds(p, seconds(5))->high_watermark);
}

TEST_F(KafkaSourceTest, SurvivesABrokerGoingDownAndComingBack) {
  ASSERT_EQ(Produce(0, 400), 400);
  auto source = Open();
  ASSERT_TRUE(source->Assign(AllAt(4, 0)).ok());
  ASSERT_EQ(Read(source.get(), 400, seconds(30)).size(), 400u);

  ASSERT_EQ(cluster_->Command("down all"), "ok");
  // While the broker is down: nothing, no error, the trouble is reported.
  Status st;
  EXPECT_TRUE(Read(source.get(), 1, milliseconds(1500), &st).empty());
  EXPECT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(cluster_->Command("up all"), "ok");

  ASSERT_EQ(Produce(400, 400), 400);
  auto more = Read(source.get(), 400, seconds(30), &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(more.size(), 400u);  // resumed by itself
  EXPECT_GT(source->health().transient_errors, 0u);
  EXPECT_FALSE(source->health().last_transient_error.empty());
}

TEST_F(KafkaSourceTest, InjectedFetchErrorsAreRetried) {
  ASSERT_EQ(Produce(0, 300), 300);
  auto source = Open();
  ASSERT_EQ(cluster_->Command("errors Fetch 4 NOT_LEADER_FOR_PARTITION _TRANSPORT REQUEST_TIMED_OUT "
                              "NOT_LEADER_FOR_PARTITION"),
            "ok");
  ASSERT_TRUE(source->Assign(AllAt(4, 0)).ok());
  Status st;
  EXPECT_EQ(Read(source.get(), 300, seconds(30), &st).size(), 300u);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(KafkaSourceTest, PositionReachesTheEndOfATransactionalPartition) {
  // Once a partition is read, the position is its end (the high
  // watermark), taken from the end-of-partition event: against a real
  // broker that is past the commit marker, one more than "last record + 1".
  // librdkafka 2.0.2's mock cluster writes no control records (and does not
  // filter aborted transactions), so here the two coincide; this test
  // checks that a transactional producer's records are read and the
  // position lands on the end.
  ASSERT_EQ(cluster_->Command("topic tx 1"), "ok");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", cluster_->bootstrap().c_str(), err, sizeof(err)),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "transactional.id", "lf-test-tx", err, sizeof(err)), RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  auto ok = [](rd_kafka_error_t* e) {
    const std::string what = e != nullptr ? rd_kafka_error_string(e) : "";
    if (e != nullptr) rd_kafka_error_destroy(e);
    return what;
  };
  auto produce = [&](const std::string& v) {
    return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("tx"), RD_KAFKA_V_PARTITION(0),
                             RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  };
  ASSERT_EQ(ok(rd_kafka_init_transactions(rk, 30000)), "");
  ASSERT_EQ(ok(rd_kafka_begin_transaction(rk)), "");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(produce("committed" + std::to_string(i)), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(ok(rd_kafka_commit_transaction(rk, 30000)), "");
  rd_kafka_destroy(rk);

  auto source = Open("tx");
  ASSERT_TRUE(source->Assign({{0, 0}}).ok());
  auto b = source->Bounds(0, seconds(5));
  ASSERT_TRUE(b.ok());
  auto got = Read(source.get(), 10, seconds(30));
  ASSERT_EQ(got.size(), 10u);
  std::set<std::string> values;
  for (const auto& [at, v] : got) values.insert(v);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(values.count("committed" + std::to_string(i))) << i;
  // The position reaches the partition's end once it is read.
  const auto deadline = Clock::now() + seconds(10);
  while (*source->Position(0) < b->high_watermark && Clock::now() < deadline) Read(source.get(), 1, milliseconds(100));
  EXPECT_EQ(*source->Position(0), b->high_watermark);
  EXPECT_GE(b->high_watermark, got.rbegin()->first.second + 1);
}

TEST_F(KafkaSourceTest, RetentionLossIsALoudErrorNamingTheRange) {
  // The mock keeps about 5 MiB per partition: 8 MiB of records push the log
  // start above 0.
  ASSERT_EQ(cluster_->Command("topic small 1"), "ok");
  constexpr int kRecords = 128;
  ASSERT_EQ(Produce(0, kRecords, "small", 64 << 10), kRecords);
  auto source = Open("small");
  auto b = source->Bounds(0, seconds(5));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_GT(b->log_start, 0u) << "the mock cluster kept every record: retention cannot be tested";
  ASSERT_TRUE(source->Assign({{0, 0}}).ok());
  Status st;
  auto got = Read(source.get(), 1, seconds(30), &st);
  EXPECT_TRUE(got.empty());
  ASSERT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  const std::string range = "[0, " + std::to_string(b->log_start) + ")";
  EXPECT_NE(st.message().find("partition 0"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(range), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("retention"), std::string::npos) << st.message();

  // From the log start on, the rest reads fine.
  auto rest = Open("small");
  ASSERT_TRUE(rest->Assign({{0, b->log_start}}).ok());
  EXPECT_EQ(Read(rest.get(), b->high_watermark - b->log_start, seconds(30)).size(), b->high_watermark - b->log_start);
}

// (A missing topic is not tested here: the mock cluster creates any topic a
// metadata request names, whatever the client asks.)
TEST_F(KafkaSourceTest, BadAssignmentsAreRefused) {
  auto source = Open();
  EXPECT_EQ(source->Assign({{9, 0}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(source->Assign({{1, 0}, {1, 5}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(source->Position(2).status().code(), StatusCode::kInvalidArgument);
}

TEST(KafkaSourceNoBrokerTest, UnreachableBrokerIsUnavailableWithTheAddress) {
  KafkaSourceOptions o;
  o.url = {"127.0.0.1:1", "events"};
  o.connect_timeout = seconds(2);
  auto s = KafkaSource::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace lf
