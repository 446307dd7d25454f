// FakeSource: a LogSource in memory, for tests (source_feed_test.cc, the
// pipeline's tests over a source): records at chosen offsets (gaps
// allowed), a partition's end past its last record, retention (a log start
// that moves up), a partition that delivers nothing while held, brokers
// "down" for Bounds, pauses and commits recorded. Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "source/log_source.h"

namespace lf::test {

class FakeSource final : public LogSource {
 public:
  explicit FakeSource(uint32_t partitions, std::string describe = "fake://log")
      : parts_(partitions), describe_(std::move(describe)) {}

  // Appends a record at `offset` and makes `end` the partition's end.
  void Put(uint32_t p, uint64_t offset, std::string value, uint64_t end = 0) {
    MutexLock lock(&mu_);
    parts_[p].records[offset] = std::move(value);
    parts_[p].end = std::max(end, offset + 1);
  }
  void SetLogStart(uint32_t p, uint64_t start) {
    MutexLock lock(&mu_);
    parts_[p].log_start = start;
    std::erase_if(parts_[p].records, [&](const auto& r) { return r.first < start; });
  }
  // While held, a partition delivers nothing (a slow fetch).
  void Hold(uint32_t p, bool hold) {
    MutexLock lock(&mu_);
    parts_[p].held = hold;
  }
  bool paused(uint32_t p) {
    MutexLock lock(&mu_);
    return parts_[p].paused;
  }
  bool assigned(uint32_t p) {
    MutexLock lock(&mu_);
    return parts_[p].assigned;
  }
  std::vector<std::pair<uint32_t, uint64_t>> commits() {
    MutexLock lock(&mu_);
    return commits_;
  }

  uint32_t partition_count() const override { return static_cast<uint32_t>(parts_.size()); }
  Status Assign(const std::vector<PartitionStart>& starts) override {
    MutexLock lock(&mu_);
    for (auto& p : parts_) p.assigned = p.paused = false;
    for (const auto& s : starts) {
      parts_[s.partition].assigned = true;
      parts_[s.partition].position = s.offset;
    }
    return Status::OK();
  }
  Status Poll(size_t max_records, std::chrono::milliseconds timeout, RecordBatch* out) override {
    {
      MutexLock lock(&mu_);
      for (uint32_t i = 0; i < parts_.size(); ++i) {
        Part& p = parts_[i];
        if (!p.assigned || p.paused || p.held) continue;
        if (p.position < p.log_start)
          return Status::OutOfRange("partition " + std::to_string(i) + " no longer holds " +
                                    std::to_string(p.position));
        for (auto it = p.records.lower_bound(p.position); it != p.records.end() && out->size() < max_records; ++it) {
          auto value = std::make_shared<std::string>(it->second);
          out->Add(SourceRecord{.partition = i, .offset = it->first, .key = {}, .value = *value, .timestamp_ms = -1},
                   value);
          p.position = it->first + 1;
        }
        if (out->size() < max_records) p.position = std::max(p.position, p.end);
      }
      if (!out->empty()) return Status::OK();
    }
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(5)));
    return Status::OK();
  }
  Result<uint64_t> Position(uint32_t partition) const override {
    MutexLock lock(&mu_);
    return parts_[partition].position;
  }
  Result<PartitionBounds> Bounds(uint32_t partition, std::chrono::milliseconds) override {
    MutexLock lock(&mu_);
    if (down_) return Status::Unavailable("down");
    return PartitionBounds{parts_[partition].log_start, parts_[partition].end};
  }
  Status Pause(const std::vector<uint32_t>& partitions, bool pause) override {
    MutexLock lock(&mu_);
    for (uint32_t p : partitions) parts_[p].paused = pause;
    return Status::OK();
  }
  void CommitAsync(uint32_t partition, uint64_t offset) override {
    MutexLock lock(&mu_);
    commits_.emplace_back(partition, offset);
  }
  SourceHealth health() const override { return {}; }
  std::string Describe() const override { return describe_; }
  void SetDown(bool down) {
    MutexLock lock(&mu_);
    down_ = down;
  }

 private:
  struct Part {
    std::map<uint64_t, std::string> records;
    uint64_t log_start = 0, end = 0, position = 0;
    bool assigned = false, paused = false, held = false;
  };
  mutable Mutex mu_;
  std::vector<Part> parts_ GUARDED_BY(mu_);
  std::vector<std::pair<uint32_t, uint64_t>> commits_ GUARDED_BY(mu_);
  bool down_ GUARDED_BY(mu_) = false;
  const std::string describe_;
};

}  // namespace lf::test
