// The embedded log as a RecordReader (source/record_reader.h): a thin
// adapter over Log::Read; the position is the log's acknowledged end (its
// offsets are dense).
#pragma once

#include "log/log.h"
#include "source/record_reader.h"

namespace lf {

class LogRecordReader final : public RecordReader {
 public:
  // `log` must outlive the reader.
  explicit LogRecordReader(const Log* log) : log_(log) {}

  int partitions() const override { return log_->partitions(); }
  uint64_t Position(int partition) const override { return log_->end_offset(partition); }
  Status Read(int partition, uint64_t from, uint64_t to,
              const std::function<Status(uint64_t offset, std::string_view record)>& fn) const override {
    return log_->Read(partition, from, to, fn);
  }

 private:
  const Log* const log_;
};

}  // namespace lf
