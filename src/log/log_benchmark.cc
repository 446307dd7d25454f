// Append throughput of the embedded log on the real file system: batches of
// 1000 seed-shaped ~93-byte events under each fsync policy, blocking
// (Append, one or several threads) and pipelined (AppendNoWait, waiting only
// when too much is in flight), plus the 10M-event ingest the design targets.
// The log directory is created under $TMPDIR (default /tmp) and removed.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "log/log.h"

namespace lf {
namespace {

constexpr size_t kBatch = 1000;

// Ten batches of events shaped like the seed generator's output.
const std::vector<std::vector<std::string>>& Batches() {
  static const auto* batches = [] {
    auto* out = new std::vector<std::vector<std::string>>(10);
    std::mt19937_64 rng(1);
    long long ts = 1414870541158;
    for (auto& b : *out) {
      for (size_t i = 0; i < kBatch; ++i) {
        char buf[160];
        ts += static_cast<long long>(rng() % 200);
        const int n = std::snprintf(buf, sizeof(buf),
                                    "{\"zipcode\":%d,\"ProductName\":\"product%d\",\"price\":%d,"
                                    "\"timestamp\":\"2014-11-%02d %02d:%02d:%02d.%03d\"}",
                                    static_cast<int>(90000 + rng() % 10000), static_cast<int>(1 + rng() % 50),
                                    static_cast<int>(1 + rng() % 100), static_cast<int>(1 + ts / 86400000 % 28),
                                    static_cast<int>(ts / 3600000 % 24), static_cast<int>(ts / 60000 % 60),
                                    static_cast<int>(ts / 1000 % 60), static_cast<int>(ts % 1000));
        b.emplace_back(buf, static_cast<size_t>(n));
      }
    }
    return out;
  }();
  return *batches;
}

std::vector<std::vector<std::string_view>> Views() {
  std::vector<std::vector<std::string_view>> v;
  for (const auto& b : Batches()) v.emplace_back(b.begin(), b.end());
  return v;
}

struct Fixture {
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  std::string dir;
  std::unique_ptr<Log> log;

  bool Open(FsyncPolicy policy, benchmark::State& state) {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lf_log_bench_XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
      state.SkipWithError("mkdtemp failed");
      return false;
    }
    LogOptions opts;
    opts.fsync = policy;
    auto r = Log::Open(fs.get(), dir, opts, nullptr);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return false;
    }
    log = std::move(r).value();
    return true;
  }
  void Close() {
    if (log) (void)log->Close();
    log.reset();
    const std::string p0 = JoinPath(dir, "p0");
    if (auto names = fs->ListDir(p0); names.ok()) {
      for (const std::string& n : *names) (void)fs->Remove(JoinPath(p0, n));
    }
    (void)fs->Remove(p0);
    (void)fs->Remove(dir);
  }
};

Fixture* g_fixture = nullptr;

void Report(benchmark::State& state, uint64_t events) {
  state.SetItemsProcessed(static_cast<int64_t>(events));
  uint64_t bytes = 0;
  for (const auto& s : Batches()[0]) bytes += s.size();
  state.SetBytesProcessed(static_cast<int64_t>(events * bytes / kBatch));
}

// Blocking Append; several threads share one log (group commit).
void BM_Append(benchmark::State& state, FsyncPolicy policy) {
  if (state.thread_index() == 0) {
    g_fixture = new Fixture;
    if (!g_fixture->Open(policy, state)) return;
  }
  const auto views = Views();
  size_t k = static_cast<size_t>(state.thread_index());
  uint64_t events = 0;
  for (auto _ : state) {
    auto r = g_fixture->log->Append(0, views[k++ % views.size()]);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    events += kBatch;
  }
  Report(state, events);
  if (state.thread_index() == 0) {
    g_fixture->Close();
    delete g_fixture;
    g_fixture = nullptr;
  }
}

// One thread, AppendNoWait; waits for durability only when more than
// `in_flight` events are unacknowledged, and for all of them at the end.
void BM_AppendPipelined(benchmark::State& state, FsyncPolicy policy) {
  const uint64_t in_flight = static_cast<uint64_t>(state.range(0));
  Fixture f;
  if (!f.Open(policy, state)) return;
  const auto views = Views();
  size_t k = 0;
  uint64_t events = 0, last = 0;
  for (auto _ : state) {
    auto r = f.log->AppendNoWait(0, views[k++ % views.size()]);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    last = r->to;
    if (r->to - f.log->end_offset(0) > in_flight) (void)f.log->WaitDurable(0, r->to - in_flight);
    events += kBatch;
  }
  (void)f.log->WaitDurable(0, last);
  Report(state, events);
  f.Close();
}

// The design's target: 10M events through the default policy, pipelined.
void BM_Ingest10M(benchmark::State& state) {
  const auto views = Views();
  for (auto _ : state) {
    Fixture f;
    if (!f.Open(FsyncPolicy::kInterval, state)) return;
    uint64_t last = 0;
    for (size_t k = 0; k < 10000; ++k) {
      auto r = f.log->AppendNoWait(0, views[k % views.size()]);
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return;
      }
      last = r->to;
      if (r->to - f.log->end_offset(0) > 256 * kBatch) (void)f.log->WaitDurable(0, r->to - 256 * kBatch);
    }
    (void)f.log->WaitDurable(0, last);
    state.PauseTiming();
    f.Close();
    state.ResumeTiming();
  }
  Report(state, 10'000'000ull * state.iterations());
}

BENCHMARK_CAPTURE(BM_Append, always, FsyncPolicy::kAlways)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_Append, interval, FsyncPolicy::kInterval)->UseRealTime()->Threads(1)->Threads(8)->MinTime(2);
BENCHMARK_CAPTURE(BM_Append, none, FsyncPolicy::kNone)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_AppendPipelined, interval, FsyncPolicy::kInterval)->UseRealTime()->Arg(256 * kBatch)->MinTime(2);
BENCHMARK(BM_Ingest10M)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace lf
