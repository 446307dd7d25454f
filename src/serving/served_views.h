// The serving layer's state: per view, the merged state batch ⊕ speed that
// answers are finalized from, with the watermarks it covers. Writers (run's
// speed loop) merge each micro-batch in and swap in a new batch version;
// readers (HTTP handlers) take one consistent, immutable snapshot per answer
// and hold no lock while they compute it, so that no query, however heavy,
// delays a micro-batch. Every answer is finalize(batch[0, W) ⊕ speed[W, S))
// for the W and S it reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "plan/view_plan.h"
#include "serving/query_budget.h"
#include "serving/query_runner.h"
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

// One view's published state and the readers that pin it. The writer
// merges into `state` in place only while no reader pins it.
struct ServedVersion {
  explicit ServedVersion(std::unique_ptr<ViewState> s) : state(std::move(s)) {}
  const std::unique_ptr<ViewState> state;
  mutable std::atomic<int> pins{0};
};

// Copy-on-write per view. Each view's published state is a Version: a
// reader pins the current one (a pointer copy and a counter, under a mutex
// held for nanoseconds) and then reads it without any lock. The one writer
// merges a micro-batch into a view's version in place while no reader pins
// it (readers that arrive meanwhile wait for that merge, a fraction of a
// millisecond); when readers pin it, the writer merges into a copy instead
// and publishes the copy, and the pinned version is freed when its last
// reader is done. A micro-batch therefore never waits for a reader.
//
// Memory: one state per view, plus, for each view a reader still reads
// after the writer has moved on, the version it pins (a long query pins at
// most one version of its view, for at most its time budget). Copying
// costs the writer one pass over the view's groups, at most once per
// micro-batch and view, and only while readers pin it.
//
// Thread safety: readers may call every const method concurrently with one
// writer; Install, Apply and Touch are called by one thread at a time.
class ServedViews {
 public:
  // `plans` (one per view, in catalog order) must outlive this object.
  // `limits` bound every query and whole-view read (see QueryBudget).
  explicit ServedViews(std::vector<const ViewPlan*> plans, QueryLimits limits = {});
  ~ServedViews();

  size_t num_views() const { return plans_.size(); }
  const ViewPlan& plan(size_t view) const { return *plans_[view]; }
  const QueryLimits& limits() const { return limits_; }
  // The view's index (names compare case-insensitively), or -1.
  int FindView(std::string_view name) const;

  // One view's merged state and what it covers, immutable while held; the
  // writer never waits for it. Hold it only for one answer.
  class Snapshot {
   public:
    Snapshot(Snapshot&& other) noexcept = default;
    Snapshot& operator=(Snapshot&&) = delete;
    ~Snapshot();
    const ViewState& state() const { return *version_->state; }
    const Coverage& coverage() const { return coverage_; }

   private:
    friend class ServedViews;
    Snapshot(std::shared_ptr<const ServedVersion> version, Coverage coverage);
    std::shared_ptr<const ServedVersion> version_;
    Coverage coverage_;
  };
  Snapshot Read(size_t view) const EXCLUDES(mu_);

  // Serves `states` (one per view, batch ⊕ speed) covering `coverage`; the
  // swap is atomic for readers.
  void Install(ViewStates states, Coverage coverage) EXCLUDES(write_mu_, mu_);
  // Merges one micro-batch (`delta`, one state per view) into the served
  // states and advances the speed watermark, atomically for readers.
  void Apply(const ViewStates& delta, const std::vector<uint64_t>& speed, int64_t caught_up_ms)
      EXCLUDES(write_mu_, mu_);
  // Only marks that the speed layer is caught up at `caught_up_ms`.
  void Touch(int64_t caught_up_ms) EXCLUDES(mu_);

  Coverage coverage() const;
  // Groups and bytes of the served states, per view summed.
  size_t num_groups(size_t view) const;
  size_t MemoryUsage() const EXCLUDES(mu_);
  // Views the writer copied because readers pinned them (copy-on-write).
  uint64_t copies() const { return copies_.load(std::memory_order_relaxed); }

  // Every row of a view, sorted by its group key. Finalized once per
  // generation and shared by the readers of that generation.
  Result<Materialized> Materialize(size_t view) const;
  // The row of the group whose keys are `keys` (one value per group key,
  // typed like the keys), or no row.
  Result<Answer> Lookup(size_t view, const std::vector<Value>& keys) const;
  // Runs a query bound to the view's columns (see PrepareQuery) straight
  // over its merged groups: a top-k or a filter does not build every row.
  // Bounded by the limits (DeadlineExceeded, ResourceExhausted); runs on a
  // low-priority query thread (QueryRunner) unless it is small.
  Result<Answer> Query(size_t view, const sql::BoundQuery& query) const;
  // The view's output columns as the stream a query over it binds to.
  StreamSchema Columns(size_t view) const;

  // The nice value of the threads that run queries. Reads of views of at
  // most kSmallGroups groups (and without large expressions) run on their
  // caller's thread: they are quick, and a handoff would only slow them.
  static constexpr int kQueryNice = 10;
  static constexpr size_t kSmallGroups = 4096;

 private:
  Result<Materialized> MaterializeNow(size_t view, QueryBudget* budget) const;
  Result<Answer> QueryNow(size_t view, const sql::BoundQuery& query, QueryBudget* budget) const;

  const std::vector<const ViewPlan*> plans_;
  const QueryLimits limits_;
  Mutex write_mu_ ACQUIRED_BEFORE(mu_);  // one writer at a time
  mutable Mutex mu_;                     // publication: held to pin, to swap, and to merge in place
  std::vector<std::shared_ptr<ServedVersion>> current_ GUARDED_BY(mu_);  // per view
  Coverage coverage_ GUARDED_BY(mu_);
  std::atomic<uint64_t> copies_{0};
  const std::unique_ptr<QueryRunner> runner_;  // nullptr: queries run on their callers' threads

  mutable Mutex cache_mu_;
  // Per view: the generation finalized and its rows.
  mutable std::vector<std::pair<uint64_t, std::shared_ptr<const ViewResult>>> cache_ GUARDED_BY(cache_mu_);
};

}  // namespace lf
