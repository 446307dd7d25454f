// The object store contract (object_store.h, docs/formats/store.md §1),
// for every implementation: compiled into each test binary that
// instantiates ObjectStoreContractTest with its stores.
#include <atomic>
#include <thread>

#include "store/testing/store_under_test.h"

namespace lf::test {
namespace {

TEST_P(ObjectStoreContractTest, PutGetRangeSizeDelete) {
  ASSERT_TRUE(store_->PutIfAbsent("segments/p0/a", "0123456789").ok());
  EXPECT_EQ(*store_->Get("segments/p0/a"), "0123456789");
  EXPECT_EQ(*store_->GetRange("segments/p0/a", 3, 4), "3456");
  EXPECT_EQ(*store_->GetRange("segments/p0/a", 8, 100), "89");
  EXPECT_EQ(*store_->GetRange("segments/p0/a", 10, 5), "");
  EXPECT_EQ(*store_->Size("segments/p0/a"), 10u);
  EXPECT_TRUE(*store_->Exists("segments/p0/a"));
  EXPECT_EQ(store_->Get("segments/p0/b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetRange("segments/p0/b", 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Size("nope").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*store_->Exists("nope"));
  ASSERT_TRUE(store_->Delete("segments/p0/a").ok());
  EXPECT_FALSE(*store_->Exists("segments/p0/a"));
  EXPECT_TRUE(store_->Delete("segments/p0/a").ok());  // idempotent, as on S3
}

TEST_P(ObjectStoreContractTest, EmptyAndBinaryObjects) {
  ASSERT_TRUE(store_->PutIfAbsent("empty", "").ok());
  EXPECT_EQ(*store_->Get("empty"), "");
  EXPECT_EQ(*store_->Size("empty"), 0u);
  std::string binary;
  for (int i = 0; i < 512; ++i) binary.push_back(static_cast<char>(i));
  ASSERT_TRUE(store_->PutIfAbsent("bin", binary).ok());
  EXPECT_EQ(*store_->Get("bin"), binary);
  EXPECT_EQ(*store_->GetRange("bin", 250, 10), binary.substr(250, 10));
}

TEST_P(ObjectStoreContractTest, PutIfAbsentNeverOverwrites) {
  ASSERT_TRUE(store_->PutIfAbsent("k", "first").ok());
  const Status second = store_->PutIfAbsent("k", "second");
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists) << second.ToString();
  EXPECT_NE(second.message().find("k"), std::string::npos);
  EXPECT_EQ(*store_->Get("k"), "first");
}

TEST_P(ObjectStoreContractTest, PutIsIdempotentForTheSameBytesOnly) {
  ASSERT_TRUE(store_->Put("u", "bytes").ok());
  EXPECT_TRUE(store_->Put("u", "bytes").ok());  // a retried write
  EXPECT_EQ(store_->Put("u", "other").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Get("u"), "bytes");
}

TEST_P(ObjectStoreContractTest, StreamedWriterCommitsOrAborts) {
  {
    auto w = store_->NewObject("big/obj");
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE((*w)->Append(std::string(1000, static_cast<char>('a' + i % 26))).ok());
    EXPECT_EQ((*w)->size(), 100000u);
    EXPECT_FALSE(*store_->Exists("big/obj"));  // invisible until committed
    ASSERT_TRUE((*w)->Commit().ok());
  }
  EXPECT_EQ(*store_->Size("big/obj"), 100000u);
  {
    auto w = store_->NewObject("big/aborted");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("partial").ok());
    (*w)->Abort();
  }
  {
    auto w = store_->NewObject("big/dropped");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("partial").ok());
  }  // destroyed uncommitted
  EXPECT_FALSE(*store_->Exists("big/aborted"));
  EXPECT_FALSE(*store_->Exists("big/dropped"));
  EXPECT_EQ(*store_->List(""), (std::vector<std::string>{"big/obj"}));
}

// Big enough to be several parts of a multipart upload on S3 (the tests'
// part size is small); one file elsewhere.
TEST_P(ObjectStoreContractTest, BigStreamedObjectIsWholeOrAbsent) {
  std::string expected;
  {
    auto w = store_->NewObject("seg/big");
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 40; ++i) {
      std::string chunk(30000 + i, static_cast<char>('A' + i % 26));
      expected += chunk;
      ASSERT_TRUE((*w)->Append(chunk).ok());
    }
    EXPECT_FALSE(*store_->Exists("seg/big"));
    ASSERT_TRUE((*w)->Commit().ok());
  }
  EXPECT_EQ(*store_->Size("seg/big"), expected.size());
  EXPECT_EQ(*store_->Get("seg/big"), expected);
  EXPECT_EQ(*store_->GetRange("seg/big", 500000, 70000), expected.substr(500000, 70000));
  // A second streamed create of the key loses, whole.
  auto w = store_->NewObject("seg/big");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(std::string(expected.size(), 'z')).ok());
  EXPECT_EQ((*w)->Commit().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Get("seg/big"), expected);
  // An aborted big object leaves nothing.
  auto aborted = store_->NewObject("seg/aborted");
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Append(std::string(expected.size(), 'y')).ok());
  (*aborted)->Abort();
  EXPECT_FALSE(*store_->Exists("seg/aborted"));
}

TEST_P(ObjectStoreContractTest, ReplaceIsTheOnlyOverwrite) {
  ASSERT_TRUE(store_->Replace("manifest/p0/latest", "1\n").ok());
  ASSERT_TRUE(store_->Replace("manifest/p0/latest", "2\n").ok());
  EXPECT_EQ(*store_->Get("manifest/p0/latest"), "2\n");
}

TEST_P(ObjectStoreContractTest, ListIsSortedAndFilteredByPrefix) {
  for (const char* k :
       {"manifest/p1/00000000000000000002", "manifest/p1/00000000000000000001", "manifest/p10/x", "segments/p1/a"}) {
    ASSERT_TRUE(store_->PutIfAbsent(k, k).ok());
  }
  EXPECT_EQ(*store_->List("manifest/p1/"),
            (std::vector<std::string>{"manifest/p1/00000000000000000001", "manifest/p1/00000000000000000002"}));
  EXPECT_EQ(store_->List("")->size(), 4u);
  EXPECT_TRUE(store_->List("nothing/")->empty());
}

TEST_P(ObjectStoreContractTest, KeysAreValidated) {
  for (const char* bad : {"", "/abs", "a//b", "a/", ".tmp/x", "a/../b", "a b", "a/.hidden"}) {
    EXPECT_EQ(store_->PutIfAbsent(bad, "x").code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Get(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_P(ObjectStoreContractTest, ConcurrentCreatorsExactlyOneWins) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 20; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const Status st = store_->PutIfAbsent(key, "writer " + std::to_string(t));
        if (st.ok()) ++won;
        if (st.code() == StatusCode::kAlreadyExists) ++lost;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), kThreads - 1);
  }
}

}  // namespace
}  // namespace lf::test
