// One suite run against the POSIX file system (in a fresh temporary
// directory) and the in-memory FaultFileSystem, then the fault file system's
// crash and failure semantics.
#include "common/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>

#include "common/testing/fault_file_system.h"

namespace lf {
namespace {

struct FsFactory {
  const char* name;
  std::function<std::unique_ptr<FileSystem>()> make;
  bool posix;
};

class FileSystemTest : public ::testing::TestWithParam<FsFactory> {
 protected:
  void SetUp() override {
    fs_ = GetParam().make();
    if (GetParam().posix) {
      const char* tmp = std::getenv("TMPDIR");
      std::string tmpl = JoinPath(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "lf_fs_test_XXXXXX");
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      root_ = tmpl;
    } else {
      root_ = "/fs";
      ASSERT_TRUE(fs_->CreateDirs(root_).ok());
    }
  }
  void TearDown() override {
    if (GetParam().posix) RemoveTree(root_);
  }
  void RemoveTree(const std::string& dir) {
    auto names = fs_->ListDir(dir);
    if (names.ok()) {
      for (const std::string& n : *names) {
        const std::string p = JoinPath(dir, n);
        if (!fs_->Remove(p).ok()) RemoveTree(p);
      }
    }
    (void)fs_->Remove(dir);
  }
  std::string P(std::string_view name) const { return JoinPath(root_, name); }

  std::unique_ptr<FileSystem> fs_;
  std::string root_;
};

TEST_P(FileSystemTest, WriteThenRead) {
  auto w = fs_->NewWritableFile(P("a"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Append("hello ").ok());
  ASSERT_TRUE((*w)->Append("world").ok());
  EXPECT_EQ((*w)->size(), 11u);
  ASSERT_TRUE((*w)->Flush().ok());
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto data = fs_->ReadFile(P("a"));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "hello world");
  EXPECT_EQ(*fs_->FileSize(P("a")), 11u);

  auto r = fs_->NewRandomAccessFile(P("a"));
  ASSERT_TRUE(r.ok());
  char buf[16];
  auto n = (*r)->Read(6, 16, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string_view(buf, *n), "world");  // short read at the end
  EXPECT_EQ(*(*r)->Read(11, 4, buf), 0u);
  EXPECT_EQ((*r)->size(), 11u);
}

TEST_P(FileSystemTest, LargeAppendsAndAppendableFile) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i / 4096 % 26);
  {
    auto w = fs_->NewWritableFile(P("big"));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("head").ok());
    ASSERT_TRUE((*w)->Append(big).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  {
    auto w = fs_->NewAppendableFile(P("big"));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->size(), 4 + big.size());
    ASSERT_TRUE((*w)->Append("tail").ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_EQ(*fs_->ReadFile(P("big")), "head" + big + "tail");
}

TEST_P(FileSystemTest, ReadersSeeFlushedBytesOfAGrowingFile) {
  auto w = fs_->NewWritableFile(P("g"));
  ASSERT_TRUE(w.ok());
  auto r = fs_->NewRandomAccessFile(P("g"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*w)->Append("abc").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  char buf[8];
  EXPECT_EQ(*(*r)->Read(0, 8, buf), 3u);
  EXPECT_EQ((*r)->size(), 3u);
}

TEST_P(FileSystemTest, DirectoriesListRenameRemove) {
  ASSERT_TRUE(fs_->CreateDirs(P("x/y/z")).ok());
  ASSERT_TRUE(fs_->CreateDirs(P("x/y")).ok());  // idempotent
  EXPECT_TRUE(*fs_->Exists(P("x/y/z")));
  ASSERT_TRUE(fs_->WriteFileDurable(P("x/b"), "2").ok());
  ASSERT_TRUE(fs_->WriteFileDurable(P("x/a"), "1").ok());
  auto names = fs_->ListDir(P("x"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "y"}));

  ASSERT_TRUE(fs_->Rename(P("x/a"), P("x/b")).ok());  // replaces
  EXPECT_FALSE(*fs_->Exists(P("x/a")));
  EXPECT_EQ(*fs_->ReadFile(P("x/b")), "1");
  ASSERT_TRUE(fs_->SyncDir(P("x")).ok());

  ASSERT_TRUE(fs_->Remove(P("x/b")).ok());
  EXPECT_FALSE(*fs_->Exists(P("x/b")));
  EXPECT_EQ(fs_->Remove(P("x/b")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs_->Remove(P("x/y/z")).ok());
  EXPECT_EQ(fs_->ListDir(P("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->NewRandomAccessFile(P("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->FileSize(P("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*fs_->Exists(P("nope")));
}

TEST_P(FileSystemTest, LinkCreatesOnlyIfAbsent) {
  ASSERT_TRUE(fs_->WriteFileDurable(P("one"), "1").ok());
  ASSERT_TRUE(fs_->WriteFileDurable(P("two"), "2").ok());
  ASSERT_TRUE(fs_->Link(P("one"), P("name")).ok());
  EXPECT_EQ(*fs_->ReadFile(P("name")), "1");
  // The second linker loses and the name keeps the first one's bytes.
  const Status again = fs_->Link(P("two"), P("name"));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(*fs_->ReadFile(P("name")), "1");
  // Removing the first name leaves the second.
  ASSERT_TRUE(fs_->Remove(P("one")).ok());
  EXPECT_EQ(*fs_->ReadFile(P("name")), "1");
  EXPECT_EQ(fs_->Link(P("missing"), P("other")).code(), StatusCode::kNotFound);
}

TEST_P(FileSystemTest, Truncate) {
  ASSERT_TRUE(fs_->WriteFileDurable(P("t"), "0123456789").ok());
  ASSERT_TRUE(fs_->Truncate(P("t"), 4).ok());
  EXPECT_EQ(*fs_->ReadFile(P("t")), "0123");
}

TEST_P(FileSystemTest, WriteFileAtomicReplacesAndLeavesNoTemp) {
  ASSERT_TRUE(fs_->WriteFileAtomic(P("m"), "v1").ok());
  ASSERT_TRUE(fs_->WriteFileAtomic(P("m"), "version 2").ok());
  EXPECT_EQ(*fs_->ReadFile(P("m")), "version 2");
  EXPECT_EQ(*fs_->ListDir(root_), (std::vector<std::string>{"m"}));
}

TEST_P(FileSystemTest, ErrorsNameThePath) {
  auto w = fs_->NewWritableFile(P("no/such/dir/f"));
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("no/such/dir/f"), std::string::npos) << w.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(All, FileSystemTest,
                         ::testing::Values(FsFactory{"Posix", [] { return NewPosixFileSystem(); }, true},
                                           FsFactory{"InMemory", [] { return std::make_unique<FaultFileSystem>(7); },
                                                     false}),
                         [](const ::testing::TestParamInfo<FsFactory>& i) { return std::string(i.param.name); });

TEST(PosixFileSystem, DiskFullIsAnIOErrorNamingTheFile) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  auto fs = NewPosixFileSystem();
  auto w = fs->NewAppendableFile("/dev/full");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("x").ok());  // buffered
  Status st = (*w)->Flush();
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_NE(st.message().find("/dev/full"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("No space left"), std::string::npos) << st.ToString();
  EXPECT_FALSE((*w)->Append("y").ok());  // the file is broken after a failed write
}

TEST(Paths, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a/b", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("a/b/", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("", "c"), "c");
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("a/b/"), "a");
}

// ---- Crash and fault semantics of the in-memory file system ----

class FaultFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirs("/d").ok());
    ASSERT_TRUE(fs_.SyncDir("/").ok());
  }
  std::string Read(const std::string& p) {
    auto r = fs_.ReadFile(p);
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }
  FaultFileSystem fs_{42};
};

TEST_F(FaultFsTest, UnsyncedTailIsLostSyncedPrefixKept) {
  auto w = fs_.NewWritableFile("/d/f");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(fs_.SyncDir("/d").ok());
  ASSERT_TRUE((*w)->Append("durable").ok());
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Append("+flushed").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  ASSERT_TRUE((*w)->Append("+buffered").ok());
  EXPECT_EQ(Read("/d/f"), "durable+flushed");
  fs_.DropUnsynced();
  EXPECT_EQ(Read("/d/f"), "durable");
  // The handle is dead: a process cannot write after the machine crashed.
  EXPECT_FALSE((*w)->Append("x").ok());
  EXPECT_FALSE((*w)->Sync().ok());
  EXPECT_EQ(Read("/d/f"), "durable");
}

TEST_F(FaultFsTest, NewFileNeedsItsDirectorySynced) {
  ASSERT_TRUE(fs_.WriteFileDurable("/d/kept", "k").ok());  // syncs the directory
  auto w = fs_.NewWritableFile("/d/lost");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("data").ok());
  ASSERT_TRUE((*w)->Sync().ok());  // file data synced, directory entry not
  fs_.DropUnsynced();
  EXPECT_EQ(*fs_.ListDir("/d"), (std::vector<std::string>{"kept"}));
}

TEST_F(FaultFsTest, UnsyncedDirectoryDisappearsWithItsFiles) {
  ASSERT_TRUE(fs_.CreateDirs("/d/sub/deeper").ok());
  ASSERT_TRUE(fs_.WriteFileDurable("/d/sub/deeper/f", "x").ok());  // syncs /d/sub/deeper only
  fs_.DropUnsynced();
  EXPECT_FALSE(*fs_.Exists("/d/sub"));
  EXPECT_FALSE(*fs_.Exists("/d/sub/deeper/f"));
}

TEST_F(FaultFsTest, RenameAndRemoveUndoneWithoutSyncDir) {
  ASSERT_TRUE(fs_.WriteFileDurable("/d/a", "A").ok());
  ASSERT_TRUE(fs_.Rename("/d/a", "/d/b").ok());
  ASSERT_TRUE(fs_.WriteFileDurable("/d/c", "C").ok());  // syncs /d: the rename is now durable
  ASSERT_TRUE(fs_.Remove("/d/c").ok());
  fs_.DropUnsynced();
  EXPECT_EQ(*fs_.ListDir("/d"), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(Read("/d/b"), "A");
}

TEST_F(FaultFsTest, LinkUndoneWithoutSyncDir) {
  ASSERT_TRUE(fs_.WriteFileDurable("/d/tmp", "T").ok());
  ASSERT_TRUE(fs_.Link("/d/tmp", "/d/name").ok());
  fs_.DropUnsynced();
  EXPECT_FALSE(*fs_.Exists("/d/name"));
  ASSERT_TRUE(fs_.Link("/d/tmp", "/d/name").ok());
  ASSERT_TRUE(fs_.SyncDir("/d").ok());
  fs_.DropUnsynced();
  EXPECT_EQ(Read("/d/name"), "T");
  fs_.FailAfter(0, FaultFileSystem::kLink);
  EXPECT_FALSE(fs_.Link("/d/tmp", "/d/other").ok());
  EXPECT_FALSE(*fs_.Exists("/d/other"));
}

TEST_F(FaultFsTest, WriteFileAtomicIsOldOrNew) {
  ASSERT_TRUE(fs_.WriteFileAtomic("/d/m", "old").ok());
  fs_.FailAfter(0, FaultFileSystem::kRename);  // the temp file is written and synced, the rename fails
  EXPECT_FALSE(fs_.WriteFileAtomic("/d/m", "new").ok());
  fs_.ClearFaults();
  fs_.DropUnsynced();
  EXPECT_EQ(Read("/d/m"), "old");
  ASSERT_TRUE(fs_.WriteFileAtomic("/d/m", "new").ok());
  fs_.DropUnsynced();
  EXPECT_EQ(Read("/d/m"), "new");
}

TEST_F(FaultFsTest, TornWritesKeepAPrefixOfTheUnsyncedTail) {
  const std::string synced = "0123456789";
  const std::string tail(1000, 't');
  bool saw_partial = false;
  for (int i = 0; i < 20; ++i) {
    const std::string p = "/d/t" + std::to_string(i);
    auto w = fs_.NewWritableFile(p);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(fs_.SyncDir("/d").ok());
    ASSERT_TRUE((*w)->Append(synced).ok());
    ASSERT_TRUE((*w)->Sync().ok());
    ASSERT_TRUE((*w)->Append(tail).ok());
    ASSERT_TRUE((*w)->Flush().ok());
    fs_.DropUnsynced(/*torn_writes=*/true);
    const std::string got = Read(p);
    ASSERT_GE(got.size(), synced.size());
    EXPECT_EQ(got, (synced + tail).substr(0, got.size()));
    if (got.size() > synced.size() && got.size() < synced.size() + tail.size()) saw_partial = true;
  }
  EXPECT_TRUE(saw_partial);
}

TEST_F(FaultFsTest, TruncationBelowSyncedSizeRevertsOnCrash) {
  ASSERT_TRUE(fs_.WriteFileDurable("/d/f", "0123456789").ok());
  ASSERT_TRUE(fs_.Truncate("/d/f", 3).ok());
  EXPECT_EQ(Read("/d/f"), "012");
  fs_.DropUnsynced();
  EXPECT_EQ(Read("/d/f"), "0123456789");
}

TEST_F(FaultFsTest, FailAfterCountsOnlyChosenOps) {
  auto w = fs_.NewWritableFile("/d/f");
  ASSERT_TRUE(w.ok());
  fs_.FailAfter(2, FaultFileSystem::kSync);
  EXPECT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Append("a").ok());
  EXPECT_TRUE((*w)->Sync().ok());
  Status st = (*w)->Sync();
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_NE(st.message().find("/d/f"), std::string::npos);
  EXPECT_EQ(fs_.injected_failures(), 1u);
  fs_.ClearFaults();
  EXPECT_FALSE((*w)->Sync().ok());  // a failed sync leaves the handle broken
  EXPECT_TRUE(fs_.WriteFileDurable("/d/g", "fine").ok());
}

TEST_F(FaultFsTest, RandomFailuresAreSeeded) {
  auto run = [](uint64_t seed) {
    FaultFileSystem fs(seed);
    EXPECT_TRUE(fs.CreateDirs("/x").ok());
    fs.FailRandomly(0.3, FaultFileSystem::kAppend);
    auto w = fs.NewWritableFile("/x/f");
    std::string pattern;
    for (int i = 0; i < 64; ++i) pattern += (*w)->Append("z").ok() ? '1' : '0';
    return pattern;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
  EXPECT_NE(run(5).find('0'), std::string::npos);
}

TEST_F(FaultFsTest, DiskFullWritesWhatFitsThenFails) {
  fs_.SetCapacity(10);
  auto w = fs_.NewWritableFile("/d/f");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("0123456789abcdef").ok());
  Status st = (*w)->Flush();
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_NE(st.message().find("No space left on device"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("/d/f"), std::string::npos);
  EXPECT_EQ(Read("/d/f"), "0123456789");
  EXPECT_EQ(fs_.bytes_used(), 10u);
}

}  // namespace
}  // namespace lf
