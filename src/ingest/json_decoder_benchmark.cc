// Decode throughput of seed-shaped NDJSON lines: JsonDecoder line by line
// (Decode) and in windows (DecodeMany), next to bare simdjson on-demand
// parses of the same four fields, per line (parser.iterate) and per window
// (parser.iterate_many): the floors each way is measured against.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ingest/input_reader.h"
#include "ingest/json_decoder.h"
#include "ingest/seed_generator.h"

namespace lf {
namespace {

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
// Built before any benchmark runs, so that an instruction count of one
// benchmark (valgrind --tool=callgrind --collect-atstart=no
// --toggle-collect='*BM_JsonDecoderMany*') covers only its own loop.
[[maybe_unused]] const Corpus& kCorpusAtStartup = GetCorpus();

void SetCounters(benchmark::State& state, const Corpus& c) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (c.text.size() - kJsonPadding)));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.lines));
}

// The whole path: split lines, decode into batches of 2048 rows.
void BM_JsonDecoder(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  StreamSchema schema = SeedStreamSchema();
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

// The bulk path: DecodeMany over the chunk, as the eval workers call it;
// range(0) = 1 with the flat-line fast path (the default), 0 without it.
void BM_JsonDecoderMany(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  const LineChunk chunk = c.chunk();
  StreamSchema schema = SeedStreamSchema();
  DecoderOptions opts;
  opts.flat_fast_path = state.range(0) != 0;
  JsonDecoder decoder(schema, opts);
  Batch batch(schema.types());
  std::vector<Reject> rejects;
  for (auto _ : state) {
    size_t pos = 0;
    uint64_t lines = 0;
    while (pos < chunk.size) {
      if (batch.full()) batch.Clear();
      pos += decoder.DecodeMany(chunk.data + pos, chunk.size - pos, chunk.padded_capacity - pos, 1 + lines, &batch,
                                &rejects, &lines);
    }
    if (!rejects.empty() || lines != c.lines) state.SkipWithError("reject");
    benchmark::DoNotOptimize(batch.size);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_JsonDecoderMany)->Arg(0)->Arg(1);

// Reads the four fields of a seed document; false on any error.
template <typename Doc>
bool ReadSeedFields(Doc& doc, int64_t* sum) {
  int64_t zip = 0;
  std::string_view name, ts;
  double price = 0;
  if (doc["zipcode"].get_int64().get(zip) || doc["ProductName"].get_string().get(name) ||
      doc["price"].get_double().get(price) || doc["timestamp"].get_string().get(ts)) {
    return false;
  }
  *sum += zip + static_cast<int64_t>(name.size() + ts.size()) + static_cast<int64_t>(price);
  return true;
}

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
      if (!ReadSeedFields(doc, &sum)) state.SkipWithError("field");
    }
    benchmark::DoNotOptimize(sum);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_BareSimdjson);

// The window floor: the same reads over parser.iterate_many, one stream per
// window of `range(0)` bytes of whole lines (the way DecodeMany cuts them;
// 64 KiB is its window).
void BM_BareSimdjsonMany(benchmark::State& state) {
  namespace od = simdjson::ondemand;
  const Corpus& c = GetCorpus();
  const LineChunk chunk = c.chunk();
  const size_t window = static_cast<size_t>(state.range(0));
  od::parser parser;
  parser.threaded = false;
  for (auto _ : state) {
    int64_t sum = 0;
    size_t docs = 0;
    for (size_t pos = 0; pos < chunk.size;) {
      size_t len = std::min(window, chunk.size - pos);
      while (len > 0 && chunk.data[pos + len - 1] != '\n') --len;  // whole lines
      od::document_stream stream;
      if (parser.iterate_many(chunk.data + pos, len, window).get(stream)) state.SkipWithError("iterate_many");
      for (auto doc_result : stream) {
        od::document_reference doc;
        if (std::move(doc_result).get(doc) || !ReadSeedFields(doc, &sum)) state.SkipWithError("field");
        ++docs;
      }
      pos += len;
    }
    if (docs != c.lines) state.SkipWithError("count");
    benchmark::DoNotOptimize(sum);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_BareSimdjsonMany)->Arg(16 << 10)->Arg(64 << 10)->Arg(256 << 10)->Arg(1 << 20);

// simdjson's stage 1 alone (the structural index, UTF-8 validation) over
// windows of 64 KiB of whole lines: the floor of any decoder that walks
// stage 1's structurals instead of the bytes.
void BM_Stage1Only(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  const LineChunk chunk = c.chunk();
  constexpr size_t kWindow = 64 << 10;
  std::unique_ptr<simdjson::internal::dom_parser_implementation> impl;
  if (simdjson::get_active_implementation()->create_dom_parser_implementation(kWindow, 1024, impl)) {
    state.SkipWithError("create");
    return;
  }
  for (auto _ : state) {
    size_t structurals = 0;
    for (size_t pos = 0; pos < chunk.size;) {
      size_t len = std::min(kWindow, chunk.size - pos);
      while (len > 0 && chunk.data[pos + len - 1] != '\n') --len;
      if (impl->stage1(reinterpret_cast<const uint8_t*>(chunk.data + pos), len,
                       simdjson::stage1_mode::streaming_final)) {
        state.SkipWithError("stage1");
      }
      structurals += impl->n_structural_indexes;
      pos += len;
    }
    benchmark::DoNotOptimize(structurals);
  }
  SetCounters(state, c);
}
BENCHMARK(BM_Stage1Only);

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
