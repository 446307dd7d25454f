// The partition manifest format: round trip, one test per shape of damage,
// and the content invariants.
#include "store/partition_manifest.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>

namespace lf {
namespace {

PartitionManifest Sample() {
  PartitionManifest m;
  m.partition = 3;
  m.version = 7;
  m.previous = 6;
  m.epoch = 2;
  m.writer = "worker-a:8080";
  m.nonce = 0x0123456789abcdefULL;
  m.created_ms = 1700000000000;
  m.content.start = 100;
  m.content.sealed = 300;
  m.content.batch_watermark = 200;
  m.content.batch_key = "batch/p3/00000000000000000200";
  m.content.segments = {{100, 200, 100, "segments/p3/a.ndjson.zst", 1234, 0xfeedULL},
                        {200, 300, 97, "segments/p3/b.ndjson.zst", 999, 0xbeefULL}};
  return m;
}

TEST(PartitionManifestTest, RoundTrip) {
  const PartitionManifest m = Sample();
  const std::string bytes = EncodePartitionManifest(m);
  auto back = DecodePartitionManifest(bytes, "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(bytes.substr(0, bytes.find('\n')), "lambdaflow-partition-manifest 1");
}

TEST(PartitionManifestTest, EmptyContentRoundTrips) {
  PartitionManifest m;
  m.version = 1;
  m.epoch = 1;
  m.writer = "w";
  auto back = DecodePartitionManifest(EncodePartitionManifest(m), "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
}

TEST(PartitionManifestTest, EveryFlippedByteIsCorruption) {
  const std::string bytes = EncodePartitionManifest(Sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    auto r = DecodePartitionManifest(bad, "test");
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << "byte " << i << ": " << r.status().ToString();
  }
}

TEST(PartitionManifestTest, EveryTruncationIsCorruption) {
  const std::string bytes = EncodePartitionManifest(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodePartitionManifest(bytes.substr(0, n), "test");
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << n;
  }
}

// Re-checksums a body so that only the grammar or invariants can fail.
std::string WithChecksum(std::string body) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "checksum %016llx\n",
                static_cast<unsigned long long>(XXH64(body.data(), body.size(), 0)));
  return body + buf;
}

TEST(PartitionManifestTest, NewerFormatVersionIsRefusedNotGuessed) {
  std::string bytes = EncodePartitionManifest(Sample());
  bytes.replace(0, bytes.find('\n'), "lambdaflow-partition-manifest 2");
  const std::string body = bytes.substr(0, bytes.rfind("checksum "));
  auto r = DecodePartitionManifest(WithChecksum(body), "test");
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented) << r.status().ToString();
  EXPECT_NE(r.status().message().find("upgrade"), std::string::npos);
}

TEST(PartitionManifestTest, BrokenInvariantsAreCorruptionEvenWithAGoodChecksum) {
  const std::string good = EncodePartitionManifest(Sample());
  const std::string body = good.substr(0, good.rfind("checksum "));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string b = body;
    b.replace(b.find(from), from.size(), to);
    return WithChecksum(b);
  };
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"previous 6", "previous 5"},                   // not version - 1
           {"segment 200 300", "segment 201 300"},         // gap between segments
           {"sealed 300", "sealed 301"},                   // segments do not reach sealed
           {"batch 200", "batch 301"},                     // watermark beyond sealed
           {"segment 200 300 97", "segment 200 300 101"},  // more events than offsets
           {"writer worker-a:8080", "writer worker a"},    // bad writer id
           {"segments 2", "segments 3"},                   // count mismatch
           {"epoch 2", "epoch 02"},                        // leading zero
       }) {
    auto r = DecodePartitionManifest(replaced(from, to), "test");
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << from << " -> " << to << ": " << r.status().ToString();
  }
}

TEST(PartitionManifestTest, KeysAreZeroPaddedAndSortable) {
  EXPECT_EQ(ManifestVersionKey(3, 42), "manifest/p3/00000000000000000042");
  EXPECT_EQ(ManifestHintKey(3), "manifest/p3/latest");
  EXPECT_LT(ManifestVersionKey(0, 9), ManifestVersionKey(0, 10));
}

}  // namespace
}  // namespace lf
