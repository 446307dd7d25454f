// A consumer-group member's pipeline (`run --source kafka://... --group`,
// docs/formats/ownership.md): the rebalance callbacks, run on the source
// thread inside Poll, claim and release partitions in the master store and
// rebuild or drop their speed state; the batch loop computes only the
// partitions owned; a partition not owned is served from the version its
// own chain names alone (S[p] = W[p]). A gained partition's batch part is
// the previous owner's pieces, so its speed state is rebuilt only from
// their W[p].
#include <algorithm>

#include "common/format.h"
#include "pipeline/pipeline.h"

namespace lf {

Result<std::vector<PartitionStart>> GroupMembership::Gain(const std::vector<uint32_t>& gained) {
  MutexLock lock(&mu);
  if (!on_gain) return Status::Unavailable("the pipeline is not running: no partition is taken");
  return on_gain(gained);
}

void GroupMembership::Lose(const std::vector<uint32_t>& revoked, bool lost) {
  MutexLock lock(&mu);
  if (on_lose) on_lose(revoked, lost);
}

Result<std::vector<PartitionStart>> Pipeline::OnGain(const std::vector<uint32_t>& gained) {
  std::vector<PartitionStart> starts;
  MutexLock speed_lock(&speed_mu_);
  for (uint32_t part : gained) {
    const int p = static_cast<int>(part);
    const auto i = static_cast<size_t>(p);
    auto claimed = dir_->master()->Claim(p);
    if (!claimed.ok()) {
      LogLine("group: partition " + std::to_string(p) + " not taken: " + claimed.status().ToString());
      continue;
    }
    const uint64_t sealed = claimed->content.sealed;
    // Its batch part: the pieces of the version its chain names (the
    // previous owner's), held already when it was served from them.
    OtherPartition batch;
    auto held = others_.find(p);
    if (held != others_.end() && held->second.key == claimed->content.batch_key) {
      batch = std::move(held->second);
    } else {
      auto read = ReadOther(p, nullptr);
      if (read.ok()) {
        batch = std::move(read->other);
      } else {
        LogLine("group: partition " + std::to_string(p) + "'s batch version not read (" + read.status().ToString() +
                "); its speed state starts at its first offset");
        batch.watermark = claimed->content.start;
        batch.states = NewViewStates(plans_);
      }
    }
    const uint64_t w = batch.watermark;
    feed_->ResetPartition(p, sealed, /*active=*/true);
    if (Status st = speed_->RebuildPartition(*dir_->master(), p, w); !st.ok()) {
      LogLine("group: partition " + std::to_string(p) + " not taken: rebuilding its speed state: " + st.ToString());
      dir_->master()->Release(p);
      speed_->DropPartition(p, w);
      feed_->ResetPartition(p, w, /*active=*/false);
      others_[p] = std::move(batch);
      continue;
    }
    for (size_t v = 0; v < plans_.size(); ++v) batch_part_.states[v]->Combine(*batch.states[v]);
    batch_part_.in[i] = true;
    batch_part_.to[i] = w;
    batch_part_.pieces[i] = std::move(batch.pieces);
    ++batch_part_.id;
    others_.erase(p);
    starts.push_back({part, sealed});
    partitions_gained_.fetch_add(1, std::memory_order_relaxed);
    LogLine("group: gained partition " + std::to_string(p) + " (epoch " + std::to_string(dir_->master()->Epoch(p)) +
            "), reading from the sealed offset " + std::to_string(sealed) + "; batch part W=" + std::to_string(w) +
            " from " + (batch.key.empty() ? std::string("no version") : "version " + std::to_string(batch.number)) +
            " of its chain, speed state rebuilt from W=" + std::to_string(w) + " (" + std::to_string(sealed - w) +
            " offsets read from the master dataset)");
  }
  {
    MutexLock lock(&batch_part_mu_);
    batch_part_id_ = batch_part_.id;
    batch_part_to_ = batch_part_.to;
    batch_part_in_ = batch_part_.in;
  }
  if (Status st = ReinstallServed(); !st.ok()) LogLine("group: serving after a gain: " + st.ToString());
  return starts;
}

void Pipeline::OnLose(const std::vector<uint32_t>& revoked, bool lost) {
  MutexLock speed_lock(&speed_mu_);
  bool rebuild = false;
  for (uint32_t part : revoked) {
    const int p = static_cast<int>(part);
    const auto i = static_cast<size_t>(p);
    dir_->master()->Release(p);
    {
      MutexLock lock(&mu_);
      std::erase_if(to_seal_, [&](const OffsetRange& r) { return r.partition == p; });
      cv_.NotifyAll();
    }
    {
      MutexLock lock(&held_rejects_mu_);
      std::erase_if(held_rejects_, [&](const auto& kv) { return kv.first.first == p; });
    }
    rebuild = rebuild || batch_part_.in[i];
    batch_part_.in[i] = false;
    batch_part_.pieces[i].clear();
    // From now on its batch-only part, from the version its chain names.
    auto read = ReadOther(p, nullptr);
    if (read.ok()) {
      others_[p] = std::move(read->other);
    } else {
      LogLine("group: partition " + std::to_string(p) + "'s batch version not read (" + read.status().ToString() +
              "); served from its first offset until the next refresh");
      OtherPartition empty;
      empty.watermark = dir_->master()->Snapshot().first[i];
      empty.states = NewViewStates(plans_);
      others_[p] = std::move(empty);
    }
    const uint64_t w = others_[p].watermark;
    speed_->DropPartition(p, w);
    feed_->ResetPartition(p, w, /*active=*/false);
    (lost ? partitions_lost_ : partitions_revoked_).fetch_add(1, std::memory_order_relaxed);
    LogLine(std::string("group: ") + (lost ? "lost" : "revoked") + " partition " + std::to_string(p) +
            "; served from its chain's batch version alone (W=S=" + std::to_string(w) + ") from now on");
  }
  // The batch part without the lost partitions' pieces.
  if (rebuild)
    if (Status st = RebuildBatchPart(); !st.ok()) LogLine("group: rebuilding the batch part: " + st.ToString());
  if (Status st = ReinstallServed(); !st.ok()) LogLine("group: serving after a loss: " + st.ToString());
}

Status Pipeline::ReinstallServed() {
  // The batch part is held in memory: a copy of it ⊕ the speed state.
  ServeBatchPart(served_->coverage());
  return Status::OK();
}

bool Pipeline::PrepareMemberSwap(const BatchVersion& v) {
  const std::vector<uint64_t> low = speed_->low_watermark();
  for (int p = 0; p < dir_->partitions(); ++p) {
    const auto i = static_cast<size_t>(p);
    if (dir_->master()->Owns(p)) {
      if (v.watermark[i] < low[i]) {
        LogLine("batch: version " + std::to_string(v.number) + " is not served: it covers partition " +
                std::to_string(p) + " only to " + std::to_string(v.watermark[i]) +
                " (it began before this process gained it); the next run covers it");
        return false;
      }
    }
  }
  // Partitions owned elsewhere are served from their chains' versions
  // (others_), not from this one.
  return true;
}

void Pipeline::AddMemberStats(PipelineStats* s) const {
  if (!options_.member) return;
  s->owned.assign(static_cast<size_t>(dir_->partitions()), false);
  for (int p : dir_->master()->Owned()) s->owned[static_cast<size_t>(p)] = true;
  s->partitions_gained = partitions_gained_.load(std::memory_order_relaxed);
  s->partitions_revoked = partitions_revoked_.load(std::memory_order_relaxed);
  s->partitions_lost = partitions_lost_.load(std::memory_order_relaxed);
}

std::vector<int> Pipeline::MemberBatchPartitions(std::vector<uint64_t>* run_sealed) {
  std::vector<int> owned = dir_->master()->Owned();
  if (owned.empty()) return {};
  const Manifest m = dir_->master()->Snapshot();
  std::vector<uint64_t> sealed;
  bool any_segment = false;
  for (int p : owned) {
    sealed.push_back(m.sealed[static_cast<size_t>(p)]);
    any_segment = any_segment || m.sealed[static_cast<size_t>(p)] > m.first[static_cast<size_t>(p)];
  }
  if (!any_segment) return {};
  if (owned == last_run_partitions_ && sealed == last_run_sealed_) return {};  // nothing new
  *run_sealed = std::move(sealed);
  return owned;
}

}  // namespace lf
