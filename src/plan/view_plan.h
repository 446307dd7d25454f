// A compiled view: the one plan (filter -> group key -> aggregate-state
// update) that every driver runs, batch and speed alike. ViewPlan is
// immutable and shared between threads; ViewState holds the mutable group
// table and aggregate states of one execution (one per thread), and states
// of any split of the input combine into the same result as one pass.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agg/aggregate.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/vector.h"
#include "plan/expr_eval.h"
#include "plan/group_table.h"
#include "sql/binder.h"

namespace lf {

// A finalized view: named, typed columns and rows sorted by group key.
struct ViewResult {
  std::string name;
  std::vector<std::string> column_names;
  std::vector<TypeId> column_types;
  std::vector<std::vector<Value>> rows;
};

class ViewState;

class ViewPlan {
 public:
  // `view` must outlive the plan (it is part of the catalog).
  static Result<std::unique_ptr<ViewPlan>> Compile(const sql::BoundView& view);

  const std::string& name() const { return view_.name; }
  const sql::BoundView& view() const { return view_; }
  const AggregateFunction& aggregate(size_t i) const { return *aggregates_[i]; }
  size_t num_aggregates() const { return aggregates_.size(); }
  // The aggregate whose states aggregate i reads: itself, or an earlier one
  // with the same state (quantiles of one argument and FILTER share a sketch).
  size_t state_of(size_t i) const { return state_of_[i]; }
  size_t num_states() const { return num_states_; }
  std::vector<TypeId> key_types() const;
  std::vector<std::string> output_names() const;
  std::vector<TypeId> output_types() const;

  std::unique_ptr<ViewState> NewState() const;

  // Identifies what the plan computes (filter, keys, aggregates, outputs),
  // not how it is spelled: equal for equal plans, used to key cached states.
  uint64_t fingerprint() const;

 private:
  explicit ViewPlan(const sql::BoundView& view) : view_(view) {}
  const sql::BoundView& view_;
  std::vector<std::unique_ptr<AggregateFunction>> aggregates_;
  std::vector<size_t> state_of_;
  size_t num_states_ = 0;
};

// The mutable execution state of one plan. Not thread-safe.
class ViewState {
 public:
  explicit ViewState(const ViewPlan& plan);
  ~ViewState();

  // Folds a batch of stream rows (columns in stream order) into the state.
  void Consume(const Batch& batch);
  // this = this ⊕ other; `other` must come from the same plan.
  void Combine(const ViewState& other);
  // A copy with the same groups under the same group ids (and the cached
  // key order), for copy-on-write readers (serving/served_views.h).
  std::unique_ptr<ViewState> Clone() const;
  // Finalizes every group: applies HAVING and the output expressions, rows
  // sorted ascending by the group keys. Fails on integer SUM overflow.
  Result<ViewResult> Finalize() const;
  // The same, streamed: calls fn with the output columns of up to
  // Batch::kCapacity groups at a time and the rows of them to emit, in
  // order. Valid only during the call. Stops at the first error fn returns.
  using FinalizedBatchFn =
      std::function<Status(const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n)>;
  Status FinalizeBatches(const FinalizedBatchFn& fn) const;
  // The same for the given groups only, in the given order.
  Status FinalizeGroups(const std::vector<uint32_t>& gids, const FinalizedBatchFn& fn) const;

  // The group whose keys are row `row` of `keys` (one vector per group key,
  // of the key types), or -1 when there is none.
  int64_t FindGroup(const std::vector<const Vector*>& keys, uint32_t row) const { return groups_.Find(keys, row); }

  // A self-contained binary image of every group's keys and aggregate
  // states (docs/formats/view_state.md), and its inverse: Deserialize
  // combines the image into this state, so loading into a fresh state
  // restores it exactly. Fails with Corruption on a damaged image; the
  // state must then be discarded (it may hold part of the image).
  void Serialize(std::string* out) const;
  Status Deserialize(std::string_view image);

  size_t num_groups() const { return groups_.size(); }
  // Makes room for `groups` groups (a size hint: a state known to grow that
  // large skips the rehashes and copies of growing by doubling).
  void Reserve(size_t groups);
  // The groups of `other` (a state of the same plan) that this state does
  // not hold yet: with Reserve, combining several states into this one
  // sizes it once, exactly, instead of doubling past what it needs.
  size_t CountNewGroups(const ViewState& other) const;
  size_t MemoryUsage() const;

  // Group ids in ascending key order (NULLs first), as FinalizeBatches
  // emits them; with FinalizeGroups over contiguous ranges of it, threads
  // can finalize parts of one view at once. Large sorts use two threads.
  std::vector<uint32_t> SortedGroups() const;

 private:
  // Groups [from, to) sorted by key.
  std::vector<uint32_t> SortRange(size_t from, size_t to) const;
  // The same by a radix sort of one word per group, for up to two integer
  // keys whose ranges fit 64 bits together; empty if they do not.
  std::vector<uint32_t> SortRangePacked(size_t from, size_t to) const;
  bool KeyLess(uint32_t a, uint32_t b) const;

  const ViewPlan& plan_;
  GroupTable groups_;
  // Per aggregate; nullptr where the aggregate reads another one's states
  // (ViewPlan::state_of), as are its args_ and filters_.
  std::vector<std::unique_ptr<AggregateStates>> states_;
  // Per-batch scratch.
  std::unique_ptr<ExprEvaluator> where_;
  std::vector<std::unique_ptr<ExprEvaluator>> keys_;
  std::vector<std::unique_ptr<ExprEvaluator>> args_;     // nullptr for COUNT(*)
  std::vector<std::unique_ptr<ExprEvaluator>> filters_;  // nullptr without FILTER
  std::vector<uint32_t> sel_, gids_, sub_rows_, sub_gids_;
  std::vector<const Vector*> key_vectors_;
  // SortedGroups' cache: the first order_.size() groups in key order.
  mutable Mutex order_mu_;
  mutable std::vector<uint32_t> order_ GUARDED_BY(order_mu_);
};

}  // namespace lf
