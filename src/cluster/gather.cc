#include "cluster/gather.h"

#include <algorithm>
#include <set>

namespace lf {
namespace {

std::string PartitionList(const std::vector<PartitionCover>& covers) {
  std::string s;
  for (const PartitionCover& c : covers) s += (s.empty() ? "" : ",") + std::to_string(c.partition);
  return s;
}

}  // namespace

Result<Gathered> Gather(GatherBackend* backend, const ViewPlan& plan, size_t view, const GatherOptions& options) {
  const auto n = static_cast<size_t>(backend->partitions());
  ASSIGN_OR_RETURN(LocalPartial local, backend->Local(view));
  Gathered g;
  g.state = std::move(local.state);
  g.coverage.batch.assign(n, 0);
  g.coverage.speed.assign(n, 0);
  g.coverage.batch_version = local.batch_version;
  g.coverage.batch_created_ms = local.batch_created_ms;
  g.coverage.caught_up_ms = local.caught_up_ms;
  g.report.partitions.resize(n);
  std::vector<bool> covered(n, false);
  for (const PartitionCover& c : local.partitions) {
    if (c.partition >= n || covered[c.partition])
      return Status::Internal("this worker's partial names partition " + std::to_string(c.partition) +
                              " out of range or twice");
    covered[c.partition] = true;
    g.coverage.batch[c.partition] = c.batch;
    g.coverage.speed[c.partition] = c.speed;
    g.report.partitions[c.partition].from = GatherReport::From::kOwn;
  }
  if (std::find(covered.begin(), covered.end(), false) == covered.end()) return g;  // owns everything: no HTTP

  // The owners of the partitions not covered, by the directory.
  std::vector<std::string> addresses;
  auto records = backend->Directory();
  if (!records.ok()) {
    g.report.refused.push_back("the workers' directory could not be read: " + records.status().ToString());
  } else {
    const auto owners = WorkerDirectory::Owners(*records, backend->NowMs(), options.directory_max_age_ms);
    std::set<std::string> seen;
    for (const auto& [p, owner] : owners) {
      if (p >= n || covered[p] || owner.writer_id == backend->writer_id()) continue;
      if (seen.insert(owner.address).second) addresses.push_back(owner.address);
    }
  }
  std::vector<Result<Partial>> partials;
  if (!addresses.empty()) partials = backend->Fetch(addresses, plan.name());
  g.report.fetched = addresses.size();

  for (size_t i = 0; i < partials.size(); ++i) {
    const std::string& from = addresses[i];
    if (!partials[i].ok()) {
      g.report.refused.push_back(from + ": " + partials[i].status().ToString());
      continue;
    }
    const Partial& part = *partials[i];
    auto refuse = [&](const std::string& why) {
      g.report.refused.push_back(from + " (" + part.writer_id + ", partitions " + PartitionList(part.partitions) +
                                 "): " + why);
    };
    if (part.fingerprint != plan.fingerprint() || !sql::IdentifierMatches(plan.name(), part.view, false)) {
      refuse("a different plan of view '" + part.view + "' (another views file?)");
      continue;
    }
    std::string why;
    for (const PartitionCover& c : part.partitions) {
      if (c.partition >= n) {
        why = "partition " + std::to_string(c.partition) + " out of range";
        break;
      }
      if (covered[c.partition]) {
        why = "partition " + std::to_string(c.partition) + " is covered already (partials must be disjoint)";
        break;
      }
      auto latest = backend->ChainEpoch(c.partition);
      if (!latest.ok()) {
        why = "the chain of partition " + std::to_string(c.partition) +
              " could not be read: " + latest.status().ToString();
        break;
      }
      if (c.epoch < *latest) {
        why = "stale owner: epoch " + std::to_string(c.epoch) + " of partition " + std::to_string(c.partition) +
              " is below the chain's latest " + std::to_string(*latest);
        break;
      }
    }
    if (!why.empty()) {
      refuse(why);
      continue;
    }
    if (part.partitions.empty()) continue;  // owns nothing now
    std::unique_ptr<ViewState> state = plan.NewState();
    if (Status st = state->Deserialize(part.state); !st.ok()) {
      refuse(st.ToString());
      continue;
    }
    g.state->Combine(*state);
    for (const PartitionCover& c : part.partitions) {
      covered[c.partition] = true;
      g.coverage.batch[c.partition] = c.batch;
      g.coverage.speed[c.partition] = c.speed;
      g.report.partitions[c.partition] = {GatherReport::From::kWorker, part.writer_id};
    }
    g.coverage.caught_up_ms = std::min(g.coverage.caught_up_ms, part.caught_up_ms);
  }

  // The rest from their batch states alone.
  for (uint32_t p = 0; p < n; ++p) {
    if (covered[p]) continue;
    ASSIGN_OR_RETURN(BatchPiece piece, backend->Batch(view, p));
    g.state->Combine(*piece.state);
    g.coverage.batch[p] = g.coverage.speed[p] = piece.batch;
    g.report.partitions[p] = {GatherReport::From::kBatch, ""};
  }
  return g;
}

}  // namespace lf
