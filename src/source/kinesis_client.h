// KinesisClient: the Kinesis Data Streams API over its JSON protocol
// (POST /, X-Amz-Target: Kinesis_20131202.<Action>,
// application/x-amz-json-1.1), signed with SigV4 and retried on throttling
// and 5xx by aws::AwsClient. The endpoint is AWS_ENDPOINT_URL_KINESIS (or
// AWS_ENDPOINT_URL) when set, else kinesis.REGION.amazonaws.com.
//
// Only what lambdaflow needs: the shards of a stream with their parent
// links (ListShards, paged), shard iterators, GetRecords, PutRecords, and
// CreateStream / stream status for tests and the demo.
//
// Sequence numbers are decimal strings of up to 129 digits: kept as
// strings and compared with CompareSequenceNumbers, never parsed into an
// integer type.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/aws_client.h"
#include "aws/aws_config.h"
#include "common/status.h"

namespace lf {

// kinesis://STREAM → STREAM ([A-Za-z0-9_.-]{1,128}); InvalidArgument
// naming `flag` and the URL otherwise.
Result<std::string> ParseKinesisUrl(const std::string& url, const std::string& flag);
inline bool IsKinesisUrl(std::string_view url) { return url.rfind("kinesis://", 0) == 0; }

// <0, 0, >0 as the decimal numbers a and b compare (leading zeros ignored).
int CompareSequenceNumbers(std::string_view a, std::string_view b);

struct KinesisShard {
  std::string shard_id;
  std::string parent_shard_id;           // "" when none
  std::string adjacent_parent_shard_id;  // "" when none (set after a merge)
  std::string starting_hash_key;
  std::string ending_hash_key;
  std::string starting_sequence_number;
  std::string ending_sequence_number;  // "" while the shard is open
};

struct KinesisRecord {
  std::string sequence_number;
  std::string partition_key;
  std::string data;  // decoded
  double arrival_seconds = 0;
};

struct KinesisGetRecordsResult {
  std::vector<KinesisRecord> records;
  std::string next_iterator;  // "" once a closed shard is read to its end
  int64_t millis_behind_latest = 0;
};

struct KinesisPutEntry {
  std::string partition_key;
  std::string data;
};

struct KinesisPutResult {
  // One per entry sent, in order: a sequence number and shard on success,
  // an error code (ProvisionedThroughputExceededException, InternalFailure) otherwise.
  struct Entry {
    std::string sequence_number;
    std::string shard_id;
    std::string error_code;
    std::string error_message;
  };
  std::vector<Entry> entries;
  int failed = 0;
};

class KinesisClient {
 public:
  KinesisClient(const aws::AwsConfig& config, std::string stream, aws::RetryPolicy retry = {});

  const std::string& stream() const { return stream_; }
  std::string Describe() const;  // "kinesis://STREAM at ENDPOINT"

  Status CreateStream(int shards);
  // "CREATING", "ACTIVE", "UPDATING", "DELETING"; NotFound when there is no such stream.
  Result<std::string> StreamStatus();
  // Every shard, open and closed, with its parent links (all pages).
  Result<std::vector<KinesisShard>> ListShards();
  // type: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER
  // (the last two with `sequence_number`).
  Result<std::string> GetShardIterator(const std::string& shard_id, const std::string& type,
                                       const std::string& sequence_number = "");
  // Expired iterators are an OutOfRange error (ExpiredIteratorException):
  // get a new one after the last record read.
  Result<KinesisGetRecordsResult> GetRecords(const std::string& iterator, int limit = 10000);
  // One PutRecords request (≤ 500 entries, ≤ 5 MiB: the caller's to keep).
  Result<KinesisPutResult> PutRecords(const std::vector<KinesisPutEntry>& entries);
  Status SplitShard(const std::string& shard_id, const std::string& new_starting_hash_key);

  uint64_t requests() const { return client_.requests_sent(); }

 private:
  // Sends `action` with the JSON `body`; the answer's body, or the error
  // it carries as a Status (NotFound for ResourceNotFoundException,
  // OutOfRange for ExpiredIteratorException, ...).
  Result<std::string> Call(const std::string& action, const std::string& body);

  const std::string stream_;
  aws::AwsClient client_;
};

}  // namespace lf
