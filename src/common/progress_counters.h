// Counters that long work (eval, batch, ingest) advances as it goes, so that
// a caller can show how far it got without the work knowing how it is shown.
// Every member is atomic: workers add with relaxed increments, an observer
// on another thread reads them at any time.
#pragma once

#include <atomic>
#include <cstdint>

namespace lf {

struct ProgressCounters {
  std::atomic<uint64_t> events{0};        // events (lines, rows) done
  std::atomic<uint64_t> bytes{0};         // input bytes done
  std::atomic<uint64_t> total_events{0};  // 0: unknown
  std::atomic<uint64_t> total_bytes{0};   // 0: unknown

  void AddEvents(uint64_t n) { events.fetch_add(n, std::memory_order_relaxed); }
  void AddBytes(uint64_t n) { bytes.fetch_add(n, std::memory_order_relaxed); }
};

}  // namespace lf
