// The workers' directory in the store: records round-trip, damaged ones
// are refused with the line, readers skip foreign objects, and the owner
// of a partition is the fresh record with the highest epoch.
#include "store/worker_directory.h"

#include <gtest/gtest.h>

#include "common/testing/fault_file_system.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

WorkerRecord Record(const std::string& id, const std::string& address, int64_t ms,
                    std::map<uint32_t, uint64_t> partitions) {
  WorkerRecord r;
  r.writer_id = id;
  r.address = address;
  r.updated_ms = ms;
  r.partitions = std::move(partitions);
  return r;
}

TEST(WorkerRecordTest, RoundTripsAndRefusesDamage) {
  const WorkerRecord r = Record("host-a:12:0badf00d", "10.0.0.1:8080", 1700000000123, {{0, 3}, {5, 1}});
  const std::string text = FormatWorkerRecord(r);
  EXPECT_EQ(text,
            "lambdaflow-worker 1\nwriter host-a:12:0badf00d\naddress 10.0.0.1:8080\nupdated_ms 1700000000123\n"
            "partition 0 3\npartition 5 1\nend\n");
  auto back = ParseWorkerRecord(text, "workers/x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->writer_id, r.writer_id);
  EXPECT_EQ(back->address, r.address);
  EXPECT_EQ(back->updated_ms, r.updated_ms);
  EXPECT_EQ(back->partitions, r.partitions);
  // Every truncation is refused (no 'end', or a torn last line).
  for (size_t n = 0; n + 1 < text.size(); ++n) {
    if (n == 0) continue;  // empty: no magic, refused below
    EXPECT_FALSE(ParseWorkerRecord(text.substr(0, n), "w").ok()) << n;
  }
  EXPECT_FALSE(ParseWorkerRecord("", "w").ok());
  auto twice = ParseWorkerRecord(
      "lambdaflow-worker 1\nwriter a\naddress b:1\nupdated_ms 1\npartition 1 1\npartition 1 2\nend\n", "workers/a");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("workers/a, line 6"), std::string::npos) << twice.status().message();
  EXPECT_FALSE(ParseWorkerRecord("lambdaflow-worker 1\nwriter a\naddress b:1\nend\n", "w").ok());  // no updated_ms
  EXPECT_FALSE(ParseWorkerRecord("lambdaflow-worker 2\nwriter a\naddress b:1\nupdated_ms 1\nend\n", "w").ok());
  EXPECT_FALSE(
      ParseWorkerRecord("lambdaflow-worker 1\nwriter a\naddress b:1\nupdated_ms 1\npartition -1 2\nend\n", "w").ok());
}

TEST(WorkerDirectoryTest, WorkersPublishRefreshAndFindTheOwners) {
  FaultFileSystem fs(5);
  auto store = LocalObjectStore::Open(&fs, "/s");
  ASSERT_TRUE(store.ok());
  WorkerDirectory dir(store->get());
  ASSERT_TRUE(dir.Publish(Record("a", "127.0.0.1:1", 1000, {{0, 1}, {1, 1}, {2, 1}})).ok());
  ASSERT_TRUE(dir.Publish(Record("b", "127.0.0.1:2", 1000, {{3, 1}})).ok());
  // Writer ids as UniqueWriterId makes them ("host:pid:random") are valid record names.
  ASSERT_TRUE(dir.Publish(Record("vm:1508:f542eed5", "127.0.0.1:3", 1000, {})).ok());
  EXPECT_EQ(WorkerDirectory::Key("vm:1508:f542eed5"), "workers/vm_1508_f542eed5");
  ASSERT_TRUE(dir.Remove("vm:1508:f542eed5").ok());
  EXPECT_EQ(dir.Publish(Record("bad id", "x:1", 1, {})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dir.Publish(Record("c", "x\n:1", 1, {})).code(), StatusCode::kInvalidArgument);
  // Partition 2 moved to b (epoch 2); a has not refreshed yet.
  ASSERT_TRUE(dir.Publish(Record("b", "127.0.0.1:2", 2000, {{2, 2}, {3, 1}})).ok());
  // A foreign object under the prefix is skipped and named.
  ASSERT_TRUE((*store)->Replace("workers/junk", "hello\n").ok());
  std::vector<std::string> skipped;
  auto records = dir.List(&skipped);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_EQ(records->size(), 2u);
  EXPECT_EQ(skipped, (std::vector<std::string>{"workers/junk"}));
  auto owners = WorkerDirectory::Owners(*records, 2500, 5000);
  ASSERT_EQ(owners.size(), 4u);
  EXPECT_EQ(owners[0].writer_id, "a");
  EXPECT_EQ(owners[2].writer_id, "b");  // the higher epoch wins over a's stale record
  EXPECT_EQ(owners[2].epoch, 2u);
  EXPECT_EQ(owners[2].address, "127.0.0.1:2");
  EXPECT_EQ(owners[3].epoch, 1u);
  // Records older than the age limit are not owners (a killed worker).
  owners = WorkerDirectory::Owners(*records, 6500, 5000);
  EXPECT_EQ(owners.size(), 2u);
  EXPECT_EQ(owners.count(0), 0u);
  // A clean stop removes the record; removing twice is fine.
  ASSERT_TRUE(dir.Remove("a").ok());
  ASSERT_TRUE(dir.Remove("a").ok());
  records = dir.List();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].writer_id, "b");
}

}  // namespace
}  // namespace lf
