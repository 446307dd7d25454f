// Master dataset throughput on the local file system: sealing 1M seed
// events (zstd + JSON decoding + sidecar encoding, fsynced), scanning them
// back as batches through the sidecar (the batch layer's hot path), and
// reading the raw events. Bytes/s count the events' NDJSON bytes.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/seed_generator.h"
#include "master/master_store.h"

namespace lf {
namespace {

constexpr size_t kEvents = 1'000'000;

// 1M seed events and a directory holding them as one sealed segment.
struct Fixture {
  std::string text;
  std::vector<std::string_view> events;
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  std::string root;
  std::unique_ptr<MasterStore> store;
  int dirs = 0;

  Fixture() {
    SeedGenerator gen(SeedGeneratorOptions{});
    for (size_t i = 0; i < kEvents; ++i) gen.AppendEvent(&text);
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      events.emplace_back(text.data() + pos, nl - pos);
      pos = nl + 1;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "lf_master_bench_XXXXXX").string();
    CHECK(mkdtemp(tmpl.data()) != nullptr, "mkdtemp failed");
    root = tmpl;
    auto s = MasterStore::Open(fs.get(), NewDir(), SeedStreamSchema(), 1);
    CHECK(s.ok(), "open failed");
    store = std::move(*s);
    CHECK(store->Seal(0, 0, events).ok(), "seal failed");
  }
  ~Fixture() { std::filesystem::remove_all(root); }
  std::string NewDir() { return root + "/d" + std::to_string(dirs++); }
};

Fixture& Get() {
  static Fixture f;  // built on first use; removes its directory at exit
  return f;
}

// The rows of all events, decoded as ingest's validation does.
std::vector<std::unique_ptr<Batch>> DecodeAll(const Fixture& f) {
  const StreamSchema schema = SeedStreamSchema();
  JsonDecoder decoder(schema, DecoderOptions{});
  std::string padded = f.text + std::string(kJsonPadding, ' ');
  std::vector<std::unique_ptr<Batch>> rows;
  std::vector<Reject> rejects;
  size_t pos = 0;
  uint64_t line = 1;
  while (pos < f.text.size()) {
    if (rows.empty() || rows.back()->full()) rows.push_back(std::make_unique<Batch>(schema.types()));
    uint64_t lines = 0;
    pos += decoder.DecodeMany(padded.data() + pos, f.text.size() - pos, padded.size() - pos, line, rows.back().get(),
                              &rejects, &lines);
    line += lines;
  }
  CHECK(rejects.empty(), "seed events rejected");
  return rows;
}

// Args: zstd level; 1 = the rows were decoded before (OfferRows, as ingest
// does; the decoding is not timed), 0 = the seal decodes the events.
void BM_Seal(benchmark::State& state) {
  Fixture& f = Get();
  MasterStoreOptions o;
  o.zstd_level = static_cast<int>(state.range(0));
  const bool offered = state.range(1) != 0;
  for (auto _ : state) {
    std::string dir = f.NewDir();
    auto s = MasterStore::Open(f.fs.get(), dir, SeedStreamSchema(), 1, o);
    if (offered) {
      state.PauseTiming();
      (*s)->OfferRows(0, 0, DecodeAll(f));
      state.ResumeTiming();
    }
    Status st = (*s)->Seal(0, 0, f.events);
    if (offered && (*s)->offered_rows() != 0) state.SkipWithError("offered rows not taken");
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() * f.text.size());
}
BENCHMARK(BM_Seal)
    ->Args({3, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// The fixed cost of a seal: many small segments (1,000 events each) in a row,
// as `run`'s archiver seals when buckets close by age. Dominated by the
// objects' and the manifest's fsyncs, not by compression.
void BM_SealSmall(benchmark::State& state) {
  Fixture& f = Get();
  constexpr size_t kSmall = 1000;
  const std::vector<std::string_view> records(f.events.begin(), f.events.begin() + kSmall);
  std::string dir = f.NewDir();
  auto s = MasterStore::Open(f.fs.get(), dir, SeedStreamSchema(), 1);
  CHECK(s.ok(), "open failed");
  uint64_t from = 0;
  for (auto _ : state) {
    Status st = (*s)->Seal(0, from, records);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    from += kSmall;
  }
  state.SetItemsProcessed(state.iterations() * kSmall);
  s->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SealSmall)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(200);

void BM_ScanSegment(benchmark::State& state) {
  Fixture& f = Get();
  SegmentInfo seg = f.store->Snapshot().segments[0];
  for (auto _ : state) {
    int64_t sum = 0;
    Status st = f.store->ScanSegment(seg, [&](const Batch& b) {
      const int64_t* zip = b.columns[0].ints.data();
      for (size_t i = 0; i < b.size; ++i) sum += zip[i];
      sum += static_cast<int64_t>(b.columns[1].strs[0].size());
      return Status::OK();
    });
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() * f.text.size());
  auto cols = f.store->store()->Size(seg.cols_name);
  state.counters["sidecar_MB"] = cols.ok() ? static_cast<double>(*cols) / 1e6 : 0;
  state.counters["raw_MB"] = static_cast<double>(seg.raw_bytes) / 1e6;
  state.counters["ndjson_MB"] = static_cast<double>(f.text.size()) / 1e6;
}
BENCHMARK(BM_ScanSegment)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ScanRaw(benchmark::State& state) {
  Fixture& f = Get();
  SegmentInfo seg = f.store->Snapshot().segments[0];
  for (auto _ : state) {
    size_t bytes = 0;
    Status st = f.store->ScanRaw(seg, [&](uint64_t, std::string_view e) {
      bytes += e.size();
      return Status::OK();
    });
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() * f.text.size());
}
BENCHMARK(BM_ScanRaw)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace lf
