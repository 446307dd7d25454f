// The Kinesis client and producer against kinesalite (npm), started by the
// test: records put in requests of at most 500 land in the shards their
// partition keys hash to, are read back from every shard exactly once in
// sequence-number order, a read resumes exactly after a sequence number,
// and a split shows in ListShards' parent links with the parent closed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "aws/node_helper.h"
#include "source/kinesis_client.h"
#include "source/kinesis_producer.h"
#include "source/kinesis_shard_reader.h"
#include "testing/child_process.h"

namespace lf::test {
namespace {

class KinesisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip, error;
    emulator_ = NodeHelper::Start({}, "kinesis_emulator.mjs", {}, "kinesalite", &skip, &error);
    if (!emulator_ && !skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(emulator_, nullptr) << error;
    config_.credentials = {"AKIDEXAMPLE", "secret", ""};
    config_.region = "us-east-1";
    config_.kinesis_endpoint = aws::Endpoint{"http", "127.0.0.1:" + std::to_string(emulator_->port()), ""};
  }

  std::unique_ptr<KinesisClient> CreateStream(const std::string& name, int shards) {
    auto k = std::make_unique<KinesisClient>(config_, name);
    EXPECT_TRUE(k->CreateStream(shards).ok());
    for (int i = 0; i < 200; ++i) {
      auto status = k->StreamStatus();
      if (status.ok() && *status == "ACTIVE") return k;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "stream " << name << " did not become ACTIVE";
    return k;
  }

  // Every record of a shard from `iterator` on, until a read returns none.
  static std::vector<KinesisRecord> ReadAll(KinesisClient* k, std::string iterator) {
    std::vector<KinesisRecord> out;
    while (!iterator.empty()) {
      auto r = k->GetRecords(iterator, 1000);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (auto& rec : r->records) out.push_back(std::move(rec));
      if (r->records.empty()) break;
      iterator = r->next_iterator;
    }
    return out;
  }

  std::unique_ptr<NodeHelper> emulator_;
  aws::AwsConfig config_;
};

TEST_F(KinesisTest, RecordsArePutInBatchesAndReadBackFromEveryShardOnce) {
  auto k = CreateStream("events", 4);
  KinesisProducer producer([&](const std::vector<KinesisPutEntry>& b) { return k->PutRecords(b); });
  constexpr int kRecords = 1200;
  for (int i = 0; i < kRecords; ++i) {
    const std::string zipcode = std::to_string(90000 + (i * 7919) % 2000);
    ASSERT_TRUE(producer.Add({zipcode, "{\"zipcode\":" + zipcode + ",\"n\":" + std::to_string(i) + "}"}).ok());
  }
  ASSERT_TRUE(producer.Flush().ok());
  EXPECT_EQ(producer.requests(), 3u);  // 500 + 500 + 200
  EXPECT_EQ(producer.delivered(), static_cast<uint64_t>(kRecords));

  auto shards = k->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 4u);
  std::set<std::string> seen;
  std::map<std::string, std::string> shard_of_key;
  for (const KinesisShard& s : *shards) {
    auto it = k->GetShardIterator(s.shard_id, "TRIM_HORIZON");
    ASSERT_TRUE(it.ok()) << it.status().ToString();
    const std::vector<KinesisRecord> records = ReadAll(k.get(), *it);
    EXPECT_FALSE(records.empty()) << s.shard_id;
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_TRUE(seen.insert(records[i].data).second) << "read twice: " << records[i].data;
      auto [where, fresh] = shard_of_key.emplace(records[i].partition_key, s.shard_id);
      EXPECT_EQ(where->second, s.shard_id) << "key " << records[i].partition_key << " in two shards";
      if (i > 0) {
        EXPECT_LT(CompareSequenceNumbers(records[i - 1].sequence_number, records[i].sequence_number), 0);
      }
      EXPECT_GT(records[i].sequence_number.size(), 20u);  // wider than any int64
    }
    // Resuming after a record reads exactly the ones after it.
    const size_t mid = records.size() / 2;
    auto after = k->GetShardIterator(s.shard_id, "AFTER_SEQUENCE_NUMBER", records[mid].sequence_number);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    const std::vector<KinesisRecord> rest = ReadAll(k.get(), *after);
    ASSERT_EQ(rest.size(), records.size() - mid - 1) << s.shard_id;
    if (!rest.empty()) {
      EXPECT_EQ(rest.front().sequence_number, records[mid + 1].sequence_number);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
}

TEST_F(KinesisTest, ASplitShowsAsParentLinksAndClosesTheParent) {
  auto k = CreateStream("split", 1);
  ASSERT_TRUE(k->PutRecords({{"a", "before"}}).ok());
  auto before = k->ListShards();
  ASSERT_TRUE(before.ok() && before->size() == 1u);
  const std::string parent = (*before)[0].shard_id;
  EXPECT_TRUE((*before)[0].ending_sequence_number.empty());  // open
  ASSERT_TRUE(k->SplitShard(parent, "170141183460469231731687303715884105728").ok());
  for (int i = 0; i < 200; ++i) {
    auto status = k->StreamStatus();
    if (status.ok() && *status == "ACTIVE") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto after = k->ListShards();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), 3u);
  int children = 0;
  for (const KinesisShard& s : *after) {
    if (s.shard_id == parent) {
      EXPECT_FALSE(s.ending_sequence_number.empty());  // closed
    } else {
      EXPECT_EQ(s.parent_shard_id, parent);
      ++children;
    }
  }
  EXPECT_EQ(children, 2);
  // The closed parent reads to its end: its last answer has no next iterator.
  auto it = k->GetShardIterator(parent, "TRIM_HORIZON");
  ASSERT_TRUE(it.ok());
  std::string iterator = *it;
  std::vector<std::string> data;
  for (int i = 0; i < 10 && !iterator.empty(); ++i) {
    auto r = k->GetRecords(iterator);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (auto& rec : r->records) data.push_back(rec.data);
    iterator = r->next_iterator;
  }
  EXPECT_TRUE(iterator.empty());
  EXPECT_EQ(data, std::vector<std::string>{"before"});
}

TEST_F(KinesisTest, ReadersFollowASplitParentFirstAndReadEveryRecordOnce) {
  auto k = CreateStream("resharded", 1);
  KinesisProducer producer([&](const std::vector<KinesisPutEntry>& b) { return k->PutRecords(b); });
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(producer.Add({std::to_string(90000 + i), "before " + std::to_string(i)}).ok());
  ASSERT_TRUE(producer.Flush().ok());
  auto shards = k->ListShards();
  ASSERT_TRUE(shards.ok() && shards->size() == 1u);
  ASSERT_TRUE(k->SplitShard((*shards)[0].shard_id, "170141183460469231731687303715884105728").ok());
  for (int i = 0; i < 200; ++i) {
    auto status = k->StreamStatus();
    if (status.ok() && *status == "ACTIVE") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(producer.Add({std::to_string(90000 + i), "after " + std::to_string(i)}).ok());
  ASSERT_TRUE(producer.Flush().ok());

  // Read as a source would: readable shards only, each until it has nothing
  // more (a closed one until finished).
  auto listed = k->ListShards();
  ASSERT_TRUE(listed.ok() && listed->size() == 3u);
  KinesisShardReaderOptions o;
  o.min_interval_ms = 20;
  std::set<std::string> finished;
  std::vector<std::string> order;
  std::map<std::string, int> seen;
  std::map<std::string, std::unique_ptr<KinesisShardReader>> readers;
  for (int round = 0; round < 5; ++round) {
    for (const std::string& id : ReadableShards(*listed, finished)) {
      auto& reader = readers[id];
      if (!reader) {
        order.push_back(id);
        reader = std::make_unique<KinesisShardReader>(KinesisShardApi::Of(k.get()), id, "", o);
      }
      for (int poll = 0; poll < 20 && !reader->finished(); ++poll) {
        auto got = reader->Poll();
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        for (const KinesisRecord& r : *got) ++seen[r.data];
        if (got->empty()) break;
      }
      if (reader->finished()) finished.insert(id);
    }
  }
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.front(), (*shards)[0].shard_id);  // the parent first, alone
  EXPECT_TRUE(finished.count((*shards)[0].shard_id));
  EXPECT_EQ(seen.size(), 600u);
  for (const auto& [data, n] : seen) EXPECT_EQ(n, 1) << data;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(seen.count("before " + std::to_string(i)), 1u);
    EXPECT_EQ(seen.count("after " + std::to_string(i)), 1u);
  }
}

// Runs `lambdaflow ARGS` with the emulator's AWS settings; its exit status
// and standard error.
std::pair<int, std::string> RunLambdaflow(const aws::AwsConfig& c, std::vector<std::string> args) {
  ::setenv("AWS_ACCESS_KEY_ID", c.credentials.access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", c.credentials.secret_access_key.c_str(), 1);
  ::setenv("AWS_REGION", c.region.c_str(), 1);
  ::setenv("AWS_ENDPOINT_URL_KINESIS", c.kinesis_endpoint->Url("").c_str(), 1);
  char path[] = "/tmp/lf_kinesis_produce_XXXXXX";
  const int err = ::mkstemp(path);
  args.insert(args.begin(), LAMBDAFLOW_BIN);
  std::string error;
  const pid_t pid = SpawnChild(args, -1, -1, err, &error);
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
  ::close(err);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(path);
  return {pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str() + error};
}

TEST_F(KinesisTest, ProduceToKinesisPutsTheSeedEventsKeyedByZipcode) {
  auto k = CreateStream("seed", 4);
  auto [code, err] = RunLambdaflow(config_, {"produce", "--to", "kinesis://seed", "--count", "1500", "--seed", "3"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(err.find("sent 1500 events to kinesis://seed (4 open shards)"), std::string::npos) << err;
  EXPECT_NE(err.find("in 3 PutRecords requests"), std::string::npos) << err;
  EXPECT_NE(err.find("delivered 1500, failed 0"), std::string::npos) << err;
  // Every event is one record whose partition key is its zipcode.
  auto shards = k->ListShards();
  ASSERT_TRUE(shards.ok());
  size_t records = 0;
  for (const KinesisShard& s : *shards) {
    auto it = k->GetShardIterator(s.shard_id, "TRIM_HORIZON");
    ASSERT_TRUE(it.ok());
    for (const KinesisRecord& r : ReadAll(k.get(), *it)) {
      ++records;
      EXPECT_EQ(r.data.rfind("{\"zipcode\":" + r.partition_key + ",", 0), 0u) << r.data;
      EXPECT_EQ(r.data.find('\n'), std::string::npos);
    }
  }
  EXPECT_EQ(records, 1500u);
}

TEST_F(KinesisTest, ProduceToAMissingStreamSaysSo) {
  auto [code, err] = RunLambdaflow(config_, {"produce", "--to", "kinesis://absent", "--count", "10"});
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("kinesis://absent"), std::string::npos) << err;
  EXPECT_NE(err.find("ResourceNotFoundException"), std::string::npos) << err;
}

TEST_F(KinesisTest, AMissingStreamIsNotFoundAndNamed) {
  KinesisClient k(config_, "nope");
  auto shards = k.ListShards();
  EXPECT_EQ(shards.status().code(), StatusCode::kNotFound) << shards.status().ToString();
  EXPECT_NE(shards.status().message().find("kinesis://nope"), std::string::npos) << shards.status().message();
}

}  // namespace
}  // namespace lf::test
