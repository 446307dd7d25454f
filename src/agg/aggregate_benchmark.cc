// Update throughput of the aggregate states on one 2048-row batch, for a few
// and for many groups (the per-group states then miss the cache).
#include <benchmark/benchmark.h>

#include <deque>
#include <random>
#include <string>

#include "agg/aggregate.h"

namespace lf {
namespace {

constexpr size_t kRows = 2048;

void BM_Update(benchmark::State& state, AggKind kind, TypeId type) {
  const auto groups = static_cast<uint32_t>(state.range(0));
  auto f = AggregateFunction::Make(kind, type);
  if (!f.ok()) {
    state.SkipWithError(f.status().ToString().c_str());
    return;
  }
  std::mt19937_64 rng(7);
  Vector v(type == TypeId::kNull ? TypeId::kBigInt : type, kRows);
  std::deque<std::string> text;
  std::vector<uint32_t> group(kRows), rows(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    rows[i] = static_cast<uint32_t>(i);
    group[i] = static_cast<uint32_t>(rng() % groups);
    if (rng() % 20 == 0) continue;  // 5% NULL
    switch (PhysicalOf(v.type)) {
      case PhysicalType::kInt64:
        v.SetInt(i, static_cast<int64_t>(rng() % 1000000));
        break;
      case PhysicalType::kDouble:
        v.SetDouble(i, static_cast<double>(rng() % 1000000) / 7);
        break;
      case PhysicalType::kString:
        text.push_back("product-" + std::to_string(rng() % 10000));
        v.SetString(i, text.back());
        break;
    }
  }
  auto states = (*f)->NewStates();
  states->Resize(groups);
  const Vector* arg = kind == AggKind::kCountStar ? nullptr : &v;
  for (auto _ : state) {
    states->Update(group.data(), rows.data(), kRows, arg);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

#define LF_AGG_BENCH(name, kind, type) BENCHMARK_CAPTURE(BM_Update, name, kind, type)->Arg(100)->Arg(100000)

LF_AGG_BENCH(count_star, AggKind::kCountStar, TypeId::kNull);
LF_AGG_BENCH(count_bigint, AggKind::kCount, TypeId::kBigInt);
LF_AGG_BENCH(sum_bigint, AggKind::kSum, TypeId::kBigInt);
LF_AGG_BENCH(sum_double, AggKind::kSum, TypeId::kDouble);
LF_AGG_BENCH(avg_bigint, AggKind::kAvg, TypeId::kBigInt);
LF_AGG_BENCH(avg_double, AggKind::kAvg, TypeId::kDouble);
LF_AGG_BENCH(min_bigint, AggKind::kMin, TypeId::kBigInt);
LF_AGG_BENCH(min_double, AggKind::kMin, TypeId::kDouble);
LF_AGG_BENCH(max_text, AggKind::kMax, TypeId::kText);
LF_AGG_BENCH(hll_bigint, AggKind::kApproxCountDistinct, TypeId::kBigInt);
LF_AGG_BENCH(hll_text, AggKind::kApproxCountDistinct, TypeId::kText);

}  // namespace
}  // namespace lf
