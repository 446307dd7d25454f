// The object store contract, on the local directory store over the POSIX
// file system (a real temporary directory) and over the fault-injecting
// in-memory file system; then crash shapes on the latter.
#include "store/object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/testing/fault_file_system.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

class ObjectStoreTest : public ::testing::TestWithParam<bool> {  // true: POSIX
 protected:
  void SetUp() override {
    if (GetParam()) {
      fs_ = NewPosixFileSystem();
      std::string tmpl = (std::filesystem::temp_directory_path() / "lf_store_test_XXXXXX").string();
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      root_ = tmpl + "/store";
    } else {
      fs_ = std::make_unique<FaultFileSystem>();
      root_ = "/store";
    }
    auto s = LocalObjectStore::Open(fs_.get(), root_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<FileSystem> fs_;
  std::string dir_;
  std::string root_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_P(ObjectStoreTest, PutGetRangeSizeDelete) {
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

TEST_P(ObjectStoreTest, PutIfAbsentNeverOverwrites) {
  ASSERT_TRUE(store_->PutIfAbsent("k", "first").ok());
  const Status second = store_->PutIfAbsent("k", "second");
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists) << second.ToString();
  EXPECT_NE(second.message().find("k"), std::string::npos);
  EXPECT_EQ(*store_->Get("k"), "first");
}

TEST_P(ObjectStoreTest, PutIsIdempotentForTheSameBytesOnly) {
  ASSERT_TRUE(store_->Put("u", "bytes").ok());
  EXPECT_TRUE(store_->Put("u", "bytes").ok());  // a retried write
  EXPECT_EQ(store_->Put("u", "other").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Get("u"), "bytes");
}

TEST_P(ObjectStoreTest, StreamedWriterCommitsOrAborts) {
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
  EXPECT_EQ(*store_->List(""), (std::vector<std::string>{"big/obj"}));  // no temp file is ever listed
  // Temp files are cleaned up after commit and abort.
  EXPECT_TRUE(fs_->ListDir(JoinPath(root_, ".tmp"))->empty());
}

TEST_P(ObjectStoreTest, ReplaceIsTheOnlyOverwrite) {
  ASSERT_TRUE(store_->Replace("manifest/p0/latest", "1\n").ok());
  ASSERT_TRUE(store_->Replace("manifest/p0/latest", "2\n").ok());
  EXPECT_EQ(*store_->Get("manifest/p0/latest"), "2\n");
}

TEST_P(ObjectStoreTest, ListIsSortedAndFilteredByPrefix) {
  for (const char* k :
       {"manifest/p1/00000000000000000002", "manifest/p1/00000000000000000001", "manifest/p10/x", "segments/p1/a"}) {
    ASSERT_TRUE(store_->PutIfAbsent(k, k).ok());
  }
  EXPECT_EQ(*store_->List("manifest/p1/"),
            (std::vector<std::string>{"manifest/p1/00000000000000000001", "manifest/p1/00000000000000000002"}));
  EXPECT_EQ(store_->List("")->size(), 4u);
  EXPECT_TRUE(store_->List("nothing/")->empty());
}

TEST_P(ObjectStoreTest, KeysAreValidated) {
  for (const char* bad : {"", "/abs", "a//b", "a/", ".tmp/x", "a/../b", "a b", "a/.hidden"}) {
    EXPECT_EQ(store_->PutIfAbsent(bad, "x").code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Get(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_P(ObjectStoreTest, ConcurrentCreatorsExactlyOneWins) {
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

INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Posix" : "FaultFs"; });

// ---- crash shapes (fault file system) ----

class StoreCrashTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = LocalObjectStore::Open(&fs_, "/store");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  FaultFileSystem fs_{7};
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(StoreCrashTest, CommittedObjectSurvivesACrash) {
  ASSERT_TRUE(store_->PutIfAbsent("a/b/c", "durable").ok());  // new directories on the way
  fs_.DropUnsynced(/*torn_writes=*/true);
  Reopen();
  EXPECT_EQ(*store_->Get("a/b/c"), "durable");
}

TEST_F(StoreCrashTest, TornTempFileIsNeverVisible) {
  for (int i = 0; i < 20; ++i) {
    const std::string key = "seg/" + std::to_string(i);
    auto w = store_->NewObject(key);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::string(5000 + i, 'x')).ok());
    fs_.DropUnsynced(/*torn_writes=*/true);  // the machine crashes before Commit
    (*w)->Abort();
    Reopen();
    EXPECT_FALSE(*store_->Exists(key));
    EXPECT_TRUE(store_->List("")->empty());
    // The name is free: the object is written again after the restart.
    ASSERT_TRUE(store_->PutIfAbsent(key, "again").ok());
    EXPECT_EQ(*store_->Get(key), "again");
    ASSERT_TRUE(store_->Delete(key).ok());
  }
}

TEST_F(StoreCrashTest, FailureAtEveryStepOfACommitLeavesNothingOrEverything) {
  // Fail the n-th write operation of one PutIfAbsent, then crash: the
  // object is absent or whole, and when absent the name can be written.
  for (uint64_t n = 0; n < 12; ++n) {
    const std::string key = "obj/" + std::to_string(n);
    const std::string data(3000, static_cast<char>('a' + n));
    fs_.FailAfter(n, FaultFileSystem::kAllWrites & ~FaultFileSystem::kRemove);
    const Status st = store_->PutIfAbsent(key, data);
    fs_.ClearFaults();
    fs_.DropUnsynced(/*torn_writes=*/true);
    Reopen();
    auto got = store_->Get(key);
    if (st.ok()) {
      ASSERT_TRUE(got.ok()) << "n=" << n << ": committed object lost: " << got.status().ToString();
    }
    if (got.ok()) {
      EXPECT_EQ(*got, data) << "n=" << n;
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << "n=" << n;
      ASSERT_TRUE(store_->PutIfAbsent(key, data).ok()) << "n=" << n;
    }
  }
}

}  // namespace
}  // namespace lf
