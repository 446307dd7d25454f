#include "serving/served_views.h"

#include "serving/query.h"
#include "sql/binder.h"

namespace lf {

ServedViews::ServedViews(std::vector<const ViewPlan*> plans) : plans_(std::move(plans)), cache_(plans_.size()) {
  for (const ViewPlan* p : plans_) states_.push_back(p->NewState());
}

int ServedViews::FindView(std::string_view name) const {
  for (size_t v = 0; v < plans_.size(); ++v)
    if (sql::IdentifierMatches(plans_[v]->name(), name, false)) return static_cast<int>(v);
  return -1;
}

void ServedViews::Install(ViewStates states, Coverage coverage) {
  std::unique_lock lock(mu_);
  coverage.generation = coverage_.generation + 1;
  states_.swap(states);
  coverage_ = std::move(coverage);
  lock.unlock();
  // The old states are freed outside the lock.
}

void ServedViews::Apply(const ViewStates& delta, const std::vector<uint64_t>& speed, int64_t caught_up_ms) {
  std::unique_lock lock(mu_);
  for (size_t v = 0; v < states_.size(); ++v)
    if (delta[v]->num_groups() > 0) states_[v]->Combine(*delta[v]);
  coverage_.speed = speed;
  coverage_.caught_up_ms = caught_up_ms;
  ++coverage_.generation;
}

void ServedViews::Touch(int64_t caught_up_ms) {
  std::unique_lock lock(mu_);
  coverage_.caught_up_ms = caught_up_ms;
}

Coverage ServedViews::coverage() const {
  std::shared_lock lock(mu_);
  return coverage_;
}

size_t ServedViews::num_groups(size_t view) const {
  std::shared_lock lock(mu_);
  return states_[view]->num_groups();
}

size_t ServedViews::MemoryUsage() const {
  std::shared_lock lock(mu_);
  size_t bytes = 0;
  for (const auto& s : states_) bytes += s->MemoryUsage();
  return bytes;
}

Result<Materialized> ServedViews::Materialize(size_t view) const {
  std::shared_lock lock(mu_);
  Materialized m;
  m.coverage = coverage_;
  {
    std::lock_guard cache_lock(cache_mu_);
    const auto& [generation, cached] = cache_[view];
    if (cached && generation == coverage_.generation) {
      m.result = cached;
      return m;
    }
  }
  ASSIGN_OR_RETURN(ViewResult result, states_[view]->Finalize());
  m.result = std::make_shared<const ViewResult>(std::move(result));
  lock.unlock();
  std::lock_guard cache_lock(cache_mu_);
  auto& entry = cache_[view];
  if (!entry.second || entry.first < m.coverage.generation) entry = {m.coverage.generation, m.result};
  return m;
}

Result<Answer> ServedViews::Lookup(size_t view, const std::vector<Value>& keys) const {
  const ViewPlan& plan = *plans_[view];
  const std::vector<TypeId> types = plan.key_types();
  if (keys.size() != types.size())
    return Status::InvalidArgument("view '" + plan.name() + "' has " + std::to_string(types.size()) +
                                   " key columns, got " + std::to_string(keys.size()) + " values");
  Batch key_row(types, 1);
  key_row.size = 1;
  std::vector<const Vector*> key_ptrs;
  for (size_t c = 0; c < types.size(); ++c) {
    key_row.columns[c].SetValue(0, keys[c], &key_row.arena);
    key_ptrs.push_back(&key_row.columns[c]);
  }
  Answer answer;
  answer.result.name = plan.name();
  answer.result.column_names = plan.output_names();
  answer.result.column_types = plan.output_types();
  std::shared_lock lock(mu_);
  answer.coverage = coverage_;
  const ViewState& state = *states_[view];
  const int64_t gid = state.FindGroup(key_ptrs, 0);
  if (gid < 0) return answer;
  RETURN_IF_ERROR(state.FinalizeGroups({static_cast<uint32_t>(gid)},
                                       [&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
                                         for (size_t k = 0; k < n; ++k) {
                                           std::vector<Value> row;
                                           for (size_t c = 0; c < cols.size(); ++c) {
                                             Value val = cols[c]->GetValue(rows[k]);
                                             val.type = answer.result.column_types[c];
                                             row.push_back(std::move(val));
                                           }
                                           answer.result.rows.push_back(std::move(row));
                                         }
                                         return Status::OK();
                                       }));
  return answer;
}

StreamSchema ServedViews::Columns(size_t view) const {
  const ViewPlan& plan = *plans_[view];
  StreamSchema schema;
  schema.name = plan.name();
  const auto names = plan.output_names();
  const auto types = plan.output_types();
  for (size_t c = 0; c < names.size(); ++c) schema.columns.push_back({names[c], types[c], false});
  return schema;
}

Result<Answer> ServedViews::Query(size_t view, const sql::BoundQuery& query) const {
  const ViewPlan& plan = *plans_[view];
  const std::vector<TypeId> types = plan.output_types();
  Answer answer;
  std::shared_lock lock(mu_);
  answer.coverage = coverage_;
  const ViewState& state = *states_[view];
  Batch batch(types);
  auto source = [&](const std::function<void(const Batch&)>& fn) {
    return state.FinalizeBatches([&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
      batch.Clear();
      batch.size = n;
      for (size_t c = 0; c < cols.size(); ++c)
        for (size_t k = 0; k < n; ++k) CopyCell(*cols[c], rows[k], batch.columns[c], k);
      fn(batch);
      return Status::OK();
    });
  };
  ASSIGN_OR_RETURN(answer.result, ExecuteQuery(query, plan.name(), source));
  return answer;
}

}  // namespace lf
