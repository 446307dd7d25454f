// The manifest chain's protocol (docs/formats/store.md §3-§5) on every
// store: publishing, racing writers, zombies fenced by epochs, stale or
// missing hints, pruning. Compiled into each test binary that instantiates
// ManifestChainContractTest with its stores; the crash shapes, which need
// the fault-injecting file system, stay in manifest_chain_test.cc.
#include <atomic>
#include <thread>

#include "store/testing/store_under_test.h"

namespace lf::test {
namespace {

TEST_P(ManifestChainContractTest, EmptyChainThenClaimAndPublish) {
  ManifestChain a = Chain("a");
  auto none = a.ReadLatest();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  auto claim = a.Claim();
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  EXPECT_EQ(claim->version, 1u);
  EXPECT_EQ(claim->epoch, 1u);
  PartitionManifest base = *claim;
  const uint64_t lists = a.stats().lists;  // only while the chain was empty
  for (uint64_t to = 100; to <= 500; to += 100) {
    auto next = a.Publish(base, 1, Sealed(base.content, to));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->previous, base.version);
    base = *next;
  }
  EXPECT_EQ(base.version, 6u);
  EXPECT_EQ(base.content.sealed, 500u);
  EXPECT_EQ(base.content.segments.size(), 5u);
  EXPECT_EQ(a.stats().lists, lists);  // publishing never lists
}

TEST_P(ManifestChainContractTest, TwoWritersPublishingOnTheSameBaseOneWins) {
  ManifestChain a = Chain("a");
  ManifestChain b = Chain("b");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  auto win = a.Publish(*base, 1, Sealed(base->content, 10));
  ASSERT_TRUE(win.ok());
  auto lose = b.Publish(*base, 1, Sealed(base->content, 20));
  EXPECT_EQ(lose.status().code(), StatusCode::kAlreadyExists) << lose.status().ToString();
  EXPECT_NE(lose.status().message().find("rebase"), std::string::npos);
  auto latest = b.ReadLatest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->writer, "a");
  EXPECT_EQ((*latest)->content.sealed, 10u);
}

TEST_P(ManifestChainContractTest, RacingClaimsExactlyOneWinsEachEpoch) {
  constexpr int kWriters = 6;
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> won{0}, fenced{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        ManifestChain c = Chain("w" + std::to_string(w));
        auto r = c.Claim();
        if (r.ok()) ++won;
        if (r.status().code() == StatusCode::kFenced) ++fenced;
      });
    }
    for (auto& t : threads) t.join();
    // Racing claims: every claim of one epoch but the first is fenced; a
    // later claimer that read the winner's version claims the next epoch.
    EXPECT_GE(won.load(), 1);
    EXPECT_EQ(won.load() + fenced.load(), kWriters);
    // The chain is consistent: epochs strictly increase with each claim and
    // no version was written twice.
    ManifestChain reader = Chain("reader");
    auto latest = reader.ReadLatest();
    ASSERT_TRUE(latest.ok() && latest->has_value()) << latest.status().ToString();
    uint64_t epoch = 0;
    for (uint64_t v = 1; v <= (*latest)->version; ++v) {
      auto data = store_->Get(ManifestVersionKey(0, v));
      ASSERT_TRUE(data.ok());
      auto m = DecodePartitionManifest(*data, "test");
      ASSERT_TRUE(m.ok());
      EXPECT_EQ(m->epoch, epoch + 1) << "version " << v;
      epoch = m->epoch;
    }
  }
}

TEST_P(ManifestChainContractTest, ZombieWithAnOldEpochIsFenced) {
  ManifestChain old_owner = Chain("old");
  auto base = old_owner.Claim();
  ASSERT_TRUE(base.ok());
  auto v2 = old_owner.Publish(*base, base->epoch, Sealed(base->content, 10));
  ASSERT_TRUE(v2.ok());

  // The partition moves: the new owner claims epoch 2 while the old one is paused.
  ManifestChain new_owner = Chain("new");
  auto claim = new_owner.Claim();
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  EXPECT_EQ(claim->epoch, 2u);
  EXPECT_EQ(claim->content, v2->content);  // the claim carries the committed content over

  // The zombie wakes up and publishes on its stale base: its slot is taken
  // by the claim, whose epoch is higher.
  auto zombie = old_owner.Publish(*v2, v2->epoch, Sealed(v2->content, 20));
  EXPECT_EQ(zombie.status().code(), StatusCode::kFenced) << zombie.status().ToString();
  EXPECT_NE(zombie.status().message().find("epoch 2"), std::string::npos) << zombie.status().message();
  // Building on the new owner's version with its old epoch is refused too.
  auto again = old_owner.Publish(*claim, v2->epoch, Sealed(claim->content, 20));
  EXPECT_EQ(again.status().code(), StatusCode::kFenced);

  // The new owner goes on; nothing of the zombie is visible.
  auto next = new_owner.Publish(*claim, 2, Sealed(claim->content, 30));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  auto latest = Chain("reader").ReadLatest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->content.sealed, 30u);
  EXPECT_EQ((*latest)->writer, "new");
}

TEST_P(ManifestChainContractTest, ClaimOnTopOfAPublishThatSneakedIn) {
  ManifestChain old_owner = Chain("old");
  auto base = old_owner.Claim();
  ASSERT_TRUE(base.ok());
  // The old owner publishes between the new owner's read and its write: the
  // claim retries on top of it (the old epoch is lower) and still wins.
  ManifestChain new_owner = Chain("new");
  ASSERT_TRUE(new_owner.ReadLatest().ok());
  ASSERT_TRUE(old_owner.Publish(*base, 1, Sealed(base->content, 10)).ok());
  auto claim = new_owner.Claim();
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  EXPECT_EQ(claim->version, 3u);
  EXPECT_EQ(claim->content.sealed, 10u);
}

TEST_P(ManifestChainContractTest, StaleOrMissingHintIsProbedForward) {
  ManifestChain a = Chain("a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  PartitionManifest last = *base;
  for (uint64_t to = 1; to <= 5; ++to) {
    auto next = a.Publish(last, 1, Sealed(last.content, to));
    ASSERT_TRUE(next.ok());
    last = *next;
  }
  ASSERT_TRUE(store_->Replace(ManifestHintKey(0), "2\n").ok());  // a slow writer's stale hint
  ManifestChain r1 = Chain("r1");
  EXPECT_EQ((*r1.ReadLatest())->version, last.version);
  EXPECT_EQ(r1.stats().lists, 0u);

  ASSERT_TRUE(store_->Delete(ManifestHintKey(0)).ok());  // no hint: from version 1
  ManifestChain r2 = Chain("r2");
  EXPECT_EQ((*r2.ReadLatest())->version, last.version);
  EXPECT_EQ(r2.stats().lists, 0u);

  ASSERT_TRUE(store_->Replace(ManifestHintKey(0), "garbage").ok());  // a damaged hint is ignored
  ManifestChain r3 = Chain("r3");
  EXPECT_EQ((*r3.ReadLatest())->version, last.version);
}

TEST_P(ManifestChainContractTest, PruneKeepsTheTailAndReadersStillFindTheLatest) {
  ManifestChain a = Chain("a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  PartitionManifest last = *base;
  for (uint64_t to = 1; to <= 9; ++to) {
    now_ms_ += 1000;
    auto next = a.Publish(last, 1, Sealed(last.content, to));
    ASSERT_TRUE(next.ok());
    last = *next;
  }
  // Versions 1..10 created at 1000..10000. Grace 5 s at 12000 spares those after 7000.
  now_ms_ = 12000;
  auto pruned = a.Prune(/*keep_last=*/2, /*grace_ms=*/5000);
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 7u);  // versions 1..7
  EXPECT_FALSE(*store_->Exists(ManifestVersionKey(0, 7)));
  EXPECT_TRUE(*store_->Exists(ManifestVersionKey(0, 8)));

  // A hint older than the floor (a writer that overwrote it late): found by the one List.
  ASSERT_TRUE(store_->Replace(ManifestHintKey(0), "3\n").ok());
  ManifestChain r = Chain("r");
  auto latest = r.ReadLatest();
  ASSERT_TRUE(latest.ok() && latest->has_value()) << latest.status().ToString();
  EXPECT_EQ((*latest)->version, last.version);
  EXPECT_EQ(r.stats().lists, 1u);

  // A writer paused past the grace period finds its slot free (pruned) but
  // its base gone: refused as a zombie, never a fork of the chain.
  PartitionManifest stale = last;
  stale.version = 5;
  stale.previous = 4;
  auto zombie = Chain("zombie").Publish(stale, 1, last.content);
  EXPECT_EQ(zombie.status().code(), StatusCode::kFenced) << zombie.status().ToString();
  EXPECT_EQ((*Chain("r2").ReadLatest())->version, last.version);
}

TEST_P(ManifestChainContractTest, PublishRefusesBadContent) {
  ManifestChain a = Chain("a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  PartitionContent bad = base->content;
  bad.sealed = 10;  // no segment covers [0, 10)
  EXPECT_EQ(a.Publish(*base, 1, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ManifestChainContractTest, PartitionsAreIndependent) {
  ManifestChain p0 = Chain("a", 0);
  ManifestChain p1 = Chain("a", 1);
  ASSERT_TRUE(p0.Claim().ok());
  ASSERT_TRUE(p0.Claim().ok());
  auto c1 = p1.Claim();
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->version, 1u);
  EXPECT_EQ(c1->epoch, 1u);
}

}  // namespace
}  // namespace lf::test
