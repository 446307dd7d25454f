// The manifest chain on the local store over the fault-injecting file
// system: what needs crashes (reading after a restart, orphans, a crash
// during a publish) and the request count of a reader far behind. The
// protocol itself (racing writers, zombies fenced by epochs, hints,
// pruning) is testing/manifest_chain_contract.cc, run on every store.
#include "store/manifest_chain.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/testing/fault_file_system.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

class ManifestChainTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = LocalObjectStore::Open(&fs_, "/store");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  ManifestChain Chain(const std::string& writer, uint32_t partition = 0) {
    return ManifestChain(store_.get(), partition, {.writer_id = writer, .now_ms = [this] { return now_ms_; }});
  }
  // The content after sealing [sealed, to) as one more segment.
  static PartitionContent Sealed(PartitionContent c, uint64_t to) {
    c.segments.push_back({c.sealed, to, to - c.sealed, "segments/p0/" + std::to_string(c.sealed), 10, to});
    c.sealed = to;
    return c;
  }

  FaultFileSystem fs_{3};
  std::unique_ptr<LocalObjectStore> store_;
  int64_t now_ms_ = 1000;
};

TEST_F(ManifestChainTest, ChainIsReadAfterACrashAndRestart) {
  PartitionManifest last;
  {
    ManifestChain a = Chain("a");
    auto base = a.Claim();
    ASSERT_TRUE(base.ok());
    last = *base;
    for (uint64_t to = 10; to <= 30; to += 10) {
      auto next = a.Publish(last, last.epoch, Sealed(last.content, to));
      ASSERT_TRUE(next.ok());
      last = *next;
    }
  }
  fs_.DropUnsynced(/*torn_writes=*/true);
  Reopen();
  ManifestChain reader = Chain("reader");
  auto latest = reader.ReadLatest();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ(**latest, last);
  EXPECT_EQ(reader.stats().lists, 0u);  // found through the hint, no listing
}

TEST_F(ManifestChainTest, CrashBetweenObjectAndManifestLeavesAnInvisibleOrphan) {
  ManifestChain a = Chain("a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  // The segment object is written and durable, then the process dies
  // before publishing the version that names it.
  ASSERT_TRUE(store_->PutIfAbsent("segments/p0/0-100", "events").ok());
  fs_.DropUnsynced();
  Reopen();
  auto latest = Chain("restarted").ReadLatest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_TRUE((*latest)->content.segments.empty());   // not committed: the manifest does not name it
  EXPECT_TRUE(*store_->Exists("segments/p0/0-100"));  // an orphan, for garbage collection
}

TEST_F(ManifestChainTest, CrashDuringPublishIsAllOrNothing) {
  ManifestChain a = Chain("a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  for (uint64_t n = 0; n < 8; ++n) {
    ManifestChain w = Chain("a");
    auto before = w.ReadLatest();
    ASSERT_TRUE(before.ok() && before->has_value());
    fs_.FailAfter(n, FaultFileSystem::kAllWrites & ~FaultFileSystem::kRemove);
    auto r = w.Publish(**before, 1, Sealed((*before)->content, (*before)->content.sealed + 10));
    fs_.ClearFaults();
    fs_.DropUnsynced(/*torn_writes=*/true);
    Reopen();
    auto after = Chain("reader").ReadLatest();
    ASSERT_TRUE(after.ok() && after->has_value()) << "n=" << n << ": " << after.status().ToString();
    if (r.ok()) {
      EXPECT_EQ(**after, *r) << "n=" << n;
    }
    const bool old_or_new =
        (**after == **before) || (r.ok() && **after == *r) || (*after)->version == (*before)->version + 1;
    EXPECT_TRUE(old_or_new) << "n=" << n;
  }
}

TEST_F(ManifestChainTest, AReaderFarBehindFindsTheLatestInFewRequests) {
  ManifestChain a = Chain("a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  PartitionManifest last = *base;
  for (int i = 0; i < 299; ++i) {
    auto next = a.Publish(last, 1, last.content);
    ASSERT_TRUE(next.ok());
    last = *next;
  }
  ASSERT_EQ(last.version, 300u);
  for (uint64_t hint : {1u, 2u, 150u, 298u, 299u, 300u}) {
    ASSERT_TRUE(store_->Replace(ManifestHintKey(0), std::to_string(hint) + "\n").ok());
    ManifestChain r = Chain("r");
    auto latest = r.ReadLatest();
    ASSERT_TRUE(latest.ok() && latest->has_value());
    EXPECT_EQ((*latest)->version, 300u) << "hint " << hint;
    // Doubling then bisecting: about 2 log2(300) + a few, not 300.
    EXPECT_LE(r.stats().gets, 24u) << "hint " << hint;
    EXPECT_EQ(r.stats().lists, 0u);
  }
}

}  // namespace
}  // namespace lf
