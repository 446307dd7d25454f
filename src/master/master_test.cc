// Tests of the master dataset: round trips against JsonDecoder, sealing
// rules, one test per shape of damage to the manifest, raw segments and
// sidecars, crash safety on the fault-injecting file system, and garbage
// collection.
#include <gtest/gtest.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/fault_file_system.h"
#include "master/manifest_format.h"
#include "master/master_store.h"
#include "master/segment_files.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

constexpr char kDir[] = "/m";

StreamSchema AllTypes() {
  StreamSchema s;
  s.name = "events";
  s.columns = {{"i", TypeId::kInt, false},  {"b", TypeId::kBigInt, false},  {"d", TypeId::kDouble, false},
               {"t", TypeId::kText, false}, {"f", TypeId::kBoolean, false}, {"ts", TypeId::kTimestamp, false}};
  return s;
}

// Random events covering every type, NULLs (explicit and missing fields),
// text with escapes, unicode and many distinct values, and a few events
// that do not decode at all.
std::vector<std::string> MakeEvents(size_t n, uint64_t seed, bool with_bad = false, int distinct_text = 20) {
  std::mt19937_64 rng(seed);
  static const char* kTexts[] = {"plain",
                                 "tab\\tnew\\nline",
                                 "quote \\\" backslash \\\\",
                                 "h\\u00e9llo",
                                 "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                                 "emoji \xf0\x9f\x98\x80",
                                 ""};
  std::vector<std::string> out;
  for (size_t k = 0; k < n; ++k) {
    if (with_bad && rng() % 50 == 0) {
      out.push_back(rng() % 2 ? R"({"i":"not a number"})" : R"({"i":1,)");
      continue;
    }
    std::string e = "{";
    auto field = [&](const std::string& kv) {
      if (e.size() > 1) e += ",";
      e += kv;
    };
    uint64_t r = rng();
    if (r % 7 == 0)
      field("\"i\":null");
    else if (r % 7 != 1)
      field("\"i\":" + std::to_string(static_cast<int32_t>(rng())));
    r = rng();
    if (r % 11 == 0)
      field("\"b\":" + std::to_string(std::numeric_limits<int64_t>::min()));
    else if (r % 11 == 1)
      field("\"b\":" + std::to_string(std::numeric_limits<int64_t>::max()));
    else if (r % 11 != 2)
      field("\"b\":" + std::to_string(static_cast<int64_t>(rng() % 100000) - 50000));
    r = rng();
    if (r % 5 == 0)
      field("\"d\":" + std::to_string(rng() % 100));
    else if (r % 5 != 1) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", (static_cast<double>(rng() % 1000000) - 5e5) / 7.0);
      field(std::string("\"d\":") + buf);
    }
    r = rng();
    if (r % 9 == 0)
      field("\"t\":null");
    else if (r % 9 == 1)
      field("\"t\":\"" + std::string(kTexts[rng() % 7]) + "\"");
    else if (r % 9 != 2)
      field("\"t\":\"product" + std::to_string(rng() % distinct_text) + "\"");
    r = rng();
    if (r % 3 != 2) field(std::string("\"f\":") + (r % 3 ? "true" : "false"));
    r = rng();
    if (r % 4 == 0)
      field("\"ts\":\"2014-11-01 19:35:41.158\"");
    else if (r % 4 == 1)
      field("\"ts\":\"2020-02-29T12:00:00.5+01:00\"");
    else if (r % 4 == 2)
      field("\"ts\":" + std::to_string(1414870541158 + static_cast<int64_t>(rng() % 100000000)));
    if (rng() % 10 == 0) field("\"ignored\":{\"x\":[1,2]}");
    out.push_back(e + "}");
  }
  return out;
}

using Row = std::vector<Value>;

// What JsonDecoder makes of the events (the reference).
std::vector<Row> Decode(const StreamSchema& schema, const std::vector<std::string>& events) {
  JsonDecoder dec(schema);
  Batch batch(schema.types());
  std::vector<Row> rows;
  for (size_t k = 0; k < events.size(); ++k) {
    Reject rej;
    bool blank = false;
    batch.Clear();
    if (!dec.Decode(events[k], events[k].size(), k + 1, &batch, &rej, &blank)) continue;
    Row row;
    for (const auto& col : batch.columns) row.push_back(col.GetValue(0));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string_view> Views(const std::vector<std::string>& v, size_t from = 0, size_t n = SIZE_MAX) {
  std::vector<std::string_view> out;
  for (size_t k = from; k < v.size() && k < from + n; ++k) out.push_back(v[k]);
  return out;
}

std::string Str(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

class MasterTest : public ::testing::Test {
 protected:
  void OpenStore(const StreamSchema& schema = AllTypes(), int partitions = 2) {
    store_.reset();
    MasterStoreOptions o;
    o.row_group_rows = group_rows_;
    o.log = [this](const std::string& line) { log_.push_back(line); };
    o.on_reject = [this](const SegmentInfo& seg, uint64_t index, const Reject&) {
      rejected_offsets_.push_back(seg.from + index);
    };
    auto r = MasterStore::Open(&fs_, kDir, schema, partitions, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    store_ = std::move(*r);
  }
  Result<std::vector<Row>> Scan(const SegmentInfo& seg, SegmentScanStats* stats = nullptr) {
    std::vector<Row> rows;
    Status st = store_->ScanSegment(
        seg,
        [&](const Batch& b) {
          for (size_t r = 0; r < b.size; ++r) {
            Row row;
            for (const auto& col : b.columns) row.push_back(col.GetValue(r));
            rows.push_back(std::move(row));
          }
          return Status::OK();
        },
        stats);
    if (!st.ok()) return st;
    return rows;
  }
  Result<std::vector<std::string>> Raw(const SegmentInfo& seg) {
    std::vector<std::string> events;
    uint64_t next = seg.from;
    Status st = store_->ScanRaw(seg, [&](uint64_t off, std::string_view e) {
      EXPECT_EQ(off, next++);
      events.emplace_back(e);
      return Status::OK();
    });
    if (!st.ok()) return st;
    return events;
  }
  std::string Path(const std::string& name) { return JoinPath(kDir, name); }
  std::string ReadFile(const std::string& name) {
    auto r = fs_.ReadFile(Path(name));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  void WriteFile(const std::string& name, const std::string& data) {
    ASSERT_TRUE(fs_.CreateDirs(DirName(Path(name))).ok());
    ASSERT_TRUE(fs_.WriteFileDurable(Path(name), data).ok());
  }
  bool LogContains(const std::string& needle) const {
    return std::any_of(log_.begin(), log_.end(), [&](const auto& l) { return l.find(needle) != std::string::npos; });
  }

  FaultFileSystem fs_{7};
  uint32_t group_rows_ = 1000;
  std::unique_ptr<MasterStore> store_;
  std::vector<std::string> log_;
  std::vector<uint64_t> rejected_offsets_;
};

// Rows of `events` [from, to) decoded as ingest does, in batches of
// `batch_rows`.
std::vector<std::unique_ptr<Batch>> DecodeRows(const StreamSchema& schema, const std::vector<std::string>& events,
                                               size_t from, size_t to, size_t batch_rows) {
  JsonDecoder decoder(schema, DecoderOptions{});
  std::vector<std::unique_ptr<Batch>> out;
  for (size_t k = from; k < to; k += batch_rows) {
    std::string text;
    for (size_t i = k; i < std::min(to, k + batch_rows); ++i) text += events[i] + "\n";
    const size_t size = text.size();
    text.append(kJsonPadding, ' ');
    out.push_back(std::make_unique<Batch>(schema.types()));
    std::vector<Reject> rejects;
    size_t pos = 0;
    uint64_t lines = 0;
    while (pos < size)
      pos += decoder.DecodeMany(text.data() + pos, size - pos, text.size() - pos, 1 + lines, out.back().get(), &rejects,
                                &lines);
    EXPECT_TRUE(rejects.empty());
  }
  return out;
}

// Seals of 20k events (two threads) from rows offered as ingest offers them
// give the same sidecar bytes as seals that decode; a seal the offers cover
// only in part decodes; held rows are dropped once sealed past.
TEST_F(MasterTest, OfferedRowsBuildTheSameSidecar) {
  OpenStore(AllTypes(), 1);
  auto events = MakeEvents(40000, 11);
  // Offers of 3 batches of 700 rows, as chunks; they cover [0, 25200).
  for (size_t k = 0; k < 25200; k += 2100) store_->OfferRows(0, k, DecodeRows(AllTypes(), events, k, k + 2100, 700));
  EXPECT_EQ(store_->offered_rows(), 25200u);
  ASSERT_TRUE(store_->Seal(0, 0, Views(events, 0, 20000)).ok());
  EXPECT_EQ(store_->offered_rows(), 25200u - 18900u);  // the offer straddling 20000 stays
  ASSERT_TRUE(store_->Seal(0, 20000, Views(events, 20000, 20000)).ok());
  EXPECT_EQ(store_->offered_rows(), 0u);
  // An offer below the sealed watermark is not held.
  store_->OfferRows(0, 0, DecodeRows(AllTypes(), events, 0, 100, 100));
  EXPECT_EQ(store_->offered_rows(), 0u);

  MasterStoreOptions o;
  o.row_group_rows = group_rows_;
  auto plain = MasterStore::Open(&fs_, "/m2", AllTypes(), 1, o);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE((*plain)->Seal(0, 0, Views(events, 0, 20000)).ok());
  ASSERT_TRUE((*plain)->Seal(0, 20000, Views(events, 20000, 20000)).ok());
  Manifest a = store_->Snapshot(), b = (*plain)->Snapshot();
  ASSERT_EQ(a.segments.size(), 2u);
  ASSERT_EQ(b.segments.size(), 2u);
  std::vector<Row> all;
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(ReadFile(a.segments[k].cols_name), fs_.ReadFile(JoinPath("/m2", b.segments[k].cols_name)).value());
    auto rows = Scan(a.segments[k]);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    all.insert(all.end(), rows->begin(), rows->end());
    auto raw = Raw(a.segments[k]);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, std::vector<std::string>(events.begin() + 20000 * k, events.begin() + 20000 * (k + 1)));
  }
  EXPECT_EQ(all, Decode(AllTypes(), events));
}

TEST_F(MasterTest, RoundTripMatchesJsonDecoder) {
  OpenStore();
  auto events = MakeEvents(7000, 1);
  ASSERT_TRUE(store_->Seal(0, 0, Views(events, 0, 2500)).ok());
  ASSERT_TRUE(store_->Seal(0, 2500, Views(events, 2500, 4500)).ok());
  ASSERT_TRUE(store_->Seal(1, 0, Views(events, 0, 1)).ok());
  Manifest m = store_->Snapshot();
  ASSERT_EQ(m.segments.size(), 3u);
  EXPECT_EQ(m.sealed, (std::vector<uint64_t>{7000, 1}));
  EXPECT_EQ(m.generation, 5u);  // per partition a claim, then one version per seal
  std::vector<Row> all;
  for (int k = 0; k < 2; ++k) {
    SegmentScanStats stats;
    auto rows = Scan(m.segments[k], &stats);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_FALSE(stats.rebuilt);
    all.insert(all.end(), rows->begin(), rows->end());
  }
  EXPECT_EQ(all, Decode(AllTypes(), events));
  auto raw = Raw(m.segments[1]);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, std::vector<std::string>(events.begin() + 2500, events.end()));
  // The raw file is plain zstd NDJSON, readable with zstdcat.
  EXPECT_EQ(ReadFile(m.segments[0].raw_name).substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
  // Persisted: a reopened store has the same manifest and rows.
  OpenStore();
  EXPECT_EQ(store_->Snapshot().segments, m.segments);
  EXPECT_EQ(store_->Snapshot().sealed, m.sealed);
  auto again = Scan(m.segments[2]);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, Decode(AllTypes(), {events[0]}));
}

TEST_F(MasterTest, TextEncodingsAndExtremes) {
  group_rows_ = 4096;
  OpenStore();
  // Many distinct texts (plain encoding), then constant and all-NULL columns.
  auto events = MakeEvents(9000, 2, false, 1000000);
  for (int k = 0; k < 3000; ++k) events.push_back(R"({"i":5,"b":-9223372036854775808,"t":"same","f":true})");
  for (int k = 0; k < 3000; ++k) events.push_back(R"({"t":null,"b":9223372036854775807})");
  ASSERT_TRUE(store_->Seal(0, 0, Views(events)).ok());
  auto rows = Scan(store_->Snapshot().segments[0]);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, Decode(AllTypes(), events));
}

TEST_F(MasterTest, ResealOfSealedRangeIsANoOp) {
  OpenStore();
  auto events = MakeEvents(300, 3);
  ASSERT_TRUE(store_->Seal(0, 0, Views(events, 0, 100)).ok());
  ASSERT_TRUE(store_->Seal(0, 100, Views(events, 100, 200)).ok());
  Manifest before = store_->Snapshot();
  EXPECT_TRUE(store_->Seal(0, 0, Views(events, 0, 100)).ok());
  EXPECT_TRUE(store_->Seal(0, 100, Views(events, 100, 200)).ok());
  OpenStore();
  EXPECT_TRUE(store_->Seal(0, 0, Views(events, 0, 100)).ok());
  EXPECT_EQ(store_->Snapshot().segments, before.segments);
}

TEST_F(MasterTest, SealWithGapOrOverlapIsRefused) {
  OpenStore();
  auto events = MakeEvents(300, 4);
  ASSERT_TRUE(store_->Seal(0, 0, Views(events, 0, 100)).ok());
  Status gap = store_->Seal(0, 150, Views(events, 150, 50));
  EXPECT_EQ(gap.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(gap.message().find("gap [100, 150)"), std::string::npos) << gap.message();
  Status overlap = store_->Seal(0, 50, Views(events, 50, 100));
  EXPECT_EQ(overlap.code(), StatusCode::kInvalidArgument) << overlap.ToString();
  EXPECT_EQ(store_->Seal(1, 10, Views(events, 0, 5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Seal(2, 0, Views(events, 0, 5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Seal(0, 100, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Seal(0, 100, {"{\"i\":1}\n{\"i\":2}"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Seal(0, 100, {"  "}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Snapshot().sealed[0], 100u);
  // A partition whose log starts later.
  ASSERT_TRUE(store_->SetFirstOffset(1, 1000).ok());
  EXPECT_TRUE(store_->Seal(1, 1000, Views(events, 0, 5)).ok());
  EXPECT_EQ(store_->SetFirstOffset(1, 0).code(), StatusCode::kInvalidArgument);
  OpenStore();
  EXPECT_EQ(store_->Snapshot().first[1], 1000u);
}

// --- Manifest damage ----------------------------------------------------------

// The latest version of partition 0's chain, damaged: never read as another
// version, never skipped.
class ManifestDamageTest : public MasterTest {
 protected:
  void SetUp() override {
    OpenStore();
    auto events = MakeEvents(200, 5);
    ASSERT_TRUE(store_->Seal(0, 0, Views(events, 0, 100)).ok());
    ASSERT_TRUE(store_->Seal(0, 100, Views(events, 100, 100)).ok());
    ASSERT_TRUE(store_->Seal(1, 0, Views(events, 0, 10)).ok());
    store_.reset();
    key_ = ManifestVersionKey(0, 3);  // claim, two seals
    good_ = ReadFile(key_);
  }
  Status OpenWith(const std::string& manifest) {
    WriteFile(key_, manifest);
    return MasterStore::Open(&fs_, kDir, AllTypes(), 2).status();
  }
  std::string key_, good_;
};

TEST_F(ManifestDamageTest, EveryBitFlipIsCorruption) {
  for (size_t i = 0; i < good_.size(); ++i) {
    std::string bad = good_;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    Status st = OpenWith(bad);
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << "byte " << i << ": " << st.ToString();
    ASSERT_NE(st.message().find(key_), std::string::npos) << st.message();
    ASSERT_NE(st.message().find("restore"), std::string::npos) << st.message();
  }
}

TEST_F(ManifestDamageTest, EveryTruncationIsCorruption) {
  for (size_t n = 0; n < good_.size(); n += 3) {
    Status st = OpenWith(good_.substr(0, n));
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << "length " << n << ": " << st.ToString();
  }
  EXPECT_TRUE(OpenWith(good_).ok());
}

// --- Raw segment damage -------------------------------------------------------

class SegmentDamageTest : public MasterTest {
 protected:
  void SetUp() override {
    OpenStore();
    events_ = MakeEvents(3500, 6);
    ASSERT_TRUE(store_->Seal(0, 0, Views(events_, 0, 1000)).ok());
    ASSERT_TRUE(store_->Seal(0, 1000, Views(events_, 1000, 2500)).ok());
    seg_ = store_->Snapshot().segments[1];
    expected_ = Decode(AllTypes(), std::vector<std::string>(events_.begin() + 1000, events_.end()));
  }
  void ExpectRawCorruption(const std::string& why) {
    auto raw = Raw(seg_);
    ASSERT_FALSE(raw.ok());
    EXPECT_EQ(raw.status().code(), StatusCode::kCorruption);
    EXPECT_NE(raw.status().message().find("partition 0 [1000, 3500)"), std::string::npos) << raw.status().message();
    EXPECT_NE(raw.status().message().find(why), std::string::npos) << raw.status().message();
    // A scan that must rebuild from it fails the same way: never skipped.
    ASSERT_TRUE(fs_.Remove(Path(seg_.cols_name)).ok());
    auto rows = Scan(seg_);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.status().code(), StatusCode::kCorruption);
    EXPECT_NE(rows.status().message().find("[1000, 3500)"), std::string::npos) << rows.status().message();
  }
  std::vector<std::string> events_;
  SegmentInfo seg_;
  std::vector<Row> expected_;
};

TEST_F(SegmentDamageTest, RawBitFlipIsCorruption) {
  std::string raw = ReadFile(seg_.raw_name);
  raw[raw.size() / 2] ^= 0x10;
  WriteFile(seg_.raw_name, raw);
  ExpectRawCorruption("checksum mismatch");
}

TEST_F(SegmentDamageTest, RawTruncationIsCorruption) {
  std::string raw = ReadFile(seg_.raw_name);
  WriteFile(seg_.raw_name, raw.substr(0, raw.size() - 7));
  ExpectRawCorruption("size is");
}

TEST_F(SegmentDamageTest, MissingRawIsCorruption) {
  ASSERT_TRUE(fs_.Remove(Path(seg_.raw_name)).ok());
  ExpectRawCorruption("missing");
}

TEST_F(SegmentDamageTest, RawWithWrongLineCountIsCorruption) {
  // A well-formed zstd file, checksummed in the manifest, with one line too
  // few: only the line count can tell.
  std::string text = Str(std::vector<std::string>(events_.begin() + 1000, events_.end() - 1));
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  WriteFile(seg_.raw_name, z);
  // A version that records the damaged object's size and checksum.
  store_.reset();
  auto local = LocalObjectStore::Open(&fs_, kDir);
  ASSERT_TRUE(local.ok());
  ManifestChainOptions copts;
  copts.writer_id = "test";
  ManifestChain chain(local->get(), 0, copts);
  auto latest = chain.ReadLatest();
  ASSERT_TRUE(latest.ok() && *latest);
  PartitionContent c = (*latest)->content;
  c.segments[1].bytes = z.size();
  c.segments[1].xxh64 = XXH64(z.data(), z.size(), 0);
  ASSERT_TRUE(chain.Publish(**latest, (*latest)->epoch, c).ok());
  OpenStore();
  seg_ = store_->Snapshot().segments[1];
  ExpectRawCorruption("holds 2499 lines");
}

// --- Sidecar damage: rebuilt transparently -------------------------------------

TEST_F(SegmentDamageTest, MissingSidecarIsRebuiltIdentically) {
  const std::string original = ReadFile(seg_.cols_name);
  ASSERT_TRUE(fs_.Remove(Path(seg_.cols_name)).ok());
  SegmentScanStats stats;
  auto rows = Scan(seg_, &stats);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, expected_);
  EXPECT_TRUE(stats.rebuilt);
  EXPECT_TRUE(LogContains("rebuilding sidecar")) << (log_.empty() ? "" : log_.back());
  EXPECT_EQ(ReadFile(seg_.cols_name), original);
  stats = {};
  ASSERT_TRUE(Scan(seg_, &stats).ok());
  EXPECT_FALSE(stats.rebuilt);
}

TEST_F(SegmentDamageTest, EveryShapeOfSidecarDamageIsRebuilt) {
  const std::string original = ReadFile(seg_.cols_name);
  std::vector<std::pair<std::string, std::string>> shapes = {
      {"header flip", std::string(original).replace(20, 1, 1, static_cast<char>(original[20] ^ 4))},
      {"first group flip", std::string(original).replace(200, 1, 1, static_cast<char>(original[200] ^ 1))},
      {"last group flip", std::string(original).replace(original.size() - 300, 1, 1,
                                                        static_cast<char>(original[original.size() - 300] ^ 1))},
      {"tail flip", std::string(original).replace(original.size() - 3, 1, 1, 'x')},
      {"truncated", original.substr(0, original.size() / 2)},
      {"empty", ""},
      {"garbage", std::string(5000, 'z')},
  };
  for (const auto& [what, bytes] : shapes) {
    WriteFile(seg_.cols_name, bytes);
    SegmentScanStats stats;
    auto rows = Scan(seg_, &stats);
    ASSERT_TRUE(rows.ok()) << what << ": " << rows.status().ToString();
    EXPECT_EQ(*rows, expected_) << what;
    EXPECT_TRUE(stats.rebuilt) << what;
    EXPECT_EQ(ReadFile(seg_.cols_name), original) << what;
  }
}

TEST_F(SegmentDamageTest, DamageMidScanResumesWithoutDuplicates) {
  // Corrupt the sidecar after the first batch was handed out; the scan
  // rebuilds and continues where it was.
  std::vector<Row> rows;
  bool damaged = false;
  Status st = store_->ScanSegment(seg_, [&](const Batch& b) {
    for (size_t r = 0; r < b.size; ++r) {
      Row row;
      for (const auto& col : b.columns) row.push_back(col.GetValue(r));
      rows.push_back(std::move(row));
    }
    if (!damaged) {
      std::string bytes = ReadFile(seg_.cols_name);
      bytes[bytes.size() - 400] ^= 0x20;
      WriteFile(seg_.cols_name, bytes);
      damaged = true;
    }
    return Status::OK();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(rows, expected_);
  EXPECT_TRUE(LogContains("rebuilding sidecar"));
}

TEST_F(SegmentDamageTest, ChangedSchemaMakesSidecarsStaleAndReportsRejects) {
  // `i` becomes NOT NULL: events without it no longer decode.
  StreamSchema changed = AllTypes();
  changed.columns[0].not_null = true;
  OpenStore(changed);
  Manifest m = store_->Snapshot();
  EXPECT_NE(m.segments[1].cols_name, seg_.cols_name);  // named by the new fingerprint
  SegmentScanStats stats;
  auto rows = Scan(m.segments[1], &stats);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> evs(events_.begin() + 1000, events_.end());
  EXPECT_EQ(*rows, Decode(changed, evs));
  EXPECT_TRUE(stats.rebuilt);
  EXPECT_EQ(stats.rejected, evs.size() - rows->size());
  EXPECT_GT(stats.rejected, 0u);
  ASSERT_EQ(rejected_offsets_.size(), stats.rejected);
  for (uint64_t off : rejected_offsets_) {
    EXPECT_EQ(Decode(changed, {events_[off]}).size(), 0u) << events_[off];
  }
  // The old schema's sidecars are garbage (past the grace period).
  ASSERT_TRUE(store_->Seal(0, 3500, Views(events_, 0, 10)).ok());
  m = store_->Snapshot();
  EXPECT_EQ(m.schema_fingerprint, SchemaFingerprint(changed));
  auto removed = store_->CollectGarbage(16, /*grace_ms=*/0);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->objects, 2u);                         // the two sidecars of the old schema
  EXPECT_TRUE(store_->VerifySegment(m.segments[0]).ok());  // rebuilds the first one
}

TEST_F(SegmentDamageTest, RejectsAtSealTimeHaveNoRows) {
  auto events = MakeEvents(2000, 9, /*with_bad=*/true);
  ASSERT_TRUE(store_->Seal(1, 0, Views(events)).ok());
  SegmentInfo seg = store_->Snapshot().segments.back();
  SegmentScanStats stats;
  auto rows = Scan(seg, &stats);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, Decode(AllTypes(), events));
  EXPECT_EQ(stats.rejected, events.size() - rows->size());
  EXPECT_EQ(rejected_offsets_.size(), stats.rejected);
  auto raw = Raw(seg);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, events);  // the raw data keeps every event
}

// --- Crash safety ---------------------------------------------------------------

TEST_F(MasterTest, CrashDuringSealLeavesOldOrNewManifest) {
  constexpr int kIterations = 150;
  auto events = MakeEvents(1200, 10);
  int old_manifest = 0, new_manifest = 0;
  for (int it = 0; it < kIterations; ++it) {
    SCOPED_TRACE("iteration " + std::to_string(it));
    std::mt19937_64 rng(1000 + it);
    FaultFileSystem fs(it);
    MasterStoreOptions o;
    o.row_group_rows = 64;
    auto open = [&] { return MasterStore::Open(&fs, kDir, AllTypes(), 1, o); };
    auto store = open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const uint64_t first = 100 + rng() % 200;
    ASSERT_TRUE((*store)->Seal(0, 0, Views(events, 0, first)).ok());
    const uint64_t len = 1 + rng() % 400;
    // Crash after a random number of write operations into the next seal.
    fs.FailAfter(rng() % 40);
    Status sealed = (*store)->Seal(0, first, Views(events, first, len));
    store->reset();
    fs.DropUnsynced(/*torn_writes=*/rng() % 2);
    fs.ClearFaults();

    store = open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Manifest m = (*store)->Snapshot();
    ASSERT_TRUE(m.sealed[0] == first || m.sealed[0] == first + len) << m.sealed[0];
    if (sealed.ok()) {
      ASSERT_EQ(m.sealed[0], first + len) << "an acknowledged seal was lost";
    }
    ++(m.sealed[0] == first ? old_manifest : new_manifest);
    auto check_all = [&](const Manifest& man) {
      std::vector<Row> rows;
      for (const auto& seg : man.segments) {
        ASSERT_TRUE((*store)->VerifySegment(seg).ok());
        Status st = (*store)->ScanSegment(seg, [&](const Batch& b) {
          for (size_t r = 0; r < b.size; ++r) {
            Row row;
            for (const auto& col : b.columns) row.push_back(col.GetValue(r));
            rows.push_back(std::move(row));
          }
          return Status::OK();
        });
        ASSERT_TRUE(st.ok()) << st.ToString();
      }
      EXPECT_EQ(rows, Decode(AllTypes(), std::vector<std::string>(events.begin(), events.begin() + man.sealed[0])));
    };
    check_all(m);
    // Sealing continues: the interrupted range (again, or as a no-op), then the next one.
    ASSERT_TRUE((*store)->Seal(0, first, Views(events, first, len)).ok());
    ASSERT_TRUE((*store)->Seal(0, first + len, Views(events, first + len, 50)).ok());
    ASSERT_TRUE((*store)->CollectGarbage().ok());
    check_all((*store)->Snapshot());
    ASSERT_EQ((*store)->Snapshot().sealed[0], first + len + 50);
  }
  // The crash points cover both outcomes.
  EXPECT_GT(old_manifest, 10);
  EXPECT_GT(new_manifest, 10);
}

// Only the raw segment and the manifest version are synced at a seal: the
// sidecar is derived data. A crash right after an acknowledged seal loses
// the sidecar's bytes, and the first scan rebuilds it from the raw segment.
TEST_F(MasterTest, SidecarIsNotSyncedAndARescanAfterACrashRebuildsIt) {
  auto events = MakeEvents(700, 10);
  FaultFileSystem fs(3);
  MasterStoreOptions o;
  o.row_group_rows = 64;
  auto store = MasterStore::Open(&fs, kDir, AllTypes(), 1, o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Seal(0, 0, Views(events, 0, 700)).ok());
  store->reset();
  fs.DropUnsynced();
  fs.ClearFaults();

  store = MasterStore::Open(&fs, kDir, AllTypes(), 1, o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Manifest m = (*store)->Snapshot();
  ASSERT_EQ(m.sealed[0], 700u) << "an acknowledged seal was lost";
  ASSERT_EQ(m.segments.size(), 1u);
  std::vector<Row> rows;
  SegmentScanStats stats;
  Status st = (*store)->ScanSegment(
      m.segments[0],
      [&](const Batch& b) {
        for (size_t r = 0; r < b.size; ++r) {
          Row row;
          for (const auto& col : b.columns) row.push_back(col.GetValue(r));
          rows.push_back(std::move(row));
        }
        return Status::OK();
      },
      &stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(stats.rebuilt) << "the sidecar survived the crash: was it synced?";
  EXPECT_EQ(rows, Decode(AllTypes(), events));
  EXPECT_TRUE((*store)->VerifySegment(m.segments[0]).ok());
}

// --- Garbage collection -----------------------------------------------------------

TEST_F(MasterTest, CollectGarbageRemovesOrphansOnly) {
  int64_t now = 1'800'000'000'000;
  {
    MasterStoreOptions o;
    o.row_group_rows = group_rows_;
    o.now_ms = [&] { return now; };
    o.log = [this](const std::string& line) { log_.push_back(line); };
    auto r = MasterStore::Open(&fs_, kDir, AllTypes(), 2, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    store_ = std::move(*r);
  }
  auto events = MakeEvents(500, 11);
  ASSERT_TRUE(store_->Seal(0, 0, Views(events, 0, 200)).ok());
  ASSERT_TRUE(store_->Seal(1, 0, Views(events, 0, 300)).ok());
  // Orphans: a crashed seal's objects and a batch version never published,
  // an hour old; one just written by a seal still running elsewhere.
  const std::string old_seg = "segments/p0/00000000000000000200-00000000000000000300-1799996400000-0badcafe";
  WriteFile(old_seg + ".ndjson.zst", "partial");
  WriteFile(SidecarKey(old_seg + ".ndjson.zst", store_->schema_fingerprint()), "partial");
  WriteFile("batch/v00000000000000000007-1799996400000-00000001/VERSION", "partial");
  const std::string young = "segments/p1/00000000000000000300-00000000000000000400-1799999999000-00000002.ndjson.zst";
  WriteFile(young, "partial");
  auto removed = store_->CollectGarbage(/*keep_versions=*/1, /*grace_ms=*/60'000);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->objects, 3u);
  EXPECT_EQ(removed->versions, 0u);  // every version is younger than the grace period
  EXPECT_TRUE(*fs_.Exists(Path(young)));
  EXPECT_FALSE(*fs_.Exists(Path(old_seg + ".ndjson.zst")));
  for (const auto& seg : store_->Snapshot().segments) {
    SegmentScanStats stats;
    ASSERT_TRUE(Scan(seg, &stats).ok());
    EXPECT_FALSE(stats.rebuilt);
  }
  // Later, old versions go too, but the latest always stays and the
  // segments it names are kept.
  now += 120'000;
  ASSERT_TRUE(store_->Seal(0, 200, Views(events, 200, 100)).ok());
  removed = store_->CollectGarbage(/*keep_versions=*/1, /*grace_ms=*/60'000);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->versions, 3u);  // p0: claim, first seal; p1: claim
  EXPECT_EQ(removed->objects, 1u);   // the young orphan, now old
  EXPECT_FALSE(*fs_.Exists(Path(ManifestVersionKey(0, 1))));
  OpenStore();
  EXPECT_EQ(store_->Snapshot().sealed, (std::vector<uint64_t>{300, 300}));
  for (const auto& seg : store_->Snapshot().segments) EXPECT_TRUE(store_->VerifySegment(seg).ok());
}

TEST_F(MasterTest, ConcurrentSealsScansAndGarbageCollection) {
  OpenStore(AllTypes(), 4);
  auto events = MakeEvents(2000, 12);
  std::vector<std::thread> threads;
  for (int p = 0; p < 4; ++p) {
    threads.emplace_back([&, p] {
      for (uint64_t from = 0; from < 2000; from += 250) {
        EXPECT_TRUE(store_->Seal(p, from, Views(events, from, 250)).ok());
        for (const auto& seg : store_->Snapshot().segments) {
          Status st = store_->ScanSegment(seg, [](const Batch&) { return Status::OK(); });
          EXPECT_TRUE(st.ok()) << st.ToString();
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int k = 0; k < 20; ++k) {
      auto removed = store_->CollectGarbage();
      EXPECT_TRUE(removed.ok() && removed->objects == 0) << removed.status().ToString();
    }
  });
  for (auto& t : threads) t.join();
  Manifest m = store_->Snapshot();
  EXPECT_EQ(m.segments.size(), 32u);
  EXPECT_EQ(m.generation, 36u);
  for (const auto& seg : m.segments) EXPECT_TRUE(store_->VerifySegment(seg).ok());
}

}  // namespace
}  // namespace lf
