// The S3 object store against s3rver, started by the test behind the shim
// of s3_emulator.mjs (conditional writes enforced, SigV4 checked, faults
// injected): the object store contract and the manifest chain's protocol
// (the same suites as the local store's), a conflicting create fencing a
// second manifest writer, injected 503s retried, a lost answer to a create
// recognized as the writer's own success, listings in pages, wrong
// credentials refused; and on the bare s3rver, which overwrites silently,
// the startup probe refusing several workers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

#include "aws/s3_emulator.h"
#include "store/manifest_chain.h"
#include "store/s3_object_store.h"
#include "store/testing/store_under_test.h"

namespace lf::test {
namespace {

// One emulator per test process, started by the first test that needs it
// (from the main thread: the child dies with it).
S3Emulator* SharedEmulator(std::string* skip, std::string* error) {
  static std::unique_ptr<S3Emulator> emulator;
  static std::string static_skip, static_error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    emulator = S3Emulator::Start(/*bare=*/false, &static_skip, &static_error);
  }
  *skip = static_skip;
  *error = static_error;
  return emulator.get();
}

std::string UniquePrefix() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

S3ObjectStoreOptions TestOptions() {
  S3ObjectStoreOptions o;
  o.part_size = 256 << 10;  // small parts: multipart uploads in a test's sizes
  o.retry.base_delay_ms = 5;
  o.retry.max_delay_ms = 50;
  o.http.timeout_ms = 10000;
  return o;
}

class S3StoreUnderTest final : public StoreUnderTest {
 public:
  explicit S3StoreUnderTest(std::unique_ptr<S3ObjectStore> s) : store_(std::move(s)) {}
  ObjectStore* store() override { return store_.get(); }

 private:
  std::unique_ptr<S3ObjectStore> store_;
};

const StoreFactory kS3{"S3", [](std::string* skip) -> std::unique_ptr<StoreUnderTest> {
                         std::string error;
                         S3Emulator* e = SharedEmulator(skip, &error);
                         if (!e) {
                           if (skip->empty()) ADD_FAILURE() << error;
                           if (skip->empty()) *skip = "the S3 emulator did not start: " + error;
                           return nullptr;
                         }
                         auto s = S3ObjectStore::Open(e->Config(), e->Url(UniquePrefix()), TestOptions());
                         if (!s.ok()) {
                           ADD_FAILURE() << s.status().ToString();
                           *skip = s.status().ToString();
                           return nullptr;
                         }
                         return std::make_unique<S3StoreUnderTest>(std::move(*s));
                       }};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Emulated, ObjectStoreContractTest, ::testing::Values(kS3), StoreFactoryName);
INSTANTIATE_TEST_SUITE_P(Emulated, ManifestChainContractTest, ::testing::Values(kS3), StoreFactoryName);

namespace {

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip, error;
    emulator_ = SharedEmulator(&skip, &error);
    if (!emulator_ && !skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(emulator_, nullptr) << error;
    prefix_ = UniquePrefix();
    store_ = Open(TestOptions());
  }
  std::unique_ptr<S3ObjectStore> Open(S3ObjectStoreOptions o) {
    auto s = S3ObjectStore::Open(emulator_->Config(), emulator_->Url(prefix_), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  ManifestChain Chain(ObjectStore* store, const std::string& writer) {
    return ManifestChain(store, 0, {.writer_id = writer, .now_ms = [] { return int64_t{1000}; }});
  }

  S3Emulator* emulator_ = nullptr;
  std::string prefix_;
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_F(S3StoreTest, AConflictingCreateFencesASecondManifestWriter) {
  // Two workers, each with its own store client, on one bucket prefix.
  std::unique_ptr<S3ObjectStore> other = Open(TestOptions());
  ManifestChain a = Chain(store_.get(), "worker-a");
  ManifestChain b = Chain(other.get(), "worker-b");
  auto a_base = a.Claim();
  ASSERT_TRUE(a_base.ok()) << a_base.status().ToString();
  auto b_base = b.Claim();  // b takes the partition over: epoch 2
  ASSERT_TRUE(b_base.ok()) << b_base.status().ToString();
  EXPECT_EQ(b_base->epoch, 2u);
  // a, paused meanwhile, publishes on its old base: its version's key is
  // taken (If-None-Match: * answered 412) by b's claim of a higher epoch.
  PartitionContent next = a_base->content;
  next.segments.push_back({0, 10, 10, "segments/p0/0", 10, 1});
  next.sealed = 10;
  auto zombie = a.Publish(*a_base, a_base->epoch, next);
  EXPECT_EQ(zombie.status().code(), StatusCode::kFenced) << zombie.status().ToString();
  auto ok = b.Publish(*b_base, b_base->epoch, next);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto latest = Chain(store_.get(), "reader").ReadLatest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->writer, "worker-b");
}

TEST_F(S3StoreTest, InjectedServiceUnavailableIsRetried) {
  ASSERT_TRUE(emulator_->FailNext(3, 503, "PUT"));
  const uint64_t before = store_->retries();
  ASSERT_TRUE(store_->PutIfAbsent("k", "value").ok());
  EXPECT_EQ(store_->retries() - before, 3u);
  ASSERT_TRUE(emulator_->FailNext(2, 500, "GET"));
  EXPECT_EQ(*store_->Get("k"), "value");
  EXPECT_EQ(store_->retries() - before, 5u);
  // Past the retry budget the error says so.
  S3ObjectStoreOptions few = TestOptions();
  few.retry.max_attempts = 2;
  std::unique_ptr<S3ObjectStore> impatient = Open(few);
  ASSERT_TRUE(emulator_->FailNext(2, 503, "HEAD"));
  auto size = impatient->Size("k");
  EXPECT_EQ(size.status().code(), StatusCode::kUnavailable) << size.status().ToString();
  EXPECT_NE(size.status().message().find("gave up after 2 attempts"), std::string::npos) << size.status().message();
  EXPECT_EQ(*impatient->Size("k"), 5u);  // and the next request goes through
}

TEST_F(S3StoreTest, ALostAnswerToACreateIsOurOwnSuccess) {
  // The PUT is applied, its answer dropped; the retry is answered 412 and
  // the object carries this write's nonce: success, not AlreadyExists.
  ASSERT_TRUE(emulator_->LoseNextAnswers(1, "PUT"));
  const Status st = store_->PutIfAbsent("lost", "mine");
  EXPECT_TRUE(st.ok()) << st.ToString() << " " << emulator_->Stats();
  EXPECT_EQ(*store_->Get("lost"), "mine");
  // Someone else's object under that name is still AlreadyExists, lost answer or not.
  ASSERT_TRUE(emulator_->LoseNextAnswers(1, "PUT"));
  EXPECT_EQ(store_->PutIfAbsent("lost", "theirs").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Get("lost"), "mine");

  // The same for a multipart upload's completion.
  auto w = store_->NewObject("big");
  ASSERT_TRUE(w.ok());
  const std::string data(700 << 10, 'b');  // three parts
  ASSERT_TRUE((*w)->Append(data).ok());
  ASSERT_TRUE(emulator_->LoseNextAnswers(1, "POST"));  // the CompleteMultipartUpload
  const Status commit = (*w)->Commit();
  EXPECT_TRUE(commit.ok()) << commit.ToString();
  EXPECT_EQ(*store_->Size("big"), data.size());

  // And a manifest version published through a lost answer.
  ManifestChain a = Chain(store_.get(), "a");
  auto base = a.Claim();
  ASSERT_TRUE(base.ok());
  ASSERT_TRUE(emulator_->LoseNextAnswers(1, "PUT"));
  auto next = a.Publish(*base, base->epoch, base->content);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->version, 2u);
  EXPECT_EQ((*Chain(store_.get(), "r").ReadLatest())->nonce, next->nonce);
}

TEST_F(S3StoreTest, ACreateThatTimedOutIsOurOwnSuccess) {
  // The PUT is applied but answered after the client's timeout: the
  // client retries, gets 412, and finds its nonce on the object.
  S3ObjectStoreOptions quick = TestOptions();
  quick.http.timeout_ms = 300;
  std::unique_ptr<S3ObjectStore> s = Open(quick);
  ASSERT_TRUE(emulator_->DelayNextAnswers(1, 1000, "PUT"));
  const uint64_t retries = s->retries();
  const Status st = s->PutIfAbsent("slow", "mine");
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_GE(s->retries() - retries, 1u);  // the timed-out attempt was retried
  EXPECT_EQ(*s->Get("slow"), "mine");
}

TEST_F(S3StoreTest, ListingsArePagedAndStayInsideThePrefix) {
  S3ObjectStoreOptions small = TestOptions();
  small.list_page_size = 7;
  std::unique_ptr<S3ObjectStore> s = Open(small);
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "manifest/p0/" + std::string(20 - std::to_string(i).size(), '0') + std::to_string(i);
    ASSERT_TRUE(s->PutIfAbsent(key, "x").ok());
    expected.push_back(key);
  }
  ASSERT_TRUE(s->PutIfAbsent("segments/p0/a", "x").ok());
  const uint64_t before = s->requests();
  auto listed = s->List("manifest/p0/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, expected);
  EXPECT_EQ(s->requests() - before, 3u);  // 7 + 7 + 6
  // Another prefix of the bucket is another store.
  auto elsewhere = S3ObjectStore::Open(emulator_->Config(), emulator_->Url(prefix_ + "-other"), small);
  ASSERT_TRUE(elsewhere.ok());
  auto none = (*elsewhere)->List("");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_F(S3StoreTest, WrongCredentialsAreRefusedWithAMessageThatSaysSo) {
  aws::AwsConfig bad = emulator_->Config();
  bad.credentials.secret_access_key = "not-the-secret";
  auto s = S3ObjectStore::Open(bad, emulator_->Url(prefix_), TestOptions());
  ASSERT_TRUE(s.ok());
  const Status st = (*s)->PutIfAbsent("k", "v");
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  EXPECT_NE(st.message().find("SignatureDoesNotMatch"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << st.message();
}

TEST_F(S3StoreTest, TheProbeFindsConditionalWritesHonoured) {
  auto probe = store_->ProbeConditionalWrites();
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(*probe, ConditionalWrites::kHonoured);
  std::string warning;
  EXPECT_TRUE(CheckConditionalWrites(*probe, store_->Describe(), 3, &warning).ok());
  EXPECT_TRUE(warning.empty());
  EXPECT_TRUE(store_->List("")->empty());  // the probe cleans up
}

TEST_F(S3StoreTest, TheProbeFindsAStoreThatHonoursOnlyOneKindOfCreate) {
  ASSERT_TRUE(emulator_->EnforceConditions(/*on_put=*/true, /*on_complete=*/false));
  auto probe = store_->ProbeConditionalWrites();
  ASSERT_TRUE(emulator_->EnforceConditions(true, true));
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(*probe, ConditionalWrites::kIgnored);
  ASSERT_TRUE(emulator_->EnforceConditions(/*on_put=*/false, /*on_complete=*/true));
  probe = store_->ProbeConditionalWrites();
  ASSERT_TRUE(emulator_->EnforceConditions(true, true));
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(*probe, ConditionalWrites::kIgnored);
}

TEST(S3BareStoreTest, TheProbeRefusesSeveralWorkersOnAStoreThatOverwrites) {
  std::string skip, error;
  auto bare = S3Emulator::Start(/*bare=*/true, &skip, &error);
  if (!bare && !skip.empty()) GTEST_SKIP() << skip;
  ASSERT_NE(bare, nullptr) << error;
  auto s = S3ObjectStore::Open(bare->Config(), bare->Url("bare"), TestOptions());
  ASSERT_TRUE(s.ok());
  // What the probe detects: s3rver accepts a second create and overwrites.
  ASSERT_TRUE((*s)->PutIfAbsent("k", "first").ok());
  EXPECT_TRUE((*s)->PutIfAbsent("k", "second").ok());
  EXPECT_EQ(*(*s)->Get("k"), "second");

  auto probe = (*s)->ProbeConditionalWrites();
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(*probe, ConditionalWrites::kIgnored);
  std::string warning;
  const Status several = CheckConditionalWrites(*probe, (*s)->Describe(), 2, &warning);
  EXPECT_EQ(several.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(several.message().find("does not honour conditional writes"), std::string::npos) << several.message();
  EXPECT_NE(several.message().find("s3://lf-test/bare"), std::string::npos) << several.message();
  EXPECT_NE(several.message().find("single worker"), std::string::npos) << several.message();
  EXPECT_TRUE(warning.empty());
  const Status one = CheckConditionalWrites(*probe, (*s)->Describe(), 1, &warning);
  EXPECT_TRUE(one.ok());
  EXPECT_NE(warning.find("one writer goes on"), std::string::npos) << warning;
}

TEST(S3UrlTest, UrlsAreParsedAndCheckedWithAMessage) {
  auto u = ParseS3Url("s3://my-bucket/lambdaflow/prod/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->bucket, "my-bucket");
  EXPECT_EQ(u->prefix, "lambdaflow/prod");
  EXPECT_EQ(ParseS3Url("s3://b-1")->prefix, "");
  for (const char* bad : {"http://b/p", "s3://", "s3://B/p", "s3://ab", "s3://bucket/a//b", "s3://bucket/.x"}) {
    auto r = ParseS3Url(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace lf::test
