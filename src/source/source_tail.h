// SourceTail: the records of an external log (a Kafka topic) that lambdaflow
// has read but not yet sealed into the master dataset, per partition, in
// memory, keyed by offset, with the consumer's position. The source thread
// (source_feed.h) appends; the speed layer reads from S[p] and the archiver
// reads the closed bucket ranges through the RecordReader interface; once a
// range is sealed and published, DropBelow frees it. The bytes held per
// partition are what backpressure (pausing the partition) is decided on.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "source/record_reader.h"

namespace lf {

class SourceTail final : public RecordReader {
 public:
  explicit SourceTail(int partitions);
  ~SourceTail() override;

  int partitions() const override { return static_cast<int>(parts_.size()); }
  uint64_t Position(int partition) const override;
  Status Read(int partition, uint64_t from, uint64_t to,
              const std::function<Status(uint64_t offset, std::string_view record)>& fn) const override;

  // Empties `partition` and sets its start and position to `start`.
  void Reset(int partition, uint64_t start);
  // Appends a record at `offset` (above every held one and at or above the
  // position); the position becomes offset + 1.
  Status Append(int partition, uint64_t offset, std::string_view record);
  // Advances the position to `position` (no record in between: a gap).
  void Advance(int partition, uint64_t position);
  // Forgets the records below `offset` (sealed and published).
  void DropBelow(int partition, uint64_t offset);
  // Record bytes held by `partition`.
  size_t bytes(int partition) const;
  size_t records(int partition) const;

 private:
  struct Partition;
  std::vector<std::unique_ptr<Partition>> parts_;
};

}  // namespace lf
