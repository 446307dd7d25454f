// LocalPartials over a running pipeline (pipeline/pipeline.h): the owned
// partial is Pipeline::OwnedState — batch pieces ⊕ speed state of exactly
// the partitions this worker owns, with their epochs, W and S, taken under
// the speed loop's lock — and a partition's batch state alone is
// Pipeline::PartitionBatchOnly, from the batch version the partition's
// manifest chain names now (whoever computed it).
#include "cluster/group_worker.h"
#include "master/master_store.h"

namespace lf {
namespace {

class PipelineLocalPartials final : public LocalPartials {
 public:
  explicit PipelineLocalPartials(Pipeline* p) : p_(p) {}

  bool OwnsAll() override { return static_cast<int>(p_->data_dir()->master()->Owned().size()) == p_->partitions(); }

  Result<LocalPartial> Owned(size_t view) override {
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

  Result<BatchPiece> BatchOnly(size_t view, uint32_t partition) override {
    ASSIGN_OR_RETURN(PartitionBatchState b, p_->PartitionBatchOnly(view, static_cast<int>(partition)));
    BatchPiece out;
    out.state = std::move(b.state);
    out.batch = b.batch;
    return out;
  }

 private:
  Pipeline* const p_;
};

}  // namespace

std::unique_ptr<LocalPartials> PipelinePartials(Pipeline* pipeline) {
  return std::make_unique<PipelineLocalPartials>(pipeline);
}

}  // namespace lf
