// RecordReader: the one read interface under the speed layer and the
// archiver. The embedded log (speed/log_record_reader.h) and an external
// log's in-memory tail (source/source_tail.h, fed by a source thread)
// implement it, so that the layers above read offset ranges of a partition
// without knowing where the records live.
//
// Positions. Position(p) is the partition's coverage: every offset of p
// below it was delivered or does not exist. Offsets need not be dense
// (Kafka's transaction markers and compaction leave gaps), so a range
// [from, to) below the position may hold fewer than to - from records.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/status.h"

namespace lf {

class RecordReader {
 public:
  virtual ~RecordReader() = default;

  virtual int partitions() const = 0;
  // The coverage of `partition` (see the file comment). Never decreases.
  virtual uint64_t Position(int partition) const = 0;
  // Hands the records of `partition` with offsets in [from, to), in offset
  // order, to `fn` (the view is valid only during the call). `to` must not
  // exceed Position(partition); a range the reader no longer (or never)
  // held is an error naming it. A non-OK status from `fn` stops the read and
  // is returned.
  virtual Status Read(int partition, uint64_t from, uint64_t to,
                      const std::function<Status(uint64_t offset, std::string_view record)>& fn) const = 0;
};

}  // namespace lf
