// `lambdaflow produce --to kafka://...` against the mock cluster, read back
// with a plain librdkafka consumer (not lambdaflow's source): exactly the
// seed events, each keyed by its zipcode, one key in one partition.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ingest/seed_generator.h"
#include "kafka/mock_cluster.h"

namespace lf {
namespace {

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandRun Lambdaflow(const std::string& args) {
  CommandRun r;
  FILE* f = ::popen((std::string(LAMBDAFLOW_BIN) + " " + args + " 2>&1").c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) r.output.append(buf, n);
  const int status = ::pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct Record {
  int32_t partition;
  std::string key;
  std::string value;
};

// Every record of `topic` (partitions 0..partitions-1 from the beginning),
// waiting until `want` arrived or 30 s passed, then 300 ms more for extras.
std::vector<Record> ReadBack(const std::string& bootstrap, const std::string& topic, int partitions, size_t want) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", "readback", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  EXPECT_NE(rk, nullptr) << err;
  if (rk == nullptr) return {};
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<Record> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool extra = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!extra && out.size() >= want) {
      extra = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back({m->partition, std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len)});
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

class KafkaProduceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = test::MockCluster::Start({.brokers = 3, .topic = "events", .partitions = 8}, &error);
    ASSERT_NE(cluster_, nullptr) << error;
  }
  std::unique_ptr<test::MockCluster> cluster_;
};

TEST_F(KafkaProduceTest, PublishesExactlyTheSeedEventsKeyedByZipcode) {
  constexpr int kCount = 3000;
  const CommandRun r =
      Lambdaflow("produce --to " + cluster_->Url("events") + " --count " + std::to_string(kCount) + " --seed 7");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("produce: sent 3000 events to " + cluster_->Url("events") + " (8 partitions)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("delivered 3000, failed 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("delivery latency ms p50"), std::string::npos) << r.output;

  const std::vector<Record> got = ReadBack(cluster_->bootstrap(), "events", 8, kCount);
  ASSERT_EQ(got.size(), static_cast<size_t>(kCount));

  // The same events as the seed generator's, each keyed by its zipcode.
  SeedGenerator gen(SeedGeneratorOptions{.seed = 7});
  std::map<std::string, int> expected;  // value -> count
  for (int i = 0; i < kCount; ++i) {
    const SeedEvent e = gen.Next();
    std::string line;
    gen.AppendJson(e, &line);
    line.pop_back();
    ++expected[line];
  }
  std::map<std::string, int> seen;
  std::map<std::string, int32_t> partition_of_key;
  std::set<int32_t> partitions;
  for (const Record& rec : got) {
    ++seen[rec.value];
    EXPECT_NE(rec.value.find("{\"zipcode\":" + rec.key + ","), std::string::npos) << rec.key << " " << rec.value;
    auto [it, fresh] = partition_of_key.emplace(rec.key, rec.partition);
    EXPECT_EQ(it->second, rec.partition) << "key " << rec.key << " in two partitions";
    partitions.insert(rec.partition);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(partitions.size(), 8u);  // 2000 zip codes spread over every partition
}

TEST_F(KafkaProduceTest, InjectedProduceErrorsAreRetriedWithoutLoss) {
  // The first produce requests fail (a dropped connection, a timeout, a
  // leader change): the producer resends them and every event arrives once.
  // (librdkafka 2.0.2's mock refuses an injected-error request before
  // appending it, so this cannot show the idempotent producer's
  // de-duplication of a request appended but unanswered; a real broker can.)
  ASSERT_EQ(cluster_->Command("errors Produce 3 _TRANSPORT REQUEST_TIMED_OUT NOT_LEADER_FOR_PARTITION"), "ok");
  const CommandRun r = Lambdaflow("produce --to " + cluster_->Url("events") + " --count 1000 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("delivered 1000, failed 0"), std::string::npos) << r.output;
  EXPECT_EQ(ReadBack(cluster_->bootstrap(), "events", 8, 1000).size(), 1000u);
}

TEST_F(KafkaProduceTest, ReportJsonAndRate) {
  const std::string json = ::testing::TempDir() + "/kafka_produce_report.json";
  const auto start = std::chrono::steady_clock::now();
  const CommandRun r =
      Lambdaflow("produce --to " + cluster_->Url("events") + " --count 200 --rate 400 --report-json " + json);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(seconds, 0.45);  // 200 events at 400/s take at least half a second
  FILE* f = std::fopen(json.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[1024] = {0};
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  const std::string text(buf, n);
  EXPECT_NE(text.find("\"sent\":200,\"delivered\":200,\"failed\":0,\"partitions\":8"), std::string::npos) << text;
}

TEST(KafkaProduceErrorsTest, UnreachableBrokerAndBadUrlsAreClearErrors) {
  CommandRun r = Lambdaflow("produce --to kafka://127.0.0.1:1/events --count 5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos) << r.output;
  r = Lambdaflow("produce --to kafka://127.0.0.1:9092 --count 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no topic"), std::string::npos) << r.output;
  r = Lambdaflow("produce --to kafka://127.0.0.1:9092/events --connections 4");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--connections applies to --to http://"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lf
