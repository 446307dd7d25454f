#include "source/source_feed.h"

#include <algorithm>

namespace lf {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Records per Poll: bounds one round of the source thread.
constexpr size_t kPollRecords = 16 * 1024;
// (time, high watermark) answers kept per partition while the speed layer
// has not reached them: at 100 ms, minutes of them.
constexpr size_t kMaxAsked = 4096;

}  // namespace

SourceFeed::SourceFeed(std::shared_ptr<LogSource> source, SourceFeedOptions options)
    : source_(std::move(source)),
      options_(std::move(options)),
      describe_(source_->Describe()),
      tail_(static_cast<int>(source_->partition_count())) {
  MutexLock lock(&mu_);
  const size_t n = source_->partition_count();
  state_.resize(n);
  asked_.resize(n);
  complete_ms_.assign(n, WallMs());
  active_.assign(n, options_.assign_all);
}

Result<std::unique_ptr<SourceFeed>> SourceFeed::Start(std::shared_ptr<LogSource> source,
                                                      const std::vector<uint64_t>& starts, SourceFeedOptions options) {
  if (starts.size() != source->partition_count())
    return Status::InvalidArgument(source->Describe() + " has " + std::to_string(source->partition_count()) +
                                   " partitions, but " + std::to_string(starts.size()) + " start offsets were given");
  std::unique_ptr<SourceFeed> f(new SourceFeed(std::move(source), std::move(options)));
  for (size_t p = 0; p < starts.size(); ++p) {
    f->tail_.Reset(static_cast<int>(p), starts[p]);
    // Retention loss found before reading: the partition is not assigned.
    // A partition whose bounds cannot be read now is assigned all the same
    // (Poll reports a loss as OutOfRange later).
    auto b = f->source_->Bounds(static_cast<uint32_t>(p), std::chrono::seconds(5));
    if (b.ok() && b->log_start > starts[p]) {
      f->MarkLost(static_cast<int>(p), starts[p], b->log_start, "");
    } else if (b.ok() && b->high_watermark < starts[p]) {
      MutexLock lock(&f->mu_);
      auto& s = f->state_[p];
      s.lost = true;
      s.lost_from = b->high_watermark;
      s.lost_to = starts[p];
      s.lost_message = f->describe_ + " partition " + std::to_string(p) + ": lambdaflow has read it up to offset " +
                       std::to_string(starts[p]) + " but it now ends at " + std::to_string(b->high_watermark) +
                       ": the topic was deleted and re-created, or truncated; the partition is not read";
      f->LogLine(s.lost_message);
    }
    if (b.ok()) {
      MutexLock lock(&f->mu_);
      f->state_[p].high_watermark = b->high_watermark;
      f->state_[p].log_start = b->log_start;
      f->state_[p].high_watermark_ms = WallMs();
    }
  }
  RETURN_IF_ERROR(f->AssignReadable());
  f->poll_thread_ = std::thread([q = f.get()] { q->PollLoop(); });
  f->watermark_thread_ = std::thread([q = f.get()] { q->WatermarkLoop(); });
  return f;
}

SourceFeed::~SourceFeed() { Stop(); }

void SourceFeed::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    cv_.NotifyAll();
  }
  for (std::thread* t : {&poll_thread_, &watermark_thread_})
    if (t->joinable()) t->join();
}

void SourceFeed::LogLine(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void SourceFeed::MarkLost(int partition, uint64_t position, uint64_t log_start, const std::string& message) {
  std::string line = describe_ + " partition " + std::to_string(partition) + ": offsets [" + std::to_string(position) +
                     ", " + std::to_string(log_start) +
                     ") were deleted by the topic's retention before lambdaflow sealed them (" +
                     std::to_string(log_start - position) +
                     " offsets lost). The partition is not read any more: lambdaflow does not skip lost events "
                     "silently. Raise the topic's retention (retention.ms, retention.bytes) so that sealing keeps up";
  if (!message.empty()) line += " (" + message + ")";
  {
    MutexLock lock(&mu_);
    auto& s = state_[static_cast<size_t>(partition)];
    if (s.lost) return;
    s.lost = true;
    s.lost_from = position;
    s.lost_to = log_start;
    s.lost_message = line;
  }
  LogLine("retention loss: " + line);
}

Status SourceFeed::AssignReadable() {
  if (!options_.assign_all) return Status::OK();  // a group member: the group assigns
  std::vector<PartitionStart> starts;
  std::vector<uint32_t> paused;
  {
    MutexLock lock(&mu_);
    for (size_t p = 0; p < state_.size(); ++p) {
      if (state_[p].lost) continue;
      starts.push_back({static_cast<uint32_t>(p), tail_.Position(static_cast<int>(p))});
      if (state_[p].paused) paused.push_back(static_cast<uint32_t>(p));
    }
  }
  RETURN_IF_ERROR(source_->Assign(starts));
  return source_->Pause(paused, true);
}

void SourceFeed::PollLoop() {
  RecordBatch batch;
  const int n = tail_.partitions();
  while (true) {
    std::vector<std::pair<int, uint64_t>> commits;
    std::vector<bool> lost(static_cast<size_t>(n)), paused(static_cast<size_t>(n));
    {
      MutexLock lock(&mu_);
      if (stop_) break;
      commits.swap(to_commit_);
      for (int p = 0; p < n; ++p) {
        lost[static_cast<size_t>(p)] = state_[static_cast<size_t>(p)].lost;
        paused[static_cast<size_t>(p)] = state_[static_cast<size_t>(p)].paused;
      }
    }
    for (const auto& [p, to] : commits) source_->CommitAsync(static_cast<uint32_t>(p), to);
    batch.Clear();
    const Status st = source_->Poll(kPollRecords, options_.poll_timeout, &batch);
    for (const SourceRecord& r : batch.records()) {
      const int p = static_cast<int>(r.partition);
      if (p >= n || lost[static_cast<size_t>(p)] || r.offset < tail_.Position(p)) continue;
      // One record is one event, one line of the master dataset: line breaks
      // (JSON whitespace) become spaces, and an empty value (a tombstone)
      // is kept as `null`, which no stream accepts (a dead letter).
      if (r.value.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        (void)tail_.Append(p, r.offset, "null");
      } else if (r.value.find_first_of("\r\n") != std::string_view::npos) {
        std::string line(r.value);
        for (char& c : line)
          if (c == '\n' || c == '\r') c = ' ';
        (void)tail_.Append(p, r.offset, line);
      } else {
        (void)tail_.Append(p, r.offset, r.value);
      }
      ++records_read_;
    }
    for (int p = 0; p < n; ++p) {
      if (lost[static_cast<size_t>(p)]) continue;
      auto pos = source_->Position(static_cast<uint32_t>(p));
      if (pos.ok()) tail_.Advance(p, *pos);
    }
    if (!st.ok()) {
      bool found = false;
      if (st.code() == StatusCode::kOutOfRange) {
        for (int p = 0; p < n; ++p) {
          if (lost[static_cast<size_t>(p)]) continue;
          auto b = source_->Bounds(static_cast<uint32_t>(p), std::chrono::seconds(5));
          if (b.ok() && b->log_start > tail_.Position(p)) {
            MarkLost(p, tail_.Position(p), b->log_start, st.message());
            found = true;
          }
        }
      }
      if (found) {
        if (Status a = AssignReadable(); !a.ok()) LogLine("source: " + a.ToString());
      } else {
        LogLine("source: " + st.ToString() + " (retrying in 1 s)");
        MutexLock lock(&mu_);
        (void)cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      }
    }
    // Backpressure: pause a partition over its budget, resume it below half.
    std::vector<uint32_t> pause, resume;
    for (int p = 0; p < n; ++p) {
      const size_t bytes = tail_.bytes(p);
      const auto i = static_cast<size_t>(p);
      if (!paused[i] && bytes > options_.max_tail_bytes) pause.push_back(static_cast<uint32_t>(p));
      if (paused[i] && bytes <= options_.max_tail_bytes / 2) resume.push_back(static_cast<uint32_t>(p));
    }
    if (!pause.empty() || !resume.empty()) {
      Status a = source_->Pause(pause, true);
      Status b = source_->Pause(resume, false);
      MutexLock lock(&mu_);
      if (a.ok())
        for (uint32_t p : pause) state_[p].paused = true;
      if (b.ok())
        for (uint32_t p : resume) state_[p].paused = false;
      if (!a.ok() || !b.ok()) LogLine("source: " + (a.ok() ? b : a).ToString());
    }
    for (uint32_t p : pause)
      LogLine("source: partition " + std::to_string(p) + " paused: its unsealed tail holds more than " +
              std::to_string(options_.max_tail_bytes) + " bytes (sealing is behind)");
    for (uint32_t p : resume) LogLine("source: partition " + std::to_string(p) + " resumed");
    MutexLock lock(&mu_);
    health_ = source_->health();
  }
}

void SourceFeed::WatermarkLoop() {
  const int n = tail_.partitions();
  MutexLock lock(&mu_);
  while (!stop_) {
    const int64_t asked_ms = WallMs();
    const auto next = std::chrono::steady_clock::now() + options_.watermark_interval;
    std::vector<uint32_t> asked;
    for (int p = 0; p < n; ++p)
      if (!state_[static_cast<size_t>(p)].lost) asked.push_back(static_cast<uint32_t>(p));
    lock.Unlock();
    auto hw = source_->HighWatermarks(asked, std::chrono::seconds(1));
    lock.Lock();
    // Brokers down: no answer, so no claim of completeness (freshness grows).
    for (size_t i = 0; hw.ok() && i < asked.size(); ++i) {
      auto& s = state_[asked[i]];
      s.high_watermark = (*hw)[i];
      s.high_watermark_ms = asked_ms;
      auto& q = asked_[asked[i]];
      q.emplace_back(asked_ms, (*hw)[i]);
      if (q.size() > kMaxAsked) q.pop_front();
    }
    while (!stop_ && cv_.WaitUntil(&mu_, next)) {
    }
  }
}

void SourceFeed::Sealed(int partition, uint64_t to) {
  tail_.DropBelow(partition, to);
  MutexLock lock(&mu_);
  to_commit_.emplace_back(partition, to);
}

int64_t SourceFeed::CaughtUpMs(const std::vector<uint64_t>& speed) {
  MutexLock lock(&mu_);
  int64_t oldest = INT64_MAX;
  for (size_t p = 0; p < complete_ms_.size(); ++p) {
    auto& q = asked_[p];
    while (p < speed.size() && !q.empty() && q.front().second <= speed[p]) {
      complete_ms_[p] = std::max(complete_ms_[p], q.front().first);
      q.pop_front();
    }
    if (active_[p]) oldest = std::min(oldest, complete_ms_[p]);
  }
  return oldest == INT64_MAX ? WallMs() : oldest;
}

void SourceFeed::ResetPartition(int partition, uint64_t start, bool active) {
  MutexLock lock(&mu_);
  const auto p = static_cast<size_t>(partition);
  tail_.Reset(partition, start);
  asked_[p].clear();
  complete_ms_[p] = active ? 0 : complete_ms_[p];
  active_[p] = active;
  state_[p].paused = false;
}

std::vector<SourcePartitionState> SourceFeed::partitions() const {
  std::vector<SourcePartitionState> out;
  {
    MutexLock lock(&mu_);
    out = state_;
  }
  for (size_t p = 0; p < out.size(); ++p) out[p].position = tail_.Position(static_cast<int>(p));
  return out;
}

SourceHealth SourceFeed::health() const {
  MutexLock lock(&mu_);
  return health_;
}

}  // namespace lf
