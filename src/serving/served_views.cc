#include "serving/served_views.h"

#include <optional>

#include "serving/query.h"
#include "sql/binder.h"

namespace lf {

ServedViews::Snapshot::Snapshot(std::shared_ptr<const ServedVersion> version, Coverage coverage)
    : version_(std::move(version)), coverage_(std::move(coverage)) {}

ServedViews::Snapshot::~Snapshot() {
  // Release: the writer's acquire load of `pins` then sees every read of
  // this reader done before it merges into the state in place.
  if (version_) version_->pins.fetch_sub(1, std::memory_order_release);
}

ServedViews::ServedViews(std::vector<const ViewPlan*> plans, QueryLimits limits)
    : plans_(std::move(plans)),
      limits_(limits),
      runner_(limits.concurrency > 0 ? std::make_unique<QueryRunner>(limits.concurrency, kQueryNice) : nullptr),
      cache_(plans_.size()) {
  for (const ViewPlan* p : plans_) current_.push_back(std::make_shared<ServedVersion>(p->NewState()));
}

ServedViews::~ServedViews() = default;

int ServedViews::FindView(std::string_view name) const {
  for (size_t v = 0; v < plans_.size(); ++v)
    if (sql::IdentifierMatches(plans_[v]->name(), name, false)) return static_cast<int>(v);
  return -1;
}

ServedViews::Snapshot ServedViews::Read(size_t view) const {
  MutexLock lock(&mu_);
  std::shared_ptr<const ServedVersion> version = current_[view];
  version->pins.fetch_add(1, std::memory_order_relaxed);  // under mu_: the writer checks pins under it
  return Snapshot(std::move(version), coverage_);
}

void ServedViews::Install(ViewStates states, Coverage coverage) {
  MutexLock writer(&write_mu_);
  std::vector<std::shared_ptr<ServedVersion>> fresh;
  for (auto& s : states) fresh.push_back(std::make_shared<ServedVersion>(std::move(s)));
  MutexLock lock(&mu_);
  coverage.generation = coverage_.generation + 1;
  current_.swap(fresh);
  coverage_ = std::move(coverage);
  lock.Unlock();
  // The old versions are freed outside the lock (or by their last reader).
}

void ServedViews::Apply(const ViewStates& delta, const std::vector<uint64_t>& speed, int64_t caught_up_ms) {
  MutexLock writer(&write_mu_);
  const size_t n = plans_.size();
  std::vector<std::unique_ptr<ViewState>> copies(n);
  std::vector<std::shared_ptr<ServedVersion>> retired;
  MutexLock lock(&mu_);
  // A changed view that readers pin is copied (outside the lock: only this
  // writer ever changes a version, and it does not change pinned ones), the
  // delta merged into the copy; the others are merged in place below. Pins
  // may appear while the lock is released, hence the loop; it ends since a
  // view copied once stays copied.
  while (true) {
    std::vector<std::pair<size_t, std::shared_ptr<ServedVersion>>> pinned;
    for (size_t v = 0; v < n; ++v)
      if (delta[v]->num_groups() > 0 && !copies[v] && current_[v]->pins.load(std::memory_order_acquire) > 0)
        pinned.emplace_back(v, current_[v]);
    if (pinned.empty()) break;
    lock.Unlock();
    for (auto& [v, version] : pinned) {
      copies[v] = version->state->Clone();
      copies[v]->Combine(*delta[v]);
    }
    lock.Lock();
  }
  for (size_t v = 0; v < n; ++v) {
    if (delta[v]->num_groups() == 0) continue;
    if (copies[v]) {
      retired.push_back(std::exchange(current_[v], std::make_shared<ServedVersion>(std::move(copies[v]))));
      copies_.fetch_add(1, std::memory_order_relaxed);
    } else {
      current_[v]->state->Combine(*delta[v]);  // no reader pins it, and none can while mu_ is held
    }
  }
  coverage_.speed = speed;
  coverage_.caught_up_ms = caught_up_ms;
  ++coverage_.generation;
  lock.Unlock();
}

void ServedViews::Touch(int64_t caught_up_ms) {
  MutexLock lock(&mu_);
  coverage_.caught_up_ms = caught_up_ms;
}

Coverage ServedViews::coverage() const {
  MutexLock lock(&mu_);
  return coverage_;
}

size_t ServedViews::num_groups(size_t view) const {
  MutexLock lock(&mu_);
  return current_[view]->state->num_groups();
}

size_t ServedViews::MemoryUsage() const {
  // Measuring walks every group of some aggregates: on snapshots, not under mu_.
  size_t bytes = 0;
  for (size_t v = 0; v < plans_.size(); ++v) bytes += Read(v).state().MemoryUsage();
  return bytes;
}

Result<Materialized> ServedViews::Materialize(size_t view) const {
  // The budget starts now: waiting for a query thread counts.
  QueryBudget budget(limits_, "reading view '" + plans_[view]->name() + "'");
  if (!runner_ || num_groups(view) <= kSmallGroups) return MaterializeNow(view, &budget);
  std::optional<Result<Materialized>> out;
  runner_->Run([&] { out.emplace(MaterializeNow(view, &budget)); });
  return std::move(*out);
}

Result<Materialized> ServedViews::MaterializeNow(size_t view, QueryBudget* budget) const {
  RETURN_IF_ERROR(budget->CheckTime());
  const Snapshot snap = Read(view);
  Materialized m;
  m.coverage = snap.coverage();
  {
    MutexLock cache_lock(&cache_mu_);
    const auto& [generation, cached] = cache_[view];
    if (cached && generation == m.coverage.generation) {
      m.result = cached;
      return m;
    }
  }
  const ViewPlan& plan = *plans_[view];
  ViewResult result;
  result.name = plan.name();
  result.column_names = plan.output_names();
  result.column_types = plan.output_types();
  result.rows.reserve(snap.state().num_groups());
  RETURN_IF_ERROR(
      snap.state().FinalizeBatches([&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
        uint64_t bytes = 0;
        for (size_t k = 0; k < n; ++k) {
          std::vector<Value> row;
          row.reserve(cols.size());
          for (size_t c = 0; c < cols.size(); ++c) {
            Value val = cols[c]->GetValue(rows[k]);
            val.type = result.column_types[c];
            row.push_back(std::move(val));
          }
          bytes += QueryBudget::RowBytes(row);
          result.rows.push_back(std::move(row));
        }
        return budget->Charge(bytes);
      }));
  m.result = std::make_shared<const ViewResult>(std::move(result));
  MutexLock cache_lock(&cache_mu_);
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
  const Snapshot snap = Read(view);
  answer.coverage = snap.coverage();
  const ViewState& state = snap.state();
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
  // The budget starts now: waiting for a query thread counts.
  QueryBudget budget(limits_, "query over view '" + plans_[view]->name() + "'");
  if (!runner_ || (num_groups(view) <= kSmallGroups && RowsPerBatch(query) == Batch::kCapacity))
    return QueryNow(view, query, &budget);
  std::optional<Result<Answer>> out;
  runner_->Run([&] { out.emplace(QueryNow(view, query, &budget)); });
  return std::move(*out);
}

Result<Answer> ServedViews::QueryNow(size_t view, const sql::BoundQuery& query, QueryBudget* budget) const {
  const ViewPlan& plan = *plans_[view];
  const std::vector<TypeId> types = plan.output_types();
  RETURN_IF_ERROR(budget->CheckTime());
  Answer answer;
  const Snapshot snap = Read(view);
  answer.coverage = snap.coverage();
  const ViewState& state = snap.state();
  const size_t step = RowsPerBatch(query);
  Batch batch(types, step);
  auto source = [&](const BatchFn& fn) {
    return state.FinalizeBatches([&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
      for (size_t from = 0; from < n; from += step) {
        RETURN_IF_ERROR(budget->CheckTime());
        batch.Clear();
        batch.size = std::min(step, n - from);
        for (size_t c = 0; c < cols.size(); ++c)
          for (size_t k = 0; k < batch.size; ++k) CopyCell(*cols[c], rows[from + k], batch.columns[c], k);
        RETURN_IF_ERROR(fn(batch));
      }
      return Status::OK();
    });
  };
  ASSIGN_OR_RETURN(answer.result, ExecuteQuery(query, plan.name(), source, budget));
  return answer;
}

}  // namespace lf
