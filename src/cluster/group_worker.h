// GroupWorker: what makes a `run --group` worker one of several that answer
// as one (docs/formats/ownership.md §4–§5). It keeps this worker's record in
// the workers' directory (a WorkerHeartbeat), answers other workers' asks
// for its partial state (`GET /v1/internal/partial`), gathers a query's
// state from the owners of the partitions this worker does not own (over
// HTTP, libcurl), and reports who owns what for /v1/status.
//
// It is the production GatherBackend: the local partial comes from the
// pipeline (LocalPartials below), the directory is listed at most once per
// `directory_cache`, chains' latest epochs are read at most once per
// `epoch_cache` per partition, and owners are asked in parallel, each
// within `fetch_timeout`.
//
// Thread-safe: every method may be called from any HTTP thread at once.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/http_client.h"
#include "cluster/gather.h"
#include "cluster/worker_heartbeat.h"
#include "common/mutex.h"
#include "pipeline/pipeline.h"
#include "store/manifest_chain.h"
#include "store/worker_directory.h"

namespace lf {

// What this worker holds, per view, for the gather: its owned partitions'
// state with their epochs, W and S, and a partition's batch state alone.
class LocalPartials {
 public:
  virtual ~LocalPartials() = default;
  virtual Result<LocalPartial> Owned(size_t view) = 0;
  virtual Result<BatchPiece> BatchOnly(size_t view, uint32_t partition) = 0;
  // True when every partition is owned here (then a query needs nobody else).
  virtual bool OwnsAll() = 0;
};

// LocalPartials over a running pipeline.
std::unique_ptr<LocalPartials> PipelinePartials(Pipeline* pipeline);

struct GroupWorkerOptions {
  std::string address;  // host:port others reach this worker's HTTP API at
  std::string token;    // sent to other workers as a bearer token when not empty
  std::chrono::milliseconds heartbeat{2000};
  std::chrono::milliseconds directory_cache{1000};
  // A directory record not replaced for this long (a killed worker's) is
  // removed by the next reader.
  std::chrono::milliseconds forget_after{10 * 60 * 1000};
  std::chrono::milliseconds epoch_cache{200};
  std::chrono::milliseconds fetch_timeout{1500};
  // A worker that did not answer (refused, timed out) is not asked again
  // for this long: a stopped worker costs one query one timeout, not every
  // query (its partitions are answered without it meanwhile).
  std::chrono::milliseconds unanswered_pause{3000};
  GatherOptions gather;
  std::function<void(const std::string&)> log;
};

class GroupWorker final : public GatherBackend {
 public:
  // `pipeline` (a group member's: PipelineOptions::member) must outlive
  // this object. Publishes the first directory record.
  static Result<std::unique_ptr<GroupWorker>> Start(Pipeline* pipeline, GroupWorkerOptions options);
  ~GroupWorker() override;

  // Removes this worker's directory record (a clean stop).
  Status Stop();

  // The gathered state of a view, or nullopt when this worker owns every
  // partition (its served views answer alone: nothing is copied).
  // Falls back to nullopt as well, logging why, when some partition can be
  // answered by nobody: the served views are exact, only less fresh.
  std::optional<Gathered> GatherView(size_t view);
  // The body of GET /v1/internal/partial?view=NAME (kPartialContentType).
  Result<std::string> PartialBody(size_t view);
  // The "group" object of /v1/status: this worker, every partition's owner
  // as the directory says, the gathers so far.
  std::string StatusJson();

  // GatherBackend.
  int partitions() const override;
  const std::string& writer_id() const override { return writer_id_; }
  Result<LocalPartial> Local(size_t view) override { return local_->Owned(view); }
  Result<std::vector<WorkerRecord>> Directory() override;
  std::vector<Result<Partial>> Fetch(const std::vector<std::string>& addresses, const std::string& view) override;
  Result<uint64_t> ChainEpoch(uint32_t partition) override;
  Result<BatchPiece> Batch(size_t view, uint32_t partition) override { return local_->BatchOnly(view, partition); }
  int64_t NowMs() const override;

 private:
  GroupWorker(Pipeline* pipeline, GroupWorkerOptions options);
  Result<Partial> FetchOne(const std::string& address, const std::string& view);

  Pipeline* const pipeline_;
  const GroupWorkerOptions options_;
  const std::string writer_id_;
  std::unique_ptr<LocalPartials> local_;
  WorkerDirectory directory_;
  std::unique_ptr<WorkerHeartbeat> heartbeat_;
  aws::HttpClient http_;

  Mutex dir_mu_;
  std::chrono::steady_clock::time_point dir_read_ GUARDED_BY(dir_mu_);
  std::optional<std::vector<WorkerRecord>> dir_cache_ GUARDED_BY(dir_mu_);

  struct ChainReader {
    Mutex mu;
    std::unique_ptr<ManifestChain> chain GUARDED_BY(mu);
    uint64_t epoch GUARDED_BY(mu) = 0;
    std::chrono::steady_clock::time_point read GUARDED_BY(mu);
    bool valid GUARDED_BY(mu) = false;
  };
  std::vector<std::unique_ptr<ChainReader>> chains_;

  Mutex pause_mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> paused_ GUARDED_BY(pause_mu_);  // address → until

  std::atomic<uint64_t> gathers_{0}, local_only_{0}, fetched_{0}, refused_{0}, from_batch_{0}, fallbacks_{0};
  Mutex note_mu_;
  std::string last_refusal_ GUARDED_BY(note_mu_);
  std::string last_fallback_ GUARDED_BY(note_mu_);
};

}  // namespace lf
