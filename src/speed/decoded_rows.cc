#include "speed/decoded_rows.h"

namespace lf {

void DecodedRows::Put(int partition, uint64_t from, uint64_t to, std::vector<std::unique_ptr<Batch>> rows) {
  MutexLock lock(&mu_);
  if (to <= from || pending_ + (to - from) > max_events_) return;
  pending_ += to - from;
  entries_[{partition, from}] = Entry{from, to, std::move(rows)};
}

std::optional<DecodedRows::Entry> DecodedRows::Take(int partition, uint64_t from, uint64_t limit) {
  MutexLock lock(&mu_);
  auto it = entries_.lower_bound({partition, 0});
  while (it != entries_.end() && it->first.first == partition && it->first.second < from) {
    pending_ -= it->second.to - it->second.from;
    it = entries_.erase(it);
  }
  if (it == entries_.end() || it->first != std::make_pair(partition, from) || it->second.to > limit) return {};
  Entry e = std::move(it->second);
  pending_ -= e.to - e.from;
  entries_.erase(it);
  return e;
}

}  // namespace lf
