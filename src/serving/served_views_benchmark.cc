// The serving layer's hot paths over a 100,000-key view (2000 zip codes x
// 50 products, like bench/serving_views.sql), without HTTP: a key lookup,
// a top-10 query straight over the merged groups, finalizing the whole
// view, and merging one micro-batch into the served state.
#include <benchmark/benchmark.h>

#include <random>

#include "serving/query.h"
#include "serving/served_views.h"
#include "sql/binder.h"

namespace lf {
namespace {

constexpr const char* kViews =
    "CREATE STREAM events (zipcode INT, ProductName TEXT NOT NULL, price DOUBLE, timestamp TIMESTAMP NOT NULL);"
    "CREATE VIEW by_zip_product AS SELECT zipcode, ProductName, COUNT(*) AS orders, SUM(price) AS revenue "
    "FROM events GROUP BY zipcode, ProductName;";

struct Fixture {
  sql::Catalog catalog;
  std::unique_ptr<ViewPlan> plan;
  std::unique_ptr<ServedViews> served;

  Fixture() {
    auto c = sql::CompileViews(kViews, "views.sql");
    catalog = std::move(*c);
    auto p = ViewPlan::Compile(catalog.views[0]);
    plan = std::move(*p);
    served = std::make_unique<ServedViews>(std::vector<const ViewPlan*>{plan.get()});
    ViewStates states;
    states.push_back(plan->NewState());
    // Every key once, then as many random events.
    std::mt19937_64 rng(1);
    Batch batch(catalog.streams[0].types());
    for (int k = 0; k < 200000; ++k) {
      const int key = k < 100000 ? k : static_cast<int>(rng() % 100000);
      const size_t r = batch.size++;
      batch.columns[0].SetInt(r, 90000 + key % 2000);
      batch.columns[1].SetString(r, batch.arena.Copy("product" + std::to_string(key / 2000 + 1)));
      batch.columns[2].SetDouble(r, static_cast<double>(rng() % 400) / 4);
      batch.columns[3].SetInt(r, 1414870541158 + k);
      if (batch.full()) {
        states[0]->Consume(batch);
        batch.Clear();
      }
    }
    states[0]->Consume(batch);
    served->Install(std::move(states), Coverage{{0}, {200000}, {}, 0, 0, 0});
  }
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void BM_KeyLookup(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    const int key = static_cast<int>(rng() % 100000);
    Value zip;
    zip.type = TypeId::kInt;
    zip.is_null = false;
    zip.i = 90000 + key % 2000;
    Value product;
    product.type = TypeId::kText;
    product.is_null = false;
    product.s = "product" + std::to_string(key / 2000 + 1);
    auto a = f.served->Lookup(0, {zip, product});
    if (!a.ok() || a->result.rows.size() != 1) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_KeyLookup);

void BM_Top10Query(benchmark::State& state) {
  Fixture& f = Shared();
  auto q = PrepareQuery("SELECT * FROM by_zip_product ORDER BY revenue DESC LIMIT 10", "q",
                        [&](std::string_view, StreamSchema* columns) {
                          *columns = f.served->Columns(0);
                          return true;
                        });
  if (!q.ok()) return state.SkipWithError(q.status().ToString().c_str());
  for (auto _ : state) {
    auto a = f.served->Query(0, q->bound);
    if (!a.ok() || a->result.rows.size() != 10) state.SkipWithError("query failed");
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Top10Query)->Unit(benchmark::kMillisecond);

void BM_FinalizeWholeView(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    // A new generation each time, so the cached rows are not reused.
    f.served->Touch(0);
    ViewStates empty;
    empty.push_back(f.plan->NewState());
    f.served->Apply(empty, {200000}, 0);
    auto m = f.served->Materialize(0);
    if (!m.ok() || m->result->rows.size() != 100000) state.SkipWithError("materialize failed");
  }
}
BENCHMARK(BM_FinalizeWholeView)->Unit(benchmark::kMillisecond);

// One 20 ms micro-batch at 100k events/s: 2,000 events over random keys,
// consumed into a delta and merged into the served state.
void BM_ApplyMicroBatch(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(3);
  Batch batch(f.catalog.streams[0].types());
  for (int i = 0; i < 2000; ++i) {
    const int key = static_cast<int>(rng() % 100000);
    const size_t r = batch.size++;
    batch.columns[0].SetInt(r, 90000 + key % 2000);
    batch.columns[1].SetString(r, batch.arena.Copy("product" + std::to_string(key / 2000 + 1)));
    batch.columns[2].SetDouble(r, 1);
    batch.columns[3].SetInt(r, 1414870541158);
  }
  for (auto _ : state) {
    ViewStates delta;
    delta.push_back(f.plan->NewState());
    delta[0]->Consume(batch);
    f.served->Apply(delta, {200000}, 0);
  }
  state.SetItemsProcessed(state.iterations() * 2000);
}
BENCHMARK(BM_ApplyMicroBatch);

// The same while a reader holds a snapshot of the view (a long query): the
// writer merges into a copy of the view's 100,000 groups and publishes it.
// This is the copy-on-write cost, paid at most once per micro-batch and only
// while a reader pins the view.
void BM_ApplyMicroBatchWhileReaderPins(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(3);
  Batch batch(f.catalog.streams[0].types());
  for (int i = 0; i < 2000; ++i) {
    const int key = static_cast<int>(rng() % 100000);
    const size_t r = batch.size++;
    batch.columns[0].SetInt(r, 90000 + key % 2000);
    batch.columns[1].SetString(r, batch.arena.Copy("product" + std::to_string(key / 2000 + 1)));
    batch.columns[2].SetDouble(r, 1);
    batch.columns[3].SetInt(r, 1414870541158);
  }
  const uint64_t copies = f.served->copies();
  for (auto _ : state) {
    const ServedViews::Snapshot pinned = f.served->Read(0);
    ViewStates delta;
    delta.push_back(f.plan->NewState());
    delta[0]->Consume(batch);
    f.served->Apply(delta, {200000}, 0);
  }
  if (f.served->copies() - copies != static_cast<uint64_t>(state.iterations()))
    state.SkipWithError("expected one copy per micro-batch");
  state.SetItemsProcessed(state.iterations() * 2000);
}
BENCHMARK(BM_ApplyMicroBatchWhileReaderPins)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lf
