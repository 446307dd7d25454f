#include "source/source_tail.h"

#include <algorithm>

namespace lf {

struct SourceTail::Partition {
  mutable Mutex mu;
  uint64_t start GUARDED_BY(mu) = 0;                                    // records below were dropped (or never held)
  uint64_t position GUARDED_BY(mu) = 0;                                 // coverage
  std::deque<std::pair<uint64_t, std::string>> records GUARDED_BY(mu);  // (offset, record), ascending
  size_t bytes GUARDED_BY(mu) = 0;
};

SourceTail::SourceTail(int partitions) {
  for (int p = 0; p < partitions; ++p) parts_.push_back(std::make_unique<Partition>());
}

SourceTail::~SourceTail() = default;

uint64_t SourceTail::Position(int partition) const {
  const Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  return p.position;
}

Status SourceTail::Read(int partition, uint64_t from, uint64_t to,
                        const std::function<Status(uint64_t, std::string_view)>& fn) const {
  if (partition < 0 || partition >= partitions())
    return Status::InvalidArgument("source tail: no partition " + std::to_string(partition));
  const Partition& p = *parts_[static_cast<size_t>(partition)];
  // Copies out under the lock, calls `fn` outside it: the source thread
  // keeps appending meanwhile.
  std::vector<std::pair<uint64_t, std::string>> copy;
  {
    MutexLock lock(&p.mu);
    if (from < p.start || to > p.position)
      return Status::Internal("source tail: partition " + std::to_string(partition) + " holds [" +
                              std::to_string(p.start) + ", " + std::to_string(p.position) + "), not [" +
                              std::to_string(from) + ", " + std::to_string(to) + ")");
    auto it = std::lower_bound(p.records.begin(), p.records.end(), from,
                               [](const auto& r, uint64_t o) { return r.first < o; });
    for (; it != p.records.end() && it->first < to; ++it) copy.push_back(*it);
  }
  for (const auto& [offset, record] : copy) RETURN_IF_ERROR(fn(offset, record));
  return Status::OK();
}

void SourceTail::Reset(int partition, uint64_t start) {
  Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  p.records.clear();
  p.bytes = 0;
  p.start = p.position = start;
}

Status SourceTail::Append(int partition, uint64_t offset, std::string_view record) {
  Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  if (offset < p.position)
    return Status::Internal("source tail: partition " + std::to_string(partition) + " got offset " +
                            std::to_string(offset) + " below its position " + std::to_string(p.position));
  p.records.emplace_back(offset, std::string(record));
  p.bytes += record.size();
  p.position = offset + 1;
  return Status::OK();
}

void SourceTail::Advance(int partition, uint64_t position) {
  Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  p.position = std::max(p.position, position);
}

void SourceTail::DropBelow(int partition, uint64_t offset) {
  Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  while (!p.records.empty() && p.records.front().first < offset) {
    p.bytes -= p.records.front().second.size();
    p.records.pop_front();
  }
  p.start = std::max(p.start, std::min(offset, p.position));
}

size_t SourceTail::bytes(int partition) const {
  const Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  return p.bytes;
}

size_t SourceTail::records(int partition) const {
  const Partition& p = *parts_[static_cast<size_t>(partition)];
  MutexLock lock(&p.mu);
  return p.records.size();
}

}  // namespace lf
