// LocalPartials over a running pipeline (pipeline/pipeline.h): the owned
// partial is Pipeline::OwnedState — batch pieces ⊕ speed state of exactly
// the partitions this worker owns, with their epochs, W and S, taken under
// the speed loop's lock — and a partition's batch state alone is
// Pipeline::PartitionBatchOnly, from the batch version the partition's
// manifest chain names now (whoever computed it).
//
// OwnedState reads the owned partitions' batch pieces and merges them with
// their speed state: milliseconds for a view of many groups. Its result
// changes only when the served states do (a micro-batch, a swap, a gain or
// a loss: each a new ServedViews generation) or when a partition is found
// fenced, so it is kept per view for the generation and owned partitions
// it was taken at, and one taking is shared by the asks
// that arrive meanwhile; each ask gets a clone (the gather merges into it).
#include <map>
#include <optional>

#include "cluster/group_worker.h"
#include "common/mutex.h"
#include "master/master_store.h"

namespace lf {
namespace {

LocalPartial Copy(const LocalPartial& l) {
  LocalPartial out;
  out.state = l.state->Clone();
  out.partitions = l.partitions;
  out.caught_up_ms = l.caught_up_ms;
  out.batch_version = l.batch_version;
  out.batch_created_ms = l.batch_created_ms;
  return out;
}

class PipelineLocalPartials final : public LocalPartials {
 public:
  explicit PipelineLocalPartials(Pipeline* p) : p_(p), cache_(p->served().num_views()) {
    for (auto& c : cache_) c = std::make_unique<Cached>();
  }

  bool OwnsAll() override { return static_cast<int>(p_->data_dir()->master()->Owned().size()) == p_->partitions(); }

  Result<LocalPartial> Owned(size_t view) override {
    if (view >= cache_.size()) return Status::InvalidArgument("no view " + std::to_string(view));
    Cached& cached = *cache_[view];
    MutexLock lock(&cached.mu);
    const uint64_t generation = p_->served().coverage().generation;
    // A partition found fenced is no longer owned without a new generation.
    std::vector<int> owned = p_->data_dir()->master()->Owned();
    if (!cached.partial || cached.generation != generation || cached.owned != owned) {
      ASSIGN_OR_RETURN(LocalPartial fresh, Take(view));
      cached.partial = std::move(fresh);
      cached.generation = generation;
      cached.owned = std::move(owned);
    }
    LocalPartial out = Copy(*cached.partial);
    out.caught_up_ms = p_->served().coverage().caught_up_ms;  // moves without a new generation
    return out;
  }

  Result<BatchPiece> BatchOnly(size_t view, uint32_t partition) override {
    ASSIGN_OR_RETURN(PartitionBatchState b, p_->PartitionBatchOnly(view, static_cast<int>(partition)));
    BatchPiece out;
    out.state = std::move(b.state);
    out.batch = b.batch;
    return out;
  }

 private:
  struct Cached {
    Mutex mu;
    uint64_t generation GUARDED_BY(mu) = 0;
    std::vector<int> owned GUARDED_BY(mu);
    std::optional<LocalPartial> partial GUARDED_BY(mu);
  };

  Result<LocalPartial> Take(size_t view) {
    ASSIGN_OR_RETURN(OwnedViewState owned, p_->OwnedState(view));
    const Coverage c = p_->served().coverage();
    LocalPartial out;
    out.state = std::move(owned.state);
    for (const PartitionCoverage& pc : owned.partitions)
      out.partitions.push_back({static_cast<uint32_t>(pc.partition), pc.epoch, pc.batch, pc.speed});
    out.caught_up_ms = c.caught_up_ms;
    out.batch_version = c.batch_version;
    out.batch_created_ms = c.batch_created_ms;
    return out;
  }

  Pipeline* const p_;
  std::vector<std::unique_ptr<Cached>> cache_;  // per view
};

}  // namespace

std::unique_ptr<LocalPartials> PipelinePartials(Pipeline* pipeline) {
  return std::make_unique<PipelineLocalPartials>(pipeline);
}

}  // namespace lf
