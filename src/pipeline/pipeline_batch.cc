// The served batch part of a pipeline: loading a batch version's pieces,
// swapping a new version in by reading only the pieces it adds (the others
// are the ones already loaded, or merges of them), and the states a query
// gathered from several workers asks for (OwnedState, PartitionBatchOnly).
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
  auto loaded = LoadVersion(v);
  if (!loaded.ok()) {
    LogLine("batch: version " + std::to_string(v.number) + " is damaged (" + loaded.status().ToString() +
            "); recomputing");
    return std::optional<PendingVersion>();
  }
  return std::optional<PendingVersion>(std::move(*loaded));
}

Result<Pipeline::PendingVersion> Pipeline::LoadVersion(const BatchVersion& version) {
  const auto start = std::chrono::steady_clock::now();
  PendingVersion p;
  p.version = version;
  for (const ViewPlan* plan : plans_) {
    const int vi = version.ViewIndex(plan->name());
    if (vi < 0)
      return Status::Corruption("batch version " + std::to_string(version.number) + " has no view '" + plan->name() +
                                "'");
    const auto pieces = version.PiecesOf(static_cast<size_t>(vi));
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
      const auto pieces = version.PiecesOf(static_cast<size_t>(vi), static_cast<int>(p));
      if (!in[p] || version.watermark[p] < to[p]) {
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
    ASSIGN_OR_RETURN(PendingVersion full, LoadVersion(version));
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
    ASSIGN_OR_RETURN(pending, LoadVersion(v));
  }
  const BatchVersion& v = pending.version;
  RETURN_IF_ERROR(speed_->DropBelow(v.watermark));
  if (pending.delta) {
    for (size_t i = 0; i < batch_part_.states.size(); ++i) batch_part_.states[i]->Combine(*pending.states[i]);
  } else {
    batch_part_.states = std::move(pending.states);
  }
  batch_part_.to = v.watermark;
  batch_part_.in.assign(v.watermark.size(), true);
  ++batch_part_.id;
  Coverage c = served_->coverage();
  c.batch = v.watermark;
  c.batch_version = v.number;
  c.batch_created_ms = v.created_ms;
  ServeBatchPart(std::move(c));
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
  if (!options_.member) {
    out.state = batch_part_.states[view]->Clone();
  } else {
    // A member's batch part holds its own version's pieces, which may
    // include partitions it no longer owns: the owned ones' pieces alone.
    std::vector<const VersionPiece*> pieces;
    if (served_version_) {
      const int vi = served_version_->ViewIndex(plans_[view]->name());
      for (int p : owned)
        if (vi >= 0)
          for (const VersionPiece* piece : served_version_->PiecesOf(static_cast<size_t>(vi), p))
            pieces.push_back(piece);
    }
    ASSIGN_OR_RETURN(out.state, dir_->versions().ReadPieces(*plans_[view], pieces));
  }
  ViewStates speed;
  for (size_t i = 0; i < plans_.size(); ++i) speed.push_back(plans_[i]->NewState());
  for (int p : owned) {
    speed_->CombinePartitionInto(p, &speed);
    const auto i = static_cast<size_t>(p);
    out.partitions.push_back({p, dir_->master()->Epoch(p), c.batch[i], c.speed[i]});
  }
  out.state->Combine(*speed[view]);
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
  ASSIGN_OR_RETURN(BatchVersion v, dir_->versions().Read(m.content.batch_key));
  out.version = v.number;
  out.batch = v.watermark[static_cast<size_t>(partition)];
  const int vi = v.ViewIndex(plans_[view]->name());
  if (vi < 0 || v.views[static_cast<size_t>(vi)].plan_fingerprint != plans_[view]->fingerprint())
    return Status::NotFound("view '" + plans_[view]->name() + "' changed since batch version " +
                            std::to_string(v.number) + " of partition " + std::to_string(partition));
  ASSIGN_OR_RETURN(out.state, dir_->versions().ReadPieces(*plans_[view], v.PiecesOf(static_cast<size_t>(vi), partition)));
  return out;
}

}  // namespace lf
