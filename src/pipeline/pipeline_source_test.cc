// The pipeline over an external source (an in-memory LogSource with offset
// gaps, as Kafka's transaction markers leave them): the speed layer covers
// positions, not record counts, so S reaches each partition's end while the
// views hold exactly the records; HTTP ingest is refused; the data directory
// keeps its source.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "pipeline/pipeline.h"
#include "plan/result_format.h"
#include "source/fake_log_source.h"

namespace lf {
namespace {

constexpr const char* kViews =
    "CREATE STREAM events (k INT, v INT NOT NULL);\n"
    "CREATE VIEW by_k AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k;\n";

std::string Event(int k, int v) { return "{\"k\":" + std::to_string(k) + ",\"v\":" + std::to_string(v) + "}"; }

class PipelineSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lf-pipeline-source-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    views_path_ = root_ + "/views.sql";
    std::ofstream(views_path_) << kViews;
    fs_ = NewPosixFileSystem();
  }
  void TearDown() override {
    pipeline_.reset();
    std::filesystem::remove_all(root_);
  }

  Status Start(std::shared_ptr<test::FakeSource> source, uint64_t seal_events = 1000) {
    PipelineOptions o;
    o.source = std::move(source);
    o.dir.source = "fake topic events";
    o.dir.seal_events = seal_events;  // 1000: no bucket closes (the loops are stepped by hand)
    o.seal_age = std::chrono::milliseconds(0);
    o.micro_batch = std::chrono::milliseconds(0);
    o.batch_interval = std::chrono::milliseconds(-1);
    o.feed.watermark_interval = std::chrono::milliseconds(5);
    o.feed.poll_timeout = std::chrono::milliseconds(5);
    auto p = Pipeline::Start(fs_.get(), root_ + "/data", views_path_, o);
    if (!p.ok()) return p.status();
    pipeline_ = std::move(*p);
    return Status::OK();
  }

  // Micro-batches until the served S is `want` (or 5 s passed), at least
  // one (which waits until what it closed is sealed).
  void StepUntil(const std::vector<uint64_t>& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
      ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } while (pipeline_->served().coverage().speed != want && std::chrono::steady_clock::now() < deadline);
    ASSERT_EQ(pipeline_->served().coverage().speed, want);
  }

  std::string Tsv() {
    auto m = pipeline_->served().Materialize(0);
    EXPECT_TRUE(m.ok());
    std::string out;
    if (m.ok()) AppendTsv(*m->result, &out);
    return out;
  }

  std::string root_, views_path_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineSourceTest, PositionsCoverOffsetGapsAndTheViewsHoldExactlyTheRecords) {
  auto src = std::make_shared<test::FakeSource>(2, "fake://log/events");
  src->Put(0, 0, Event(1, 10));
  src->Put(0, 1, Event(2, 20));
  src->Put(0, 5, Event(1, 30), /*end=*/7);  // 2..4 and 6 hold no record
  src->Put(1, 0, Event(2, 1));
  src->Put(1, 1, Event(3, 2));
  ASSERT_TRUE(Start(src).ok());
  StepUntil({7, 2});
  EXPECT_EQ(Tsv(), "k\tn\ts\n1\t2\t40\n2\t2\t21\n3\t1\t2\n");
  const PipelineStats st = pipeline_->stats();
  EXPECT_EQ(st.source, "fake://log/events");
  EXPECT_EQ(st.log_end, (std::vector<uint64_t>{7, 2}));
  EXPECT_EQ(st.speed_events_decoded, 5u) << "events, not positions";
  EXPECT_EQ(st.accepted, 5u) << "the records read from the source";

  src->Put(1, 4, Event(3, 5), /*end=*/6);
  StepUntil({7, 6});
  EXPECT_EQ(Tsv(), "k\tn\ts\n1\t2\t40\n2\t2\t21\n3\t2\t7\n");

  // HTTP ingest is refused with the way to produce.
  auto r = pipeline_->Accept(Event(9, 9) + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_NE(r.status().message().find("produce them to the topic"), std::string::npos) << r.status().message();
}

// Ranges with offset gaps are sealed as they are (a segment [from, to) of
// fewer than to - from events; buckets close every `seal_events` offsets,
// so [6, 8) is a segment of no event), batch-computed, and after a restart the
// views are rebuilt from them, reading resumes at the sealed positions, and
// nothing is counted twice.
TEST_F(PipelineSourceTest, GappedRangesAreSealedBatchedAndSurviveARestart) {
  auto src = std::make_shared<test::FakeSource>(1, "fake://log/events");
  src->Put(0, 0, Event(1, 10));
  src->Put(0, 3, Event(2, 20));             // 1..2 hold no record
  src->Put(0, 4, Event(1, 30), /*end=*/9);  // 5..8 hold no record
  ASSERT_TRUE(Start(src, /*seal_events=*/2).ok());
  StepUntil({9});
  const std::string want = "k\tn\ts\n1\t2\t40\n2\t1\t20\n";
  EXPECT_EQ(Tsv(), want);
  const auto sealed_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (pipeline_->stats().sealed != std::vector<uint64_t>{8} && std::chrono::steady_clock::now() < sealed_deadline) {
    ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{8}) << pipeline_->stats().last_error;
  ASSERT_TRUE(pipeline_->RunBatchForTesting().ok());
  ASSERT_TRUE(pipeline_->RunMicroBatchForTesting().ok());  // swaps the new version in
  EXPECT_EQ(pipeline_->served().coverage().batch, std::vector<uint64_t>{8});
  EXPECT_EQ(pipeline_->served().coverage().speed, std::vector<uint64_t>{9});
  EXPECT_EQ(Tsv(), want);
  EXPECT_EQ(pipeline_->stats().last_error, "");

  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();
  src->Put(0, 12, Event(2, 5), /*end=*/13);  // 9..11 hold no record
  ASSERT_TRUE(Start(src, 2).ok());
  StepUntil({13});
  EXPECT_EQ(pipeline_->served().coverage().batch, std::vector<uint64_t>{8});
  EXPECT_EQ(Tsv(), "k\tn\ts\n1\t2\t40\n2\t2\t25\n");
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(PipelineSourceTest, UndecodableRecordsAreDeadLetteredOnceWhenTheirRangeIsSealed) {
  auto src = std::make_shared<test::FakeSource>(1, "fake://log/events");
  src->Put(0, 0, Event(1, 1));
  src->Put(0, 1, "not json");
  src->Put(0, 2, Event(1, 2));
  src->Put(0, 3, "{\"k\":1}");  // v is missing
  ASSERT_TRUE(Start(src, /*seal_events=*/3).ok());
  StepUntil({4});
  EXPECT_EQ(Tsv(), "k\tn\ts\n1\t2\t3\n");
  const std::string rejects = root_ + "/data/rejects/rejects.jsonl";
  // [0, 3) is sealed (its dead letter written), [3, 4) is not (held).
  std::string text = ReadText(rejects);
  EXPECT_NE(text.find("\"input\":\"fake://log/events partition 0 offset 1\",\"line\":1,"), std::string::npos) << text;
  EXPECT_EQ(text.find("offset 3"), std::string::npos) << text;
  EXPECT_EQ(pipeline_->stats().last_error, "");
  EXPECT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{3});
  // A restart replays [3, 4) from the source: the held one is written once
  // its range is sealed, and offset 1 is not written again.
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();
  src->Put(0, 4, Event(2, 5));
  src->Put(0, 5, Event(2, 6));
  ASSERT_TRUE(Start(src, 3).ok());
  StepUntil({6});
  EXPECT_EQ(pipeline_->stats().sealed, std::vector<uint64_t>{6});
  text = ReadText(rejects);
  size_t lines = 0;
  for (char ch : text) lines += ch == '\n';
  EXPECT_EQ(lines, 2u) << text;
  EXPECT_NE(text.find("\"input\":\"fake://log/events partition 0 offset 3\",\"line\":3,\"reason\":\"missing_field\""),
            std::string::npos)
      << text;
  EXPECT_EQ(Tsv(), "k\tn\ts\n1\t2\t3\n2\t2\t11\n");
}

TEST_F(PipelineSourceTest, TheDirectoryKeepsItsSourceAndItsPartitions) {
  ASSERT_TRUE(Start(std::make_shared<test::FakeSource>(2)).ok());
  ASSERT_TRUE(pipeline_->Stop().ok());
  pipeline_.reset();
  // A source with another partition count is refused, naming both.
  Status st = Start(std::make_shared<test::FakeSource>(3));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("has 3 partitions, but the data directory"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("has 2"), std::string::npos) << st.message();
  // The embedded log (no source) is refused on it.
  PipelineOptions o;
  o.micro_batch = std::chrono::milliseconds(0);
  o.batch_interval = std::chrono::milliseconds(-1);
  auto p = Pipeline::Start(fs_.get(), root_ + "/data", views_path_, o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("reads the fake topic events"), std::string::npos) << p.status().message();
}

}  // namespace
}  // namespace lf
