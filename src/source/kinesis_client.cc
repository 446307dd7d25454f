// The Kinesis JSON protocol (see the header).
#include "source/kinesis_client.h"

#include <simdjson.h>

#include "aws/base64.h"
#include "common/format.h"

namespace lf {

namespace {

aws::AwsClientOptions ClientOptions(const aws::RetryPolicy& retry) {
  aws::AwsClientOptions o;
  o.service = "kinesis";
  o.retry = retry;
  o.http.timeout_ms = 30000;
  return o;
}

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string_view Trimmed(std::string_view s) {
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return s;
}

// A string field of a JSON object, "" when absent or not a string.
std::string Str(simdjson::dom::element e, const char* field) {
  std::string_view v;
  if (e[field].get_string().get(v) != simdjson::SUCCESS) return std::string();
  return std::string(v);
}

}  // namespace

Result<std::string> ParseKinesisUrl(const std::string& url, const std::string& flag) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(flag + " '" + url + "': " + why + "; expected kinesis://STREAM");
  };
  if (!IsKinesisUrl(url)) return bad("not a kinesis:// URL");
  const std::string stream = url.substr(10);
  if (stream.empty() || stream.size() > 128) return bad("the stream name must have 1 to 128 characters");
  for (char c : stream) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return bad("the stream name may hold only letters, digits, '_', '.', '-'");
    }
  }
  return stream;
}

int CompareSequenceNumbers(std::string_view a, std::string_view b) {
  a = Trimmed(a);
  b = Trimmed(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

KinesisClient::KinesisClient(const aws::AwsConfig& config, std::string stream, aws::RetryPolicy retry)
    : stream_(std::move(stream)), client_(config.Kinesis(), config.credentials, config.region, ClientOptions(retry)) {}

std::string KinesisClient::Describe() const { return "kinesis://" + stream_ + " at " + client_.endpoint().Url(""); }

Result<std::string> KinesisClient::Call(const std::string& action, const std::string& body) {
  aws::AwsRequest req{"POST",
                      "/",
                      {},
                      {{"X-Amz-Target", "Kinesis_20131202." + action}, {"Content-Type", "application/x-amz-json-1.1"}},
                      body};
  ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send(req));
  const aws::HttpResponse& r = sent.response;
  if (r.status == 200) return std::move(sent.response.body);
  std::string type, message;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) == simdjson::SUCCESS) {
    type = Str(doc, "__type");
    message = Str(doc, "message");
    if (message.empty()) message = Str(doc, "Message");
  }
  const size_t hash = type.rfind('#');
  if (hash != std::string::npos) type = type.substr(hash + 1);
  std::string what = action + " on " + Describe() + ": HTTP " + std::to_string(r.status) +
                     (type.empty() ? "" : " " + type) + (message.empty() ? "" : " (" + message + ")");
  if (type == "ResourceNotFoundException") return Status::NotFound(what);
  if (type == "ExpiredIteratorException") return Status::OutOfRange(what + "; get a new shard iterator");
  if (type == "ResourceInUseException") return Status::AlreadyExists(what);
  if (type == "InvalidArgumentException" || type == "ValidationException") return Status::InvalidArgument(what);
  if (r.status == 403 || type == "UnrecognizedClientException" || type == "AccessDeniedException") {
    return Status::IOError(what + "; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the stream's permissions");
  }
  return Status::IOError(what);
}

Status KinesisClient::CreateStream(int shards) {
  return Call("CreateStream", "{\"StreamName\":" + Json(stream_) + ",\"ShardCount\":" + std::to_string(shards) + "}")
      .status();
}

Result<std::string> KinesisClient::StreamStatus() {
  ASSIGN_OR_RETURN(std::string body, Call("DescribeStreamSummary", "{\"StreamName\":" + Json(stream_) + "}"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    return Status::Corruption("DescribeStreamSummary on " + Describe() + ": the answer is not JSON");
  }
  return Str(doc["StreamDescriptionSummary"], "StreamStatus");
}

Result<std::vector<KinesisShard>> KinesisClient::ListShards() {
  std::vector<KinesisShard> shards;
  std::string token;
  for (;;) {
    // With a NextToken, the stream name must not be sent.
    const std::string body =
        token.empty() ? "{\"StreamName\":" + Json(stream_) + "}" : "{\"NextToken\":" + Json(token) + "}";
    ASSIGN_OR_RETURN(std::string answer, Call("ListShards", body));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array list;
    if (parser.parse(answer).get(doc) != simdjson::SUCCESS ||
        doc["Shards"].get_array().get(list) != simdjson::SUCCESS) {
      return Status::Corruption("ListShards on " + Describe() + ": the answer has no Shards list");
    }
    for (simdjson::dom::element s : list) {
      KinesisShard shard;
      shard.shard_id = Str(s, "ShardId");
      shard.parent_shard_id = Str(s, "ParentShardId");
      shard.adjacent_parent_shard_id = Str(s, "AdjacentParentShardId");
      shard.starting_hash_key = Str(s["HashKeyRange"], "StartingHashKey");
      shard.ending_hash_key = Str(s["HashKeyRange"], "EndingHashKey");
      shard.starting_sequence_number = Str(s["SequenceNumberRange"], "StartingSequenceNumber");
      shard.ending_sequence_number = Str(s["SequenceNumberRange"], "EndingSequenceNumber");
      if (shard.shard_id.empty())
        return Status::Corruption("ListShards on " + Describe() + ": a shard without ShardId");
      shards.push_back(std::move(shard));
    }
    token = Str(doc, "NextToken");
    if (token.empty()) break;
  }
  return shards;
}

Result<std::string> KinesisClient::GetShardIterator(const std::string& shard_id, const std::string& type,
                                                    const std::string& sequence_number) {
  std::string body =
      "{\"StreamName\":" + Json(stream_) + ",\"ShardId\":" + Json(shard_id) + ",\"ShardIteratorType\":" + Json(type);
  if (!sequence_number.empty()) body += ",\"StartingSequenceNumber\":" + Json(sequence_number);
  body += "}";
  ASSIGN_OR_RETURN(std::string answer, Call("GetShardIterator", body));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(answer).get(doc) != simdjson::SUCCESS || Str(doc, "ShardIterator").empty()) {
    return Status::Corruption("GetShardIterator on " + Describe() + ": the answer has no ShardIterator");
  }
  return Str(doc, "ShardIterator");
}

Result<KinesisGetRecordsResult> KinesisClient::GetRecords(const std::string& iterator, int limit) {
  ASSIGN_OR_RETURN(std::string answer, Call("GetRecords", "{\"ShardIterator\":" + Json(iterator) +
                                                              ",\"Limit\":" + std::to_string(limit) + "}"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array list;
  if (parser.parse(answer).get(doc) != simdjson::SUCCESS || doc["Records"].get_array().get(list) != simdjson::SUCCESS) {
    return Status::Corruption("GetRecords on " + Describe() + ": the answer has no Records list");
  }
  KinesisGetRecordsResult out;
  out.next_iterator = Str(doc, "NextShardIterator");
  int64_t behind = 0;
  if (doc["MillisBehindLatest"].get_int64().get(behind) == simdjson::SUCCESS) out.millis_behind_latest = behind;
  for (simdjson::dom::element r : list) {
    KinesisRecord rec;
    rec.sequence_number = Str(r, "SequenceNumber");
    rec.partition_key = Str(r, "PartitionKey");
    ASSIGN_OR_RETURN(rec.data,
                     aws::Base64Decode(Str(r, "Data"), "record " + rec.sequence_number + " of " + Describe()));
    double t = 0;
    if (r["ApproximateArrivalTimestamp"].get_double().get(t) == simdjson::SUCCESS) rec.arrival_seconds = t;
    out.records.push_back(std::move(rec));
  }
  return out;
}

Result<KinesisPutResult> KinesisClient::PutRecords(const std::vector<KinesisPutEntry>& entries) {
  std::string body = "{\"StreamName\":" + Json(stream_) + ",\"Records\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) body += ",";
    body += "{\"PartitionKey\":" + Json(entries[i].partition_key) + ",\"Data\":\"" +
            aws::Base64Encode(entries[i].data) + "\"}";
  }
  body += "]}";
  ASSIGN_OR_RETURN(std::string answer, Call("PutRecords", body));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array list;
  if (parser.parse(answer).get(doc) != simdjson::SUCCESS || doc["Records"].get_array().get(list) != simdjson::SUCCESS) {
    return Status::Corruption("PutRecords on " + Describe() + ": the answer has no Records list");
  }
  KinesisPutResult out;
  for (simdjson::dom::element r : list) {
    KinesisPutResult::Entry e{Str(r, "SequenceNumber"), Str(r, "ShardId"), Str(r, "ErrorCode"), Str(r, "ErrorMessage")};
    if (!e.error_code.empty() || e.sequence_number.empty()) ++out.failed;
    out.entries.push_back(std::move(e));
  }
  if (out.entries.size() != entries.size()) {
    return Status::Corruption("PutRecords on " + Describe() + ": " + std::to_string(entries.size()) +
                              " records sent, " + std::to_string(out.entries.size()) + " answered");
  }
  return out;
}

Status KinesisClient::SplitShard(const std::string& shard_id, const std::string& new_starting_hash_key) {
  return Call("SplitShard", "{\"StreamName\":" + Json(stream_) + ",\"ShardToSplit\":" + Json(shard_id) +
                                ",\"NewStartingHashKey\":" + Json(new_starting_hash_key) + "}")
      .status();
}

}  // namespace lf
