#include "plan/view_plan.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <thread>

namespace lf {

Result<std::unique_ptr<ViewPlan>> ViewPlan::Compile(const sql::BoundView& view) {
  std::unique_ptr<ViewPlan> plan(new ViewPlan(view));
  for (const auto& agg : view.aggregates) {
    ASSIGN_OR_RETURN(auto fn, AggregateFunction::Make(agg.kind, agg.arg ? agg.arg->type : TypeId::kNull));
    plan->aggregates_.push_back(std::move(fn));
    size_t owner = plan->state_of_.size();
    for (size_t j = 0; j < plan->state_of_.size(); ++j)
      if (plan->state_of_[j] == j && view.aggregates[j].state_text == agg.state_text) owner = j;
    plan->num_states_ += owner == plan->state_of_.size();
    plan->state_of_.push_back(owner);
  }
  return plan;
}

std::vector<TypeId> ViewPlan::key_types() const {
  std::vector<TypeId> types;
  for (const auto& k : view_.keys) types.push_back(k->type == TypeId::kNull ? TypeId::kText : k->type);
  return types;
}

std::unique_ptr<ViewState> ViewPlan::NewState() const { return std::make_unique<ViewState>(*this); }

ViewState::ViewState(const ViewPlan& plan) : plan_(plan), groups_(plan.key_types()) {
  const sql::BoundView& v = plan.view();
  if (v.where) where_ = std::make_unique<ExprEvaluator>(*v.where);
  for (const auto& k : v.keys) keys_.push_back(std::make_unique<ExprEvaluator>(*k));
  for (size_t i = 0; i < v.aggregates.size(); ++i) {
    const auto& a = v.aggregates[i];
    const bool owns = plan.state_of(i) == i;
    args_.push_back(owns && a.arg ? std::make_unique<ExprEvaluator>(*a.arg) : nullptr);
    filters_.push_back(owns && a.filter ? std::make_unique<ExprEvaluator>(*a.filter) : nullptr);
    states_.push_back(owns ? plan.aggregate(i).NewStates() : nullptr);
    if (owns) states_.back()->Resize(groups_.size());
  }
}

ViewState::~ViewState() = default;

void ViewState::Consume(const Batch& batch) {
  const size_t n = batch.size;
  if (n == 0) return;
  if (sel_.size() < n) {
    sel_.resize(n);
    gids_.resize(n);
    sub_rows_.resize(n);
    sub_gids_.resize(n);
  }
  size_t m;
  if (where_) {
    m = SelectTrue(where_->Evaluate(batch), n, sel_.data());
  } else {
    for (size_t i = 0; i < n; ++i) sel_[i] = static_cast<uint32_t>(i);
    m = n;
  }
  if (m == 0) return;
  key_vectors_.clear();
  for (auto& k : keys_) key_vectors_.push_back(&k->Evaluate(batch));
  groups_.FindOrInsert(key_vectors_, sel_.data(), m, gids_.data());
  for (size_t i = 0; i < states_.size(); ++i) {
    if (!states_[i]) continue;
    states_[i]->Resize(groups_.size());
    const Vector* arg = args_[i] ? &args_[i]->Evaluate(batch) : nullptr;
    if (!filters_[i]) {
      states_[i]->Update(gids_.data(), sel_.data(), m, arg);
      continue;
    }
    const Vector& f = filters_[i]->Evaluate(batch);
    size_t c = 0;
    for (size_t k = 0; k < m; ++k) {
      uint32_t r = sel_[k];
      sub_rows_[c] = r;
      sub_gids_[c] = gids_[k];
      c += f.valid[r] & (f.ints[r] != 0);
    }
    states_[i]->Update(sub_gids_.data(), sub_rows_.data(), c, arg);
  }
}

void ViewState::Combine(const ViewState& other) {
  const size_t g = other.groups_.size();
  std::vector<uint32_t> target(g);
  std::vector<const Vector*> cols;
  for (size_t c = 0; c < other.groups_.num_keys(); ++c) cols.push_back(&other.groups_.key_column(c));
  std::vector<uint32_t> rows(std::min<size_t>(g, 4096));
  for (size_t from = 0; from < g; from += rows.size()) {
    size_t count = std::min(rows.size(), g - from);
    for (size_t k = 0; k < count; ++k) rows[k] = static_cast<uint32_t>(from + k);
    groups_.FindOrInsert(cols, rows.data(), count, target.data() + from);
  }
  for (size_t i = 0; i < states_.size(); ++i) {
    if (!states_[i]) continue;
    states_[i]->Resize(groups_.size());
    states_[i]->Combine(*other.states_[i], target.data());
  }
}

std::unique_ptr<ViewState> ViewState::Clone() const {
  auto copy = plan_.NewState();
  copy->groups_.CopyFrom(groups_);
  // Aggregates that read another one's states (ViewPlan::state_of) have none.
  for (size_t i = 0; i < states_.size(); ++i)
    if (states_[i]) copy->states_[i] = states_[i]->Clone();
  MutexLock lock(&order_mu_);
  MutexLock copy_lock(&copy->order_mu_);  // the copy is not shared yet; this only satisfies the analysis
  copy->order_ = order_;
  return copy;
}

uint64_t ViewPlan::fingerprint() const {
  std::string canon = "where:" + (view_.where ? view_.where->ToString() : std::string("-"));
  for (const auto& k : view_.keys) canon += "|key:" + k->ToString() + ":" + TypeName(k->type);
  for (const auto& a : view_.aggregates) canon += "|agg:" + a.text + ":" + TypeName(a.result_type);
  canon += "|having:" + (view_.having ? view_.having->ToString() : std::string("-"));
  for (const auto& o : view_.outputs) canon += "|out:" + o.name + "=" + o.expr->ToString();
  return XXH3_64bits(canon.data(), canon.size());
}

std::vector<std::string> ViewPlan::output_names() const {
  std::vector<std::string> names;
  for (const auto& o : view_.outputs) names.push_back(o.name);
  return names;
}

std::vector<TypeId> ViewPlan::output_types() const {
  std::vector<TypeId> types;
  for (const auto& o : view_.outputs) types.push_back(o.type);
  return types;
}

namespace {

// Fetches the cache lines of cell i of v ahead of a read.
inline void PrefetchCell(const Vector& v, size_t i) {
  __builtin_prefetch(&v.valid[i]);
  switch (PhysicalOf(v.type)) {
    case PhysicalType::kInt64:
      __builtin_prefetch(&v.ints[i]);
      break;
    case PhysicalType::kDouble:
      __builtin_prefetch(&v.dbls[i]);
      break;
    case PhysicalType::kString:
      __builtin_prefetch(&v.strs[i]);
      break;
  }
}

// Sorts v with `less`; from kParallelSortMin elements on, the two halves
// are sorted on two threads and merged (finalizing a view of hundreds of
// thousands of groups is otherwise a serial tail of every batch run and
// eval).
constexpr size_t kParallelSortMin = size_t{1} << 16;

// Fewer groups are sorted by comparison: a radix sort's passes over 256
// buckets do not pay off.
constexpr size_t kPackedSortMin = 4096;

template <typename T, typename Less>
void SortMaybeParallel(std::vector<T>* v, Less less) {
  if (v->size() < kParallelSortMin || std::thread::hardware_concurrency() < 2) {
    std::sort(v->begin(), v->end(), less);
    return;
  }
  const auto mid = v->begin() + static_cast<long>(v->size() / 2);
  std::thread first([&] { std::sort(v->begin(), mid, less); });
  std::sort(mid, v->end(), less);
  first.join();
  std::vector<T> merged(v->size());
  std::merge(v->begin(), mid, mid, v->end(), merged.begin(), less);
  v->swap(merged);
}

// Sorts (key, group) pairs by key with an LSD radix sort, a byte per pass
// (passes whose byte is the same in every key are skipped); keys are
// distinct, so the order is fully determined. Returns the groups in order.
std::vector<uint32_t> RadixSortGroups(std::vector<std::pair<uint64_t, uint32_t>>* pairs, int key_bits) {
  std::vector<std::pair<uint64_t, uint32_t>> tmp(pairs->size());
  auto* src = pairs;
  auto* dst = &tmp;
  for (int shift = 0; shift < key_bits; shift += 8) {
    size_t count[257] = {};
    for (const auto& p : *src) ++count[((p.first >> shift) & 0xff) + 1];
    bool one_bucket = false;
    for (int b = 1; b <= 256; ++b) one_bucket |= count[b] == src->size();
    if (one_bucket) continue;
    for (int b = 1; b <= 256; ++b) count[b] += count[b - 1];
    for (const auto& p : *src) (*dst)[count[(p.first >> shift) & 0xff]++] = p;
    std::swap(src, dst);
  }
  std::vector<uint32_t> order(src->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (*src)[i].second;
  return order;
}

}  // namespace

// Up to two integer keys whose ranges fit one 64-bit word together (a
// zipcode and an hour: 17 + 28 bits): each key becomes its offset from the
// column's minimum (plus one when the column has NULLs, which become 0 and
// so sort first), key 0 in the high bits, and the words are radix sorted.
// Empty when the keys do not fit.
std::vector<uint32_t> ViewState::SortRangePacked(size_t from, size_t to) const {
  const size_t nkeys = groups_.num_keys();
  const size_t g = to - from;
  uint64_t min[2] = {0, 0}, width[2] = {0, 0};  // width: offsets are in [0, width]
  int bits[2] = {0, 0};
  for (size_t c = 0; c < nkeys; ++c) {
    const Vector& col = groups_.key_column(c);
    bool any = false, nulls = false;
    int64_t lo = 0, hi = 0;
    for (size_t i = from; i < to; ++i) {
      if (!col.valid[i]) {
        nulls = true;
        continue;
      }
      const int64_t x = col.ints[i];
      if (!any || x < lo) lo = x;
      if (!any || x > hi) hi = x;
      any = true;
    }
    min[c] = static_cast<uint64_t>(lo);
    const uint64_t span = any ? static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) : 0;
    if (nulls && span == ~uint64_t{0}) return {};
    width[c] = span + (nulls ? 1 : 0);
    bits[c] = width[c] == 0 ? 0 : 64 - __builtin_clzll(width[c]);
    if (nulls) min[c] -= 1;  // valid values start at offset 1
  }
  if (bits[0] + bits[1] > 64) return {};
  std::vector<std::pair<uint64_t, uint32_t>> pairs(g);
  for (size_t j = 0; j < g; ++j) {
    const size_t i = from + j;
    uint64_t word = 0;
    for (size_t c = 0; c < nkeys; ++c) {
      const Vector& col = groups_.key_column(c);
      const uint64_t off = col.valid[i] ? static_cast<uint64_t>(col.ints[i]) - min[c] : 0;
      word = (bits[c] == 64 ? 0 : word << bits[c]) | off;
    }
    pairs[j] = {word, static_cast<uint32_t>(i)};
  }
  return RadixSortGroups(&pairs, bits[0] + bits[1]);
}

std::vector<uint32_t> ViewState::SortRange(size_t from, size_t to) const {
  const size_t nkeys = groups_.num_keys();
  const size_t g = to - from;
  std::vector<uint32_t> order(g);
  bool all_int = nkeys > 0 && nkeys <= 2;
  for (size_t c = 0; c < nkeys; ++c)
    all_int = all_int && PhysicalOf(groups_.key_column(c).type) == PhysicalType::kInt64;
  if (all_int && g >= kPackedSortMin) {
    std::vector<uint32_t> packed = SortRangePacked(from, to);
    if (packed.size() == g) return packed;
  }
  if (all_int) {
    // Up to two integer keys: sort compact (key, group) records instead of
    // chasing group ids into the key columns on every comparison.
    struct Rec {
      uint64_t k[2];
      uint32_t valid;
      uint32_t gid;
    };
    std::vector<Rec> recs(g);
    for (size_t j = 0; j < g; ++j) {
      const size_t i = from + j;
      Rec& r = recs[j];
      r.k[0] = r.k[1] = 0;
      r.valid = 0;
      r.gid = static_cast<uint32_t>(i);
      for (size_t c = 0; c < nkeys; ++c) {
        const Vector& col = groups_.key_column(c);
        if (!col.valid[i]) continue;
        r.valid |= 1u << (1 - c);                                           // key 0 is the more significant bit
        r.k[c] = static_cast<uint64_t>(col.ints[i]) ^ (uint64_t{1} << 63);  // signed order as unsigned
      }
    }
    SortMaybeParallel(&recs, [](const Rec& a, const Rec& b) {
      // NULL (valid bit 0) sorts first; key 0 before key 1.
      const uint32_t a0 = a.valid >> 1, b0 = b.valid >> 1;
      if (a0 != b0) return a0 < b0;
      if (a.k[0] != b.k[0]) return a.k[0] < b.k[0];
      const uint32_t a1 = a.valid & 1, b1 = b.valid & 1;
      if (a1 != b1) return a1 < b1;
      return a.k[1] < b.k[1];
    });
    for (size_t i = 0; i < g; ++i) order[i] = recs[i].gid;
    return order;
  }
  std::iota(order.begin(), order.end(), static_cast<uint32_t>(from));
  SortMaybeParallel(&order, [&](uint32_t a, uint32_t b) { return KeyLess(a, b); });
  return order;
}

bool ViewState::KeyLess(uint32_t a, uint32_t b) const {
  const size_t nkeys = groups_.num_keys();
  for (size_t c = 0; c < nkeys; ++c) {
    const Vector& col = groups_.key_column(c);
    if (col.valid[a] != col.valid[b]) return col.valid[a] < col.valid[b];
    if (!col.valid[a]) continue;
    switch (PhysicalOf(col.type)) {
      case PhysicalType::kInt64:
        if (col.ints[a] != col.ints[b]) return col.ints[a] < col.ints[b];
        break;
      case PhysicalType::kDouble:
        if (!SqlDoubleEq(col.dbls[a], col.dbls[b])) return SqlDoubleLess(col.dbls[a], col.dbls[b]);
        break;
      case PhysicalType::kString:
        if (col.strs[a] != col.strs[b]) return col.strs[a] < col.strs[b];
        break;
    }
  }
  return false;
}

std::vector<uint32_t> ViewState::SortedGroups() const {
  // Groups are only ever appended, so the order of the first n groups stays
  // valid: only new groups are sorted, then merged in (a served view is
  // finalized over and over while it grows).
  MutexLock lock(&order_mu_);
  const size_t g = groups_.size();
  if (order_.size() < g) {
    std::vector<uint32_t> fresh = SortRange(order_.size(), g);
    if (order_.empty()) {
      order_ = std::move(fresh);
    } else {
      std::vector<uint32_t> merged(g);
      std::merge(order_.begin(), order_.end(), fresh.begin(), fresh.end(), merged.begin(),
                 [&](uint32_t a, uint32_t b) { return KeyLess(a, b); });
      order_.swap(merged);
    }
  }
  return order_;
}

Status ViewState::FinalizeBatches(const FinalizedBatchFn& fn) const { return FinalizeGroups(SortedGroups(), fn); }

Status ViewState::FinalizeGroups(const std::vector<uint32_t>& order, const FinalizedBatchFn& fn) const {
  const sql::BoundView& v = plan_.view();
  const size_t nkeys = groups_.num_keys();
  const size_t g = order.size();
  // Intermediate rows: keys then finalized aggregates, in batches.
  std::vector<TypeId> types = plan_.key_types();
  for (size_t i = 0; i < plan_.num_aggregates(); ++i) types.push_back(plan_.aggregate(i).result_type());
  // Sized for the groups asked for: a key lookup finalizes one.
  const size_t capacity = std::max<size_t>(1, std::min(Batch::kCapacity, g));
  Batch batch(types, capacity);
  std::unique_ptr<ExprEvaluator> having = v.having ? std::make_unique<ExprEvaluator>(*v.having) : nullptr;
  std::vector<std::unique_ptr<ExprEvaluator>> outputs;
  for (const auto& o : v.outputs) outputs.push_back(std::make_unique<ExprEvaluator>(*o.expr));
  std::vector<uint32_t> sel(capacity);
  std::vector<const Vector*> cols(outputs.size());
  Value value;
  for (size_t from = 0; from < g; from += capacity) {
    batch.Clear();
    batch.size = std::min(capacity, g - from);
    const uint32_t* gids = order.data() + from;
    for (size_t k = 0; k < batch.size; ++k) {
      // Groups in key order are scattered over the key columns: fetch the
      // keys of the group eight ahead while this one is copied.
      if (k + 8 < batch.size)
        for (size_t c = 0; c < nkeys; ++c) PrefetchCell(groups_.key_column(c), gids[k + 8]);
      for (size_t c = 0; c < nkeys; ++c) CopyCell(groups_.key_column(c), gids[k], batch.columns[c], k);
    }
    // Aggregate by aggregate (no virtual call per cell). The error reported
    // is the first in row order, then aggregate order, as a row-by-row pass
    // would meet it.
    size_t fail_row = batch.size;
    Status fail;
    for (size_t i = 0; i < states_.size(); ++i) {
      const auto& agg = v.aggregates[i];
      Vector& out = batch.columns[nkeys + i];
      size_t failed = batch.size;
      Status st;
      if (agg.kind == AggKind::kApproxQuantile) {
        for (size_t k = 0; k < batch.size && st.ok(); ++k) {
          st = states_[plan_.state_of(i)]->FinalizeQuantile(gids[k], agg.param, &value);
          if (st.ok()) {
            out.SetValue(k, value, &batch.arena);
          } else {
            failed = k;
          }
        }
      } else {
        st = states_[i]->FinalizeInto(gids, batch.size, &out, &batch.arena, &failed);
      }
      if (!st.ok() && failed < fail_row) {
        fail_row = failed;
        fail = st;
      }
    }
    if (!fail.ok()) {
      const uint32_t gid = gids[fail_row];
      std::string key;
      for (size_t c = 0; c < nkeys; ++c) key += (c ? ", " : "") + groups_.key_column(c).GetValue(gid).DebugString();
      return Status(fail.code(),
                    "view '" + v.name + "'" + (nkeys ? " group (" + key + ")" : "") + ": " + fail.message());
    }
    size_t m = batch.size;
    if (having) {
      m = SelectTrue(having->Evaluate(batch), batch.size, sel.data());
    } else {
      std::iota(sel.begin(), sel.begin() + static_cast<long>(m), 0);
    }
    for (size_t c = 0; c < outputs.size(); ++c) cols[c] = &outputs[c]->Evaluate(batch);
    RETURN_IF_ERROR(fn(cols, sel.data(), m));
  }
  return Status::OK();
}

Result<ViewResult> ViewState::Finalize() const {
  ViewResult result;
  result.name = plan_.name();
  result.column_names = plan_.output_names();
  result.column_types = plan_.output_types();
  result.rows.reserve(groups_.size());
  RETURN_IF_ERROR(FinalizeBatches([&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
    for (size_t k = 0; k < n; ++k) {
      std::vector<Value> row;
      row.reserve(cols.size());
      for (size_t c = 0; c < cols.size(); ++c) {
        Value val = cols[c]->GetValue(rows[k]);
        val.type = result.column_types[c];
        row.push_back(std::move(val));
      }
      result.rows.push_back(std::move(row));
    }
    return Status::OK();
  }));
  return result;
}

void ViewState::Reserve(size_t groups) {
  groups_.Reserve(groups);
  for (auto& s : states_)
    if (s) s->Reserve(groups);
}

size_t ViewState::CountNewGroups(const ViewState& other) const {
  if (groups_.num_keys() == 0) return groups_.size() == 0 && other.groups_.size() > 0 ? 1 : 0;
  std::vector<const Vector*> cols;
  for (size_t c = 0; c < other.groups_.num_keys(); ++c) cols.push_back(&other.groups_.key_column(c));
  size_t n = 0;
  for (size_t g = 0; g < other.groups_.size(); ++g) n += groups_.Find(cols, static_cast<uint32_t>(g)) < 0;
  return n;
}

size_t ViewState::MemoryUsage() const {
  size_t bytes = groups_.MemoryUsage();
  for (const auto& s : states_)
    if (s) bytes += s->MemoryUsage();
  return bytes;
}

}  // namespace lf

namespace lf {
namespace {

constexpr char kStateMagic[8] = {'L', 'F', 'S', 'T', 'A', 'T', 'E', '1'};

void PutU64(uint64_t v, std::string* out) {
  char b[8];
  std::memcpy(b, &v, 8);  // little-endian hosts only (checked in the format doc)
  out->append(b, 8);
}

bool GetU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  std::memcpy(v, in->data(), 8);
  in->remove_prefix(8);
  return true;
}

}  // namespace

void ViewState::Serialize(std::string* out) const {
  const size_t start = out->size();
  out->append(kStateMagic, sizeof(kStateMagic));
  const size_t nkeys = groups_.num_keys();
  PutU64(nkeys, out);
  PutU64(plan_.num_states(), out);  // shared states are written once
  for (size_t c = 0; c < nkeys; ++c) out->push_back(static_cast<char>(groups_.key_column(c).type));
  PutU64(groups_.size(), out);
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t c = 0; c < nkeys; ++c) {
      const Vector& col = groups_.key_column(c);
      if (col.IsNull(g)) {
        out->push_back(0);
        continue;
      }
      out->push_back(1);
      switch (PhysicalOf(col.type)) {
        case PhysicalType::kInt64:
          PutU64(static_cast<uint64_t>(col.ints[g]), out);
          break;
        case PhysicalType::kDouble: {
          uint64_t bits;
          std::memcpy(&bits, &col.dbls[g], 8);
          PutU64(bits, out);
          break;
        }
        case PhysicalType::kString:
          PutU64(col.strs[g].size(), out);
          out->append(col.strs[g]);
          break;
      }
    }
    for (const auto& st : states_)
      if (st) st->Serialize(g, out);
  }
  PutU64(XXH3_64bits(out->data() + start, out->size() - start), out);
}

Status ViewState::Deserialize(std::string_view image) {
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("view state of '" + plan_.name() + "': " + why);
  };
  if (image.size() < sizeof(kStateMagic) + 8 || std::memcmp(image.data(), kStateMagic, sizeof(kStateMagic)) != 0)
    return corrupt("bad magic or truncated");
  uint64_t stored_hash;
  std::memcpy(&stored_hash, image.data() + image.size() - 8, 8);
  if (XXH3_64bits(image.data(), image.size() - 8) != stored_hash) return corrupt("checksum mismatch");
  std::string_view in = image.substr(sizeof(kStateMagic), image.size() - sizeof(kStateMagic) - 8);
  uint64_t nkeys, naggs, ngroups;
  if (!GetU64(&in, &nkeys) || !GetU64(&in, &naggs)) return corrupt("truncated header");
  if (nkeys != groups_.num_keys() || naggs != plan_.num_states())
    return corrupt("written by a different plan (" + std::to_string(nkeys) + " keys, " + std::to_string(naggs) +
                   " aggregates)");
  if (in.size() < nkeys) return corrupt("truncated header");
  for (size_t c = 0; c < nkeys; ++c)
    if (static_cast<TypeId>(in[c]) != groups_.key_column(c).type) return corrupt("key types differ from the plan");
  in.remove_prefix(nkeys);
  if (!GetU64(&in, &ngroups)) return corrupt("truncated header");
  // Groups are read into a fresh state and then combined, so that loading
  // into a non-empty state merges; an empty keyed state is loaded directly.
  const bool direct = nkeys > 0 && groups_.size() == 0;
  // Sized once (every group takes at least one byte per key): no doubling
  // while loading, and no spare capacity afterwards.
  if (direct) Reserve(std::min<uint64_t>(ngroups, in.size() / nkeys));
  std::unique_ptr<ViewState> fresh_holder = direct ? nullptr : plan_.NewState();
  ViewState* fresh = direct ? this : fresh_holder.get();
  Batch keys(plan_.key_types(), 1);
  std::vector<const Vector*> key_ptrs;
  for (auto& col : keys.columns) key_ptrs.push_back(&col);
  const uint32_t row = 0;
  for (uint64_t g = 0; g < ngroups; ++g) {
    keys.Clear();
    for (size_t c = 0; c < nkeys; ++c) {
      Vector& col = keys.columns[c];
      if (in.empty()) return corrupt("truncated group " + std::to_string(g));
      char present = in[0];
      in.remove_prefix(1);
      if (!present) {
        col.SetNull(0);
        continue;
      }
      uint64_t v;
      if (!GetU64(&in, &v)) return corrupt("truncated group " + std::to_string(g));
      switch (PhysicalOf(col.type)) {
        case PhysicalType::kInt64:
          col.SetInt(0, static_cast<int64_t>(v));
          break;
        case PhysicalType::kDouble: {
          double d;
          std::memcpy(&d, &v, 8);
          col.SetDouble(0, d);
          break;
        }
        case PhysicalType::kString:
          if (in.size() < v) return corrupt("truncated key text in group " + std::to_string(g));
          col.SetString(0, keys.arena.Copy(in.substr(0, v)));
          in.remove_prefix(v);
          break;
      }
    }
    uint32_t gid;
    fresh->groups_.FindOrInsert(key_ptrs, &row, 1, &gid);
    if (gid != g) return corrupt("duplicate group key at group " + std::to_string(g));
    for (auto& st : fresh->states_) {
      if (!st) continue;
      st->Resize(fresh->groups_.size());
      RETURN_IF_ERROR(st->Deserialize(gid, &in));
    }
  }
  if (!in.empty()) return corrupt(std::to_string(in.size()) + " trailing bytes");
  if (!direct) Combine(*fresh);
  return Status::OK();
}

}  // namespace lf
