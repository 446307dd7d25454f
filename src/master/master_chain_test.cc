// Tests of the master dataset over the shared store's manifest chains:
// seals of ranges with offset gaps, fencing of a second writer, read-only
// openers, and the migration of the previous release's MANIFEST layout.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/testing/fault_file_system.h"
#include "master/master_store.h"
#include "master/segment_files.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

constexpr char kDir[] = "/s";

StreamSchema Schema() {
  StreamSchema s;
  s.name = "events";
  s.columns = {{"k", TypeId::kInt, true}, {"t", TypeId::kText, false}};
  return s;
}

std::vector<std::string> Events(uint64_t from, uint64_t n) {
  std::vector<std::string> out;
  for (uint64_t i = from; i < from + n; ++i)
    out.push_back("{\"k\":" + std::to_string(i) + ",\"t\":\"e" + std::to_string(i % 7) + "\"}");
  return out;
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class MasterChainTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<MasterStore>> Open(const std::string& writer, int partitions = 2, bool claim_all = true) {
    MasterStoreOptions o;
    o.claim_all_at_open = claim_all;
    o.row_group_rows = 100;
    o.writer_id = writer;
    o.log = [this](const std::string& line) { log_.push_back(line); };
    o.on_reject = [this](const SegmentInfo& seg, uint64_t index, const Reject&) {
      rejects_.push_back(HistoricalEventLabel(seg, index));
    };
    o.legacy_master_prefix = "master";
    o.legacy_batch_prefix = "batch";
    return MasterStore::Open(store_.get(), Schema(), partitions, o);
  }
  std::vector<int64_t> ScanKeys(MasterStore* m, const SegmentInfo& seg, SegmentScanStats* stats = nullptr) {
    std::vector<int64_t> keys;
    Status st = m->ScanSegment(
        seg,
        [&](const Batch& b) {
          for (size_t r = 0; r < b.size; ++r) keys.push_back(b.columns[0].GetValue(r).i);
          return Status::OK();
        },
        stats);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return keys;
  }
  size_t LogCount(const std::string& needle) const {
    size_t n = 0;
    for (const auto& l : log_) n += l.find(needle) != std::string::npos;
    return n;
  }
  void SetUp() override {
    auto s = LocalObjectStore::Open(&fs_, kDir);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }

  FaultFileSystem fs_{3};
  std::unique_ptr<LocalObjectStore> store_;
  std::vector<std::string> log_;
  std::vector<std::string> rejects_;
};

TEST_F(MasterChainTest, GappedSealKeepsFewerEventsThanOffsets) {
  auto m = Open("a");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Offsets [0, 10) hold 7 events (3 were transaction markers); one of them
  // does not decode: its offset is unknown, its position is reported.
  std::vector<std::string> ev = Events(0, 7);
  ev[4] = "{\"k\":\"not a number\"}";
  ASSERT_TRUE((*m)->Seal(0, 0, 10, Views(ev)).ok());
  EXPECT_EQ((*m)->Seal(0, 10, 12, Views(Events(0, 3))).code(), StatusCode::kInvalidArgument);  // 3 > 2 offsets
  ASSERT_TRUE((*m)->Seal(0, 10, 20, Views(Events(10, 10))).ok());                              // dense again
  ASSERT_TRUE((*m)->Seal(0, 20, 25, {}).ok());  // only transaction markers
  const Manifest snap = (*m)->Snapshot();
  ASSERT_EQ(snap.segments.size(), 3u);
  EXPECT_EQ(snap.segments[2].events, 0u);
  EXPECT_TRUE(ScanKeys(m->get(), snap.segments[2]).empty());
  EXPECT_TRUE((*m)->VerifySegment(snap.segments[2]).ok());
  EXPECT_EQ(snap.segments[0].events, 7u);
  EXPECT_EQ(snap.segments[0].to, 10u);
  EXPECT_EQ(snap.sealed[0], 25u);
  ASSERT_EQ(rejects_.size(), 1u);
  EXPECT_EQ(rejects_[0], "event 4 of partition 0 [0, 10)");
  EXPECT_EQ(HistoricalEventLabel(snap.segments[1], 3), "offset 13 of partition 0");
  SegmentScanStats stats;
  EXPECT_EQ(ScanKeys(m->get(), snap.segments[0], &stats), (std::vector<int64_t>{0, 1, 2, 3, 5, 6}));
  EXPECT_EQ(stats.rejected, 1u);
  std::vector<std::string> raw;
  ASSERT_TRUE((*m)->ScanRaw(snap.segments[0],
                            [&](uint64_t, std::string_view e) {
                              raw.emplace_back(e);
                              return Status::OK();
                            })
                  .ok());
  EXPECT_EQ(raw, ev);
  // Reopened (a new owner): the same, and a lost sidecar is rebuilt with
  // the gapped count.
  m->reset();
  ASSERT_TRUE(fs_.Remove(JoinPath(kDir, snap.segments[0].cols_name)).ok());
  m = Open("b");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->Snapshot().segments, snap.segments);
  EXPECT_EQ(ScanKeys(m->get(), snap.segments[0], &stats), (std::vector<int64_t>{0, 1, 2, 3, 5, 6}));
  EXPECT_TRUE(stats.rebuilt);
  EXPECT_TRUE((*m)->VerifySegment(snap.segments[0]).ok());
}

// A store in an outage for manifests: while `outage`, a create of a
// manifest version is applied but answered with an error (its answer was
// lost), and reads of manifest objects fail, so the writer cannot learn
// that its version is there.
class OutageStore final : public ObjectStore {
 public:
  explicit OutageStore(ObjectStore* base) : base_(base) {}
  class Writer final : public ObjectWriter {
   public:
    Writer(std::unique_ptr<ObjectWriter> w, bool lose) : w_(std::move(w)), lose_(lose) {}
    Status Append(std::string_view d) override { return w_->Append(d); }
    Status Commit() override {
      Status st = w_->Commit();
      if (st.ok() && lose_) return Status::IOError("injected: the answer to this create was lost");
      return st;
    }
    void Abort() override { w_->Abort(); }
    uint64_t size() const override { return w_->size(); }

   private:
    std::unique_ptr<ObjectWriter> w_;
    bool lose_;
  };
  Result<std::unique_ptr<ObjectWriter>> NewObject(const std::string& key) override {
    ASSIGN_OR_RETURN(auto w, base_->NewObject(key));
    return std::unique_ptr<ObjectWriter>(std::make_unique<Writer>(std::move(w), Down(key)));
  }
  Result<std::string> Get(const std::string& k) override {
    if (Down(k)) return Status::IOError("injected: 503");
    return base_->Get(k);
  }
  Result<std::string> GetRange(const std::string& k, uint64_t o, uint64_t n) override {
    if (Down(k)) return Status::IOError("injected: 503");
    return base_->GetRange(k, o, n);
  }
  Result<uint64_t> Size(const std::string& k) override {
    if (Down(k)) return Status::IOError("injected: 503");
    return base_->Size(k);
  }
  Status Replace(const std::string& k, std::string_view d) override {
    if (Down(k)) return Status::IOError("injected: 503");
    return base_->Replace(k, d);
  }
  Status Delete(const std::string& k) override { return base_->Delete(k); }
  Result<std::vector<std::string>> List(const std::string& p) override { return base_->List(p); }
  std::string Describe() const override { return base_->Describe(); }
  bool outage = false;

 private:
  bool Down(const std::string& key) const { return outage && key.rfind("manifest/", 0) == 0; }
  ObjectStore* const base_;
};

// A publish applied by the store but answered with an error, during an
// outage that also keeps the writer from reading it back, is this
// writer's own version: the retry after the outage adopts it instead of
// failing forever on the taken slot.
TEST_F(MasterChainTest, PublishWhoseAnswerWasLostIsAdoptedOnRetry) {
  OutageStore flaky(store_.get());
  MasterStoreOptions o;
  o.writer_id = "host-a:1:aaaa";
  o.log = [this](const std::string& line) { log_.push_back(line); };
  auto m = MasterStore::Open(&flaky, Schema(), 1, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  flaky.outage = true;
  EXPECT_FALSE((*m)->Seal(0, 0, Views(Events(0, 5))).ok());
  flaky.outage = false;
  EXPECT_EQ((*m)->Snapshot().sealed, (std::vector<uint64_t>{0}));
  // The archiver's retry: the same range again.
  Status again = (*m)->Seal(0, 0, Views(Events(0, 5)));
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ((*m)->Snapshot().sealed, (std::vector<uint64_t>{5}));
  EXPECT_EQ(LogCount("earlier attempt whose answer was lost; adopted"), 1u);
  // A batch publish the same way.
  flaky.outage = true;
  EXPECT_FALSE((*m)->PublishBatch({5}, "batch/x").ok());
  flaky.outage = false;
  ASSERT_TRUE((*m)->PublishBatch({5}, "batch/x").ok());
  // A lost publish followed by a different one: the lost version is
  // adopted, this publish refused once, and the next one goes on top.
  flaky.outage = true;
  EXPECT_FALSE((*m)->PublishBatch({5}, "batch/y").ok());
  flaky.outage = false;
  EXPECT_FALSE((*m)->Seal(0, 5, Views(Events(5, 3))).ok());
  EXPECT_EQ((*m)->Snapshot().sealed, (std::vector<uint64_t>{5}));
  ASSERT_TRUE((*m)->Seal(0, 5, Views(Events(5, 3))).ok());
  auto reader = Open("", 1);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Snapshot().sealed, (std::vector<uint64_t>{8}));
  EXPECT_EQ((*reader)->BatchRefs()[0].key, "batch/y");
}

TEST_F(MasterChainTest, SecondWriterFencesTheFirst) {
  auto first = Open("host-a:1:aaaa");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Seal(0, 0, Views(Events(0, 5))).ok());
  ASSERT_TRUE((*first)->Seal(1, 0, Views(Events(0, 5))).ok());
  // A second process pointed at the same store claims every partition.
  auto second = Open("host-b:2:bbbb");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)->Snapshot().sealed, (std::vector<uint64_t>{5, 5}));
  EXPECT_TRUE((*first)->FencedReason(0).empty());  // it does not know yet
  // The first one's next publish fails, and it stops writing the partition.
  Status st = (*first)->Seal(0, 5, Views(Events(5, 5)));
  EXPECT_EQ(st.code(), StatusCode::kFenced) << st.ToString();
  EXPECT_NE((*first)->FencedReason(0).find("host-b:2:bbbb"), std::string::npos) << (*first)->FencedReason(0);
  EXPECT_EQ(LogCount("partition 0 is fenced"), 1u);
  EXPECT_EQ((*first)->Seal(0, 5, Views(Events(5, 5))).code(), StatusCode::kFenced);
  Status batch = (*first)->PublishBatch({5, 5}, "batch/x");
  EXPECT_EQ(batch.code(), StatusCode::kFenced);
  EXPECT_NE(batch.message().find("0, 1"), std::string::npos) << batch.message();
  // The owner goes on; nothing of the first one's refused seal is committed.
  ASSERT_TRUE((*second)->Seal(0, 5, Views(Events(5, 3))).ok());
  ASSERT_TRUE((*second)->PublishBatch({8, 5}, "batch/y").ok());
  auto reader = Open("");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Snapshot().sealed, (std::vector<uint64_t>{8, 5}));
  EXPECT_EQ((*reader)->BatchRefs()[0].key, "batch/y");
  EXPECT_EQ((*reader)->BatchRefs()[0].watermark, 8u);
}

// Workers of a consumer group: each owns what it claimed; a partition moves
// by a claim (epoch + 1) that fences its previous owner; a released
// partition is no longer written; non-owners refresh what owners published.
TEST_F(MasterChainTest, PartitionsMoveBetweenWorkersByClaims) {
  auto a = Open("host-a:1:aaaa", 4, /*claim_all=*/false);
  auto b = Open("host-b:2:bbbb", 4, /*claim_all=*/false);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE((*a)->Owned().empty());
  EXPECT_EQ((*a)->Seal(0, 0, Views(Events(0, 5))).code(), StatusCode::kFenced);  // not claimed: never written
  for (int p : {0, 1}) ASSERT_TRUE((*a)->Claim(p).ok());
  for (int p : {2, 3}) ASSERT_TRUE((*b)->Claim(p).ok());
  EXPECT_EQ((*a)->Owned(), (std::vector<int>{0, 1}));
  EXPECT_EQ((*b)->Owned(), (std::vector<int>{2, 3}));
  EXPECT_EQ((*a)->Epoch(0), 1u);
  ASSERT_TRUE((*a)->Seal(0, 0, Views(Events(0, 5))).ok());
  ASSERT_TRUE((*a)->Seal(1, 0, Views(Events(0, 3))).ok());
  ASSERT_TRUE((*b)->Seal(2, 0, Views(Events(0, 4))).ok());
  // Each publishes its batch version only for what it owns.
  ASSERT_TRUE((*a)->PublishBatch({5, 3, 0, 0}, "batch/a1").ok());
  ASSERT_TRUE((*b)->PublishBatch({0, 0, 4, 0}, "batch/b1").ok());
  auto reader = Open("", 4);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Snapshot().sealed, (std::vector<uint64_t>{5, 3, 4, 0}));
  std::vector<BatchRef> refs = (*reader)->BatchRefs();
  EXPECT_EQ(refs[0].key, "batch/a1");
  EXPECT_EQ(refs[1].key, "batch/a1");
  EXPECT_EQ(refs[2].key, "batch/b1");
  EXPECT_EQ(refs[2].watermark, 4u);
  EXPECT_EQ(refs[3].key, "batch/b1");  // b owns 3 too (nothing sealed yet)
  EXPECT_EQ(refs[3].watermark, 0u);
  // A non-owner learns the owner's progress by refreshing.
  auto seen = (*b)->Refresh(0);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->content.sealed, 5u);
  EXPECT_EQ(seen->content.batch_key, "batch/a1");
  // Partition 1 moves to b while a is paused (a zombie): b's claim starts
  // at the sealed offset, with a higher epoch.
  auto moved = (*b)->Claim(1);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->content.sealed, 3u);
  EXPECT_EQ(moved->epoch, 2u);
  EXPECT_TRUE((*a)->Owns(1));  // it does not know yet
  Status zombie = (*a)->Seal(1, 3, Views(Events(3, 2)));
  EXPECT_EQ(zombie.code(), StatusCode::kFenced) << zombie.ToString();
  EXPECT_FALSE((*a)->Owns(1));
  EXPECT_EQ((*a)->Owned(), (std::vector<int>{0}));
  // The zombie's batch publish skips the lost partition and says so.
  Status batch = (*a)->PublishBatch({5, 5, 0, 0}, "batch/a2");
  EXPECT_EQ(batch.code(), StatusCode::kFenced);
  EXPECT_NE(batch.message().find("partition(s) 1"), std::string::npos) << batch.message();
  // Once it released the partition (the group told it it was lost), its
  // later publishes are not refused for it any more (regression: every run
  // of a worker fenced once was refused forever, and never served).
  (*a)->Release(1);
  EXPECT_TRUE((*a)->PublishBatch({5, 5, 0, 0}, "batch/a3").ok());
  ASSERT_TRUE((*b)->Seal(1, 3, Views(Events(3, 4))).ok());
  // A released partition is not written; claimed again, it goes on from
  // where the chain is.
  (*b)->Release(2);
  EXPECT_FALSE((*b)->Owns(2));
  EXPECT_EQ((*b)->Seal(2, 4, Views(Events(4, 1))).code(), StatusCode::kFenced);
  ASSERT_TRUE((*b)->PublishBatch({0, 7, 4, 0}, "batch/b2").ok());  // partition 2 skipped
  auto back = (*a)->Claim(2);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->epoch, 2u);
  EXPECT_EQ(back->content.sealed, 4u);
  EXPECT_EQ(back->content.batch_key, "batch/b1");
  // a's claim of partition 1 again (the group gave it back) fences b.
  auto again = (*a)->Claim(1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->epoch, 3u);
  EXPECT_EQ(again->content.sealed, 7u);
  EXPECT_EQ((*b)->Seal(1, 7, Views(Events(7, 1))).code(), StatusCode::kFenced);
  reader = Open("", 4);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Snapshot().sealed, (std::vector<uint64_t>{5, 7, 4, 0}));
  EXPECT_EQ((*reader)->BatchRefs()[1].key, "batch/b2");
  EXPECT_EQ((*reader)->BatchRefs()[2].key, "batch/b1");
}

TEST_F(MasterChainTest, ReadOnlyOpenersNeverWrite) {
  {
    auto w = Open("w");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Seal(0, 0, Views(Events(0, 5))).ok());
  }
  auto before = store_->List("manifest/");
  ASSERT_TRUE(before.ok());
  auto reader = Open("");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Snapshot().sealed, (std::vector<uint64_t>{5, 0}));
  EXPECT_EQ((*reader)->Seal(0, 5, Views(Events(5, 1))).code(), StatusCode::kInternal);
  EXPECT_EQ(*store_->List("manifest/"), *before);
  EXPECT_EQ(ScanKeys(reader->get(), (*reader)->Snapshot().segments[0]), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

// The previous release's layout, as it wrote it: master/MANIFEST (replaced
// by rename), master/segments/p<P>-<from>-<to>.ndjson.zst and sidecars,
// batch/CURRENT naming batch/v<N>/ with its VERSION.
class MigrationTest : public MasterChainTest {
 protected:
  void WriteOldLayout() {
    Manifest old;
    old.generation = 3;
    old.schema_fingerprint = SchemaFingerprint(Schema());
    old.first = {0, 0};
    old.sealed = {0, 0};
    auto add = [&](int p, uint64_t from, uint64_t to) {
      SegmentInfo seg;
      seg.partition = p;
      seg.from = from;
      seg.to = to;
      seg.events = to - from;
      seg.raw_name = RawSegmentName(p, from, to);
      seg.cols_name = ColsSegmentName(p, from, to, old.schema_fingerprint);
      ASSERT_TRUE(fs_.CreateDirs(JoinPath(kDir, "master/segments")).ok());
      auto raw = fs_.NewWritableFile(JoinPath(kDir, "master/" + seg.raw_name));
      auto cols = fs_.NewWritableFile(JoinPath(kDir, "master/" + seg.cols_name));
      ASSERT_TRUE(raw.ok() && cols.ok());
      SegmentBuilder b(Schema(), {old.schema_fingerprint, p, from, to}, 100, 1, {}, raw->get(), cols->get(), {});
      for (const auto& e : Events(from, to - from)) ASSERT_TRUE(b.Add(e).ok());
      ASSERT_TRUE(b.Finish().ok());
      ASSERT_TRUE((*raw)->Close().ok() && (*cols)->Close().ok());
      seg.raw_bytes = b.raw_bytes();
      seg.raw_hash = b.raw_hash();
      seg.cols_hash = b.cols_hash();
      old.segments.push_back(seg);
      old.sealed[static_cast<size_t>(p)] = to;
    };
    add(0, 0, 300);
    add(0, 300, 350);
    add(1, 0, 40);
    ASSERT_TRUE(fs_.WriteFileDurable(JoinPath(kDir, "master/MANIFEST"), EncodeManifest(old)).ok());
    ASSERT_TRUE(fs_.CreateDirs(JoinPath(kDir, "batch/v00000000000000000002")).ok());
    ASSERT_TRUE(fs_.WriteFileDurable(JoinPath(kDir, "batch/CURRENT"), "v00000000000000000002\n").ok());
    ASSERT_TRUE(fs_.WriteFileDurable(JoinPath(kDir, "batch/v00000000000000000002/VERSION"),
                                     "lambdaflow batch version 1\nnumber 2\nwatermark 0 300\nwatermark 1 40\n"
                                     "checksum 0\n")
                    .ok());
    ASSERT_TRUE(fs_.CreateDirs(JoinPath(kDir, "batch/v00000000000000000001")).ok());
    ASSERT_TRUE(fs_.WriteFileDurable(JoinPath(kDir, "batch/v00000000000000000001/VERSION"), "older\n").ok());
    old_ = old;
  }
  Manifest old_;
};

TEST_F(MigrationTest, OldManifestBecomesChainVersionOneOnce) {
  WriteOldLayout();
  // A reader of the old layout sees it without writing anything.
  {
    auto reader = Open("");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->Snapshot().sealed, old_.sealed);
    EXPECT_TRUE(store_->List("manifest/")->empty());
  }
  auto m = Open("w1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(LogCount("migrated partition"), 2u);
  auto v1 = store_->Get(ManifestVersionKey(0, 1));
  ASSERT_TRUE(v1.ok());
  auto decoded = DecodePartitionManifest(*v1, "v1");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->content.sealed, 350u);
  EXPECT_EQ(decoded->content.batch_key, "batch/v00000000000000000002");
  EXPECT_EQ(decoded->content.batch_watermark, 300u);
  const Manifest snap = (*m)->Snapshot();
  EXPECT_EQ(snap.sealed, old_.sealed);
  ASSERT_EQ(snap.segments.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    // Not copied: the chain names the old objects, and their sidecars.
    EXPECT_EQ(snap.segments[i].raw_name, "master/" + old_.segments[i].raw_name);
    EXPECT_EQ(snap.segments[i].cols_name, "master/" + old_.segments[i].cols_name);
    SegmentScanStats stats;
    std::vector<int64_t> keys = ScanKeys(m->get(), snap.segments[i], &stats);
    EXPECT_FALSE(stats.rebuilt);
    ASSERT_EQ(keys.size(), old_.segments[i].to - old_.segments[i].from);
    EXPECT_EQ(static_cast<uint64_t>(keys.front()), old_.segments[i].from);
  }
  EXPECT_EQ((*m)->BatchRefs()[1].watermark, 40u);
  // Sealing continues in the chain; a reopen does not migrate again.
  ASSERT_TRUE((*m)->Seal(0, 350, Views(Events(350, 10))).ok());
  m->reset();
  m = Open("w2");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(LogCount("migrated partition"), 2u);
  EXPECT_EQ((*m)->Snapshot().sealed, (std::vector<uint64_t>{360, 40}));
  // Garbage collection keeps the migrated segments and the batch version
  // the chains name, and removes the older batch version and CURRENT.
  auto gc = (*m)->CollectGarbage(16, 0);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->objects, 2u);
  EXPECT_FALSE(*store_->Exists("batch/CURRENT"));
  EXPECT_FALSE(*store_->Exists("batch/v00000000000000000001/VERSION"));
  EXPECT_TRUE(*store_->Exists("batch/v00000000000000000002/VERSION"));
  for (const auto& seg : (*m)->Snapshot().segments) EXPECT_TRUE((*m)->VerifySegment(seg).ok()) << seg.raw_name;
}

TEST_F(MigrationTest, DamagedOldManifestIsRefused) {
  WriteOldLayout();
  std::string text = *fs_.ReadFile(JoinPath(kDir, "master/MANIFEST"));
  text[text.size() / 2] ^= 1;
  ASSERT_TRUE(fs_.WriteFileDurable(JoinPath(kDir, "master/MANIFEST"), text).ok());
  auto m = Open("w");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorruption);
  EXPECT_NE(m.status().message().find("master/MANIFEST"), std::string::npos) << m.status().message();
  EXPECT_TRUE(store_->List("manifest/")->empty());
}

}  // namespace
}  // namespace lf
