// The time and memory budget of one query. Readers check it between the
// batches of their scan loops (cooperative cancellation): a query over its
// time fails with DeadlineExceeded, one that materializes more than its
// bytes fails with ResourceExhausted, each with a message that says which
// limit, its setting, and what to do. Not thread-safe: one per query.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace lf {

// The limits every query gets (`run`'s query_timeout_ms, query_max_bytes
// and query_concurrency). Zero means no limit.
struct QueryLimits {
  std::chrono::milliseconds timeout{10'000};
  uint64_t max_bytes = uint64_t{512} << 20;
  // Queries and whole-view reads running at once, on low-priority threads
  // (see QueryRunner); more wait their turn. 0: each runs on its caller's
  // thread, at its priority.
  int concurrency = 4;
};

class QueryBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // The budget starts now; `what` names the query in errors ("query over
  // view 'x'").
  QueryBudget(const QueryLimits& limits, std::string what);

  // DeadlineExceeded once the time limit has passed.
  Status CheckTime() const;
  // Adds `bytes` to what the query holds; ResourceExhausted over the limit.
  // Also checks the time.
  Status Charge(uint64_t bytes);

  // Gives back bytes charged before (rows dropped again).
  void Release(uint64_t bytes) { bytes_ -= std::min(bytes, bytes_); }

  uint64_t bytes() const { return bytes_; }

  // Approximate bytes held by a row of values (vector, values, text).
  static uint64_t RowBytes(const std::vector<Value>& row);

 private:
  const QueryLimits limits_;
  const std::string what_;
  const Clock::time_point deadline_;
  uint64_t bytes_ = 0;
};

}  // namespace lf
