#include "serving/query_runner.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace lf {

QueryRunner::QueryRunner(int threads, int nice) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, nice] { Work(nice); });
}

QueryRunner::~QueryRunner() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  work_cv_.NotifyAll();
  for (auto& t : threads_) t.join();
}

void QueryRunner::Run(const std::function<void()>& fn) {
  Job job{&fn};
  MutexLock lock(&mu_);
  queue_.push_back(&job);
  work_cv_.NotifyOne();
  while (!job.done) done_cv_.Wait(&mu_);
}

void QueryRunner::Work(int nice) {
  // Lowers this thread's priority only (Linux: a thread id is a process id
  // to setpriority). Failing is harmless: the queries then run at the
  // process's priority.
  if (nice != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);
  MutexLock lock(&mu_);
  while (true) {
    while (queue_.empty() && !stop_) work_cv_.Wait(&mu_);
    if (queue_.empty()) return;  // stopping, and nothing left
    Job* job = queue_.front();
    queue_.pop_front();
    lock.Unlock();
    (*job->fn)();
    lock.Lock();
    job->done = true;
    done_cv_.NotifyAll();
  }
}

}  // namespace lf
