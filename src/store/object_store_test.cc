// The object store contract and the manifest chain's protocol
// (testing/*_contract.cc) on the local directory store, over the POSIX
// file system (a real temporary directory) and over the fault-injecting
// in-memory file system; then what is particular to the local store: temp
// files and crash shapes on the latter.
#include "store/object_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing/fault_file_system.h"
#include "store/local_object_store.h"
#include "store/testing/store_under_test.h"

namespace lf {
namespace {

class LocalStoreUnderTest final : public test::StoreUnderTest {
 public:
  static std::unique_ptr<test::StoreUnderTest> Make(bool posix) {
    auto t = std::make_unique<LocalStoreUnderTest>();
    if (posix) {
      t->fs_ = NewPosixFileSystem();
      std::string tmpl = (std::filesystem::temp_directory_path() / "lf_store_test_XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) return nullptr;
      t->dir_ = tmpl;
      t->root_ = tmpl + "/store";
    } else {
      t->fs_ = std::make_unique<FaultFileSystem>();
      t->root_ = "/store";
    }
    auto s = LocalObjectStore::Open(t->fs_.get(), t->root_);
    if (!s.ok()) return nullptr;
    t->store_ = std::move(*s);
    return t;
  }
  ~LocalStoreUnderTest() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  ObjectStore* store() override { return store_.get(); }
  LocalObjectStore* local() { return store_.get(); }
  FileSystem* fs() { return fs_.get(); }

 private:
  std::unique_ptr<FileSystem> fs_;
  std::string dir_;
  std::string root_;
  std::unique_ptr<LocalObjectStore> store_;
};

const test::StoreFactory kPosix{"Posix", [](std::string* skip) {
                                  auto t = LocalStoreUnderTest::Make(true);
                                  if (!t) *skip = "cannot make a temporary directory";
                                  return t;
                                }};
const test::StoreFactory kFaultFs{"FaultFs", [](std::string* skip) {
                                    auto t = LocalStoreUnderTest::Make(false);
                                    if (!t) *skip = "cannot open the store on the in-memory file system";
                                    return t;
                                  }};

}  // namespace

namespace test {
INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreContractTest, ::testing::Values(kPosix, kFaultFs), StoreFactoryName);
INSTANTIATE_TEST_SUITE_P(Local, ManifestChainContractTest, ::testing::Values(kPosix, kFaultFs), StoreFactoryName);
}  // namespace test

namespace {

TEST(LocalObjectStoreTest, TempFilesAreNeverListedAndAreCleanedUp) {
  for (bool posix : {true, false}) {
    auto t = LocalStoreUnderTest::Make(posix);
    ASSERT_TRUE(t);
    LocalObjectStore* store = static_cast<LocalStoreUnderTest*>(t.get())->local();
    {
      auto w = store->NewObject("big/obj");
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE((*w)->Append("bytes").ok());
      EXPECT_TRUE(store->List("")->empty());  // the temp file is not an object
      ASSERT_TRUE((*w)->Commit().ok());
    }
    {
      auto w = store->NewObject("big/aborted");
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE((*w)->Append("partial").ok());
      (*w)->Abort();
    }
    EXPECT_EQ(*store->List(""), (std::vector<std::string>{"big/obj"}));
    EXPECT_TRUE(store->fs()->ListDir(JoinPath(store->root(), ".tmp"))->empty()) << (posix ? "posix" : "faultfs");
  }
}

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

// A derived object is published at once but not synced: readable until a
// crash, after which it may be gone or short (its readers rebuild it).
TEST_F(StoreCrashTest, DerivedObjectIsVisibleButNotDurable) {
  auto w = store_->NewObject("seg/derived");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(std::string(4000, 'd')).ok());
  ASSERT_TRUE((*w)->CommitDerived().ok());
  EXPECT_EQ(*store_->Get("seg/derived"), std::string(4000, 'd'));
  EXPECT_EQ(store_->PutIfAbsent("seg/derived", "other").code(), StatusCode::kAlreadyExists);
  fs_.DropUnsynced();
  Reopen();
  auto after = store_->Get("seg/derived");
  EXPECT_TRUE(!after.ok() || after->size() < 4000) << "the derived object was synced";
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
