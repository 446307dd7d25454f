#include "cluster/worker_heartbeat.h"

namespace lf {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

WorkerHeartbeat::WorkerHeartbeat(WorkerDirectory* directory, HeartbeatOptions options)
    : directory_(directory), options_(std::move(options)) {}

WorkerHeartbeat::~WorkerHeartbeat() { (void)Stop(); }

Status WorkerHeartbeat::PublishNow(const std::map<uint32_t, uint64_t>& owned) {
  WorkerRecord r;
  r.writer_id = options_.writer_id;
  r.address = options_.address;
  r.updated_ms = options_.now_ms ? options_.now_ms() : SystemNowMs();
  r.partitions = owned;
  Status st = directory_->Publish(r);
  if (st.ok()) {
    publishes_.fetch_add(1, std::memory_order_relaxed);
    MutexLock lock(&mu_);
    published_ = owned;
  } else {
    failures_.fetch_add(1, std::memory_order_relaxed);
  }
  return st;
}

Status WorkerHeartbeat::Start() {
  {
    MutexLock lock(&mu_);
    if (started_) return Status::OK();
    started_ = true;
  }
  Status first = PublishNow(options_.owned());
  thread_ = std::thread([this] { Loop(); });
  return first;
}

void WorkerHeartbeat::Loop() {
  auto last = std::chrono::steady_clock::now();
  bool failed = false;
  MutexLock lock(&mu_);
  while (!stop_) {
    cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + options_.check);
    if (stop_) break;
    const auto now = std::chrono::steady_clock::now();
    const std::map<uint32_t, uint64_t> owned = options_.owned();
    if (owned == published_ && !failed && now - last < options_.interval) continue;
    lock.Unlock();
    Status st = PublishNow(owned);
    lock.Lock();
    if (!st.ok() && !failed && options_.log)
      options_.log("group: the workers' directory record could not be written (retrying): " + st.ToString());
    failed = !st.ok();
    last = now;
  }
}

Status WorkerHeartbeat::Stop() {
  {
    MutexLock lock(&mu_);
    if (!started_ || stop_) return Status::OK();
    stop_ = true;
    cv_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
  return directory_->Remove(options_.writer_id);
}

std::map<uint32_t, uint64_t> WorkerHeartbeat::published() const {
  MutexLock lock(&mu_);
  return published_;
}

}  // namespace lf
