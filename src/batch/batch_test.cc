#include <gtest/gtest.h>
#include <xxhash.h>

#include <cctype>
#include <cstdio>

#include "batch/batch_layer.h"
#include "common/testing/fault_file_system.h"
#include "ingest/seed_generator.h"

namespace lf {
namespace {

BatchVersion Sample() {
  BatchVersion v;
  v.number = 7;
  v.created_ms = 1764129185485;
  v.views_hash = 0x3f1c0e2d4b5a6978;
  v.schema_fingerprint = 42;
  v.watermark = {1000};
  v.segments = {{0, 0, 500, 0xabc}, {0, 500, 1000, 0xdef}};
  VersionView w;
  w.name = "revenue by product";
  w.plan_fingerprint = 9;
  w.groups = 50;
  w.rows = 49;
  w.tsv_bytes = 100;
  w.tsv_hash = 1;
  w.state_bytes = 200;
  w.state_hash = 2;
  v.views = {w};
  v.timings = {{"scan", 0.25}};
  return v;
}

TEST(BatchVersion, RoundTrip) {
  BatchVersion v = Sample();
  auto back = DecodeVersion(EncodeVersion(v), "VERSION");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->number, 7u);
  EXPECT_EQ(back->watermark, v.watermark);
  EXPECT_EQ(back->segments, v.segments);
  ASSERT_EQ(back->views.size(), 1u);
  EXPECT_EQ(back->views[0].name, "revenue by product");
  EXPECT_EQ(back->views[0].rows, 49u);
  EXPECT_EQ(back->timings[0].first, "scan");
}

TEST(BatchVersion, EveryDamagedByteIsDetected) {
  std::string data = EncodeVersion(Sample());
  for (size_t i = 0; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] ^= 0x01;
    EXPECT_FALSE(DecodeVersion(bad, "VERSION").ok()) << "byte " << i;
  }
  EXPECT_EQ(DecodeVersion(data.substr(0, data.size() / 2), "VERSION").status().code(), StatusCode::kCorruption);
}

TEST(BatchVersion, NewerFormatRefused) {
  std::string body = EncodeVersion(Sample());
  body = body.substr(0, body.rfind("checksum "));
  body.replace(0, std::string("lambdaflow batch version 1").size(), "lambdaflow batch version 2");
  // Re-checksum so that only the version differs.
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(XXH3_64bits(body.data(), body.size())));
  auto r = DecodeVersion(body + "checksum " + hex + "\n", "VERSION");
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("newer"), std::string::npos);
}

// Seals seed events into a master store on the in-memory file system.
class BatchLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = sql::CompileViews(
        "CREATE STREAM events (zipcode INT, ProductName TEXT, price DOUBLE, timestamp TIMESTAMP);"
        "CREATE VIEW revenue AS SELECT ProductName, COUNT(*) AS n, SUM(price) AS s, AVG(price) AS a FROM events "
        "GROUP BY ProductName;"
        "CREATE VIEW zip_hour AS SELECT zipcode, DATE_TRUNC('hour', timestamp) AS h, COUNT(*) AS n, "
        "APPROX_COUNT_DISTINCT(ProductName) AS d FROM events GROUP BY 1, 2;",
        "views.sql");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    auto m = MasterStore::Open(&fs_, "data/master", catalog_.streams[0], 1);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    master_ = std::move(*m);
  }

  void SealEvents(size_t n) {
    std::vector<std::string> lines;
    std::string line;
    for (size_t i = 0; i < n; ++i) {
      line.clear();
      gen_.AppendEvent(&line);
      line.pop_back();  // '\n'
      lines.push_back(line);
    }
    std::vector<std::string_view> records(lines.begin(), lines.end());
    ASSERT_TRUE(master_->Seal(0, master_->Snapshot().sealed[0], records).ok());
  }

  std::string Tsv(const BatchVersion& v, const std::string& view) {
    VersionStore store(master_.get());
    auto data = store.ReadViewFile(v, *v.FindView(view), false);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : "";
  }

  FaultFileSystem fs_;
  sql::Catalog catalog_;
  std::unique_ptr<MasterStore> master_;
  SeedGenerator gen_{SeedGeneratorOptions{}};
};

TEST_F(BatchLayerTest, IncrementalRunEqualsFullRecompute) {
  BatchLayer layer(catalog_, 0, "views", master_.get());
  SealEvents(3000);
  SealEvents(2000);
  auto first = layer.RunOnce({});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->version.number, 1u);
  EXPECT_EQ(first->version.watermark, std::vector<uint64_t>{5000});
  EXPECT_EQ(first->segments_scanned, 2u);
  SealEvents(100);
  auto second = layer.RunOnce({});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->segments_scanned, 1u);
  EXPECT_EQ(second->segments_reused, 2u);
  BatchRunOptions full;
  full.full = true;
  auto third = layer.RunOnce(full);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->segments_scanned, 3u);
  EXPECT_EQ(third->version.number, 3u);
  for (const char* view : {"revenue", "zip_hour"}) EXPECT_EQ(Tsv(second->version, view), Tsv(third->version, view));
  // Versions no kept manifest version names are garbage; the current one
  // is not.
  auto fourth = layer.RunOnce({});
  ASSERT_TRUE(fourth.ok());
  auto gc = master_->CollectGarbage(/*keep_versions=*/1, /*grace_ms=*/0);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_GT(gc->versions, 0u);
  for (const auto* v : {&first->version, &second->version, &third->version}) {
    auto exists = fs_.Exists("data/master/" + v->key + "/VERSION");
    ASSERT_TRUE(exists.ok());
    EXPECT_FALSE(*exists) << v->key;
  }
  auto current = layer.versions().Current();
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->number, 4u);
  EXPECT_EQ((*current)->key, fourth->version.key);
}

// A worker computes only the partitions it owns: the version covers them,
// the others only to their first offset, and its states hold their events
// alone.
TEST_F(BatchLayerTest, ARunOverSomePartitionsCoversOnlyThem) {
  auto m = MasterStore::Open(&fs_, "data/master2", catalog_.streams[0], 3);
  ASSERT_TRUE(m.ok());
  MasterStore& master = **m;
  auto seal = [&](int p, size_t n) {
    std::vector<std::string> lines;
    std::string line;
    for (size_t i = 0; i < n; ++i) {
      line.clear();
      gen_.AppendEvent(&line);
      line.pop_back();
      lines.push_back(line);
    }
    std::vector<std::string_view> records(lines.begin(), lines.end());
    ASSERT_TRUE(master.Seal(p, master.Snapshot().sealed[static_cast<size_t>(p)], records).ok());
  };
  ASSERT_TRUE(master.SetFirstOffset(2, 40).ok());
  seal(0, 300);
  seal(1, 200);
  seal(1, 100);
  seal(2, 50);
  auto count = [&](const BatchVersion& v) {
    VersionStore store(&master);
    auto tsv = store.ReadViewFile(v, *v.FindView("revenue"), false);
    EXPECT_TRUE(tsv.ok());
    int64_t n = 0;
    size_t at = 0;
    while (tsv.ok() && at < tsv->size()) {
      const size_t nl = tsv->find('\n', at);
      const std::string row = tsv->substr(at, nl - at);
      at = nl + 1;
      const size_t tab = row.find('\t');
      const std::string field = row.substr(tab + 1, row.find('\t', tab + 1) - tab - 1);
      if (!field.empty() && std::isdigit(static_cast<unsigned char>(field[0]))) n += std::stoll(field);
    }
    return n;
  };
  BatchLayer layer(catalog_, 0, "views", &master);
  BatchRunOptions only;
  only.partitions = {1, 2};
  auto some = layer.RunOnce(only);
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  EXPECT_EQ(some->version.watermark, (std::vector<uint64_t>{0, 300, 90}));
  EXPECT_EQ(some->segments_scanned, 3u);
  for (const auto& seg : some->version.segments) EXPECT_NE(seg.partition, 0);
  EXPECT_EQ(count(some->version), 350);
  auto all = layer.RunOnce({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->version.watermark, (std::vector<uint64_t>{300, 300, 90}));
  EXPECT_EQ(count(all->version), 650);
  only.partitions = {3};
  EXPECT_EQ(layer.RunOnce(only).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(BatchLayerTest, DamagedStateIsNotReusedButRecomputed) {
  BatchLayer layer(catalog_, 0, "views", master_.get());
  SealEvents(1000);
  auto first = layer.RunOnce({});
  ASSERT_TRUE(first.ok());
  // Damage the state file of one view: the next run must not trust it.
  std::string path = JoinPath("data/master/" + first->version.key, StateFileName("revenue"));
  auto data = fs_.ReadFile(path);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[bad.size() / 2] ^= 0x10;
  ASSERT_TRUE(fs_.WriteFileAtomic(path, bad).ok());
  auto second = layer.RunOnce({});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->segments_scanned, 1u);  // revenue needed the segment again
  EXPECT_EQ(Tsv(first->version, "zip_hour"), Tsv(second->version, "zip_hour"));
  VersionStore store(master_.get());
  EXPECT_EQ(store.ReadViewFile(first->version, *first->version.FindView("revenue"), true).status().code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace lf
