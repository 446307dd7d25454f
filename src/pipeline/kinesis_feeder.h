// KinesisFeeder: `run --source kinesis://STREAM` — a thread that reads
// the stream's shards and appends their records to the embedded log, one
// log partition per shard (docs/formats/data_dir.md, `kinesis/STATE`).
//
// - Shards (ListShards, every 10 s and whenever a shard finishes) are read
//   by KinesisShardReader within Kinesis's per-shard limits; a child shard
//   only once all its parents are finished (ReadableShards).
// - Partitions: the data directory's partition count is fixed when it is
//   created (by `run`: --partitions, else twice the stream's shards, room
//   for every shard to split once). A new shard takes the partition of a
//   finished parent when one is free (so a merge or a split reuses it), else
//   the lowest partition never used, else the lowest whose shards are all
//   finished. A shard with no free partition is not read (logged): run
//   with a new data directory of more partitions.
// - Exactly once into the log: each append of shard X is the log
//   producer "kinesis:X" with seq n = 1, 2, 3... (log/producer_table.h,
//   recovered with the log). Before append n, the state file records,
//   durably, the sequence number of the last record of append n-1 and of
//   append n. After a crash the log's producer table says which of the two
//   is the last appended, and the shard is read again with
//   AFTER_SEQUENCE_NUMBER exactly after it. Sequence numbers stay strings.
// - Records are one JSON event each (newlines inside become spaces); one
//   that does not decode goes to the dead letters with its shard and
//   sequence number.
//
// Thread-safe: Start and Stop from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "aws/aws_config.h"
#include "engine/data_dir.h"
#include "pipeline/pipeline.h"

namespace lf {

struct KinesisFeederOptions {
  std::string stream;
  aws::AwsConfig aws;
  // Between ListShards calls while every shard is read.
  int64_t list_interval_ms = 10'000;
  // Between two GetRecords of one shard (Kinesis allows 5 per second).
  int64_t min_poll_interval_ms = 200;
  std::function<void(const std::string&)> log;
};

class KinesisFeeder {
 public:
  // The partition count a new data directory gets for a stream of
  // `open_shards` open shards when --partitions is not given.
  static int DefaultPartitions(int open_shards) { return std::max(1, 2 * open_shards); }

  // Reads DIR/kinesis/STATE (when present) and starts the thread.
  static Result<std::unique_ptr<KinesisFeeder>> Start(DataDir* dir, Pipeline* pipeline, KinesisFeederOptions options);
  ~KinesisFeeder();
  void Stop();

  // For status lines and tests.
  uint64_t records_appended() const { return appended_.load(); }
  uint64_t records_rejected() const { return rejected_.load(); }
  std::string last_error() const;

 private:
  struct Impl;
  explicit KinesisFeeder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> appended_{0}, rejected_{0};
};

}  // namespace lf
