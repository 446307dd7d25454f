// The object store on S3 (see the header for the mapping to requests).
#include "store/s3_object_store.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "aws/xml.h"

namespace lf {

namespace {

constexpr char kNonceHeader[] = "x-amz-meta-lf-nonce";

bool ValidBucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return true;
}

// The S3 error code and message of an error answer ("" when there is none).
std::pair<std::string, std::string> ErrorCode(const aws::HttpResponse& r) {
  if (r.body.empty()) return {};
  auto root = aws::ParseXml(r.body, "S3 error");
  if (!root.ok() || (*root)->name != "Error") return {};
  return {(*root)->ChildText("Code"), (*root)->ChildText("Message")};
}

class S3ObjectWriter final : public ObjectWriter {
 public:
  // `multipart`: a multipart upload whatever the size (the probe's second create).
  S3ObjectWriter(S3ObjectStore* store, std::string key, bool multipart = false)
      : store_(store), key_(std::move(key)), multipart_(multipart) {}
  ~S3ObjectWriter() override { Abort(); }
  S3ObjectWriter(const S3ObjectWriter&) = delete;
  S3ObjectWriter& operator=(const S3ObjectWriter&) = delete;

  Status Append(std::string_view data) override {
    if (done_) return Status::Internal("append to object " + key_ + ": the writer is finished");
    size_ += data.size();
    buffer_.append(data);
    while (buffer_.size() > store_->part_size()) {
      // More than a part: the object goes multipart; send full parts as they fill.
      RETURN_IF_ERROR(UploadPart(std::string_view(buffer_).substr(0, store_->part_size())));
      buffer_.erase(0, store_->part_size());
    }
    return Status::OK();
  }

  Status Commit() override {
    if (done_) return Status::Internal("commit object " + key_ + ": the writer is finished");
    done_ = true;
    Status st = upload_id_.empty() && !multipart_ ? PutWhole() : CompleteMultipart();
    buffer_.clear();
    buffer_.shrink_to_fit();
    if (!st.ok() && !upload_id_.empty()) AbortUpload();
    return st;
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    buffer_.clear();
    if (!upload_id_.empty()) AbortUpload();
  }

  uint64_t size() const override { return size_; }

 private:
  Status PutWhole() {
    aws::AwsRequest req{"PUT", store_->PathOf(key_), {}, {{"If-None-Match", "*"}, {kNonceHeader, nonce_}}, buffer_};
    return store_->CreateIfAbsent(key_, req, nonce_, "put");
  }

  Status UploadPart(std::string_view part) {
    if (upload_id_.empty()) {
      aws::AwsRequest start{"POST", store_->PathOf(key_), {{"uploads", ""}}, {{kNonceHeader, nonce_}}, {}};
      ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, store_->Send(start));
      if (sent.response.status != 200) return store_->ErrorOf("start a multipart upload of", key_, sent.response);
      ASSIGN_OR_RETURN(auto root, aws::ParseXml(sent.response.body, "the answer to starting a multipart upload of " +
                                                                        store_->ObjectName(key_)));
      upload_id_ = root->ChildText("UploadId");
      if (upload_id_.empty()) {
        return Status::Corruption("the answer to starting a multipart upload of " + store_->ObjectName(key_) +
                                  " has no UploadId");
      }
    }
    const int number = static_cast<int>(etags_.size()) + 1;
    aws::AwsRequest req{
        "PUT", store_->PathOf(key_), {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}}, {}, part};
    ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, store_->Send(req));
    if (sent.response.status != 200) {
      return store_->ErrorOf("upload part " + std::to_string(number) + " of", key_, sent.response);
    }
    const std::string etag = sent.response.Header("etag");
    if (etag.empty()) {
      return Status::Corruption("the answer to part " + std::to_string(number) + " of " + store_->ObjectName(key_) +
                                " has no ETag");
    }
    etags_.push_back(etag);
    return Status::OK();
  }

  Status CompleteMultipart() {
    if (!buffer_.empty()) RETURN_IF_ERROR(UploadPart(buffer_));
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags_[i] + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    aws::AwsRequest req{"POST",
                        store_->PathOf(key_),
                        {{"uploadId", upload_id_}},
                        {{"If-None-Match", "*"}, {"Content-Type", "application/xml"}},
                        body};
    Status st = store_->CreateIfAbsent(key_, req, nonce_, "complete the multipart upload of");
    if (st.ok()) upload_id_.clear();  // completed: nothing to abort
    return st;
  }

  void AbortUpload() {
    // Best effort: an upload left behind costs storage until the bucket's
    // lifecycle rule (AbortIncompleteMultipartUpload) removes it.
    aws::AwsRequest req{"DELETE", store_->PathOf(key_), {{"uploadId", upload_id_}}, {}, {}};
    (void)store_->Send(req);
    upload_id_.clear();
  }

  S3ObjectStore* const store_;
  const std::string key_;
  const bool multipart_;
  const std::string nonce_ = S3ObjectStore::NewNonce();
  std::string buffer_;  // bytes not yet sent: at most one part
  uint64_t size_ = 0;
  std::string upload_id_;  // set once the upload went multipart
  std::vector<std::string> etags_;
  bool done_ = false;
};

aws::AwsClientOptions ClientOptions(const S3ObjectStoreOptions& o) {
  aws::AwsClientOptions c;
  c.service = "s3";
  c.retry = o.retry;
  c.http = o.http;
  c.s3_payload_header = true;
  return c;
}

}  // namespace

Result<S3Url> ParseS3Url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("store URL '" + url + "': " + why + "; expected s3://BUCKET or s3://BUCKET/PREFIX");
  };
  if (url.rfind("s3://", 0) != 0) return bad("not an s3:// URL");
  std::string rest = url.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  S3Url u;
  const size_t slash = rest.find('/');
  u.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) u.prefix = rest.substr(slash + 1);
  if (!ValidBucket(u.bucket)) return bad("the bucket name must be 3 to 63 of a-z, 0-9, '.', '-'");
  if (!u.prefix.empty()) {
    Status st = ValidateKey(u.prefix);
    if (!st.ok()) return bad("the prefix: " + st.message());
  }
  return u;
}

S3ObjectStore::S3ObjectStore(const aws::AwsConfig& config, S3Url url, S3ObjectStoreOptions options)
    : url_(std::move(url)),
      options_(options),
      bucket_(config.S3For(url_.bucket)),
      describe_("s3://" + url_.bucket + (url_.prefix.empty() ? "" : "/" + url_.prefix)),
      client_(bucket_.endpoint, config.credentials, config.region, ClientOptions(options)) {}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(const aws::AwsConfig& config, const std::string& url,
                                                           S3ObjectStoreOptions options) {
  ASSIGN_OR_RETURN(S3Url u, ParseS3Url(url));
  if (options.part_size < 1) return Status::InvalidArgument("S3 store: the part size must be positive");
  if (options.list_page_size < 1 || options.list_page_size > 1000) {
    return Status::InvalidArgument("S3 store: the list page size must be 1 to 1000");
  }
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(config, std::move(u), options));
}

std::string S3ObjectStore::PathOf(const std::string& key) const {
  return bucket_.bucket_path + "/" + (url_.prefix.empty() ? key : url_.prefix + "/" + key);
}

std::string S3ObjectStore::NewNonce() {
  static thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                          std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

Status S3ObjectStore::ErrorOf(const std::string& what, const std::string& key, const aws::HttpResponse& r) const {
  auto [code, message] = ErrorCode(r);
  std::string msg = what + " " + ObjectName(key) + ": HTTP " + std::to_string(r.status);
  if (!code.empty()) msg += " " + code;
  if (!message.empty()) msg += " (" + message + ")";
  if (r.status == 403) {
    msg += "; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and that they may read and write the bucket";
    return Status::IOError(msg);
  }
  if (code == "NoSuchBucket") return Status::NotFound(msg + "; create the bucket first");
  if (r.status == 404) return Status::NotFound(msg);
  return Status::IOError(msg);
}

Status S3ObjectStore::CreateIfAbsent(const std::string& key, const aws::AwsRequest& request, const std::string& nonce,
                                     const char* what) {
  // A 409 ConditionalRequestConflict (a concurrent conditional write of the
  // key was in flight) is sent again: one of the two will win.
  constexpr int kConflictRounds = 5;
  for (int round = 0; round < kConflictRounds; ++round) {
    auto sent = client_.Send(request);
    if (!sent.ok()) return sent.status();
    const aws::HttpResponse& r = sent->response;
    auto [code, message] = ErrorCode(r);
    if (r.status == 200 && code.empty()) return Status::OK();
    if (r.status == 200 && (code == "InternalError" || code == "SlowDown")) {
      continue;  // CompleteMultipartUpload's late failure, answered 200: send it again
    }
    if (r.status == 409 && code == "ConditionalRequestConflict") {
      continue;
    }
    const bool taken = r.status == 412;
    // A 412 may answer this write's own earlier attempt: one the AwsClient
    // retried after a timeout or a dropped connection, or one libcurl sent
    // again by itself on a fresh connection when a reused one died, which
    // nothing above it can see. So every 412 is checked against the nonce
    // (one HEAD, only on a conflict). A CompleteMultipartUpload whose
    // earlier attempt completed finds the upload gone (404 NoSuchUpload):
    // checked the same way.
    if (taken || code == "NoSuchUpload") {
      aws::AwsRequest head{"HEAD", PathOf(key), {}, {}, {}};
      ASSIGN_OR_RETURN(aws::AwsClient::Sent h, client_.Send(head));
      if (h.response.status == 200 && h.response.Header(kNonceHeader) == nonce) return Status::OK();
      if (taken) return Status::AlreadyExists("object " + key + " in " + describe_ + " already exists");
    }
    return ErrorOf(what, key, r);
  }
  return Status::Unavailable(std::string(what) + " " + ObjectName(key) +
                             ": concurrent conditional writes of the key kept conflicting; retry");
}

Result<std::unique_ptr<ObjectWriter>> S3ObjectStore::NewObject(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  return std::unique_ptr<ObjectWriter>(std::make_unique<S3ObjectWriter>(this, key));
}

Result<std::string> S3ObjectStore::Get(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send({"GET", PathOf(key), {}, {}, {}}));
  if (sent.response.status != 200) return ErrorOf("get", key, sent.response);
  return std::move(sent.response.body);
}

Result<std::string> S3ObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    RETURN_IF_ERROR(Size(key).status());
    return std::string();
  }
  const std::string range = "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send({"GET", PathOf(key), {}, {{"Range", range}}, {}}));
  const aws::HttpResponse& r = sent.response;
  if (r.status == 416) return std::string();  // the range starts at or past the end
  if (r.status == 206) return std::move(sent.response.body);
  if (r.status == 200) {
    // A store that ignores Range sends everything: cut it here.
    const std::string& all = r.body;
    if (offset >= all.size()) return std::string();
    return all.substr(offset, std::min<uint64_t>(length, all.size() - offset));
  }
  return ErrorOf("get a range of", key, r);
}

Result<uint64_t> S3ObjectStore::Size(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send({"HEAD", PathOf(key), {}, {}, {}}));
  if (sent.response.status != 200) return ErrorOf("head", key, sent.response);
  const std::string len = sent.response.Header("content-length");
  uint64_t n = 0;
  if (len.empty() || std::sscanf(len.c_str(), "%llu", reinterpret_cast<unsigned long long*>(&n)) != 1) {
    return Status::Corruption("head " + ObjectName(key) + ": no Content-Length in the answer");
  }
  return n;
}

Status S3ObjectStore::Replace(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateKey(key));
  ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send({"PUT", PathOf(key), {}, {}, data}));
  if (sent.response.status != 200) return ErrorOf("replace", key, sent.response);
  return Status::OK();
}

Status S3ObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key));
  ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send({"DELETE", PathOf(key), {}, {}, {}}));
  const long s = sent.response.status;
  if (s == 204 || s == 200 || s == 404) return Status::OK();
  return ErrorOf("delete", key, sent.response);
}

Result<std::vector<std::string>> S3ObjectStore::List(const std::string& prefix) {
  const std::string root = url_.prefix.empty() ? "" : url_.prefix + "/";
  std::vector<std::string> keys;
  std::string token;
  for (;;) {
    aws::Params query{
        {"list-type", "2"}, {"prefix", root + prefix}, {"max-keys", std::to_string(options_.list_page_size)}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    ASSIGN_OR_RETURN(aws::AwsClient::Sent sent, client_.Send({"GET", bucket_.bucket_path + "/", query, {}, {}}));
    if (sent.response.status != 200) return ErrorOf("list keys under", prefix, sent.response);
    ASSIGN_OR_RETURN(auto doc, aws::ParseXml(sent.response.body, "the listing of " + describe_ + "/" + prefix));
    for (const aws::XmlElement* c : doc->Children("Contents")) {
      std::string key = c->ChildText("Key");
      if (key.compare(0, root.size(), root) != 0) continue;
      key.erase(0, root.size());
      if (ValidateKey(key).ok()) keys.push_back(std::move(key));  // skip what no ObjectStore key can name
    }
    if (doc->ChildText("IsTruncated") != "true") break;
    token = doc->ChildText("NextContinuationToken");
    if (token.empty()) {
      return Status::Corruption("the listing of " + describe_ + "/" + prefix +
                                " is truncated but has no NextContinuationToken");
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

Result<ConditionalWrites> S3ObjectStore::ProbeConditionalWrites() {
  // Both ways of creating: a second PUT, and a second create by a
  // (one-part) multipart upload, of a key that exists must be refused.
  const std::string key = "probe/" + NewNonce();
  RETURN_IF_ERROR(PutIfAbsent(key, "lambdaflow conditional-write probe: first\n"));
  const Status by_put = PutIfAbsent(key, "lambdaflow conditional-write probe: second\n");
  S3ObjectWriter w(this, key, /*multipart=*/true);
  Status by_upload = w.Append("lambdaflow conditional-write probe: third\n");
  if (by_upload.ok()) by_upload = w.Commit();
  const Status deleted = Delete(key);
  for (const Status* st : std::initializer_list<const Status*>{&by_put, &by_upload}) {
    if (!st->ok() && st->code() != StatusCode::kAlreadyExists) return *st;
  }
  RETURN_IF_ERROR(deleted);
  // A create that succeeded on a taken key overwrote it (whatever it holds now).
  return by_put.ok() || by_upload.ok() ? ConditionalWrites::kIgnored : ConditionalWrites::kHonoured;
}

Status CheckConditionalWrites(ConditionalWrites probe, const std::string& store, int writers, std::string* warning) {
  if (probe == ConditionalWrites::kHonoured) return Status::OK();
  const std::string what = "the store " + store +
                           " does not honour conditional writes: it accepted a second create of the same object "
                           "(If-None-Match: *) and overwrote the first";
  if (writers <= 1) {
    if (warning) *warning = what + "; one writer goes on, but a second one would overwrite its manifests unnoticed";
    return Status::OK();
  }
  return Status::InvalidArgument(what + ", so " + std::to_string(writers) +
                                 " workers could overwrite each other's manifests: refused. Run a single worker, "
                                 "or use a store that honours If-None-Match (AWS S3 does)");
}

}  // namespace lf
