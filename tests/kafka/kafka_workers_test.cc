// Several `lambdaflow run --source kafka://... --group NAME` workers on one
// topic and one store (docs/formats/ownership.md), against librdkafka's mock
// cluster: the group splits the partitions, every partition is sealed by
// exactly one worker into one contiguous chain of segments, and every answer
// of every worker equals SQLite over exactly the prefixes it reports (its
// own partitions as read, the others gathered from their owner); after a
// kill -9 of one worker the other gains its partitions and catches up,
// nothing lost and nothing doubled; a worker stopped past the session
// timeout and continued is fenced.
#include <signal.h>

#include "kafka/group_workers.h"

namespace lf {
namespace {

using namespace lf::test;  // NOLINT: the harness of these tests

TEST_F(KafkaWorkersTest, TwoWorkersSplitThePartitionsAndEachAnswersExactly) {
  auto a = StartWorker("a");
  ASSERT_NE(a, nullptr);
  auto b = StartWorker("b");
  ASSERT_NE(b, nullptr);
  RandomQueryLoop qa(*a), qb(*b);
  ASSERT_EQ(Produce(20000, 21, 8000), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 20000u);
  std::vector<Answer> finals;
  ASSERT_TRUE(WaitCovered({a.get(), b.get()}, ends, seconds(60), &finals))
      << "no worker read some partition to its end\n"
      << a->StderrText() << "\n----\n"
      << b->StderrText();
  const std::vector<Answer> during_a = qa.Stop(), during_b = qb.Stop();
  // Both took part: each owns some partition, as its status says.
  for (const ServerProcess* w : {a.get(), b.get()}) {
    auto g = ReadGroup(*w);
    ASSERT_TRUE(g.has_value());
    EXPECT_NE(std::find(g->self.begin(), g->self.end(), true), g->self.end()) << g->writer << " owns nothing";
  }
  Db db;
  LoadEvents(db, recs);
  CheckAll(db, during_a, "worker a");
  CheckAll(db, during_b, "worker b");
  CheckAll(db, finals, "final answers");
  ExpectChainsCover(ends);
  if (getenv("LF_PRINT_WORKER_LOGS"))
    std::fprintf(stderr, "%s\n----\n%s\n", a->StderrText().c_str(), b->StderrText().c_str());
  EXPECT_NE(a->StderrText().find("group: gained partition"), std::string::npos) << a->StderrText();
  EXPECT_NE(b->StderrText().find("group: gained partition"), std::string::npos) << b->StderrText();
}

TEST_F(KafkaWorkersTest, KillNineOfOneWorkerMovesItsPartitionsLosingAndDoublingNothing) {
  auto a = StartWorker("a");
  ASSERT_NE(a, nullptr);
  auto b = StartWorker("b");
  ASSERT_NE(b, nullptr);
  std::atomic<int> produced{-1};
  std::thread producer([&] { produced = Produce(30000, 22, 8000); });
  // Killed once it has gained partitions and published a batch version
  // for some of them.
  const auto deadline = Clock::now() + seconds(30);
  while (Clock::now() < deadline && b->StderrText().find("batch: version") == std::string::npos)
    std::this_thread::sleep_for(milliseconds(50));
  std::this_thread::sleep_for(milliseconds(500));
  const size_t gains_before = CountGains(*a);
  b->Kill9();
  // b's last version's W per partition (of those it owned, W > first).
  std::vector<uint64_t> b_w;
  {
    const std::string text = b->StderrText();
    const size_t at = text.rfind("batch: version");
    ASSERT_NE(at, std::string::npos) << text;
    const size_t w = text.find("(W=", at) + 3;
    b_w = ParseList(text.substr(w, text.find(')', w) - w));
  }
  RandomQueryLoop qa(*a);
  producer.join();
  ASSERT_EQ(produced.load(), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 30000u);
  std::vector<Answer> finals;
  ASSERT_TRUE(WaitCovered({a.get()}, ends, seconds(60), &finals)) << "the survivor never caught up\n"
                                                                  << a->StderrText();
  Db db;
  LoadEvents(db, recs);
  CheckAll(db, qa.Stop(), "the survivor while partitions moved");
  CheckAll(db, finals, "the survivor's final answer");
  EXPECT_EQ(finals[0].speed, ends);
  EXPECT_GT(CountGains(*a), gains_before) << "the survivor gained nothing after the kill\n" << a->StderrText();
  // The survivor took b's batch pieces of what it gained: its speed state
  // was rebuilt from b's W, not from the first offset (no full re-read).
  {
    const std::string text = a->StderrText();
    size_t at = 0;
    for (size_t k = 0; k < gains_before; ++k) at = text.find("group: gained partition", at) + 1;
    size_t taken = 0;
    for (at = text.find("group: gained partition", at); at != std::string::npos;
         at = text.find("group: gained partition", at + 1)) {
      const std::string line = text.substr(at, text.find('\n', at) - at);
      const size_t p = std::stoul(line.substr(std::string("group: gained partition ").size()));
      const size_t wat = line.find("batch part W=");
      ASSERT_NE(wat, std::string::npos) << line;
      const uint64_t w = std::stoull(line.substr(wat + 13));
      ASSERT_LT(p, b_w.size());
      EXPECT_GE(w, b_w[p]) << "partition " << p << " rebuilt from below b's batch watermark: " << line;
      if (b_w[p] > 0) ++taken;
    }
    EXPECT_GT(taken, 0u) << "no gained partition had a batch version of b's\n" << text;
  }
  ExpectChainsCover(ends);
}

// A worker stopped (SIGSTOP) past the session timeout is a zombie: the group
// gives its partitions to the other, which claims them; continued (SIGCONT),
// it learns they were lost and publishes nothing for them — the chains stay
// contiguous, sealed once — and both workers' answers stay exact.
TEST_F(KafkaWorkersTest, AStoppedWorkerIsFencedWhenItContinues) {
  auto a = StartWorker("a");
  ASSERT_NE(a, nullptr);
  auto b = StartWorker("b");
  ASSERT_NE(b, nullptr);
  std::atomic<int> produced{-1};
  std::thread producer([&] { produced = Produce(30000, 23, 8000); });
  const auto deadline = Clock::now() + seconds(30);
  while (Clock::now() < deadline && b->StderrText().find("group: gained partition") == std::string::npos)
    std::this_thread::sleep_for(milliseconds(50));
  std::this_thread::sleep_for(milliseconds(1000));
  const size_t gains_before = CountGains(*a);
  ASSERT_EQ(kill(b->pid(), SIGSTOP), 0);
  // The other worker takes its partitions (session timeout 3 s).
  const auto moved_by = Clock::now() + seconds(30);
  while (Clock::now() < moved_by && CountGains(*a) == gains_before) std::this_thread::sleep_for(milliseconds(100));
  const bool moved = CountGains(*a) > gains_before;
  ASSERT_EQ(kill(b->pid(), SIGCONT), 0);
  ASSERT_TRUE(moved) << "the stopped worker's partitions never moved\n" << a->StderrText();
  RandomQueryLoop qa(*a), qb(*b);
  producer.join();
  ASSERT_EQ(produced.load(), 0) << test::ReadFile(dir_.path() / "produce.err");
  std::vector<uint64_t> ends;
  const std::vector<Rec> recs = ReadTopic(cluster_->bootstrap(), "events", kPartitions, &ends);
  ASSERT_EQ(recs.size(), 30000u);
  std::vector<Answer> finals;
  ASSERT_TRUE(WaitCovered({a.get(), b.get()}, ends, seconds(60), &finals))
      << "no worker read some partition to its end\n"
      << a->StderrText() << "\n----\n"
      << b->StderrText();
  Db db;
  LoadEvents(db, recs);
  CheckAll(db, qa.Stop(), "worker a");
  CheckAll(db, qb.Stop(), "the worker that was stopped");
  CheckAll(db, finals, "final answers");
  ExpectChainsCover(ends);
  // It learnt that its partitions were taken (or a publish of it was fenced).
  const std::string berr = b->StderrText();
  if (getenv("LF_PRINT_WORKER_LOGS")) std::fprintf(stderr, "%s\n", berr.c_str());
  EXPECT_TRUE(berr.find("group: lost partition") != std::string::npos || berr.find("fenced") != std::string::npos)
      << berr;
}

}  // namespace
}  // namespace lf
