#include "server/history.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace lf {
namespace {

HistorySample At(int64_t t, uint64_t accepted, uint64_t rejected) {
  HistorySample s;
  s.t_ms = t;
  s.accepted = accepted;
  s.rejected = rejected;
  s.log_end = {accepted};
  s.batch = {accepted / 2};
  s.speed = {accepted};
  return s;
}

TEST(History, RatesAgainstThePreviousSample) {
  History h;
  h.Add(At(1000, 0, 0));
  HistorySample s = At(3000, 5000, 10);  // 2 s later
  s.micro_batches = 100;
  s.micro_batch_seconds = 0.25;  // 100 micro-batches of 2.5 ms
  s.batch_runs = 2;
  s.batch_run_seconds = 0.84;  // two runs of 420 ms
  s.batch_version = 7;
  s.freshness_ms = 12;
  h.Add(s);
  EXPECT_EQ(h.Json(0),
            "{\"interval_ms\":1000,\"capacity\":600,\"samples\":["
            "{\"t\":1000,\"accepted\":0,\"rejected\":0,\"accepted_per_s\":null,\"rejected_per_s\":null,"
            "\"freshness_ms\":0,\"log_end\":[0],\"batch\":[0],\"speed\":[0],\"lag\":[0],\"batch_version\":null,"
            "\"batch_runs\":0,\"batch_run_ms\":null,\"micro_batches_per_s\":null,\"micro_batch_ms\":null},"
            "{\"t\":3000,\"accepted\":5000,\"rejected\":10,\"accepted_per_s\":2500.00,\"rejected_per_s\":5.00,"
            "\"freshness_ms\":12,\"log_end\":[5000],\"batch\":[2500],\"speed\":[5000],\"lag\":[2500],"
            "\"batch_version\":7,\"batch_runs\":2,\"batch_run_ms\":420.00,\"micro_batches_per_s\":50.00,"
            "\"micro_batch_ms\":2.50}]}");
}

TEST(History, AGroupMembersSamplesCarryItsPartitionsAndRebalances) {
  History h;
  HistorySample s = At(1000, 10, 0);
  h.Add(s);
  EXPECT_EQ(h.Json(0).find("owned"), std::string::npos);  // not a member: as before
  s.t_ms = 2000;
  s.owned = std::vector<uint32_t>{1, 3};
  s.gained = 3;
  s.revoked = 1;
  s.lost = 0;
  h.Add(s);
  const std::string json = h.Json(1000);
  EXPECT_NE(json.find(",\"owned\":[1,3],\"rebalances\":{\"gained\":3,\"revoked\":1,\"lost\":0}}"), std::string::npos)
      << json;
}

TEST(History, SinceGivesOnlyNewerSamples) {
  History h;
  for (int i = 1; i <= 5; ++i) h.Add(At(i * 1000, static_cast<uint64_t>(i), 0));
  const std::string json = h.Json(3000);
  EXPECT_EQ(json.find("\"t\":3000"), std::string::npos);
  EXPECT_NE(json.find("\"t\":4000"), std::string::npos);
  EXPECT_NE(json.find("\"t\":5000"), std::string::npos);
  EXPECT_EQ(h.Json(5000), "{\"interval_ms\":1000,\"capacity\":600,\"samples\":[]}");
}

TEST(History, KeepsOnlyTheLastCapacitySamples) {
  History h(3);
  for (int i = 1; i <= 5; ++i) h.Add(At(i * 1000, static_cast<uint64_t>(i), 0));
  EXPECT_EQ(h.size(), 3u);
  const std::string json = h.Json(0);
  EXPECT_EQ(json.find("\"t\":2000"), std::string::npos);
  EXPECT_NE(json.find("\"t\":3000"), std::string::npos);
  // The oldest kept sample still has its rate: it was computed when added.
  EXPECT_NE(json.find("\"t\":3000,\"accepted\":3,\"rejected\":0,\"accepted_per_s\":1.00"), std::string::npos);
}

TEST(History, ARestartedCounterIsNoRate) {
  History h;
  h.Add(At(1000, 500, 0));
  h.Add(At(2000, 100, 0));
  EXPECT_NE(h.Json(1000).find("\"accepted_per_s\":null"), std::string::npos);
}

TEST(HistoryRecorder, SamplesAtOnceThenEveryInterval) {
  History h;
  std::atomic<int> calls{0};
  {
    HistoryRecorder r([&] { return At(++calls * 1000, 0, 0); }, &h, std::chrono::milliseconds(5));
    while (calls < 3) std::this_thread::yield();
  }
  const int after_stop = calls;
  EXPECT_GE(after_stop, 3);
  EXPECT_EQ(h.size(), static_cast<size_t>(after_stop));
}

}  // namespace
}  // namespace lf
