// Log format version 2: an append is one batch record (all or nothing after
// a crash), producer-tagged batches are deduplicated across reopen and
// reclaim, version 1 segments are still read, and recovery is checked
// against the sealed watermark (issue 10, findings 11 and 14).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "log/log.h"
#include "log/log_format.h"
#include "log/log_test_fixture.h"

namespace lf {
namespace {

std::string Event(uint64_t i) { return "{\"zipcode\":" + std::to_string(90000 + i) + ",\"price\":1}"; }

class LogBatchTest : public LogFixture {
 protected:
  LogBatchTest() : LogFixture(7) {}

  std::vector<std::string> Events(uint64_t first, size_t n) {
    std::vector<std::string> v;
    for (size_t i = 0; i < n; ++i) v.push_back(Event(first + i));
    return v;
  }
  Result<AppendOutcome> Send(uint64_t first, size_t n, const std::string& producer, uint64_t seq) {
    std::vector<std::string> ev = Events(first, n);
    std::vector<std::string_view> views(ev.begin(), ev.end());
    ProducerBatch b{producer, seq};
    auto r = log_->AppendNoWait(0, views, producer.empty() ? nullptr : &b);
    if (r.ok() && !r->duplicate) EXPECT_OK_STATUS(log_->WaitDurable(0, r->range.to));
    return r;
  }
  static void EXPECT_OK_STATUS(const Status& st) { EXPECT_TRUE(st.ok()) << st.ToString(); }
  std::vector<std::string> ReadAll() {
    std::vector<std::string> out;
    Status st = log_->Read(0, log_->start_offset(0), log_->end_offset(0), [&](uint64_t, std::string_view e) {
      out.emplace_back(e);
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
};

// Finding 14: a torn append leaves none of its events, not a prefix.
TEST_F(LogBatchTest, TornBatchLeavesNoPrefix) {
  ASSERT_OK(Open());
  ASSERT_TRUE(Send(0, 3, "", 0).ok());
  ASSERT_TRUE(Send(3, 2000, "", 0).ok());
  ASSERT_OK(log_->Close());
  const std::string seg = Contents(SegPath(0));
  // Cut the second batch anywhere inside: recovery keeps exactly the first.
  const size_t second = logfmt::kHeaderSize + logfmt::kRecordHeaderSize + logfmt::GetU32(seg.data() + 36);
  for (size_t cut : {second + 1, second + 9, second + 1000, seg.size() * 2 / 3, seg.size() - 1}) {
    SetContents(SegPath(0), seg.substr(0, cut));
    ASSERT_OK(Open());
    EXPECT_EQ(log_->end_offset(0), 3u) << "cut at " << cut;
    EXPECT_EQ(ReadAll().size(), 3u);
    ASSERT_EQ(report_.notes.size(), 1u);
    EXPECT_NE(report_.notes[0].find("torn tail"), std::string::npos) << report_.notes[0];
    ASSERT_OK(log_->Close());
  }
}

// A bit flipped inside a batch whose checksum still matches cannot happen by
// accident; a structure that does not fill the payload is corruption.
TEST_F(LogBatchTest, BatchWithBadStructureIsCorruption) {
  ASSERT_OK(Open());
  ASSERT_TRUE(Send(0, 2, "", 0).ok());
  ASSERT_OK(log_->Close());
  std::string seg = Contents(SegPath(0));
  char* rec = seg.data() + logfmt::kHeaderSize;
  logfmt::PutU32(rec + logfmt::kRecordHeaderSize, 3);  // count 3, but two events follow
  const uint32_t len = logfmt::GetU32(rec + 4);
  logfmt::PutU32(rec, logfmt::Checksum(rec + 4, 4 + len));
  SetContents(SegPath(0), seg);
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("invalid structure"), std::string::npos) << st.message();
}

TEST_F(LogBatchTest, EncodeDecodeBatch) {
  std::vector<std::string> ev = {"a", "", "{\"x\":1}"};
  std::string buf(logfmt::kRecordHeaderSize + logfmt::BatchPayloadSize(3, 8, ev.size()), '\0');
  const size_t n = logfmt::EncodeBatch("pid", 42, ev, 0, ev.size(), buf.data());
  ASSERT_EQ(n, buf.size());
  std::string_view payload;
  size_t size;
  ASSERT_EQ(logfmt::DecodeRecord(buf, &payload, &size, logfmt::kMaxBatchBytes), logfmt::RecordCheck::kOk);
  logfmt::BatchView b;
  ASSERT_TRUE(logfmt::DecodeBatch(payload, &b));
  EXPECT_EQ(b.count, 3u);
  EXPECT_EQ(b.producer_id, "pid");
  EXPECT_EQ(b.producer_seq, 42u);
  size_t pos = 0;
  for (const auto& e : ev) EXPECT_EQ(logfmt::NextEvent(b.events, &pos), e);
  EXPECT_EQ(pos, b.events.size());
  // Every shorter payload is refused.
  for (size_t cut = 0; cut < payload.size(); ++cut) EXPECT_FALSE(logfmt::DecodeBatch(payload.substr(0, cut), &b));
}

// Version 1 segments (one event per record) are read, never appended to.
TEST_F(LogBatchTest, ReadsVersionOneSegments) {
  std::string seg(logfmt::kHeaderSize, '\0');
  logfmt::EncodeHeader(0, 0, seg.data(), /*version=*/1);
  for (uint64_t i = 0; i < 5; ++i) {
    const std::string e = Event(i);
    std::string rec(logfmt::kRecordHeaderSize + e.size(), '\0');
    logfmt::EncodeRecord(e, rec.data());
    seg += rec;
  }
  ASSERT_OK(fs_.CreateDirs("/log/p0"));
  SetContents(SegPath(0), seg);
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 5u);
  EXPECT_EQ(ReadAll(), Events(0, 5));
  auto r = Send(5, 3, "", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->range.from, 5u);
  EXPECT_EQ(Contents(SegPath(0)), seg);  // untouched: appends went to a new segment
  Reopen();
  EXPECT_EQ(ReadAll(), Events(0, 8));
  EXPECT_EQ(logfmt::GetU32(Contents(SegPath(5)).data() + 8), logfmt::kFormatVersion);
}

// Deliver 5: the producer rule in the log, across reopen.
TEST_F(LogBatchTest, ProducerRetriesAreAnsweredWithTheOriginalOffsets) {
  ASSERT_OK(Open());
  auto a = Send(0, 10, "p1", 0);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->duplicate);
  auto again = Send(0, 10, "p1", 0);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->range.from, a->range.from);
  EXPECT_EQ(again->range.to, a->range.to);
  EXPECT_EQ(log_->end_offset(0), 10u);
  auto skip = Send(10, 1, "p1", 2);
  EXPECT_EQ(skip.status().code(), StatusCode::kConflict) << skip.status().ToString();
  EXPECT_NE(skip.status().message().find("send seq 1"), std::string::npos) << skip.status().message();
  auto other = Send(10, 5, "p2", 7);  // a new producer may start anywhere
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->range.from, 10u);
  auto empty = Send(0, 0, "p1", 1);  // a batch without events still takes its seq
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->range.from, empty->range.to);
  Reopen();
  auto retry = Send(0, 0, "p1", 1);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  auto retry2 = Send(10, 5, "p2", 7);
  ASSERT_TRUE(retry2.ok());
  EXPECT_TRUE(retry2->duplicate);
  EXPECT_EQ(retry2->range.from, 10u);
  EXPECT_EQ(retry2->range.to, 15u);
  EXPECT_EQ(Send(0, 1, "p1", 0).status().code(), StatusCode::kConflict);  // older than the last
  EXPECT_EQ(log_->end_offset(0), 15u);
  EXPECT_EQ(ReadAll().size(), 15u);
}

// The producer table survives the reclaim of the segments that held it.
TEST_F(LogBatchTest, ProducerStateSurvivesReclaim) {
  opts_.segment_bytes = 300;
  ASSERT_OK(Open());
  uint64_t next = 0;
  for (uint64_t seq = 0; seq < 3; ++seq) {
    auto r = Send(next, 4, "early", seq);
    ASSERT_TRUE(r.ok());
    next = r->range.to;
  }
  for (uint64_t seq = 0; seq < 20; ++seq) {
    auto r = Send(next, 3, "late", seq);
    ASSERT_TRUE(r.ok());
    next = r->range.to;
  }
  ASSERT_OK(log_->ReclaimBelow(0, 40));
  EXPECT_GT(log_->start_offset(0), 12u);  // every batch of "early" was reclaimed
  EXPECT_TRUE(fs_.Exists("/log/p0/PRODUCERS").value());
  Reopen();
  auto r = Send(8, 4, "early", 2);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->range.from, 8u);
  EXPECT_EQ(r->range.to, 12u);
  EXPECT_EQ(Send(0, 1, "early", 5).status().code(), StatusCode::kConflict);
  auto late = Send(0, 3, "late", 19);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->duplicate);
  EXPECT_EQ(log_->end_offset(0), next);
}

// Finding 11: the log never ends below the sealed watermark.
TEST_F(LogBatchTest, LogTruncatedBelowSealedIsRefused) {
  ASSERT_OK(Open());
  ASSERT_TRUE(Send(0, 10, "", 0).ok());
  ASSERT_OK(log_->Close());
  SetContents(SegPath(0), Contents(SegPath(0)).substr(0, logfmt::kHeaderSize));
  opts_.sealed = {10};
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("sealed to offset 10"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("--restart-log-at-sealed"), std::string::npos) << st.message();
  // Without the watermark (the old behaviour) the offsets would be reused.
  opts_.sealed = {};
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 0u);
  ASSERT_OK(log_->Close());
  // The explicit restart continues at the watermark.
  opts_.sealed = {10};
  opts_.restart_at_sealed = true;
  ASSERT_OK(Open());
  EXPECT_EQ(log_->end_offset(0), 10u);
  EXPECT_EQ(log_->start_offset(0), 10u);
  EXPECT_TRUE(fs_.Exists(SegPath(0) + ".lost").value());
  auto r = Send(10, 1, "", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->range.from, 10u);
}

TEST_F(LogBatchTest, AllSegmentsDeletedBelowSealedIsRefused) {
  ASSERT_OK(Open());
  ASSERT_TRUE(Send(0, 10, "", 0).ok());
  ASSERT_OK(log_->Close());
  ASSERT_OK(fs_.Remove(SegPath(0)));
  opts_.sealed = {10};
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("no segment files"), std::string::npos) << st.message();
}

// Damage wholly below the sealed watermark is repaired: the master dataset
// holds those events, so the damaged segments are dropped as a reclaim would.
TEST_F(LogBatchTest, DamagedSegmentBelowSealedIsDropped) {
  opts_.segment_bytes = 200;
  ASSERT_OK(Open());
  for (uint64_t i = 0; i < 12; ++i) ASSERT_TRUE(Send(i * 2, 2, "", 0).ok());
  ASSERT_OK(log_->Close());
  auto names = fs_.ListDir("/log/p0").value();
  ASSERT_GE(names.size(), 4u);
  const uint64_t second = std::stoull(names[1]), third = std::stoull(names[2]);
  // Above the watermark: refused.
  std::string seg = Contents("/log/p0/" + names[1]);
  std::string damaged = seg;
  damaged[damaged.size() - 3] ^= 1;
  SetContents("/log/p0/" + names[1], damaged);
  opts_.sealed = {second};
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("restore"), std::string::npos) << st.message();
  // Wholly below it: dropped, with the segments before it.
  opts_.sealed = {third};
  ASSERT_OK(Open());
  EXPECT_EQ(log_->start_offset(0), third);
  EXPECT_EQ(log_->end_offset(0), 24u);
  ASSERT_FALSE(report_.notes.empty());
  EXPECT_NE(report_.notes.back().find("dropped"), std::string::npos) << report_.notes.back();
  EXPECT_FALSE(fs_.Exists("/log/p0/" + names[1]).value());
  EXPECT_EQ(ReadAll().size(), 24u - third);
}

TEST_F(LogBatchTest, LogStartingAboveSealedIsRefused) {
  opts_.segment_bytes = 200;
  ASSERT_OK(Open());
  for (uint64_t i = 0; i < 12; ++i) ASSERT_TRUE(Send(i * 2, 2, "", 0).ok());
  ASSERT_OK(log_->ReclaimBelow(0, 10));
  const uint64_t start = log_->start_offset(0);
  ASSERT_GT(start, 0u);
  ASSERT_OK(log_->Close());
  opts_.sealed = {0};  // e.g. a MANIFEST lost after the log was reclaimed
  Status st = Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("in neither"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace lf
