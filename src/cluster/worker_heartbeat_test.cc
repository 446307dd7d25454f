// The directory heartbeat: the record is published at start, replaced as
// soon as the owned partitions change and on every interval otherwise, and
// removed at a clean stop.
#include "cluster/worker_heartbeat.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/mutex.h"
#include "common/testing/fault_file_system.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

using std::chrono::milliseconds;

// Polls `cond` for up to 5 s.
template <typename F>
bool Eventually(F cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return cond();
}

TEST(WorkerHeartbeatTest, PublishesOnChangeAndOnIntervalAndRemovesAtStop) {
  FaultFileSystem fs(7);
  auto store = LocalObjectStore::Open(&fs, "/s");
  ASSERT_TRUE(store.ok());
  WorkerDirectory dir(store->get());
  Mutex mu;
  std::map<uint32_t, uint64_t> owned;  // guarded by mu
  std::atomic<int64_t> now{1000};
  HeartbeatOptions o;
  o.writer_id = "w1";
  o.address = "127.0.0.1:9001";
  o.interval = milliseconds(200);
  o.check = milliseconds(10);
  o.owned = [&] {
    MutexLock lock(&mu);
    return owned;
  };
  o.now_ms = [&] { return now.load(); };
  WorkerHeartbeat hb(&dir, o);
  ASSERT_TRUE(hb.Start().ok());
  auto read = [&]() -> std::optional<WorkerRecord> {
    auto list = dir.List();
    if (!list.ok() || list->size() != 1) return std::nullopt;
    return (*list)[0];
  };
  ASSERT_TRUE(read().has_value());
  EXPECT_EQ(read()->address, "127.0.0.1:9001");
  EXPECT_TRUE(read()->partitions.empty());
  // A gain is published at the next check, well before the interval.
  {
    MutexLock lock(&mu);
    owned = {{2, 5}, {3, 1}};
  }
  const auto gained_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return read() && read()->partitions.size() == 2; }));
  EXPECT_LT(std::chrono::steady_clock::now() - gained_at, milliseconds(150));
  EXPECT_EQ(read()->partitions.at(2), 5u);
  // Unchanged partitions: replaced on the interval with a newer time.
  now = 2000;
  ASSERT_TRUE(Eventually([&] { return read() && read()->updated_ms == 2000; }));
  EXPECT_GE(hb.publishes(), 3u);
  EXPECT_EQ(hb.failures(), 0u);
  // A clean stop removes the record.
  ASSERT_TRUE(hb.Stop().ok());
  auto list = dir.List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

}  // namespace
}  // namespace lf
