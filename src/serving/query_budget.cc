#include "serving/query_budget.h"

namespace lf {

QueryBudget::QueryBudget(const QueryLimits& limits, std::string what)
    : limits_(limits),
      what_(std::move(what)),
      deadline_(limits.timeout.count() > 0 ? Clock::now() + limits.timeout : Clock::time_point::max()) {}

Status QueryBudget::CheckTime() const {
  if (limits_.timeout.count() <= 0 || Clock::now() < deadline_) return Status::OK();
  return Status::DeadlineExceeded(what_ + " ran longer than its time budget of " +
                                  std::to_string(limits_.timeout.count()) +
                                  " ms (setting query_timeout_ms); narrow it with WHERE or LIMIT, or raise the budget");
}

Status QueryBudget::Charge(uint64_t bytes) {
  bytes_ += bytes;
  if (limits_.max_bytes > 0 && bytes_ > limits_.max_bytes)
    return Status::ResourceExhausted(what_ + " holds more than its memory budget of " +
                                     std::to_string(limits_.max_bytes) +
                                     " bytes of rows (setting query_max_bytes); narrow it with WHERE, LIMIT or "
                                     "GROUP BY, or raise the budget");
  return CheckTime();
}

uint64_t QueryBudget::RowBytes(const std::vector<Value>& row) {
  uint64_t bytes = sizeof(row) + row.size() * sizeof(Value);
  for (const Value& v : row)
    if (v.s.size() >= sizeof(v.s)) bytes += v.s.capacity() + 1;  // beyond the small-string buffer
  return bytes;
}

}  // namespace lf
