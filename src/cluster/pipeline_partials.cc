// LocalPartials over a running pipeline, from its served views: in a group
// member, the served state of a view is its batch version ⊕ the speed state
// of the partitions it owns, and its batch runs cover only the partitions
// it owns; so once the batch version in force was computed over exactly
// the partitions owned now, the served state holds exactly them, and every
// other partition's W = S is its first offset. Until then (right after a
// rebalance, for one batch interval) the state cannot be split by
// partition and the partial is Unavailable.
//
// A partition's batch state alone needs batch versions held per
// partition; until the pipeline holds them, BatchOnly is Unavailable and a
// gather that needs it falls back to the served views (exact, less fresh).
#include "cluster/group_worker.h"
#include "master/master_store.h"

namespace lf {
namespace {

class ServedPartials final : public LocalPartials {
 public:
  explicit ServedPartials(Pipeline* p) : p_(p) {}

  bool OwnsAll() override {
    return static_cast<int>(p_->data_dir()->master()->Owned().size()) == p_->partitions();
  }

  Result<LocalPartial> Owned(size_t view) override {
    MasterStore* master = p_->data_dir()->master();
    const std::vector<uint64_t> first = master->Snapshot().first;
    const ServedViews::Snapshot snap = p_->served().Read(view);
    const Coverage& c = snap.coverage();
    std::vector<bool> owned(static_cast<size_t>(p_->partitions()), false);
    for (int p : master->Owned()) owned[static_cast<size_t>(p)] = true;
    LocalPartial out;
    for (size_t p = 0; p < owned.size(); ++p) {
      if (owned[p]) {
        out.partitions.push_back({static_cast<uint32_t>(p), master->Epoch(static_cast<int>(p)), c.batch[p], c.speed[p]});
      } else if (c.speed[p] > first[p]) {
        return Status::Unavailable("this worker's state still holds partition " + std::to_string(p) +
                                   ", which it no longer owns (until its next batch run): its partial cannot be "
                                   "split by partition yet");
      }
    }
    out.state = snap.state().Clone();
    out.caught_up_ms = c.caught_up_ms;
    out.batch_version = c.batch_version;
    out.batch_created_ms = c.batch_created_ms;
    return out;
  }

  Result<BatchPiece> BatchOnly(size_t view, uint32_t partition) override {
    return Status::Unavailable("partition " + std::to_string(partition) +
                               " has no live owner that answered, and a partition's batch state alone is not held "
                               "by this version of the pipeline");
  }

 private:
  Pipeline* const p_;
};

}  // namespace

std::unique_ptr<LocalPartials> PipelinePartials(Pipeline* pipeline) {
  return std::make_unique<ServedPartials>(pipeline);
}

}  // namespace lf
