// Reading a Kinesis shard within the per-shard limits (see the header).
#include "source/kinesis_shard_reader.h"

#include <chrono>
#include <thread>

namespace lf {

KinesisShardApi KinesisShardApi::Of(KinesisClient* client) {
  KinesisShardApi api;
  api.get_iterator = [client](const std::string& shard, const std::string& type, const std::string& seq) {
    return client->GetShardIterator(shard, type, seq);
  };
  api.get_records = [client](const std::string& iterator, int limit) { return client->GetRecords(iterator, limit); };
  return api;
}

KinesisShardReader::KinesisShardReader(KinesisShardApi api, std::string shard_id, std::string after_sequence_number,
                                       KinesisShardReaderOptions options)
    : api_(std::move(api)),
      shard_id_(std::move(shard_id)),
      options_(std::move(options)),
      last_(std::move(after_sequence_number)) {}

int64_t KinesisShardReader::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status KinesisShardReader::Renew() {
  auto it = last_.empty() ? api_.get_iterator(shard_id_, "TRIM_HORIZON", "")
                          : api_.get_iterator(shard_id_, "AFTER_SEQUENCE_NUMBER", last_);
  if (!it.ok()) return it.status();
  iterator_ = std::move(*it);
  return Status::OK();
}

Result<std::vector<KinesisRecord>> KinesisShardReader::Poll() {
  if (finished_) return std::vector<KinesisRecord>();
  if (iterator_.empty()) RETURN_IF_ERROR(Renew());
  for (int renewal = 0;; ++renewal) {
    if (called_) {
      const int64_t wait = last_call_ms_ + options_.min_interval_ms - NowMs();
      if (wait > 0) {
        if (options_.sleep_ms) {
          options_.sleep_ms(wait);
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(wait));
        }
      }
    }
    called_ = true;
    last_call_ms_ = NowMs();
    ++calls_;
    auto r = api_.get_records(iterator_, options_.limit);
    if (!r.ok()) {
      // An iterator lives 5 minutes: a reader paused longer gets a new one
      // just after the last record it returned.
      if (r.status().code() == StatusCode::kOutOfRange && renewal < options_.expired_renewals) {
        ++renewals_;
        RETURN_IF_ERROR(Renew());
        continue;
      }
      return r.status();
    }
    if (!r->records.empty()) last_ = r->records.back().sequence_number;
    if (r->next_iterator.empty()) {
      finished_ = true;  // a closed shard, read to its end
    } else {
      iterator_ = std::move(r->next_iterator);
    }
    return std::move(r->records);
  }
}

std::vector<std::string> ReadableShards(const std::vector<KinesisShard>& shards,
                                        const std::set<std::string>& finished) {
  std::set<std::string> listed;
  for (const KinesisShard& s : shards) listed.insert(s.shard_id);
  auto done = [&](const std::string& parent) {
    return parent.empty() || finished.count(parent) > 0 || listed.count(parent) == 0;
  };
  std::vector<std::string> out;
  for (const KinesisShard& s : shards) {
    if (finished.count(s.shard_id) > 0) continue;
    if (done(s.parent_shard_id) && done(s.adjacent_parent_shard_id)) out.push_back(s.shard_id);
  }
  return out;
}

}  // namespace lf
