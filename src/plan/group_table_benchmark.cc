// Grouping 5M seed events by (zipcode, hour) with COUNT(*) and SUM(price),
// as one batch-layer scan thread does for orders_by_zip_hour (~280k groups):
//
//  - BM_GroupBy/<order>: the GroupTable as the views use it, 2,048-row
//    batches, dense count and sum arrays indexed by group id;
//  - BM_RadixGroupBy/<order>: rows first scattered by 6 bits of their key
//    hash into 64 partition buffers, each buffer flushed (2,048 rows at a
//    time) into its own GroupTable and arrays, so that a flush probes one
//    partition's ~1/64 of the groups (a working set that stays in L2);
//  - BM_InlineGroupBy, BM_RadixInlineGroupBy: the same two with a table
//    whose 24-byte slots hold the two keys and the group id (no tag, no
//    look-up of stored key columns), at most half full.
//
// order 0 = the seed stream's order (time-clustered: an hour's few thousand
// groups are hot together); 1 = the same events shuffled (every probe of a
// large table a cache miss). The experiment behind the partitioned design
// question of issue "Performance" (BENCHMARKS.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "ingest/seed_generator.h"
#include "plan/group_table.h"

namespace lf {
namespace {

constexpr size_t kEvents = 5'000'000;
constexpr size_t kBatch = 2048;

struct Row {
  int64_t zip;
  int64_t hour;
  double price;
};

const std::vector<Row>& Rows(bool shuffled) {
  static std::vector<Row> rows[2];
  if (rows[shuffled].empty()) {
    SeedGenerator gen({.seed = 7});
    rows[0].resize(kEvents);
    for (auto& r : rows[0]) {
      const SeedEvent e = gen.Next();
      r = {e.zipcode, e.timestamp_ms / 3'600'000 * 3'600'000, e.price()};
    }
    rows[1] = rows[0];
    std::shuffle(rows[1].begin(), rows[1].end(), std::mt19937_64(1));
  }
  return rows[shuffled];
}

// One partition's (or the whole) aggregation: table and states.
struct Agg {
  GroupTable table{{TypeId::kInt, TypeId::kTimestamp}};
  std::vector<int64_t> count;
  std::vector<double> sum;
  Vector zip{TypeId::kInt, kBatch}, hour{TypeId::kTimestamp, kBatch};
  std::vector<double> price = std::vector<double>(kBatch);
  std::vector<uint32_t> rows = std::vector<uint32_t>(kBatch), gids = std::vector<uint32_t>(kBatch);
  size_t n = 0;

  Agg() {
    for (size_t i = 0; i < kBatch; ++i) rows[i] = static_cast<uint32_t>(i);
  }
  void Add(const Row& r) {
    zip.SetInt(n, r.zip);
    hour.SetInt(n, r.hour);
    price[n++] = r.price;
    if (n == kBatch) Flush();
  }
  void Flush() {
    if (n == 0) return;
    std::vector<const Vector*> keys = {&zip, &hour};
    table.FindOrInsert(keys, rows.data(), n, gids.data());
    count.resize(table.size());
    sum.resize(table.size());
    for (size_t k = 0; k < n; ++k) {
      ++count[gids[k]];
      sum[gids[k]] += price[k];
    }
    n = 0;
  }
};

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t KeyHash(const Row& r) {
  return Mix(static_cast<uint64_t>(r.zip) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(r.hour));
}

// The inline-slot table (keys never NULL here).
struct InlineAgg {
  struct Slot {
    int64_t zip, hour;
    uint32_t gid1, pad;
  };
  std::vector<Slot> slots = std::vector<Slot>(1024, Slot{0, 0, 0, 0});
  size_t mask = 1023, size = 0;
  std::vector<int64_t> count;
  std::vector<double> sum;
  std::vector<Row> buf;
  std::vector<uint64_t> hashes;

  void Grow() {
    std::vector<Slot> old(slots.size() * 2, Slot{0, 0, 0, 0});
    old.swap(slots);
    mask = slots.size() - 1;
    for (const Slot& s : old) {
      if (!s.gid1) continue;
      size_t i = KeyHash({s.zip, s.hour, 0}) & mask;
      while (slots[i].gid1) i = (i + 1) & mask;
      slots[i] = s;
    }
  }
  void Add(const Row& r) {
    buf.push_back(r);
    if (buf.size() == kBatch) Flush();
  }
  void Flush() {
    const size_t n = buf.size();
    while ((size + n + 1) * 2 > slots.size()) Grow();
    hashes.resize(n);
    for (size_t k = 0; k < n; ++k) hashes[k] = KeyHash(buf[k]);
    for (size_t k = 0; k < n; ++k) {
      if (k + 8 < n) __builtin_prefetch(&slots[hashes[k + 8] & mask]);
      const Row& r = buf[k];
      size_t i = hashes[k] & mask;
      uint32_t gid;
      while (true) {
        Slot& s = slots[i];
        if (!s.gid1) {
          gid = static_cast<uint32_t>(size++);
          s = Slot{r.zip, r.hour, gid + 1, 0};
          count.push_back(0);
          sum.push_back(0);
          break;
        }
        if (s.zip == r.zip && s.hour == r.hour) {
          gid = s.gid1 - 1;
          break;
        }
        i = (i + 1) & mask;
      }
      ++count[gid];
      sum[gid] += r.price;
    }
    buf.clear();
  }
};

void BM_InlineGroupBy(benchmark::State& state) {
  const auto& rows = Rows(state.range(0) != 0);
  size_t groups = 0;
  for (auto _ : state) {
    InlineAgg agg;
    for (const Row& r : rows) agg.Add(r);
    agg.Flush();
    groups = agg.size;
  }
  state.counters["groups"] = static_cast<double>(groups);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}
BENCHMARK(BM_InlineGroupBy)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_RadixInlineGroupBy(benchmark::State& state) {
  const auto& rows = Rows(state.range(0) != 0);
  constexpr int kBits = 6;
  size_t groups = 0;
  for (auto _ : state) {
    std::vector<InlineAgg> parts(size_t{1} << kBits);
    for (const Row& r : rows) parts[KeyHash(r) >> (64 - kBits)].Add(r);
    groups = 0;
    for (auto& p : parts) {
      p.Flush();
      groups += p.size;
    }
  }
  state.counters["groups"] = static_cast<double>(groups);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}
BENCHMARK(BM_RadixInlineGroupBy)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_GroupBy(benchmark::State& state) {
  const auto& rows = Rows(state.range(0) != 0);
  size_t groups = 0;
  for (auto _ : state) {
    Agg agg;
    for (const Row& r : rows) agg.Add(r);
    agg.Flush();
    groups = agg.table.size();
  }
  state.counters["groups"] = static_cast<double>(groups);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}
BENCHMARK(BM_GroupBy)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// BM_GroupBy with the table and the states sized for the groups up front.
void BM_GroupByReserved(benchmark::State& state) {
  const auto& rows = Rows(state.range(0) != 0);
  size_t groups = 0;
  for (auto _ : state) {
    Agg agg;
    agg.table.Reserve(280'000);
    agg.count.reserve(280'000);
    agg.sum.reserve(280'000);
    for (const Row& r : rows) agg.Add(r);
    agg.Flush();
    groups = agg.table.size();
  }
  state.counters["groups"] = static_cast<double>(groups);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}
BENCHMARK(BM_GroupByReserved)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_RadixGroupBy(benchmark::State& state) {
  const auto& rows = Rows(state.range(0) != 0);
  constexpr int kBits = 6;
  size_t groups = 0;
  for (auto _ : state) {
    std::vector<Agg> parts(size_t{1} << kBits);
    for (const Row& r : rows) {
      parts[KeyHash(r) >> (64 - kBits)].Add(r);
    }
    groups = 0;
    for (auto& p : parts) {
      p.Flush();
      groups += p.table.size();
    }
  }
  state.counters["groups"] = static_cast<double>(groups);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}
BENCHMARK(BM_RadixGroupBy)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lf
