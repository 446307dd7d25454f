// WorkerHeartbeat: keeps this worker's record in the workers' directory
// (store/worker_directory.h, docs/formats/ownership.md §4) — its address and
// the partitions it owns with their epochs — replaced as soon as the
// partitions change (checked every `check`) and every `interval` otherwise,
// so that a reader can tell a live record from a dead worker's by its age;
// removed by Stop (a clean stop). A failed write is logged and retried at
// the next check.
//
// Thread-safe; one thread of its own between Start and Stop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "store/worker_directory.h"

namespace lf {

struct HeartbeatOptions {
  std::string writer_id;
  std::string address;  // host:port of this worker's HTTP API
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds check{100};
  // The partitions owned now, with their epochs.
  std::function<std::map<uint32_t, uint64_t>()> owned;
  std::function<int64_t()> now_ms;  // wall clock; the system's when empty
  std::function<void(const std::string&)> log;
};

class WorkerHeartbeat {
 public:
  // `directory` must outlive the heartbeat.
  WorkerHeartbeat(WorkerDirectory* directory, HeartbeatOptions options);
  ~WorkerHeartbeat();  // Stop()s
  WorkerHeartbeat(const WorkerHeartbeat&) = delete;
  WorkerHeartbeat& operator=(const WorkerHeartbeat&) = delete;

  // Publishes the first record (its error is returned: a store that cannot
  // take it now is worth knowing at start) and starts the thread.
  Status Start();
  // Stops the thread and removes the record.
  Status Stop();

  uint64_t publishes() const { return publishes_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // The partitions of the last record published.
  std::map<uint32_t, uint64_t> published() const;

 private:
  Status PublishNow(const std::map<uint32_t, uint64_t>& owned);
  void Loop();

  WorkerDirectory* const directory_;
  const HeartbeatOptions options_;
  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::map<uint32_t, uint64_t> published_ GUARDED_BY(mu_);
  std::atomic<uint64_t> publishes_{0}, failures_{0};
  std::thread thread_;
};

}  // namespace lf
