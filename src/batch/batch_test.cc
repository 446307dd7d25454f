#include <gtest/gtest.h>
#include <xxhash.h>

#include <cctype>
#include <cstdio>
#include <random>

#include "batch/batch_layer.h"
#include "common/testing/fault_file_system.h"
#include "ingest/seed_generator.h"
#include "plan/result_format.h"

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
  w.has_tsv = true;
  w.rows = 49;
  w.tsv_bytes = 100;
  w.tsv_hash = 1;
  v.views = {w};
  v.pieces = {{0, 0, 0, 500, 40, 150, 3, "batch/v1-x/revenue.p0-0-500.state"},
              {0, 0, 500, 1000, 20, 90, 4, "batch/v7-y/revenue.p0-500-1000.state"}};
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
  EXPECT_TRUE(back->views[0].has_tsv);
  EXPECT_EQ(back->pieces, v.pieces);
  EXPECT_FALSE(back->full);
  EXPECT_EQ(back->timings[0].first, "scan");
  // Without a TSV no tsv line.
  v.views[0].has_tsv = false;
  back = DecodeVersion(EncodeVersion(v), "VERSION");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->views[0].has_tsv);
  v.full = true;
  back = DecodeVersion(EncodeVersion(v), "VERSION");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->full);
}

// Format 1 (one state over every partition) is still read: its state is a
// piece of its one partition.
TEST(BatchVersion, FormatOneReadAsOnePiece) {
  BatchVersion v = Sample();
  v.format = 1;
  v.pieces.clear();
  v.views[0].groups = 50;
  v.views[0].state_bytes = 200;
  v.views[0].state_hash = 2;
  auto back = DecodeVersion(EncodeVersion(v), "VERSION", "batch/v7");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->format, 1);
  ASSERT_EQ(back->pieces.size(), 1u);
  EXPECT_EQ(back->pieces[0].partition, 0);
  EXPECT_EQ(back->pieces[0].from, 0u);
  EXPECT_EQ(back->pieces[0].to, 1000u);
  EXPECT_EQ(back->pieces[0].bytes, 200u);
  EXPECT_EQ(back->pieces[0].key, "batch/v7/" + StateFileName("revenue by product"));
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
  body.replace(0, std::string("lambdaflow batch version 2").size(), "lambdaflow batch version 3");
  // Re-checksum so that only the version differs.
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(XXH3_64bits(body.data(), body.size())));
  auto r = DecodeVersion(body + "checksum " + hex + "\n", "VERSION");
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("newer"), std::string::npos);
}

// Seals seed events into master stores on the in-memory file system.
class BatchLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = sql::CompileViews(
        "CREATE STREAM events (zipcode INT, ProductName TEXT, price DOUBLE, timestamp TIMESTAMP);"
        "CREATE VIEW revenue AS SELECT ProductName, COUNT(*) AS n, SUM(price) AS s, AVG(price) AS a FROM events "
        "GROUP BY ProductName;"
        "CREATE VIEW zip_hour AS SELECT zipcode, DATE_TRUNC('hour', timestamp) AS h, COUNT(*) AS n, "
        "APPROX_COUNT_DISTINCT(ProductName) AS d FROM events GROUP BY 1, 2;"
        "CREATE VIEW price_q AS SELECT ProductName, APPROX_QUANTILE(price, 0.5) AS med, "
        "APPROX_QUANTILE(price, 0.9) AS p90, MIN(price) AS lo, MAX(price) AS hi FROM events GROUP BY 1;",
        "views.sql");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    for (const auto& v : catalog_.views) {
      auto plan = ViewPlan::Compile(v);
      ASSERT_TRUE(plan.ok());
      plans_.push_back(std::move(*plan));
    }
    master_ = Open("data/master", 1);
  }

  std::unique_ptr<MasterStore> Open(const std::string& dir, int partitions) {
    auto m = MasterStore::Open(&fs_, dir, catalog_.streams[0], partitions);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(*m) : nullptr;
  }

  void SealEvents(size_t n, MasterStore* master = nullptr, int p = 0) {
    if (!master) master = master_.get();
    std::vector<std::string> lines;
    std::string line;
    for (size_t i = 0; i < n; ++i) {
      line.clear();
      gen_.AppendEvent(&line);
      line.pop_back();  // '\n'
      lines.push_back(line);
    }
    std::vector<std::string_view> records(lines.begin(), lines.end());
    ASSERT_TRUE(master->Seal(p, master->Snapshot().sealed[static_cast<size_t>(p)], records).ok());
  }

  const ViewPlan& Plan(const std::string& view) {
    for (const auto& p : plans_)
      if (p->name() == view) return *p;
    ADD_FAILURE() << view;
    return *plans_[0];
  }

  // The view's rows as TSV, from the version's pieces (every partition).
  std::string Rows(const BatchVersion& v, const std::string& view, MasterStore* master = nullptr) {
    VersionStore store(master ? master : master_.get());
    const int i = v.ViewIndex(view);
    EXPECT_GE(i, 0) << view;
    if (i < 0) return "";
    auto state = store.ReadPieces(Plan(view), v.PiecesOf(static_cast<size_t>(i)));
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    if (!state.ok()) return "";
    std::string tsv;
    EXPECT_TRUE(AppendViewTsv(Plan(view), **state, 1, &tsv).ok());
    return tsv;
  }

  std::string Tsv(const BatchVersion& v, const std::string& view, MasterStore* master = nullptr) {
    VersionStore store(master ? master : master_.get());
    auto data = store.ReadViewFile(v, *v.FindView(view), false);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : "";
  }

  static std::vector<std::string> Views() { return {"revenue", "zip_hour", "price_q"}; }

  FaultFileSystem fs_;
  sql::Catalog catalog_;
  std::vector<std::unique_ptr<ViewPlan>> plans_;
  std::unique_ptr<MasterStore> master_;
  SeedGenerator gen_{SeedGeneratorOptions{}};
};

TEST_F(BatchLayerTest, DeltaRunEqualsFullRecompute) {
  BatchLayer layer(catalog_, 0, "views", master_.get());
  SealEvents(3000);
  SealEvents(2000);
  auto first = layer.RunOnce({});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->version.number, 1u);
  EXPECT_EQ(first->version.watermark, std::vector<uint64_t>{5000});
  EXPECT_EQ(first->segments_scanned, 2u);
  EXPECT_EQ(first->pieces_written, 3u);  // one per view
  for (const auto& view : Views()) EXPECT_EQ(Tsv(first->version, view), Rows(first->version, view));
  SealEvents(100);
  auto second = layer.RunOnce({});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->segments_scanned, 1u);
  EXPECT_EQ(second->segments_reused, 2u);
  EXPECT_EQ(second->rows_scanned, 100u);
  EXPECT_EQ(second->pieces_reused, 3u);
  EXPECT_EQ(second->pieces_written, 3u);
  EXPECT_FALSE(second->version.FindView("revenue")->has_tsv);  // a delta run writes no TSV
  // The reused pieces are the first version's objects, not copies.
  for (const auto& piece : first->version.pieces)
    EXPECT_NE(std::find(second->version.pieces.begin(), second->version.pieces.end(), piece),
              second->version.pieces.end());
  BatchRunOptions full;
  full.full = true;
  auto third = layer.RunOnce(full);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->segments_scanned, 3u);
  EXPECT_EQ(third->pieces_reused, 0u);
  EXPECT_EQ(third->version.number, 3u);
  for (const auto& view : Views()) {
    EXPECT_EQ(Rows(second->version, view), Rows(third->version, view)) << view;
    EXPECT_EQ(Tsv(third->version, view), Rows(third->version, view)) << view;
  }
  auto current = layer.versions().Current();
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->key, third->version.key);
}

// Random appends over several partitions and runs: every delta version
// answers as a full recompute of the same segments, and compaction keeps
// each partition's pieces few.
TEST_F(BatchLayerTest, RandomDeltaRunsWithCompactionEqualFull) {
  auto master = Open("data/random", 3);
  ASSERT_TRUE(master);
  BatchLayer layer(catalog_, 0, "views", master.get());
  std::mt19937 rng(7);
  BatchRunOptions delta;
  delta.compact_fanout = 2;
  delta.compact_base = 64;
  uint64_t merged = 0;
  for (int run = 0; run < 14; ++run) {
    const int appends = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < appends; ++k) SealEvents(20 + rng() % 120, master.get(), static_cast<int>(rng() % 3));
    auto d = layer.RunOnce(delta);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    merged += d->pieces_merged;
    EXPECT_EQ(d->version.watermark, master->Snapshot().sealed);
    // At most fanout pieces per tier: few per (view, partition).
    for (size_t i = 0; i < d->version.views.size(); ++i)
      for (int p = 0; p < 3; ++p) EXPECT_LE(d->version.PiecesOf(i, p).size(), 12u) << "run " << run;
    if (run % 5 == 4) {
      // A full recompute of the same segments answers the same.
      BatchRunOptions full;
      full.full = true;
      auto f = layer.RunOnce(full);
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      for (const auto& view : Views())
        EXPECT_EQ(Rows(d->version, view, master.get()), Rows(f->version, view, master.get())) << view << " run " << run;
    }
  }
  EXPECT_GT(merged, 0u) << "compaction never ran";
  // And the whole history once more from scratch, against the last delta.
  SealEvents(50, master.get(), 1);
  auto d = layer.RunOnce(delta);
  ASSERT_TRUE(d.ok());
  auto other = Open("data/random", 3);  // a second writer's fresh view of the same store
  BatchRunOptions full;
  full.full = true;
  BatchLayer layer2(catalog_, 0, "views", other.get());
  auto f = layer2.RunOnce(full);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  for (const auto& view : Views())
    EXPECT_EQ(Rows(d->version, view, master.get()), Rows(f->version, view, other.get())) << view;
}

TEST_F(BatchLayerTest, CompactionRunsAreSizeTiered) {
  // Five pieces of one tier merge; four do not.
  EXPECT_TRUE(BatchLayer::CompactionRuns({100, 100, 100, 100}, 4, 1000).empty());
  EXPECT_EQ(BatchLayer::CompactionRuns({100, 100, 100, 100, 100}, 4, 1000),
            (std::vector<std::pair<size_t, size_t>>{{0, 5}}));
  // A large old piece is not merged with small new ones.
  EXPECT_EQ(BatchLayer::CompactionRuns({1000000, 100, 100, 100, 100, 100}, 4, 1000),
            (std::vector<std::pair<size_t, size_t>>{{1, 6}}));
  // Merges cascade: the merged piece joins a run of its new tier.
  auto runs = BatchLayer::CompactionRuns({3000, 3000, 3000, 3000, 300, 300, 300, 300, 300}, 4, 1000);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0], (std::pair<size_t, size_t>{0, 9}));
}

// Garbage collection follows the pieces a kept version references in an
// older version's folder: that folder's VERSION goes, the pieces stay.
TEST_F(BatchLayerTest, GarbageCollectionKeepsReferencedPieces) {
  BatchLayer layer(catalog_, 0, "views", master_.get());
  SealEvents(1000);
  auto first = layer.RunOnce({});
  ASSERT_TRUE(first.ok());
  SealEvents(200);
  auto second = layer.RunOnce({});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->pieces_reused, 3u);
  // A version that only lives in an unpublished folder (a crashed run).
  ASSERT_TRUE(master_->store()->Put(first->version.key + "-orphan/x.state", "x").ok());
  auto gc = layer.versions().CollectGarbage(/*keep_versions=*/1, /*grace_ms=*/0);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_GT(gc->objects, 0u);
  auto exists = [&](const std::string& key) { return fs_.Exists("data/master/" + key).value(); };
  EXPECT_FALSE(exists(first->version.key + "/VERSION"));
  EXPECT_FALSE(exists(first->version.key + "/" + TsvFileName("revenue")));
  EXPECT_FALSE(exists(first->version.key + "-orphan/x.state"));
  for (const auto& piece : first->version.pieces) EXPECT_TRUE(exists(piece.key)) << piece.key;
  for (const auto& view : Views()) EXPECT_FALSE(Rows(second->version, view).empty());
  // Once no kept version names them, they go too.
  BatchRunOptions full;
  full.full = true;
  ASSERT_TRUE(layer.RunOnce(full).ok());
  gc = layer.versions().CollectGarbage(1, 0);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  for (const auto& piece : first->version.pieces) EXPECT_FALSE(exists(piece.key)) << piece.key;
}

// A worker computes only the partitions it owns: its version holds pieces
// of them alone and is named by their chains only.
TEST_F(BatchLayerTest, ARunOverSomePartitionsCoversOnlyThem) {
  auto m = Open("data/master2", 3);
  ASSERT_TRUE(m);
  MasterStore& master = *m;
  ASSERT_TRUE(master.SetFirstOffset(2, 40).ok());
  SealEvents(300, &master, 0);
  SealEvents(200, &master, 1);
  SealEvents(100, &master, 1);
  SealEvents(50, &master, 2);
  auto count = [&](const BatchVersion& v) {
    int64_t n = 0;
    std::string tsv = Rows(v, "revenue", &master);
    size_t at = tsv.find('\n') + 1;
    while (at < tsv.size()) {
      const size_t nl = tsv.find('\n', at);
      const std::string row = tsv.substr(at, nl - at);
      at = nl + 1;
      const size_t tab = row.find('\t');
      n += std::stoll(row.substr(tab + 1, row.find('\t', tab + 1) - tab - 1));
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
  for (const auto& piece : some->version.pieces) EXPECT_NE(piece.partition, 0);
  EXPECT_EQ(count(some->version), 350);
  EXPECT_EQ(master.BatchRefs()[0].key, "");
  EXPECT_EQ(master.BatchRefs()[1].key, some->version.key);
  // Partition 1 alone, from the version its chain names.
  VersionStore store(&master);
  std::vector<const ViewPlan*> plans = {&Plan("revenue")};
  auto p1 = store.ReadPartition(1, plans);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->watermark, 300u);
  ASSERT_TRUE(p1->version);
  EXPECT_EQ(p1->version->key, some->version.key);
  EXPECT_GT(p1->states[0]->num_groups(), 0u);
  auto p0 = store.ReadPartition(0, plans);
  ASSERT_TRUE(p0.ok());
  EXPECT_FALSE(p0->version);
  EXPECT_EQ(p0->states[0]->num_groups(), 0u);
  auto all = layer.RunOnce({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->version.watermark, (std::vector<uint64_t>{300, 300, 90}));
  EXPECT_EQ(all->segments_scanned, 1u);  // partitions 1 and 2 from the first run's pieces
  EXPECT_EQ(count(all->version), 650);
  only.partitions = {3};
  EXPECT_EQ(layer.RunOnce(only).status().code(), StatusCode::kInvalidArgument);
}

// A delta run does not read the pieces it reuses, so a damaged one is found
// when read (Corruption naming it); a run with `verify` recomputes it.
TEST_F(BatchLayerTest, DamagedPieceIsFoundAndRecomputedWithVerify) {
  BatchLayer layer(catalog_, 0, "views", master_.get());
  SealEvents(1000);
  auto first = layer.RunOnce({});
  ASSERT_TRUE(first.ok());
  const VersionPiece& piece = *first->version.PiecesOf(static_cast<size_t>(first->version.ViewIndex("revenue")), 0)[0];
  const std::string path = "data/master/" + piece.key;
  auto data = fs_.ReadFile(path);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[bad.size() / 2] ^= 0x10;
  ASSERT_TRUE(fs_.WriteFileAtomic(path, bad).ok());
  VersionStore store(master_.get());
  auto read = store.ReadPieces(Plan("revenue"), {&piece});
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  EXPECT_NE(read.status().message().find(piece.key), std::string::npos);
  BatchRunOptions verify;
  verify.verify = true;
  auto second = layer.RunOnce(verify);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->segments_scanned, 1u);  // revenue needed the segment again
  EXPECT_EQ(second->pieces_reused, 2u);
  EXPECT_EQ(Tsv(first->version, "revenue"), Rows(second->version, "revenue"));
  EXPECT_EQ(Tsv(first->version, "zip_hour"), Rows(second->version, "zip_hour"));
}

// The previous release's format-1 version over one partition is reused as
// a piece; over several partitions it is recomputed.
TEST_F(BatchLayerTest, FormatOneVersionIsReusedOrRecomputed) {
  for (int partitions : {1, 2}) {
    const std::string dir = "data/v1-" + std::to_string(partitions);
    auto master = Open(dir, partitions);
    ASSERT_TRUE(master);
    for (int p = 0; p < partitions; ++p) SealEvents(700, master.get(), p);
    BatchLayer layer(catalog_, 0, "views", master.get());
    BatchRunOptions full;
    full.full = true;
    auto base = layer.RunOnce(full);
    ASSERT_TRUE(base.ok());
    // The same content as a format-1 version: one state per view.
    BatchVersion v1 = base->version;
    v1.format = 1;
    v1.number = 5;
    v1.key = VersionStore::NewVersionKey(5);
    v1.pieces.clear();
    std::vector<std::pair<std::string, std::string>> files;
    VersionStore store(master.get());
    for (auto& view : v1.views) {
      auto state =
          store.ReadPieces(Plan(view.name), base->version.PiecesOf(static_cast<size_t>(v1.ViewIndex(view.name))));
      ASSERT_TRUE(state.ok());
      std::string image;
      (*state)->Serialize(&image);
      view.groups = (*state)->num_groups();
      view.state_bytes = image.size();
      view.state_hash = XXH3_64bits(image.data(), image.size());
      files.emplace_back(StateFileName(view.name), image);
      files.emplace_back(TsvFileName(view.name), Tsv(base->version, view.name, master.get()));
    }
    ASSERT_TRUE(master->store()->Put(v1.key + "/VERSION", EncodeVersion(v1)).ok());
    for (const auto& [name, bytes] : files) ASSERT_TRUE(master->store()->Put(v1.key + "/" + name, bytes).ok());
    ASSERT_TRUE(master->PublishBatch(v1.watermark, v1.key).ok());
    auto read = store.Current();
    ASSERT_TRUE(read.ok() && *read);
    EXPECT_EQ((*read)->format, 1);
    for (const auto& view : Views())
      EXPECT_EQ(Rows(**read, view, master.get()), Tsv(base->version, view, master.get()));
    SealEvents(100, master.get(), 0);
    auto next = layer.RunOnce({});
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->version.number, 6u);
    EXPECT_EQ(next->pieces_reused, partitions == 1 ? 3u : 0u);
    EXPECT_EQ(next->rows_scanned, partitions == 1 ? 100u : 1500u);
    auto check = layer.RunOnce(full);
    ASSERT_TRUE(check.ok());
    for (const auto& view : Views())
      EXPECT_EQ(Rows(next->version, view, master.get()), Rows(check->version, view, master.get())) << view;
  }
}

// A crash anywhere between a run's first piece and its VERSION leaves the
// current version as it was and only garbage behind, which collection takes.
TEST_F(BatchLayerTest, CrashBeforeVersionLeavesOnlyGarbage) {
  BatchLayer layer(catalog_, 0, "views", master_.get());
  SealEvents(800);
  auto first = layer.RunOnce({});
  ASSERT_TRUE(first.ok());
  std::vector<std::string> before;
  for (const auto& view : Views()) before.push_back(Rows(first->version, view));
  SealEvents(300);
  int failures = 0;
  for (uint64_t n = 0; n < 40; ++n) {
    fs_.FailAfter(n);
    auto run = layer.RunOnce({});
    fs_.ClearFaults();
    if (run.ok()) break;
    ++failures;
    auto current = layer.versions().Current();
    ASSERT_TRUE(current.ok()) << current.status().ToString();
    ASSERT_TRUE(*current);
    if ((*current)->key != first->version.key) break;  // published, then failed later (chain write)
    for (size_t k = 0; k < Views().size(); ++k) EXPECT_EQ(Rows(**current, Views()[k]), before[k]) << "n=" << n;
  }
  EXPECT_GT(failures, 1);
  ASSERT_TRUE(layer.versions().CollectGarbage(16, 0).ok());
  auto current = layer.versions().Current();
  ASSERT_TRUE(current.ok() && *current);
  for (const auto& view : Views()) EXPECT_FALSE(Rows(**current, view).empty());
  // Every object left under batch/ is in a published version's folder.
  auto keys = master_->store()->List("batch/");
  ASSERT_TRUE(keys.ok());
  for (const auto& key : *keys) {
    const std::string folder = key.substr(0, key.rfind('/'));
    EXPECT_TRUE(fs_.Exists("data/master/" + folder + "/VERSION").value()) << key;
  }
}

}  // namespace
}  // namespace lf
