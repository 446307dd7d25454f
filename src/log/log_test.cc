// Log tests: one named test per shape of damage (after leveldb's
// db/log_test.cc), offset bookkeeping across segments, group commit, and
// crash/fault injection on the in-memory file system.
#include "log/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/testing/fault_file_system.h"
#include "log/log_format.h"
#include "log/log_test_fixture.h"

namespace lf {
namespace {

// A seed-shaped event (~93 bytes); distinct for distinct i.
std::string Event(uint64_t i, int tag = 0) {
  char buf[192];
  const int n = std::snprintf(buf, sizeof(buf),
                              "{\"zipcode\":%llu,\"ProductName\":\"product%d\",\"price\":%d,"
                              "\"timestamp\":\"2014-11-01 19:35:41.158\"}",
                              static_cast<unsigned long long>(90000 + i), tag, static_cast<int>(1 + i % 100));
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class LogTest : public LogFixture {
 protected:
  LogTest() : LogFixture(1) {}

  // Appends events [first, first + n) as one batch; returns the range.
  OffsetRange AppendEvents(uint64_t first, size_t n, int partition = 0) {
    std::vector<std::string> recs;
    for (size_t i = 0; i < n; ++i) recs.push_back(Event(first + i));
    auto r = log_->Append(partition, Views(recs));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    for (const std::string& s : recs) written_.push_back(s);
    return r.ok() ? *r : OffsetRange{};
  }
  std::vector<std::string> ReadRange(uint64_t from, uint64_t to, int partition = 0) {
    std::vector<std::string> out;
    Status st = log_->Read(partition, from, to, [&](uint64_t off, std::string_view rec) {
      EXPECT_EQ(off, from + out.size());
      out.emplace_back(rec);
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
  std::vector<std::string> ReadAll(int partition = 0) {
    return ReadRange(log_->start_offset(partition), log_->end_offset(partition), partition);
  }
  // Byte position of record `index` (0-based) in a segment's contents.
  static size_t RecordPos(const std::string& seg, size_t index) {
    size_t pos = logfmt::kHeaderSize;
    for (size_t i = 0; i < index; ++i) pos += logfmt::kRecordHeaderSize + logfmt::GetU32(seg.data() + pos + 4);
    return pos;
  }
  // Writes 10 events into one segment, one append (record) each, and closes the log.
  void WriteTenAndClose() {
    ASSERT_OK(Open());
    for (uint64_t i = 0; i < 10; ++i) AppendEvents(i, 1);
    ASSERT_OK(log_->Close());
    log_.reset();
  }
  std::vector<std::string> Expected(size_t n) const { return {written_.begin(), written_.begin() + n}; }

  std::vector<std::string> written_;
};

TEST_F(LogTest, ZeroFilledSpaceNeverChecksums) {
  const char zeros[4] = {0, 0, 0, 0};
  EXPECT_NE(logfmt::Checksum(zeros, 4), 0u);
}

TEST_F(LogTest, EmptyLog) {
  ASSERT_OK(Open());
  EXPECT_EQ(log_->partitions(), 1);
  EXPECT_EQ(log_->end_offset(0), 0u);
  EXPECT_EQ(log_->start_offset(0), 0u);
  EXPECT_TRUE(ReadAll().empty());
  EXPECT_EQ(log_->Read(0, 0, 1, [](uint64_t, std::string_view) { return Status::OK(); }).code(),
            StatusCode::kOutOfRange);
  Reopen();
  EXPECT_EQ(log_->end_offset(0), 0u);
  EXPECT_TRUE(report_.notes.empty());
  auto r = log_->Append(0, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->from, r->to);
}

TEST_F(LogTest, AppendReadReopen) {
  ASSERT_OK(Open());
  OffsetRange a = AppendEvents(0, 3);
  OffsetRange b = AppendEvents(3, 2);
  EXPECT_EQ(a.from, 0u);
  EXPECT_EQ(a.to, 3u);
  EXPECT_EQ(b.from, 3u);
  EXPECT_EQ(b.to, 5u);
  EXPECT_EQ(ReadAll(), Expected(5));
  Reopen();
  EXPECT_EQ(log_->end_offset(0), 5u);
  EXPECT_EQ(ReadAll(), Expected(5));
  EXPECT_TRUE(report_.notes.empty());
  EXPECT_EQ(AppendEvents(5, 1).from, 5u);
}

TEST_F(LogTest, TornPayload) {
  WriteTenAndClose();
  const std::string seg = Contents(SegPath(0));
  const size_t last = RecordPos(seg, 9);
  SetContents(SegPath(0), seg.substr(0, last + 20));  // header and part of the payload of offset 9
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 9u);
  EXPECT_EQ(ReadAll(), Expected(9));
  EXPECT_EQ(report_.truncated_bytes, 20u);
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_NE(report_.notes[0].find("torn tail"), std::string::npos) << report_.notes[0];
  EXPECT_NE(report_.notes[0].find("offset 9"), std::string::npos) << report_.notes[0];
  EXPECT_EQ(AppendEvents(100, 1).from, 9u);  // continues right after the last whole record
  Reopen();
  EXPECT_EQ(log_->end_offset(0), 10u);
  EXPECT_TRUE(report_.notes.empty());
}

TEST_F(LogTest, TornRecordHeader) {
  WriteTenAndClose();
  const std::string seg = Contents(SegPath(0));
  SetContents(SegPath(0), seg.substr(0, RecordPos(seg, 9) + 5));
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 9u);
  EXPECT_EQ(report_.truncated_bytes, 5u);
}

TEST_F(LogTest, ZeroFilledTail) {
  WriteTenAndClose();
  SetContents(SegPath(0), Contents(SegPath(0)) + std::string(4096, '\0'));
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 10u);
  EXPECT_EQ(report_.truncated_bytes, 4096u);
  EXPECT_EQ(ReadAll(), Expected(10));
}

TEST_F(LogTest, BadCrcInLastRecord) {
  WriteTenAndClose();
  std::string seg = Contents(SegPath(0));
  seg[RecordPos(seg, 9) + 30] ^= 0x20;
  SetContents(SegPath(0), seg);
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 9u);
  EXPECT_EQ(ReadAll(), Expected(9));
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_NE(report_.notes[0].find("checksum"), std::string::npos) << report_.notes[0];
}

TEST_F(LogTest, BadCrcMidLog) {
  WriteTenAndClose();
  std::string seg = Contents(SegPath(0));
  const size_t pos = RecordPos(seg, 3);
  seg[pos + 30] ^= 0x20;
  SetContents(SegPath(0), seg);
  Status st = Open();
  ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("partition 0"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("00000000000000000000.log"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("byte " + std::to_string(pos)), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("offset 3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("valid record follows"), std::string::npos) << st.message();
  EXPECT_EQ(Contents(SegPath(0)), seg);  // nothing was truncated
}

TEST_F(LogTest, CorruptLengthMidLog) {
  WriteTenAndClose();
  std::string seg = Contents(SegPath(0));
  logfmt::PutU32(seg.data() + RecordPos(seg, 5) + 4, 1u << 30);
  SetContents(SegPath(0), seg);
  EXPECT_EQ(Open().code(), StatusCode::kCorruption);
}

// Damage in a segment that is not the last is never a torn tail.
TEST_F(LogTest, BadCrcInSealedSegment) {
  opts_.segment_bytes = 400;  // ~3 records per segment
  ASSERT_OK(Open());
  for (int i = 0; i < 10; ++i) AppendEvents(i, 1);
  ASSERT_OK(log_->Close());
  std::string seg = Contents(SegPath(0));
  seg.resize(seg.size() - 3);  // cut the sealed segment's last record
  SetContents(SegPath(0), seg);
  Status st = Open();
  ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("not the last"), std::string::npos) << st.message();
}

TEST_F(LogTest, TornHeader) {
  opts_.segment_bytes = 400;
  ASSERT_OK(Open());
  for (int i = 0; i < 7; ++i) AppendEvents(i, 1);
  ASSERT_OK(log_->Close());
  auto names = fs_.ListDir("/log/p0");
  ASSERT_TRUE(names.ok());
  ASSERT_GE(names->size(), 2u);
  const std::string last = "/log/p0/" + names->back();
  const uint64_t base = std::stoull(names->back());
  SetContents(last, Contents(last).substr(0, 10));  // the crash hit while the header was written
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), base);
  EXPECT_EQ(ReadAll(), Expected(base));
  ASSERT_EQ(report_.notes.size(), 1u);
  EXPECT_NE(report_.notes[0].find("torn file header"), std::string::npos) << report_.notes[0];
  EXPECT_EQ(AppendEvents(50, 1).from, base);
  Reopen();
  EXPECT_EQ(log_->end_offset(0), base + 1);
}

TEST_F(LogTest, TruncatedFileHeader) {
  opts_.segment_bytes = 400;
  ASSERT_OK(Open());
  for (int i = 0; i < 7; ++i) AppendEvents(i, 1);
  ASSERT_OK(log_->Close());
  SetContents(SegPath(0), Contents(SegPath(0)).substr(0, 20));  // not the last segment
  Status st = Open();
  ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
}

TEST_F(LogTest, NewerFormatVersionRefused) {
  WriteTenAndClose();
  std::string seg = Contents(SegPath(0));
  logfmt::PutU32(seg.data() + 8, logfmt::kFormatVersion + 1);
  SetContents(SegPath(0), seg);
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented) << st.ToString();
  EXPECT_NE(st.message().find("format version " + std::to_string(logfmt::kFormatVersion + 1)), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("newer"), std::string::npos) << st.message();
  EXPECT_EQ(Contents(SegPath(0)), seg);  // untouched
}

TEST_F(LogTest, BadMagic) {
  WriteTenAndClose();
  std::string seg = Contents(SegPath(0));
  seg[0] = 'X';
  SetContents(SegPath(0), seg);
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("bad magic"), std::string::npos) << st.message();
}

TEST_F(LogTest, BadHeaderChecksum) {
  WriteTenAndClose();
  std::string seg = Contents(SegPath(0));
  seg[16] ^= 1;  // base offset
  SetContents(SegPath(0), seg);
  EXPECT_EQ(Open().code(), StatusCode::kCorruption);
}

TEST_F(LogTest, MissingMiddleSegment) {
  opts_.segment_bytes = 400;
  ASSERT_OK(Open());
  for (int i = 0; i < 10; ++i) AppendEvents(i, 1);
  ASSERT_OK(log_->Close());
  auto names = fs_.ListDir("/log/p0");
  ASSERT_TRUE(names.ok());
  ASSERT_GE(names->size(), 3u);
  ASSERT_OK(fs_.Remove("/log/p0/" + (*names)[1]));
  Status st = Open();
  ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
}

TEST_F(LogTest, PartitionCountCannotChange) {
  opts_.partitions = 2;
  ASSERT_OK(Open());
  ASSERT_OK(log_->Close());
  opts_.partitions = 3;
  EXPECT_EQ(Open().code(), StatusCode::kInvalidArgument);
}

TEST_F(LogTest, ReopenAndAppendContinuityAcrossSegments) {
  opts_.segment_bytes = 1000;
  ASSERT_OK(Open());
  uint64_t next = 0;
  for (int round = 0; round < 5; ++round) {
    for (int b = 1; b <= 7; ++b) {
      OffsetRange r = AppendEvents(next, b);
      EXPECT_EQ(r.from, next);
      EXPECT_EQ(r.to, next + b);
      next += b;
    }
    Reopen();
    EXPECT_EQ(log_->end_offset(0), next);
    EXPECT_TRUE(report_.notes.empty());
  }
  EXPECT_EQ(ReadAll(), Expected(next));
  auto names = fs_.ListDir("/log/p0");
  ASSERT_TRUE(names.ok());
  EXPECT_GT(names->size(), 10u);
  // Each segment file's name is the offset of its first event; each record
  // is one append (a batch whose payload starts with its event count).
  uint64_t expect_base = 0;
  for (const std::string& n : *names) {
    EXPECT_EQ(std::stoull(n), expect_base);
    const std::string seg = Contents("/log/p0/" + n);
    size_t count = 0;
    for (size_t pos = logfmt::kHeaderSize; pos < seg.size();) {
      count += logfmt::GetU32(seg.data() + pos + logfmt::kRecordHeaderSize);
      pos += logfmt::kRecordHeaderSize + logfmt::GetU32(seg.data() + pos + 4);
    }
    EXPECT_LE(seg.size(), 1000u);
    expect_base += count;
  }
  EXPECT_EQ(expect_base, next);
}

TEST_F(LogTest, ReadRangesAcrossSegmentBoundaries) {
  opts_.segment_bytes = 700;
  ASSERT_OK(Open());
  AppendEvents(0, 25);
  AppendEvents(25, 5);
  for (uint64_t from = 0; from <= 30; ++from) {
    for (uint64_t to = from; to <= 30; ++to) {
      EXPECT_EQ(ReadRange(from, to), std::vector<std::string>(written_.begin() + from, written_.begin() + to))
          << from << ".." << to;
    }
  }
  // The callback stops the read.
  int calls = 0;
  Status st = log_->Read(
      0, 0, 30, [&](uint64_t, std::string_view) { return ++calls == 4 ? Status::Internal("stop") : Status::OK(); });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 4);
}

// Large segments exercise the sparse index (an entry every 64 KiB).
TEST_F(LogTest, ReadRandomRangesOfLargeSegments) {
  opts_.segment_bytes = 1 << 20;
  ASSERT_OK(Open());
  for (int i = 0; i < 30; ++i) AppendEvents(i * 1000, 1000);
  Reopen();  // the index is rebuilt by recovery
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    uint64_t a = rng() % 30001, b = rng() % 30001;
    if (a > b) std::swap(a, b);
    b = std::min(b, a + 3000);
    auto got = ReadRange(a, b);
    ASSERT_EQ(got, std::vector<std::string>(written_.begin() + a, written_.begin() + b)) << a << ".." << b;
  }
}

TEST_F(LogTest, ReclaimBelow) {
  opts_.segment_bytes = 400;
  ASSERT_OK(Open());
  for (int i = 0; i < 12; ++i) AppendEvents(i, 1);
  auto before = fs_.ListDir("/log/p0");
  ASSERT_TRUE(before.ok());
  const uint64_t second = std::stoull((*before)[1]);
  const uint64_t third = std::stoull((*before)[2]);
  ASSERT_OK(log_->ReclaimBelow(0, third - 1));  // only the first segment lies wholly below
  EXPECT_EQ(log_->start_offset(0), second);
  EXPECT_EQ(fs_.ListDir("/log/p0")->size(), before->size() - 1);
  EXPECT_EQ(log_->Read(0, second - 1, second, [](uint64_t, std::string_view) { return Status::OK(); }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ReadAll(), std::vector<std::string>(written_.begin() + second, written_.end()));
  Reopen();
  EXPECT_EQ(log_->start_offset(0), second);
  EXPECT_EQ(log_->end_offset(0), 12u);
  // Everything below the end: all but the last segment go; offsets continue.
  ASSERT_OK(log_->ReclaimBelow(0, 1000));
  EXPECT_EQ(fs_.ListDir("/log/p0")->size(), 1u);
  EXPECT_EQ(log_->end_offset(0), 12u);
  EXPECT_EQ(AppendEvents(12, 1).from, 12u);
  Reopen();
  EXPECT_EQ(log_->end_offset(0), 13u);
  EXPECT_EQ(ReadAll().back(), written_.back());
}

TEST_F(LogTest, PartitionsAreIndependent) {
  opts_.partitions = 3;
  ASSERT_OK(Open());
  for (int p = 0; p < 3; ++p) {
    std::vector<std::string> recs(p + 1, Event(p));
    auto r = log_->Append(p, Views(recs));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->partition, p);
    EXPECT_EQ(r->from, 0u);
  }
  Reopen();
  for (int p = 0; p < 3; ++p) EXPECT_EQ(log_->end_offset(p), static_cast<uint64_t>(p + 1));
  EXPECT_EQ(log_->Append(3, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LogTest, AppendAfterCloseFails) {
  ASSERT_OK(Open());
  ASSERT_OK(log_->Close());
  std::string e = Event(1);
  EXPECT_FALSE(log_->Append(0, {e}).ok());
}

// Concurrent appenders under the default policy, on the real file system.
TEST(LogGroupCommit, ConcurrentAppendersShareSyncsAndStayContiguous) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lf_log_test_XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  auto fs = NewPosixFileSystem();
  LogOptions opts;  // kInterval, 5 ms
  opts.segment_bytes = 256 << 10;
  constexpr int kThreads = 6, kBatches = 30, kBatch = 200;
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // offset -> record
  std::vector<OffsetRange> ranges;
  {
    auto log = Log::Open(fs.get(), dir, opts, nullptr);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int b = 0; b < kBatches; ++b) {
          std::vector<std::string> recs;
          for (int i = 0; i < kBatch; ++i) recs.push_back(Event(static_cast<uint64_t>(b) * kBatch + i, t));
          auto r = (*log)->Append(0, Views(recs));
          ASSERT_TRUE(r.ok()) << r.status().ToString();
          ASSERT_EQ(r->to - r->from, static_cast<uint64_t>(kBatch));
          EXPECT_GE((*log)->end_offset(0), r->to);  // acknowledged means readable
          std::lock_guard<std::mutex> l(mu);
          ranges.push_back(*r);
          for (int i = 0; i < kBatch; ++i) acked[r->from + i] = recs[i];
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE((*log)->Close().ok());
  }
  std::sort(ranges.begin(), ranges.end(), [](auto& a, auto& b) { return a.from < b.from; });
  uint64_t expect = 0;
  for (const OffsetRange& r : ranges) {
    EXPECT_EQ(r.from, expect);
    expect = r.to;
  }
  EXPECT_EQ(expect, static_cast<uint64_t>(kThreads) * kBatches * kBatch);
  ASSERT_EQ(acked.size(), expect);
  auto log = Log::Open(fs.get(), dir, opts, nullptr);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->end_offset(0), expect);
  uint64_t n = 0;
  ASSERT_TRUE((*log)
                  ->Read(0, 0, expect,
                         [&](uint64_t off, std::string_view rec) {
                           EXPECT_EQ(rec, acked[off]);
                           ++n;
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(n, expect);
  ASSERT_TRUE((*log)->Close().ok());
  auto names = fs->ListDir(JoinPath(dir, "p0"));
  for (const std::string& name : *names) (void)fs->Remove(JoinPath(JoinPath(dir, "p0"), name));
  (void)fs->Remove(JoinPath(dir, "p0"));
  (void)fs->Remove(dir);
}

TEST_F(LogTest, AppendNoWaitThenWaitDurable) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kInterval, FsyncPolicy::kNone}) {
    FaultFileSystem fs(2);
    LogOptions o;
    o.fsync = policy;
    auto log = Log::Open(&fs, "/l", o, nullptr);
    ASSERT_TRUE(log.ok());
    std::vector<std::string> recs = {Event(1), Event(2)};
    auto r = (*log)->AppendNoWait(0, Views(recs));
    ASSERT_TRUE(r.ok());
    ASSERT_OK((*log)->WaitDurable(0, r->to));
    EXPECT_GE((*log)->end_offset(0), r->to);
    fs.DropUnsynced();
    (void)(*log)->Close();
    auto again = Log::Open(&fs, "/l", o, nullptr);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ((*again)->end_offset(0), policy == FsyncPolicy::kNone ? 0u : 2u);
  }
}

// ---- Crashes and injected faults on the in-memory file system ----

// Random appends from two threads; the machine "crashes" (DropUnsynced, with
// or without torn writes) at a random moment; then reopen. Every record whose
// Append returned is present at its offset with its bytes; any other record
// present is one that was appended without being acknowledged; offsets have
// no gaps; and the log takes new appends right after its end.
TEST(LogCrash, AcknowledgedRecordsSurviveRandomCrashes) {
  constexpr int kIterations = 240;
  int torn_tails = 0, unacknowledged_survivors = 0, rolled = 0;
  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    std::mt19937_64 rng(1000 + iter);
    FaultFileSystem fs(iter);
    LogOptions opts;
    opts.fsync = iter % 2 == 0 ? FsyncPolicy::kAlways : FsyncPolicy::kInterval;
    opts.fsync_interval_ms = static_cast<int>(rng() % 2);
    opts.segment_bytes = 512 + rng() % 2048;
    const bool torn = rng() % 2 == 0;
    const int crash_after_acks = static_cast<int>(rng() % 40);

    std::mutex mu;
    std::map<uint64_t, std::string> acked;
    std::set<std::string> attempted;
    std::atomic<int> acks{0};
    std::atomic<bool> stop{false};
    {
      auto log = Log::Open(&fs, "/log", opts, nullptr);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      auto appender = [&](int t) {
        std::mt19937_64 r(iter * 7 + t);
        for (uint64_t seq = 0; !stop.load();) {
          std::vector<std::string> recs;
          const size_t n = 1 + r() % 12;
          for (size_t i = 0; i < n; ++i) {
            std::string e = Event(seq++, t);
            e.append(r() % 40, 'x');  // varied lengths
            recs.push_back(std::move(e));
          }
          {
            std::lock_guard<std::mutex> l(mu);
            attempted.insert(recs.begin(), recs.end());
          }
          auto res = (*log)->Append(0, Views(recs));
          if (!res.ok()) return;  // after the crash every append fails
          std::lock_guard<std::mutex> l(mu);
          for (size_t i = 0; i < n; ++i) acked[res->from + i] = recs[i];
          acks.fetch_add(1);
        }
      };
      std::thread t1(appender, 1), t2(appender, 2);
      while (acks.load() < crash_after_acks) std::this_thread::yield();
      fs.FailAfter(0);        // from here on the old process can change nothing...
      fs.DropUnsynced(torn);  // ...and the machine loses what was not durable
      stop = true;
      t1.join();
      t2.join();
      (void)(*log)->Close();
    }
    fs.ClearFaults();
    LogRecoveryReport report;
    auto log = Log::Open(&fs, "/log", opts, &report);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const uint64_t end = (*log)->end_offset(0);
    if (!acked.empty()) {
      ASSERT_GT(end, acked.rbegin()->first);
    }
    uint64_t expect = 0;
    ASSERT_TRUE((*log)
                    ->Read(0, 0, end,
                           [&](uint64_t off, std::string_view rec) {
                             EXPECT_EQ(off, expect++);
                             auto it = acked.find(off);
                             if (it != acked.end()) {
                               EXPECT_EQ(rec, it->second) << "offset " << off;
                             } else {
                               EXPECT_TRUE(attempted.count(std::string(rec))) << "unknown record at offset " << off;
                             }
                             return Status::OK();
                           })
                    .ok());
    EXPECT_EQ(expect, end);
    torn_tails += report.truncated_bytes > 0;
    unacknowledged_survivors += end > (acked.empty() ? 0 : acked.rbegin()->first + 1);
    rolled += (*log)->start_offset(0) == 0 && fs.ListDir("/log/p0")->size() > 1;
    std::string e = Event(999999);
    auto r = (*log)->Append(0, {e});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->from, end);
  }
  // The runs did hit the interesting cases.
  EXPECT_GT(torn_tails, 10);
  // How many crashes leave unacknowledged records behind depends on thread
  // timing alone (0 of 240 on an idle machine, 9 to dozens under load), so
  // it is reported, not required.
  std::printf("%d torn tails, %d crashes with unacknowledged survivors, %d rolled logs in %d iterations\n", torn_tails,
              unacknowledged_survivors, rolled, kIterations);
  EXPECT_GT(rolled, kIterations / 2);
}

class LogFaultTest : public LogTest {};

TEST_F(LogFaultTest, FailedWriteIsUndoneAndTheLogStaysUsable) {
  ASSERT_OK(Open());
  AppendEvents(0, 5);
  fs_.FailAfter(0, FaultFileSystem::kFlush);
  std::vector<std::string> lost = {Event(50), Event(51)};
  auto bad = log_->Append(0, Views(lost));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kIOError);
  EXPECT_EQ(log_->end_offset(0), 5u);
  fs_.ClearFaults();
  EXPECT_EQ(AppendEvents(5, 3).from, 5u);  // no gap, no trace of the failed batch
  EXPECT_EQ(ReadAll(), Expected(8));
  Reopen();
  EXPECT_EQ(ReadAll(), Expected(8));
  EXPECT_TRUE(report_.notes.empty());
}

TEST_F(LogFaultTest, DiskFullIsAnErrorNamingTheSegmentAndIsUndone) {
  ASSERT_OK(Open());
  AppendEvents(0, 5);
  fs_.SetCapacity(fs_.bytes_used() + 150);  // room for about one and a half records
  std::vector<std::string> big;
  for (int i = 0; i < 20; ++i) big.push_back(Event(100 + i));
  auto bad = log_->Append(0, Views(big));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("No space left on device"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("00000000000000000000.log"), std::string::npos);
  fs_.ClearFaults();
  EXPECT_EQ(AppendEvents(5, 2).from, 5u);
  Reopen();
  EXPECT_EQ(ReadAll(), Expected(7));
}

TEST_F(LogFaultTest, FailedSyncMakesThePartitionUnwritableUntilReopen) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kInterval}) {
    SCOPED_TRACE(policy == FsyncPolicy::kAlways ? "always" : "interval");
    opts_.fsync = policy;
    ASSERT_OK(Open());
    const uint64_t base = log_->end_offset(0);
    written_ = ReadAll();  // the first round's unacknowledged record may have survived
    AppendEvents(base, 3);
    fs_.FailAfter(0, FaultFileSystem::kSync);
    std::string e = Event(7);
    auto bad = log_->Append(0, {e});
    ASSERT_FALSE(bad.ok());
    fs_.ClearFaults();
    auto again = log_->Append(0, {e});
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.status().message().find("unwritable"), std::string::npos) << again.status().ToString();
    EXPECT_EQ(log_->end_offset(0), base + 3);
    EXPECT_EQ(ReadAll(), Expected(base + 3));
    (void)log_->Close();
    ASSERT_OK(Open());
    EXPECT_GE(log_->end_offset(0), base + 3);  // the unacknowledged record may or may not be there
    EXPECT_EQ(ReadRange(0, base + 3), Expected(base + 3));
    ASSERT_OK(log_->Close());
  }
}

TEST_F(LogFaultTest, RandomFaultsNeverLoseAcknowledgedRecords) {
  opts_.segment_bytes = 2000;
  ASSERT_OK(Open());
  std::map<uint64_t, std::string> acked;
  int failures = 0;
  for (int round = 0; round < 30; ++round) {
    fs_.FailRandomly(0.05);
    for (int i = 0; i < 20; ++i) {
      std::vector<std::string> recs = {Event(round * 100 + i * 2), Event(round * 100 + i * 2 + 1)};
      auto r = log_->Append(0, Views(recs));
      if (!r.ok()) {
        ++failures;
        continue;
      }
      acked[r->from] = recs[0];
      acked[r->from + 1] = recs[1];
    }
    fs_.ClearFaults();
    (void)log_->Close();
    ASSERT_OK(Open());
    for (const auto& [off, rec] : acked) {
      std::string got;
      ASSERT_OK(log_->Read(0, off, off + 1, [&](uint64_t, std::string_view r) {
        got = std::string(r);
        return Status::OK();
      }));
      ASSERT_EQ(got, rec) << "offset " << off;
    }
  }
  EXPECT_GT(failures, 0);
  EXPECT_GT(acked.size(), 100u);
}

}  // namespace
}  // namespace lf
