// The served batch part of a pipeline: loading a batch version's pieces,
// swapping a new version in by reading only the pieces it adds (the others
// are the ones already loaded, or merges of them), and the states a query
// gathered from several workers asks for (OwnedState, PartitionBatchOnly).
#include <malloc.h>

#include <algorithm>
#include <chrono>

#include "pipeline/pipeline.h"

namespace lf {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string Ms(double secs) { return std::to_string(static_cast<int64_t>(secs * 1000 + 0.5)) + " ms"; }

std::string Watermarks(const std::vector<uint64_t>& w) {
  std::string s;
  for (size_t p = 0; p < w.size(); ++p) s += (p ? "," : "") + std::to_string(w[p]);
  return s;
}

}  // namespace

Result<std::optional<Pipeline::PendingVersion>> Pipeline::LoadServableVersion() {
  auto current = dir_->versions().Current();
  if (!current.ok()) {
    LogLine("batch: the current version is unreadable (" + current.status().ToString() + "); recomputing");
    return std::optional<PendingVersion>();
  }
  if (!*current) return std::optional<PendingVersion>();
  const BatchVersion& v = **current;
  if (v.schema_fingerprint != dir_->master()->schema_fingerprint() ||
      v.watermark.size() != static_cast<size_t>(dir_->partitions()))
    return std::optional<PendingVersion>();
  for (const ViewPlan* plan : plans_) {
    const VersionView* vv = v.FindView(plan->name());
    if (!vv || vv->plan_fingerprint != plan->fingerprint()) return std::optional<PendingVersion>();
  }
  auto loaded = LoadVersion(v, std::vector<bool>(v.watermark.size(), true));
  if (!loaded.ok()) {
    LogLine("batch: version " + std::to_string(v.number) + " is damaged (" + loaded.status().ToString() +
            "); recomputing");
    return std::optional<PendingVersion>();
  }
  return std::optional<PendingVersion>(std::move(*loaded));
}

Result<Pipeline::PendingVersion> Pipeline::LoadVersion(const BatchVersion& version,
                                                       const std::vector<bool>& partitions) {
  const auto start = std::chrono::steady_clock::now();
  PendingVersion p;
  p.version = version;
  bool all = true;
  for (bool in : partitions) all = all && in;
  for (const ViewPlan* plan : plans_) {
    const int vi = version.ViewIndex(plan->name());
    if (vi < 0)
      return Status::Corruption("batch version " + std::to_string(version.number) + " has no view '" + plan->name() +
                                "'");
    std::vector<const VersionPiece*> pieces;
    for (const VersionPiece* piece : version.PiecesOf(static_cast<size_t>(vi))) {
      const bool in = piece->partition < 0 ? all
                                           : static_cast<size_t>(piece->partition) < partitions.size() &&
                                                 partitions[static_cast<size_t>(piece->partition)];
      if (in) pieces.push_back(piece);
    }
    ASSIGN_OR_RETURN(auto state, dir_->versions().ReadPieces(*plan, pieces));
    p.states.push_back(std::move(state));
    p.stats.pieces_read += pieces.size();
  }
  p.stats.pieces_total = p.stats.pieces_read;
  p.stats.read_seconds = Since(start);
  return p;
}

Result<Pipeline::PendingVersion> Pipeline::PrepareVersion(const BatchVersion& version) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t base = 0;
  std::vector<uint64_t> to;
  std::vector<bool> in;
  {
    MutexLock lock(&batch_part_mu_);
    base = batch_part_id_;
    to = batch_part_to_;
    in = batch_part_in_;
  }
  const std::vector<uint64_t> first = dir_->master()->Snapshot().first;
  // Delta: for every view and partition served, the version's pieces below
  // the loaded `to[p]` tile [first[p], to[p]) (the loaded pieces or merges
  // of them: a delta run reuses a piece only while its segments are
  // unchanged), and the others tile [to[p], W[p]): only those are read.
  bool delta = base > 0 && !version.full && to.size() == version.watermark.size();
  std::vector<std::vector<const VersionPiece*>> to_read(plans_.size());
  uint64_t total = 0;
  for (size_t i = 0; i < plans_.size(); ++i) {
    const int vi = version.ViewIndex(plans_[i]->name());
    if (vi < 0 || version.views[static_cast<size_t>(vi)].plan_fingerprint != plans_[i]->fingerprint())
      return Status::Corruption("batch version " + std::to_string(version.number) + " has no view '" +
                                plans_[i]->name() + "' as this process computes it");
    total += version.PiecesOf(static_cast<size_t>(vi)).size();
    if (!delta) continue;
    if (!version.PiecesOf(static_cast<size_t>(vi), -1).empty()) delta = false;
    for (size_t p = 0; p < to.size() && delta; ++p) {
      if (!in[p]) continue;  // a member's partition owned elsewhere
      const auto pieces = version.PiecesOf(static_cast<size_t>(vi), static_cast<int>(p));
      if (version.watermark[p] < to[p]) {
        delta = false;
        break;
      }
      uint64_t at = first[p];
      bool below = true;
      for (const VersionPiece* piece : pieces) {
        if (below && at == to[p]) below = false;
        if (piece->from != at || (below && piece->to > to[p])) {
          delta = false;
          break;
        }
        if (!below) to_read[i].push_back(piece);
        at = piece->to;
      }
      if (delta && at != version.watermark[p]) delta = false;
    }
  }
  if (!delta) {
    if (in.size() != version.watermark.size()) in.assign(version.watermark.size(), true);
    ASSIGN_OR_RETURN(PendingVersion full, LoadVersion(version, in));
    return full;
  }
  PendingVersion pending;
  pending.version = version;
  pending.delta = true;
  pending.base = base;
  for (size_t i = 0; i < plans_.size(); ++i) {
    ASSIGN_OR_RETURN(auto state, dir_->versions().ReadPieces(*plans_[i], to_read[i]));
    pending.states.push_back(std::move(state));
    pending.stats.pieces_read += to_read[i].size();
  }
  pending.stats.delta = true;
  pending.stats.pieces_total = total;
  pending.stats.read_seconds = Since(start);
  return pending;
}

void Pipeline::ServeBatchPart(Coverage coverage) {
  ViewStates states;
  for (const auto& s : batch_part_.states) states.push_back(s->Clone());
  coverage.batch = batch_part_.to;
  for (const auto& [p, other] : others_) {
    for (size_t i = 0; i < states.size(); ++i) states[i]->Combine(*other.states[i]);
    if (!batch_part_.in[static_cast<size_t>(p)]) coverage.batch[static_cast<size_t>(p)] = other.watermark;
  }
  speed_->CombineInto(&states);
  coverage.speed = speed_->watermark();
  served_->Install(std::move(states), std::move(coverage));
}

Status Pipeline::InstallVersion(PendingVersion pending) {
  // The new served states: the batch part with the version's new pieces,
  // plus every bucket it does not cover; the buckets it covers are dropped
  // in the same step.
  if (served_version_ && pending.version.number <= served_version_->number) return Status::OK();
  if (options_.member && !PrepareMemberSwap(pending.version)) return Status::OK();
  const auto start = std::chrono::steady_clock::now();
  if (pending.delta && pending.base != batch_part_.id) {
    // Read against a batch part that another swap replaced since.
    const BatchVersion v = pending.version;
    ASSIGN_OR_RETURN(pending, LoadVersion(v, batch_part_.in));
  }
  const BatchVersion& v = pending.version;
  RETURN_IF_ERROR(speed_->DropBelow(v.watermark));
  if (pending.delta) {
    for (size_t i = 0; i < batch_part_.states.size(); ++i) batch_part_.states[i]->Combine(*pending.states[i]);
  } else {
    batch_part_.states = std::move(pending.states);
  }
  for (size_t p = 0; p < v.watermark.size(); ++p) {
    if (!batch_part_.in[p]) continue;
    batch_part_.to[p] = v.watermark[p];
    batch_part_.pieces[p] = PlanPieces(v, static_cast<int>(p));
  }
  ++batch_part_.id;
  Coverage c = served_->coverage();
  c.batch_version = v.number;
  c.batch_created_ms = v.created_ms;
  ServeBatchPart(std::move(c));
  // The previous served states and the swap's scratch go back to the
  // system now, not when the arenas happen to shrink: the next batch run and
  // swap start from the served state, not from the last swap's peak.
  malloc_trim(0);
  served_version_ = v;
  pending.stats.install_seconds = Since(start);
  {
    MutexLock lock(&batch_part_mu_);
    batch_part_id_ = batch_part_.id;
    batch_part_to_ = batch_part_.to;
    batch_part_in_ = batch_part_.in;
    last_swap_ = pending.stats;
  }
  const SwapStats& s = pending.stats;
  LogLine("serving batch version " + std::to_string(v.number) + " (W=" + Watermarks(v.watermark) + "); " +
          std::to_string(speed_->num_buckets()) + " speed buckets remain; swap: " + std::to_string(s.pieces_read) +
          " of " + std::to_string(s.pieces_total) + " pieces read" + (s.delta ? "" : " (a full load)") + " in " +
          Ms(s.read_seconds) + ", installed in " + Ms(s.install_seconds));
  return Status::OK();
}

Pipeline::SwapStats Pipeline::last_swap() const {
  MutexLock lock(&batch_part_mu_);
  return last_swap_;
}

Result<OwnedViewState> Pipeline::OwnedState(size_t view) const {
  if (view >= plans_.size()) return Status::InvalidArgument("no view " + std::to_string(view));
  MutexLock speed_lock(&speed_mu_);
  OwnedViewState out;
  const Coverage c = served_->coverage();
  std::vector<int> owned;
  if (options_.member) {
    owned = dir_->master()->Owned();
  } else {
    for (int p = 0; p < dir_->partitions(); ++p) owned.push_back(p);
  }
  // The batch part holds exactly the owned partitions' pieces.
  out.state = batch_part_.states[view]->Clone();
  for (int p : owned) {
    speed_->CombinePartitionInto(p, view, out.state.get());  // this view's buckets only
    const auto i = static_cast<size_t>(p);
    out.partitions.push_back({p, dir_->master()->Epoch(p), c.batch[i], c.speed[i]});
  }
  return out;
}

Result<PartitionBatchState> Pipeline::PartitionBatchOnly(size_t view, int partition) const {
  if (view >= plans_.size()) return Status::InvalidArgument("no view " + std::to_string(view));
  if (partition < 0 || partition >= dir_->partitions())
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  ASSIGN_OR_RETURN(PartitionManifest m, dir_->master()->Refresh(partition));
  PartitionBatchState out;
  out.partition = partition;
  out.batch = m.content.start;
  if (m.content.batch_key.empty()) {
    out.state = plans_[view]->NewState();
    return out;
  }
  {
    // Held already: a partition owned elsewhere, from the same version.
    MutexLock speed_lock(&speed_mu_);
    auto it = others_.find(partition);
    if (it != others_.end() && it->second.key == m.content.batch_key) {
      out.version = it->second.number;
      out.batch = it->second.watermark;
      out.state = it->second.states[view]->Clone();
      return out;
    }
  }
  ASSIGN_OR_RETURN(BatchVersion v, dir_->versions().Read(m.content.batch_key));
  out.version = v.number;
  out.batch = v.watermark[static_cast<size_t>(partition)];
  const int vi = v.ViewIndex(plans_[view]->name());
  if (vi < 0 || v.views[static_cast<size_t>(vi)].plan_fingerprint != plans_[view]->fingerprint())
    return Status::NotFound("view '" + plans_[view]->name() + "' changed since batch version " +
                            std::to_string(v.number) + " of partition " + std::to_string(partition));
  ASSIGN_OR_RETURN(out.state,
                   dir_->versions().ReadPieces(*plans_[view], v.PiecesOf(static_cast<size_t>(vi), partition)));
  return out;
}

}  // namespace lf

namespace lf {

std::vector<VersionPiece> Pipeline::PlanPieces(const BatchVersion& v, int p) const {
  std::vector<VersionPiece> out;
  for (size_t i = 0; i < plans_.size(); ++i) {
    const int vi = v.ViewIndex(plans_[i]->name());
    if (vi < 0) continue;
    for (const VersionPiece* piece : v.PiecesOf(static_cast<size_t>(vi), p)) {
      out.push_back(*piece);
      out.back().view = i;
    }
  }
  return out;
}

Result<Pipeline::PendingOther> Pipeline::ReadOther(int p, const OtherPartition* have) const {
  const auto i = static_cast<size_t>(p);
  ASSIGN_OR_RETURN(PartitionManifest m, dir_->master()->Refresh(p));
  PendingOther out;
  out.partition = p;
  OtherPartition& o = out.other;
  o.key = m.content.batch_key;
  o.watermark = m.content.start;
  if (o.key.empty()) {
    o.states = NewViewStates(plans_);
    return out;
  }
  ASSIGN_OR_RETURN(BatchVersion v, dir_->versions().Read(o.key));
  if (v.watermark.size() <= i)
    return Status::Corruption("batch version " + o.key + " has no partition " + std::to_string(p));
  o.number = v.number;
  o.watermark = v.watermark[i];
  o.pieces = PlanPieces(v, p);
  // What `have` holds already: its pieces' ranges, tiled again below its W.
  const bool delta = have && !have->key.empty() && !v.full && o.watermark >= have->watermark;
  for (const ViewPlan* plan : plans_) {
    const int vi = v.ViewIndex(plan->name());
    if (vi < 0 || v.views[static_cast<size_t>(vi)].plan_fingerprint != plan->fingerprint())
      return Status::NotFound("view '" + plan->name() + "' differs in batch version " + o.key + " of partition " +
                              std::to_string(p));
    std::vector<const VersionPiece*> pieces = v.PiecesOf(static_cast<size_t>(vi), p);
    if (delta) {
      std::vector<const VersionPiece*> beyond;
      for (const VersionPiece* piece : pieces)
        if (piece->from >= have->watermark) beyond.push_back(piece);
      pieces.swap(beyond);
    }
    ASSIGN_OR_RETURN(auto state, dir_->versions().ReadPieces(*plan, pieces));
    o.states.push_back(std::move(state));
  }
  if (delta) {
    // Only if the pieces below have->watermark end exactly there.
    bool lines_up = have->watermark == m.content.start;
    for (const auto& piece : o.pieces) lines_up = lines_up || piece.to == have->watermark;
    for (const auto& piece : o.pieces)
      lines_up = lines_up && !(piece.from < have->watermark && piece.to > have->watermark);
    if (!lines_up) return ReadOther(p, nullptr);
    out.delta = true;
    out.base_key = have->key;
  }
  return out;
}

void Pipeline::RefreshOthers() {
  std::vector<std::pair<int, std::optional<OtherPartition>>> have;  // copies of the keys and W only
  {
    MutexLock speed_lock(&speed_mu_);
    for (int p = 0; p < dir_->partitions(); ++p) {
      if (batch_part_.in[static_cast<size_t>(p)]) continue;
      auto it = others_.find(p);
      if (it == others_.end()) {
        have.emplace_back(p, std::nullopt);
      } else {
        OtherPartition o;
        o.key = it->second.key;
        o.watermark = it->second.watermark;
        have.emplace_back(p, std::move(o));
      }
    }
  }
  std::vector<PendingOther> read;
  for (auto& [p, o] : have) {
    auto latest = dir_->master()->Refresh(p);
    if (!latest.ok()) continue;
    if (o && latest->content.batch_key == o->key) continue;
    auto r = ReadOther(p, o ? &*o : nullptr);
    if (!r.ok()) {
      LogLine("group: partition " + std::to_string(p) + "'s batch version not read: " + r.status().ToString());
      continue;
    }
    read.push_back(std::move(*r));
  }
  if (read.empty()) return;
  MutexLock lock(&mu_);
  for (auto& r : read) pending_others_.push_back(std::move(r));
}

void Pipeline::InstallOthers(std::vector<PendingOther> others) {
  bool changed = false;
  for (auto& r : others) {
    const auto i = static_cast<size_t>(r.partition);
    if (batch_part_.in[i]) continue;  // gained meanwhile
    auto it = others_.find(r.partition);
    if (r.delta) {
      if (it == others_.end() || it->second.key != r.base_key) continue;  // the next refresh reads it again
      for (size_t v = 0; v < plans_.size(); ++v) it->second.states[v]->Combine(*r.other.states[v]);
      it->second.key = r.other.key;
      it->second.number = r.other.number;
      it->second.watermark = r.other.watermark;
      it->second.pieces = std::move(r.other.pieces);
    } else {
      others_[r.partition] = std::move(r.other);
    }
    const uint64_t w = others_[r.partition].watermark;
    speed_->DropPartition(r.partition, w);
    if (feed_) feed_->ResetPartition(r.partition, w, /*active=*/false);
    changed = true;
  }
  if (changed) ServeBatchPart(served_->coverage());
}

Status Pipeline::RebuildBatchPart() {
  for (size_t v = 0; v < plans_.size(); ++v) {
    std::vector<const VersionPiece*> pieces;
    const int vi = static_cast<int>(v);
    for (size_t p = 0; p < batch_part_.pieces.size(); ++p) {
      if (!batch_part_.in[p]) continue;
      for (const auto& piece : batch_part_.pieces[p])
        if (static_cast<int>(piece.view) == vi) pieces.push_back(&piece);
    }
    ASSIGN_OR_RETURN(batch_part_.states[v], dir_->versions().ReadPieces(*plans_[v], pieces));
  }
  ++batch_part_.id;
  MutexLock lock(&batch_part_mu_);
  batch_part_id_ = batch_part_.id;
  batch_part_to_ = batch_part_.to;
  batch_part_in_ = batch_part_.in;
  return Status::OK();
}

}  // namespace lf
