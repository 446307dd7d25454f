#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace lf::cli {
namespace {

TEST(ProgressFormat, NumbersForPeople) {
  EXPECT_EQ(GroupDigits(0), "0");
  EXPECT_EQ(GroupDigits(999), "999");
  EXPECT_EQ(GroupDigits(1000), "1,000");
  EXPECT_EQ(GroupDigits(1234567), "1,234,567");
  EXPECT_EQ(GroupRounded(23808.6), "23,809");
  EXPECT_EQ(GroupRounded(0.4), "0");
  EXPECT_EQ(GroupRounded(-1024.2), "-1,024");
  EXPECT_EQ(HumanBytes(950), "950 B");
  EXPECT_EQ(HumanBytes(1234), "1.23 kB");
  EXPECT_EQ(HumanBytes(123.4e6), "123.4 MB");
  EXPECT_EQ(HumanBytes(2.5e9), "2.50 GB");
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(11.2), "12s");
  EXPECT_EQ(HumanDuration(185), "3m05s");
  EXPECT_EQ(HumanDuration(7440), "2h04m");
}

TEST(ProgressFormat, UnknownSizeHasNoPercentNorEta) {
  ProgressSample s{.events = 20000, .bytes = 0};
  EXPECT_EQ(FormatProgress("produce", "events", s, 2.0), "produce: 20,000 events (10,000/s)");
}

TEST(ProgressFormat, KnownBytesGiveEta) {
  // 40 MB of 100 MB in 4 s: 10 MB/s, 6 s to go.
  ProgressSample s{.events = 400000, .bytes = 40'000'000, .total_events = 0, .total_bytes = 100'000'000};
  EXPECT_EQ(FormatProgress("ingest", "events", s, 4.0),
            "ingest: 400,000 events (100,000/s), 40.0 MB (10.0 MB/s), 40%, ETA 6s");
}

TEST(ProgressFormat, KnownEventsGiveEtaWhenBytesAreUnknown) {
  ProgressSample s{.events = 250, .bytes = 0, .total_events = 1000, .total_bytes = 0};
  EXPECT_EQ(FormatProgress("batch", "rows", s, 1.0), "batch: 250 rows (250/s), 25%, ETA 3s");
}

TEST(ProgressFormat, NothingDoneYetHasNoEta) {
  ProgressSample s{.events = 0, .bytes = 0, .total_events = 1000, .total_bytes = 0};
  EXPECT_EQ(FormatProgress("batch", "rows", s, 1.0), "batch: 0 rows (0/s), 0%");
}

struct Fake {
  double now = 100;
  std::vector<std::string> written;
  ProgressLine::Clock clock() {
    return [this] { return now; };
  }
  ProgressLine::Writer writer() {
    return [this](std::string_view s) { written.emplace_back(s); };
  }
};

TEST(ProgressLine, RedrawsInPlaceAtMostOncePerInterval) {
  Fake f;
  ProgressCounters c;
  ProgressLine line("eval", "events", &c, f.clock(), f.writer(), 0.25);
  line.Tick();  // too early: short work draws nothing
  EXPECT_TRUE(f.written.empty());
  f.now += 0.25;
  c.AddEvents(1000);
  line.Tick();
  ASSERT_EQ(f.written.size(), 1u);
  EXPECT_EQ(f.written[0], "\reval: 1,000 events (4,000/s)\x1b[K");
  f.now += 0.1;
  c.AddEvents(1000);
  line.Tick();  // within the interval
  EXPECT_EQ(f.written.size(), 1u);
  f.now += 0.15;
  line.Tick();
  ASSERT_EQ(f.written.size(), 2u);
  EXPECT_EQ(f.written[1], "\reval: 2,000 events (4,000/s)\x1b[K");
  line.Finish();
  ASSERT_EQ(f.written.size(), 3u);
  EXPECT_EQ(f.written[2], "\r\x1b[K");
  line.Finish();  // already erased
  EXPECT_EQ(f.written.size(), 3u);
}

TEST(ProgressLine, FinishWithoutDrawWritesNothing) {
  Fake f;
  ProgressCounters c;
  ProgressLine line("batch", "rows", &c, f.clock(), f.writer());
  line.Tick();
  line.Finish();
  EXPECT_TRUE(f.written.empty());
}

TEST(ProgressLine, DisabledStderrProgressDoesNothing) {
  ProgressCounters c;
  StderrProgress p("x", "events", &c, /*enabled=*/false);
  p.Stop();
  p.Stop();
}

TEST(KnownInputBytes, OnlyRegularUncompressedFiles) {
  const std::string path = ::testing::TempDir() + "/progress_test_input.ndjson";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("{\"a\":1}\n{\"a\":2}\n", f);
  std::fclose(f);
  EXPECT_EQ(KnownInputBytes({path}), 16u);
  EXPECT_EQ(KnownInputBytes({path, path}), 32u);
  EXPECT_EQ(KnownInputBytes({path, "-"}), 0u);
  EXPECT_EQ(KnownInputBytes({}), 0u);
  EXPECT_EQ(KnownInputBytes({path + ".zst"}), 0u);
  EXPECT_EQ(KnownInputBytes({path + ".missing"}), 0u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace lf::cli
