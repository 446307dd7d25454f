// The pipeline's recent history; see history.h.
#include "server/history.h"

#include <algorithm>
#include <cstdio>

#include "server/render.h"

namespace lf {
namespace {

void AppendList(const std::vector<uint64_t>& v, std::string* out) { *out += "[" + JoinWatermark(v) + "]"; }

void AppendRate(double v, std::string* out) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  *out += buf;
}

// The sample as JSON, with its rates against `prev` (may be null).
std::string Render(const HistorySample& s, const HistorySample* prev) {
  std::string out = "{\"t\":" + std::to_string(s.t_ms) + ",\"accepted\":" + std::to_string(s.accepted) +
                    ",\"rejected\":" + std::to_string(s.rejected);
  const double secs = prev ? static_cast<double>(s.t_ms - prev->t_ms) / 1000 : 0;
  // Counters only grow within a process; a smaller one is not a rate.
  const bool rates = prev && secs > 0 && s.accepted >= prev->accepted && s.rejected >= prev->rejected &&
                     s.micro_batches >= prev->micro_batches && s.batch_runs >= prev->batch_runs;
  out += ",\"accepted_per_s\":";
  if (rates)
    AppendRate(static_cast<double>(s.accepted - prev->accepted) / secs, &out);
  else
    out += "null";
  out += ",\"rejected_per_s\":";
  if (rates)
    AppendRate(static_cast<double>(s.rejected - prev->rejected) / secs, &out);
  else
    out += "null";
  out += ",\"freshness_ms\":" + std::to_string(std::max<int64_t>(0, s.freshness_ms));
  out += ",\"log_end\":";
  AppendList(s.log_end, &out);
  out += ",\"batch\":";
  AppendList(s.batch, &out);
  out += ",\"speed\":";
  AppendList(s.speed, &out);
  std::vector<uint64_t> lag;
  for (size_t i = 0; i < s.speed.size(); ++i) {
    const uint64_t w = i < s.batch.size() ? s.batch[i] : 0;
    lag.push_back(s.speed[i] > w ? s.speed[i] - w : 0);
  }
  out += ",\"lag\":";
  AppendList(lag, &out);
  out += ",\"batch_version\":" + (s.batch_version ? std::to_string(*s.batch_version) : std::string("null"));
  out += ",\"batch_runs\":" + std::to_string(s.batch_runs);
  out += ",\"batch_run_ms\":";
  if (rates && s.batch_runs > prev->batch_runs)
    AppendRate(
        (s.batch_run_seconds - prev->batch_run_seconds) * 1000 / static_cast<double>(s.batch_runs - prev->batch_runs),
        &out);
  else
    out += "null";
  out += ",\"micro_batches_per_s\":";
  if (rates)
    AppendRate(static_cast<double>(s.micro_batches - prev->micro_batches) / secs, &out);
  else
    out += "null";
  out += ",\"micro_batch_ms\":";
  if (rates && s.micro_batches > prev->micro_batches)
    AppendRate((s.micro_batch_seconds - prev->micro_batch_seconds) * 1000 /
                   static_cast<double>(s.micro_batches - prev->micro_batches),
               &out);
  else
    out += "null";
  if (s.owned) {
    out += ",\"owned\":[";
    for (size_t i = 0; i < s.owned->size(); ++i) out += (i ? "," : "") + std::to_string((*s.owned)[i]);
    out += "],\"rebalances\":{\"gained\":" + std::to_string(s.gained) + ",\"revoked\":" + std::to_string(s.revoked) +
           ",\"lost\":" + std::to_string(s.lost) + "}";
  }
  return out + "}";
}

}  // namespace

HistorySample SamplePipeline(const Pipeline& p, int64_t now_ms) {
  const PipelineStats st = p.stats();
  const Coverage c = p.served().coverage();
  HistorySample s;
  s.t_ms = now_ms;
  s.accepted = st.accepted;
  s.rejected = st.rejected;
  const Histogram::Snapshot micro = p.micro_batch_seconds().Read();
  const Histogram::Snapshot batch = p.batch_run_seconds().Read();
  s.micro_batches = micro.count;
  s.micro_batch_seconds = micro.sum;
  s.batch_runs = batch.count;
  s.batch_run_seconds = batch.sum;
  s.batch_version = c.batch_version;
  s.freshness_ms = now_ms - c.caught_up_ms;
  s.log_end = st.log_end;
  s.batch = c.batch;
  s.speed = c.speed;
  if (!st.owned.empty()) {
    s.owned.emplace();
    for (size_t p = 0; p < st.owned.size(); ++p)
      if (st.owned[p]) s.owned->push_back(static_cast<uint32_t>(p));
    s.gained = st.partitions_gained;
    s.revoked = st.partitions_revoked;
    s.lost = st.partitions_lost;
  }
  return s;
}

History::History(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}

void History::Add(const HistorySample& s) {
  MutexLock lock(&mu_);
  const HistorySample* prev = entries_.empty() ? nullptr : &entries_.back().sample;
  Entry e{s, Render(s, prev)};
  entries_.push_back(std::move(e));
  while (entries_.size() > capacity_) entries_.pop_front();
}

size_t History::size() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

std::string History::Json(int64_t since_ms, int64_t interval_ms) const {
  std::string out = "{\"interval_ms\":" + std::to_string(interval_ms) + ",\"capacity\":" + std::to_string(capacity_) +
                    ",\"samples\":[";
  MutexLock lock(&mu_);
  bool first = true;
  for (const Entry& e : entries_) {
    if (e.sample.t_ms <= since_ms) continue;
    if (!first) out += ",";
    first = false;
    out += e.json;
  }
  return out + "]}";
}

HistoryRecorder::HistoryRecorder(std::function<HistorySample()> sample, History* history,
                                 std::chrono::milliseconds interval)
    : thread_([this, sample = std::move(sample), history, interval] {
        MutexLock lock(&mu_);
        while (!stop_) {
          lock.Unlock();
          history->Add(sample());
          lock.Lock();
          const auto deadline = std::chrono::steady_clock::now() + interval;
          while (!stop_ && cv_.WaitUntil(&mu_, deadline)) {
          }
        }
      }) {}

HistoryRecorder::~HistoryRecorder() { Stop(); }

void HistoryRecorder::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.NotifyOne();
  if (thread_.joinable()) thread_.join();
}

}  // namespace lf
