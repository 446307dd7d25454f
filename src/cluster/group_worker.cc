#include "cluster/group_worker.h"

#include <thread>

#include "common/format.h"
#include "master/master_store.h"

namespace lf {
namespace {

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

GroupWorker::GroupWorker(Pipeline* pipeline, GroupWorkerOptions options)
    : pipeline_(pipeline),
      options_(std::move(options)),
      writer_id_(pipeline->data_dir()->master()->writer_id()),
      local_(PipelinePartials(pipeline)),
      directory_(pipeline->data_dir()->store()),
      http_(aws::HttpClientOptions{.connect_timeout_ms = options_.fetch_timeout.count(),
                                   .timeout_ms = options_.fetch_timeout.count()}) {
  for (int p = 0; p < pipeline->partitions(); ++p) {
    auto r = std::make_unique<ChainReader>();
    // Read only: the writer id is never written by a reader.
    ManifestChainOptions o;
    o.writer_id = writer_id_ + "-reader";
    r->chain = std::make_unique<ManifestChain>(pipeline->data_dir()->store(), static_cast<uint32_t>(p), o);
    chains_.push_back(std::move(r));
  }
}

Result<std::unique_ptr<GroupWorker>> GroupWorker::Start(Pipeline* pipeline, GroupWorkerOptions options) {
  std::unique_ptr<GroupWorker> w(new GroupWorker(pipeline, std::move(options)));
  MasterStore* master = pipeline->data_dir()->master();
  HeartbeatOptions h;
  h.writer_id = w->writer_id_;
  h.address = w->options_.address;
  h.interval = w->options_.heartbeat;
  h.log = w->options_.log;
  h.owned = [master] {
    std::map<uint32_t, uint64_t> owned;
    for (int p : master->Owned()) owned[static_cast<uint32_t>(p)] = master->Epoch(p);
    return owned;
  };
  w->heartbeat_ = std::make_unique<WorkerHeartbeat>(&w->directory_, std::move(h));
  if (Status st = w->heartbeat_->Start(); !st.ok() && w->options_.log)
    w->options_.log("group: the workers' directory record could not be written (retrying): " + st.ToString());
  return w;
}

GroupWorker::~GroupWorker() { (void)Stop(); }

Status GroupWorker::Stop() { return heartbeat_ ? heartbeat_->Stop() : Status::OK(); }

int GroupWorker::partitions() const { return pipeline_->partitions(); }

int64_t GroupWorker::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::vector<WorkerRecord>> GroupWorker::Directory() {
  MutexLock lock(&dir_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (dir_cache_ && now - dir_read_ < options_.directory_cache) return *dir_cache_;
  ASSIGN_OR_RETURN(std::vector<WorkerRecord> records, directory_.List());
  // A killed worker's record stays behind (a restart has a new writer id):
  // one not replaced for options_.forget_after is removed, best effort. A
  // worker that was only paused that long publishes its record again at
  // its next heartbeat.
  const int64_t forget_before = NowMs() - options_.forget_after.count();
  std::erase_if(records, [&](const WorkerRecord& r) {
    if (r.updated_ms >= forget_before || r.writer_id == writer_id_) return false;
    (void)directory_.Remove(r.writer_id);
    return true;
  });
  dir_cache_ = records;
  dir_read_ = now;
  return records;
}

Result<uint64_t> GroupWorker::ChainEpoch(uint32_t partition) {
  if (partition >= chains_.size()) return Status::InvalidArgument("no partition " + std::to_string(partition));
  ChainReader& r = *chains_[partition];
  MutexLock lock(&r.mu);
  const auto now = std::chrono::steady_clock::now();
  if (r.valid && now - r.read < options_.epoch_cache) return r.epoch;
  ASSIGN_OR_RETURN(std::optional<PartitionManifest> latest, r.chain->ReadLatest());
  r.epoch = latest ? latest->epoch : 0;
  r.read = now;
  r.valid = true;
  return r.epoch;
}

Result<Partial> GroupWorker::FetchOne(const std::string& address, const std::string& view) {
  aws::HttpRequest req;
  req.method = "GET";
  req.url = "http://" + address + "/v1/internal/partial?view=" + PercentEncode(view);
  if (!options_.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.token);
  // A transport failure (refused, reset, timed out) is Unavailable or
  // DeadlineExceeded; an answer that is not a partial is Conflict (the
  // worker is alive: it is asked again next time).
  ASSIGN_OR_RETURN(aws::HttpResponse res, http_.Perform(req));
  if (res.status != 200)
    return Status(StatusCode::kConflict,
                  "worker " + address + " answered " + std::to_string(res.status) + ": " + res.body.substr(0, 300));
  return DecodePartial(res.body, "worker " + address);
}

std::vector<Result<Partial>> GroupWorker::Fetch(const std::vector<std::string>& addresses, const std::string& view) {
  std::vector<std::optional<Result<Partial>>> out(addresses.size());
  std::vector<size_t> ask;
  {
    MutexLock lock(&pause_mu_);
    const auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < addresses.size(); ++i) {
      auto it = paused_.find(addresses[i]);
      if (it != paused_.end() && now < it->second) {
        out[i].emplace(
            Status::Unavailable("worker " + addresses[i] + " did not answer a moment ago: not asked again yet"));
      } else {
        ask.push_back(i);
      }
    }
  }
  std::vector<std::thread> threads;
  for (size_t k = 1; k < ask.size(); ++k)
    threads.emplace_back([&, i = ask[k]] { out[i].emplace(FetchOne(addresses[i], view)); });
  if (!ask.empty()) out[ask[0]].emplace(FetchOne(addresses[ask[0]], view));  // the first on this thread
  for (auto& t : threads) t.join();
  std::vector<Result<Partial>> results;
  MutexLock lock(&pause_mu_);
  for (size_t i : ask) {
    const StatusCode code = out[i]->ok() ? StatusCode::kOk : out[i]->status().code();
    // No answer at all (refused, reset, timed out): pause asking it.
    if (code == StatusCode::kDeadlineExceeded || code == StatusCode::kUnavailable)
      paused_[addresses[i]] = std::chrono::steady_clock::now() + options_.unanswered_pause;
  }
  for (auto& r : out) results.push_back(std::move(*r));
  fetched_.fetch_add(ask.size(), std::memory_order_relaxed);
  return results;
}

std::optional<Gathered> GroupWorker::GatherView(size_t view) {
  if (local_->OwnsAll()) {
    local_only_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  gathers_.fetch_add(1, std::memory_order_relaxed);
  auto g = Gather(this, pipeline_->served().plan(view), view, options_.gather);
  if (!g.ok()) {
    fallbacks_.fetch_add(1, std::memory_order_relaxed);
    MutexLock lock(&note_mu_);
    if (last_fallback_ != g.status().message() && options_.log)
      options_.log("group: a query is answered from this worker's states alone (exact, less fresh): " +
                   g.status().ToString());
    last_fallback_ = g.status().message();
    return std::nullopt;
  }
  size_t batch = 0;
  for (const auto& s : g->report.partitions) batch += s.from == GatherReport::From::kBatch;
  from_batch_.fetch_add(batch, std::memory_order_relaxed);
  if (!g->report.refused.empty() || batch > 0) {
    // Someone did not answer as the directory said: read it again next time.
    {
      MutexLock lock(&dir_mu_);
      dir_cache_.reset();
    }
    refused_.fetch_add(g->report.refused.size(), std::memory_order_relaxed);
    if (!g->report.refused.empty()) {
      MutexLock lock(&note_mu_);
      last_refusal_ = g->report.refused.back();
    }
  }
  return std::move(*g);
}

Result<std::string> GroupWorker::PartialBody(size_t view) {
  ASSIGN_OR_RETURN(LocalPartial local, local_->Owned(view));
  const ViewPlan& plan = pipeline_->served().plan(view);
  Partial p;
  p.writer_id = writer_id_;
  p.view = plan.name();
  p.fingerprint = plan.fingerprint();
  p.caught_up_ms = local.caught_up_ms;
  p.partitions = std::move(local.partitions);
  local.state->Serialize(&p.state);
  return EncodePartial(p);
}

std::string GroupWorker::StatusJson() {
  const auto n = static_cast<uint32_t>(partitions());
  MasterStore* master = pipeline_->data_dir()->master();
  std::map<uint32_t, PartitionOwner> owners;
  std::string dir_error;
  if (auto records = Directory(); records.ok()) {
    owners = WorkerDirectory::Owners(*records, NowMs(), options_.gather.directory_max_age_ms);
  } else {
    dir_error = records.status().ToString();
  }
  std::string out = "{\"writer\":";
  AppendJsonString(writer_id_, &out);
  out += ",\"address\":";
  AppendJsonString(options_.address, &out);
  out += ",\"partitions\":[";
  for (uint32_t p = 0; p < n; ++p) {
    if (p) out.push_back(',');
    out += "{\"partition\":" + std::to_string(p);
    const bool mine = master->Owns(static_cast<int>(p));
    if (mine) {
      out += ",\"owner\":";
      AppendJsonString(writer_id_, &out);
      out += ",\"address\":";
      AppendJsonString(options_.address, &out);
      out += ",\"epoch\":" + std::to_string(master->Epoch(static_cast<int>(p))) + ",\"self\":true}";
      continue;
    }
    auto it = owners.find(p);
    if (it == owners.end() || it->second.writer_id == writer_id_) {
      out += ",\"owner\":null,\"address\":null,\"epoch\":null,\"self\":false}";
      continue;
    }
    out += ",\"owner\":";
    AppendJsonString(it->second.writer_id, &out);
    out += ",\"address\":";
    AppendJsonString(it->second.address, &out);
    out += ",\"epoch\":" + std::to_string(it->second.epoch) + ",\"self\":false}";
  }
  out += "],\"directory_error\":";
  if (dir_error.empty()) {
    out += "null";
  } else {
    AppendJsonString(dir_error, &out);
  }
  out += ",\"heartbeats\":" + std::to_string(heartbeat_->publishes()) +
         ",\"heartbeat_failures\":" + std::to_string(heartbeat_->failures());
  out += ",\"gathers\":{\"local_only\":" + std::to_string(local_only_.load()) +
         ",\"gathered\":" + std::to_string(gathers_.load()) +
         ",\"partials_fetched\":" + std::to_string(fetched_.load()) +
         ",\"partials_refused\":" + std::to_string(refused_.load()) +
         ",\"partitions_from_batch\":" + std::to_string(from_batch_.load()) +
         ",\"fallbacks\":" + std::to_string(fallbacks_.load());
  MutexLock lock(&note_mu_);
  out += ",\"last_refusal\":";
  if (last_refusal_.empty()) {
    out += "null";
  } else {
    AppendJsonString(last_refusal_, &out);
  }
  out += ",\"last_fallback\":";
  if (last_fallback_.empty()) {
    out += "null";
  } else {
    AppendJsonString(last_fallback_, &out);
  }
  out += "}}";
  return out;
}

}  // namespace lf
