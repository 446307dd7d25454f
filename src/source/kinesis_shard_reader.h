// Reading Kinesis shards within the service's rules, the part of a future
// `run --source kinesis://` that does not depend on the engine:
//
// - KinesisShardReader reads one shard from a position (after a sequence
//   number, or from the oldest record): at most one GetRecords per
//   `min_interval_ms` (Kinesis allows 5 per second per shard), an expired
//   iterator renewed after the last record read (AFTER_SEQUENCE_NUMBER,
//   so nothing is read twice or skipped), throttling retried by the
//   AwsClient underneath. A closed shard (after a split or merge) is
//   finished once GetRecords returns no next iterator.
// - ReadableShards says which shards may be read now: a child only once
//   all its parents are finished (or gone from the listing: trimmed by
//   retention). The links come from ListShards' ParentShardId and
//   AdjacentParentShardId, never from GetRecords' ChildShards, which
//   emulators omit.
//
// Not thread-safe: one reader per shard, used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "source/kinesis_client.h"

namespace lf {

// The two calls a reader makes (KinesisClient's, or a test's fakes).
struct KinesisShardApi {
  std::function<Result<std::string>(const std::string& shard_id, const std::string& type,
                                    const std::string& sequence_number)>
      get_iterator;
  std::function<Result<KinesisGetRecordsResult>(const std::string& iterator, int limit)> get_records;

  static KinesisShardApi Of(KinesisClient* client);
};

struct KinesisShardReaderOptions {
  int limit = 10000;                         // records per GetRecords (Kinesis's maximum)
  int64_t min_interval_ms = 200;             // between GetRecords of this shard: 5 per second
  int expired_renewals = 3;                  // renewals in a row before an expired iterator is an error
  std::function<int64_t()> now_ms;           // steady clock when empty
  std::function<void(int64_t ms)> sleep_ms;  // std::this_thread::sleep_for when empty
};

class KinesisShardReader {
 public:
  // Reads `shard_id` from just after `after_sequence_number`, or from its
  // oldest record when that is empty.
  KinesisShardReader(KinesisShardApi api, std::string shard_id, std::string after_sequence_number,
                     KinesisShardReaderOptions options = {});

  // The next records (maybe none), waiting first if the last call was
  // less than min_interval_ms ago. Nothing once finished().
  Result<std::vector<KinesisRecord>> Poll();

  const std::string& shard_id() const { return shard_id_; }
  // The sequence number of the last record returned ("" before any): where
  // a restart resumes (AFTER_SEQUENCE_NUMBER).
  const std::string& last_sequence_number() const { return last_; }
  // A closed shard read to its end.
  bool finished() const { return finished_; }
  uint64_t calls() const { return calls_; }
  uint64_t renewals() const { return renewals_; }

 private:
  Status Renew();
  int64_t NowMs() const;

  const KinesisShardApi api_;
  const std::string shard_id_;
  const KinesisShardReaderOptions options_;
  std::string last_;
  std::string iterator_;  // "" before the first call
  bool finished_ = false;
  int64_t last_call_ms_ = 0;
  bool called_ = false;
  uint64_t calls_ = 0, renewals_ = 0;
};

// The shards that may be read now, in ListShards' order: not finished, and
// every parent (ParentShardId, AdjacentParentShardId) finished or absent
// from `shards`.
std::vector<std::string> ReadableShards(const std::vector<KinesisShard>& shards, const std::set<std::string>& finished);

}  // namespace lf
