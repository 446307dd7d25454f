// The serving layer's state: per view, the merged state batch ⊕ speed that
// answers are finalized from, with the watermarks it covers. Writers (run's
// speed loop) merge each micro-batch in and swap in a new batch version;
// readers (HTTP handlers) take one consistent snapshot per answer. Every
// answer is finalize(batch[0, W) ⊕ speed[W, S)) for the W and S it reports.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "plan/view_plan.h"
#include "sql/binder.h"

namespace lf {

using ViewStates = std::vector<std::unique_ptr<ViewState>>;

// What an answer covers.
struct Coverage {
  std::vector<uint64_t> batch;  // W per partition
  std::vector<uint64_t> speed;  // S per partition
  std::optional<uint64_t> batch_version;
  int64_t batch_created_ms = 0;  // wall clock of the version's creation
  int64_t caught_up_ms = 0;      // wall clock when S last equalled the log's end
  uint64_t generation = 0;       // +1 on every change of the served states
};

// A finalized answer and what it covers.
struct Answer {
  ViewResult result;
  Coverage coverage;
};

// Every row of a view (shared by the readers of one generation) and what
// it covers, as of now.
struct Materialized {
  std::shared_ptr<const ViewResult> result;
  Coverage coverage;
};

class ServedViews {
 public:
  // `plans` (one per view, in catalog order) must outlive this object.
  explicit ServedViews(std::vector<const ViewPlan*> plans);

  size_t num_views() const { return plans_.size(); }
  const ViewPlan& plan(size_t view) const { return *plans_[view]; }
  // The view's index (names compare case-insensitively), or -1.
  int FindView(std::string_view name) const;

  // Serves `states` (one per view, batch ⊕ speed) covering `coverage`; the
  // swap is atomic for readers.
  void Install(ViewStates states, Coverage coverage);
  // Merges one micro-batch (`delta`, one state per view) into the served
  // states and advances the speed watermark, atomically for readers.
  void Apply(const ViewStates& delta, const std::vector<uint64_t>& speed, int64_t caught_up_ms);
  // Only marks that the speed layer is caught up at `caught_up_ms`.
  void Touch(int64_t caught_up_ms);

  Coverage coverage() const;
  // Groups and bytes of the served states, per view summed.
  size_t num_groups(size_t view) const;
  size_t MemoryUsage() const;

  // Every row of a view, sorted by its group key. Finalized once per
  // generation and shared by the readers of that generation.
  Result<Materialized> Materialize(size_t view) const;
  // The row of the group whose keys are `keys` (one value per group key,
  // typed like the keys), or no row.
  Result<Answer> Lookup(size_t view, const std::vector<Value>& keys) const;
  // Runs a query bound to the view's columns (see PrepareQuery) straight
  // over its merged groups: a top-k or a filter does not build every row.
  Result<Answer> Query(size_t view, const sql::BoundQuery& query) const;
  // The view's output columns as the stream a query over it binds to.
  StreamSchema Columns(size_t view) const;

 private:
  const std::vector<const ViewPlan*> plans_;
  mutable std::shared_mutex mu_;
  ViewStates states_;  // GUARDED_BY(mu_)
  Coverage coverage_;  // GUARDED_BY(mu_)

  mutable std::mutex cache_mu_;
  mutable std::vector<std::pair<uint64_t, std::shared_ptr<const ViewResult>>>
      cache_;  // GUARDED_BY(cache_mu_), per view
};

}  // namespace lf
