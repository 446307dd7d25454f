// Decode throughput of seed-shaped NDJSON lines, next to a bare simdjson
// on-demand parse of the same four fields (the floor JsonDecoder is measured
// against).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ingest/input_reader.h"
#include "ingest/json_decoder.h"

namespace lf {
namespace {

StreamSchema SeedSchema() {
  StreamSchema s;
  s.name = "events";
  s.columns = {{"zipcode", TypeId::kInt, false},
               {"ProductName", TypeId::kText, false},
               {"price", TypeId::kDouble, false},
               {"timestamp", TypeId::kTimestamp, false}};
  return s;
}

// 64 Ki seed-shaped lines, '\n'-separated, followed by padding, as the
// InputReader delivers them.
struct Corpus {
  std::string text;
  size_t lines = 0;

  Corpus() {
    std::mt19937 rng32(42);
    auto rng = [&] { return static_cast<unsigned>(rng32()); };
    for (int i = 0; i < (1 << 16); ++i) {
      char ts[32];
      std::snprintf(ts, sizeof(ts), "2014-11-%02u %02u:%02u:%02u.%03u", 1 + rng() % 28, rng() % 24, rng() % 60,
                    rng() % 60, rng() % 1000);
      text += R"({"zipcode":)" + std::to_string(95000 + rng() % 1000) + R"(,"ProductName":"product)" +
              std::to_string(rng() % 100) + R"(","price":)" + std::to_string(1 + rng() % 100) + R"(,"timestamp":")" +
              ts + "\"}\n";
      ++lines;
    }
    text.append(kJsonPadding, ' ');
  }
  LineChunk chunk() const { return LineChunk{text.data(), text.size() - kJsonPadding, text.size(), 1}; }
};

const Corpus& GetCorpus() {
  static const Corpus* corpus = new Corpus();
  return *corpus;
}

void SetCounters(benchmark::State& state, const Corpus& c) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c.text.size() - kJsonPadding)));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.lines));
}

// The whole path: split lines, decode into batches of 2048 rows.
void BM_JsonDecoder(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  StreamSchema schema = SeedSchema();
  JsonDecoder decoder(schema);
  Batch batch(schema.types());
  Reject reject;
  bool blank;
  for (auto _ : state) {
    LineSplitter split(c.chunk());
    std::string_view line;
    size_t padded;
    uint64_t no;
    while (split.Next(&line, &padded, &no)) {
      if (batch.full()) batch.Clear();
      if (!decoder.Decode(line, padded, no, &batch, &reject, &blank)) state.SkipWithError("reject");
    }
    benchmark::DoNotOptimize(batch.size);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_JsonDecoder);

// The floor: simdjson on-demand iterating the same lines in place and
// reading the four fields (strings not copied, timestamp not parsed).
void BM_BareSimdjson(benchmark::State& state) {
  namespace od = simdjson::ondemand;
  const Corpus& c = GetCorpus();
  od::parser parser;
  for (auto _ : state) {
    LineSplitter split(c.chunk());
    std::string_view line;
    size_t padded;
    uint64_t no;
    int64_t sum = 0;
    while (split.Next(&line, &padded, &no)) {
      od::document doc;
      if (parser.iterate(line.data(), line.size(), padded).get(doc)) state.SkipWithError("iterate");
      int64_t zip = 0;
      std::string_view name, ts;
      double price = 0;
      if (doc["zipcode"].get_int64().get(zip) || doc["ProductName"].get_string().get(name) ||
          doc["price"].get_double().get(price) || doc["timestamp"].get_string().get(ts)) {
        state.SkipWithError("field");
      }
      sum += zip + static_cast<int64_t>(name.size() + ts.size()) + static_cast<int64_t>(price);
    }
    benchmark::DoNotOptimize(sum);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_BareSimdjson);

// Line splitting alone, for reference.
void BM_LineSplitter(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  for (auto _ : state) {
    LineSplitter split(c.chunk());
    std::string_view line;
    size_t padded;
    uint64_t no;
    size_t total = 0;
    while (split.Next(&line, &padded, &no)) total += line.size();
    benchmark::DoNotOptimize(total);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_LineSplitter);

}  // namespace
}  // namespace lf
