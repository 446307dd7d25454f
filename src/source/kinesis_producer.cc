// PutRecords batching and resending of failed entries (see the header).
#include "source/kinesis_producer.h"

#include <chrono>
#include <thread>

namespace lf {

KinesisProducer::KinesisProducer(Sender sender, KinesisProducerOptions options)
    : sender_(std::move(sender)), options_(std::move(options)) {
  std::random_device rd;
  seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

Status KinesisProducer::Add(KinesisPutEntry entry) {
  if (entry.partition_key.empty() || entry.partition_key.size() > 256) {
    return Status::InvalidArgument("Kinesis record: the partition key must have 1 to 256 characters, not " +
                                   std::to_string(entry.partition_key.size()));
  }
  const uint64_t bytes = entry.data.size() + entry.partition_key.size();
  if (bytes > options_.max_record_bytes) {
    return Status::InvalidArgument("Kinesis record of " + std::to_string(bytes) + " bytes: over the limit of " +
                                   std::to_string(options_.max_record_bytes) + " (data and partition key)");
  }
  if (!queued_.empty() && (static_cast<int>(queued_.size()) >= options_.max_records ||
                           queued_bytes_ + bytes > options_.max_request_bytes)) {
    RETURN_IF_ERROR(Flush());
  }
  queued_.push_back(std::move(entry));
  queued_bytes_ += bytes;
  ++added_;
  return Status::OK();
}

Status KinesisProducer::Flush() {
  if (queued_.empty()) return Status::OK();
  std::vector<KinesisPutEntry> batch = std::move(queued_);
  queued_.clear();
  queued_bytes_ = 0;
  return Send(std::move(batch));
}

Status KinesisProducer::Send(std::vector<KinesisPutEntry> batch) {
  aws::Backoff backoff(options_.resend, seed_++);
  const int rounds = std::max(1, options_.resend.max_attempts);
  for (int round = 0; round < rounds && !batch.empty(); ++round) {
    if (round > 0) {
      const int64_t delay = backoff.NextDelayMs();
      if (options_.sleep_ms) {
        options_.sleep_ms(delay);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      }
      resent_ += batch.size();
    }
    ++requests_;
    auto result = sender_(batch);
    if (!result.ok()) {
      failed_ += batch.size();
      return result.status();
    }
    std::vector<KinesisPutEntry> again;
    for (size_t i = 0; i < batch.size(); ++i) {
      const KinesisPutResult::Entry& e = result->entries[i];
      if (e.error_code.empty() && !e.sequence_number.empty()) {
        ++delivered_;
      } else {
        again.push_back(std::move(batch[i]));
      }
    }
    batch = std::move(again);
  }
  failed_ += batch.size();
  if (!batch.empty()) {
    return Status::Unavailable(std::to_string(batch.size()) + " Kinesis records still failed after " +
                               std::to_string(rounds) + " rounds of resending (throughput exceeded?)");
  }
  return Status::OK();
}

}  // namespace lf
