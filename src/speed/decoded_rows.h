// Rows that ingest decoded while validating, handed to the speed layer by
// log range so that it does not decode the same records again. A range
// nobody put here (after a restart, or when the store was full) is read
// from the log and decoded as usual: this is only a shortcut.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/vector.h"

namespace lf {

class DecodedRows {
 public:
  struct Entry {
    uint64_t from = 0, to = 0;  // the log range [from, to) of the rows, in order
    std::vector<std::unique_ptr<Batch>> rows;
  };

  // At most this many events wait here; Put drops what does not fit.
  explicit DecodedRows(uint64_t max_events = uint64_t{1} << 20) : max_events_(max_events) {}

  // Thread-safe. Must be called before the range is acknowledged (the speed
  // layer consumes only acknowledged records), or it may come too late.
  void Put(int partition, uint64_t from, uint64_t to, std::vector<std::unique_ptr<Batch>> rows);

  // The entry of `partition` starting at `from` if it ends at or before
  // `limit`; drops the entries that start below `from` (already consumed).
  std::optional<Entry> Take(int partition, uint64_t from, uint64_t limit);

 private:
  const uint64_t max_events_;
  Mutex mu_;
  std::map<std::pair<int, uint64_t>, Entry> entries_ GUARDED_BY(mu_);  // by (partition, from)
  uint64_t pending_ GUARDED_BY(mu_) = 0;                               // events in entries_
};

}  // namespace lf
