// A small pool of low-priority threads that run queries, so that a heavy
// query yields the CPU to ingest and the speed layer on a busy machine: its
// threads run at a higher nice value (Linux schedules threads one by one),
// and the calling thread (an HTTP worker) waits for the answer without
// using a core. Queries beyond the pool's size wait their turn; the wait
// counts against their time budget. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace lf {

class QueryRunner {
 public:
  // `threads` workers at nice value `nice` (0: the process's own priority).
  QueryRunner(int threads, int nice);
  ~QueryRunner();  // finishes the queued work, then joins
  QueryRunner(const QueryRunner&) = delete;
  QueryRunner& operator=(const QueryRunner&) = delete;

  // Runs `fn` on a worker and returns once it has run.
  void Run(const std::function<void()>& fn) EXCLUDES(mu_);

 private:
  struct Job {
    const std::function<void()>* fn;
    bool done = false;  // written under mu_
  };
  void Work(int nice) EXCLUDES(mu_);

  Mutex mu_;
  CondVar work_cv_, done_cv_;
  std::deque<Job*> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace lf
