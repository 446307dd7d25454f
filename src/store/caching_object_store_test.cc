// The segment cache (caching_object_store.h) over a local directory store
// standing in for S3 (a "remote" whose reads the test counts): the object
// store contract with every key cached, then write-through, hits, the
// bound, eviction on Delete, and what a crashed process left behind.
#include "store/caching_object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "store/local_object_store.h"
#include "store/testing/store_under_test.h"

namespace lf {
namespace {

// A store that counts the reads reaching it.
class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(std::unique_ptr<ObjectStore> base) : base_(std::move(base)) {}
  Result<std::unique_ptr<ObjectWriter>> NewObject(const std::string& key) override { return base_->NewObject(key); }
  Result<std::string> Get(const std::string& key) override {
    ++reads;
    return base_->Get(key);
  }
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override {
    ++reads;
    return base_->GetRange(key, offset, length);
  }
  Result<uint64_t> Size(const std::string& key) override { return base_->Size(key); }
  Status Replace(const std::string& key, std::string_view data) override { return base_->Replace(key, data); }
  Status Delete(const std::string& key) override { return base_->Delete(key); }
  Result<std::vector<std::string>> List(const std::string& prefix) override { return base_->List(prefix); }
  std::string Describe() const override { return base_->Describe(); }
  std::atomic<int> reads{0};

 private:
  std::unique_ptr<ObjectStore> base_;
};

class TempDirs {
 public:
  TempDirs() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lf_cache_test_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) root = tmpl;
  }
  ~TempDirs() {
    if (!root.empty()) std::filesystem::remove_all(root);
  }
  std::string root;
};

class CachedUnderTest final : public test::StoreUnderTest {
 public:
  static std::unique_ptr<CachedUnderTest> Make(SegmentCacheOptions options) {
    auto t = std::make_unique<CachedUnderTest>();
    if (t->dirs_.root.empty()) return nullptr;
    t->fs_ = NewPosixFileSystem();
    auto local = LocalObjectStore::Open(t->fs_.get(), t->dirs_.root + "/remote");
    if (!local.ok()) return nullptr;
    auto counting = std::make_unique<CountingStore>(std::move(*local));
    t->remote_ = counting.get();
    auto cached = CachingObjectStore::Open(std::move(counting), t->fs_.get(), t->cache_dir(), options);
    if (!cached.ok()) return nullptr;
    t->store_ = std::move(*cached);
    return t;
  }
  ~CachedUnderTest() override { store_.reset(); }
  ObjectStore* store() override { return store_.get(); }
  CachingObjectStore* cached() { return store_.get(); }
  CountingStore* remote() { return remote_; }
  std::string cache_dir() const { return dirs_.root + "/cache"; }
  FileSystem* fs() { return fs_.get(); }
  // Opens the cache again over the same remote (a restart).
  void Reopen(SegmentCacheOptions options) {
    store_.reset();
    auto local = LocalObjectStore::Open(fs_.get(), dirs_.root + "/remote");
    ASSERT_TRUE(local.ok());
    auto counting = std::make_unique<CountingStore>(std::move(*local));
    remote_ = counting.get();
    auto cached = CachingObjectStore::Open(std::move(counting), fs_.get(), cache_dir(), options);
    ASSERT_TRUE(cached.ok()) << cached.status().ToString();
    store_ = std::move(*cached);
  }

 private:
  TempDirs dirs_;
  std::unique_ptr<FileSystem> fs_;
  CountingStore* remote_ = nullptr;
  std::unique_ptr<CachingObjectStore> store_;
};

const test::StoreFactory kCachedAll{"CachedAll", [](std::string* skip) -> std::unique_ptr<test::StoreUnderTest> {
                                      SegmentCacheOptions o;
                                      o.capacity_bytes = 64 << 20;
                                      o.cached_prefix = "";
                                      auto t = CachedUnderTest::Make(o);
                                      if (!t) *skip = "cannot make a temporary directory";
                                      return t;
                                    }};

std::string ReadAll(RandomAccessFile* f) {
  std::string out(f->size(), '\0');
  size_t at = 0;
  while (at < out.size()) {
    auto n = f->Read(at, out.size() - at, out.data() + at);
    if (!n.ok() || *n == 0) break;
    at += *n;
  }
  out.resize(at);
  return out;
}

SegmentCacheOptions Small(uint64_t capacity) {
  SegmentCacheOptions o;
  o.capacity_bytes = capacity;
  o.chunk_bytes = 1000;
  return o;
}

TEST(CachingObjectStoreTest, WriteThroughServesReadsLocally) {
  auto t = CachedUnderTest::Make(Small(1 << 20));
  ASSERT_NE(t, nullptr);
  const std::string data(5000, 'x');
  ASSERT_TRUE(t->store()->Put("segments/p0/a", data).ok());
  ASSERT_TRUE(t->store()->Put("manifest/p0/1", "m").ok());
  EXPECT_EQ(t->cached()->cached_bytes(), data.size()) << "only segments/ is cached";
  auto r = t->store()->NewReader("segments/p0/a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(r->get()), data);
  EXPECT_EQ(*t->store()->GetRange("segments/p0/a", 4990, 100), std::string(10, 'x'));
  EXPECT_EQ(t->remote()->reads.load(), 0) << "a written segment is read from the cache";
  EXPECT_EQ(*t->store()->Get("manifest/p0/1"), "m");
  EXPECT_EQ(t->remote()->reads.load(), 1);
}

TEST(CachingObjectStoreTest, MissDownloadsInChunksOnceThenHits) {
  auto t = CachedUnderTest::Make(Small(1 << 20));
  ASSERT_NE(t, nullptr);
  std::string data;
  for (int i = 0; i < 4500; ++i) data.push_back(static_cast<char>('a' + i % 26));
  // Written behind the cache's back (another process sealed it).
  ASSERT_TRUE(t->remote()->Put("segments/p1/b", data).ok());
  auto r = t->store()->NewReader("segments/p1/b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(t->remote()->reads.load(), 5) << "4500 bytes in ranged GETs of 1000";
  EXPECT_EQ(ReadAll(r->get()), data);
  auto again = t->store()->NewReader("segments/p1/b");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadAll(again->get()), data);
  EXPECT_EQ(t->remote()->reads.load(), 5);
  EXPECT_EQ(t->cached()->hits(), 1u);
  // The cache survives a restart.
  ASSERT_NO_FATAL_FAILURE(t->Reopen(Small(1 << 20)));
  auto after = t->store()->NewReader("segments/p1/b");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(ReadAll(after->get()), data);
  EXPECT_EQ(t->remote()->reads.load(), 0);
}

TEST(CachingObjectStoreTest, BoundedLeastRecentlyUsedFirst) {
  auto t = CachedUnderTest::Make(Small(10000));
  ASSERT_NE(t, nullptr);
  for (const char* k : {"segments/a", "segments/b", "segments/c"})
    ASSERT_TRUE(t->store()->Put(k, std::string(2400, k[9])).ok());
  ASSERT_TRUE(t->store()->NewReader("segments/a").ok());  // a is now more recent than b
  ASSERT_TRUE(t->store()->Put("segments/d", std::string(2400, 'd')).ok());
  ASSERT_TRUE(t->store()->Put("segments/e", std::string(2400, 'e')).ok());
  EXPECT_LE(t->cached()->cached_bytes(), 10000u);
  t->remote()->reads = 0;
  ASSERT_TRUE(t->store()->NewReader("segments/a").ok());
  EXPECT_EQ(t->remote()->reads.load(), 0) << "a was used last: kept";
  ASSERT_TRUE(t->store()->NewReader("segments/b").ok());
  EXPECT_GT(t->remote()->reads.load(), 0) << "b was least recently used: evicted";
  // An object bigger than a quarter of the cache is read ahead, not kept.
  const std::string big(3000, 'B');
  ASSERT_TRUE(t->remote()->Put("segments/big", big).ok());
  t->remote()->reads = 0;
  auto r = t->store()->NewReader("segments/big");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAll(r->get()), big);
  EXPECT_EQ(t->remote()->reads.load(), 1) << "one read of the whole object (it asked for all of it)";
  char c[10];
  t->remote()->reads = 0;
  for (uint64_t off = 0; off < 1000; off += 10) ASSERT_TRUE((*r)->Read(off, 10, c).ok());
  EXPECT_EQ(t->remote()->reads.load(), 1) << "small reads share one read-ahead chunk";
}

TEST(CachingObjectStoreTest, DeleteAndReplaceDropTheCopy) {
  auto t = CachedUnderTest::Make(Small(1 << 20));
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->store()->Put("segments/s", "old").ok());
  ASSERT_TRUE(t->store()->Delete("segments/s").ok());
  EXPECT_EQ(t->cached()->cached_bytes(), 0u);
  EXPECT_EQ(t->store()->Get("segments/s").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(t->store()->Put("segments/s", "new!").ok());
  EXPECT_EQ(*t->store()->Get("segments/s"), "new!");
  EXPECT_EQ(t->store()->NewReader("segments/gone").status().code(), StatusCode::kNotFound);
}

TEST(CachingObjectStoreTest, FailedWriteLeavesNothingAndCrashLeftoversGo) {
  auto t = CachedUnderTest::Make(Small(1 << 20));
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->store()->Put("segments/x", "first").ok());
  {
    auto w = t->store()->NewObject("segments/x");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("second").ok());
    EXPECT_EQ((*w)->Commit().code(), StatusCode::kAlreadyExists);
  }
  {
    auto w = t->store()->NewObject("segments/y");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("never").ok());
    (*w)->Abort();
  }
  EXPECT_EQ(*t->store()->Get("segments/x"), "first");
  EXPECT_EQ(t->cached()->cached_bytes(), 5u);
  EXPECT_TRUE(std::filesystem::is_empty(t->cache_dir() + "/tmp"));
  // A dead process's temporary file (pid beyond pid_max) is removed at open.
  ASSERT_TRUE(t->fs()->WriteFileDurable(t->cache_dir() + "/tmp/999999999-1", "partial").ok());
  ASSERT_NO_FATAL_FAILURE(t->Reopen(Small(1 << 20)));
  EXPECT_TRUE(std::filesystem::is_empty(t->cache_dir() + "/tmp"));
  EXPECT_EQ(t->cached()->cached_bytes(), 5u);
}

}  // namespace

namespace test {
INSTANTIATE_TEST_SUITE_P(Cached, ObjectStoreContractTest, ::testing::Values(kCachedAll), StoreFactoryName);
INSTANTIATE_TEST_SUITE_P(Cached, ManifestChainContractTest, ::testing::Values(kCachedAll), StoreFactoryName);
}  // namespace test

}  // namespace lf
