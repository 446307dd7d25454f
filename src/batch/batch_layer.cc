#include "batch/batch_layer.h"

#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "plan/result_format.h"

namespace lf {
namespace {

// Views expected to hold fewer groups than this grow as they go.
constexpr uint64_t kReserveMinGroups = 1u << 16;

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

BatchLayer::BatchLayer(const sql::Catalog& catalog, int stream, std::string_view views_text, MasterStore* master)
    : versions_(master),
      catalog_(catalog),
      stream_(stream),
      views_hash_(XXH3_64bits(views_text.data(), views_text.size())),
      master_(master) {}

Result<BatchRunReport> BatchLayer::RunOnce(const BatchRunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  BatchRunReport report;
  Manifest manifest = master_->Snapshot();
  if (!options.partitions.empty()) {
    std::vector<bool> in(manifest.sealed.size(), false);
    for (int p : options.partitions) {
      if (p < 0 || static_cast<size_t>(p) >= in.size())
        return Status::InvalidArgument("batch run over partition " + std::to_string(p) + " of a master dataset of " +
                                       std::to_string(in.size()));
      in[static_cast<size_t>(p)] = true;
    }
    std::erase_if(manifest.segments, [&](const SegmentInfo& s) { return !in[static_cast<size_t>(s.partition)]; });
    for (size_t p = 0; p < in.size(); ++p)
      if (!in[p]) manifest.sealed[p] = manifest.first[p];
  }
  std::vector<VersionSegment> segments;
  for (const auto& s : manifest.segments) segments.push_back({s.partition, s.from, s.to, s.raw_hash});

  std::vector<std::unique_ptr<ViewPlan>> plans;
  for (const auto& v : catalog_.views) {
    if (v.stream != stream_) continue;
    ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(v));
    plans.push_back(std::move(plan));
  }

  // Per view: the state to start from, and the first segment to scan.
  std::vector<std::unique_ptr<ViewState>> states;
  std::vector<size_t> first(plans.size(), 0);
  std::vector<bool> loaded(plans.size(), false);
  std::optional<BatchVersion> previous;
  if (!options.full) {
    auto current = versions_.Current();
    if (current.ok()) previous = std::move(*current);  // a damaged version just means no reuse
  }
  bool prefix = previous && previous->schema_fingerprint == master_->schema_fingerprint() &&
                previous->segments.size() <= segments.size() &&
                std::equal(previous->segments.begin(), previous->segments.end(), segments.begin());
  for (size_t i = 0; i < plans.size(); ++i) {
    states.push_back(plans[i]->NewState());
    if (!prefix) continue;
    const VersionView* old = previous->FindView(plans[i]->name());
    if (!old || old->plan_fingerprint != plans[i]->fingerprint()) continue;
    auto image = versions_.ReadViewFile(*previous, *old, /*state=*/true);
    if (!image.ok()) continue;
    auto fresh = plans[i]->NewState();
    if (!fresh->Deserialize(*image).ok()) continue;
    states[i] = std::move(fresh);
    first[i] = previous->segments.size();
    loaded[i] = true;
  }
  const double load_secs = Since(start);

  // Size hints: the groups a view had in the last version, spread over the
  // segments that version covered. A state sized for the groups it will
  // hold skips the rehashes and copies of growing by doubling.
  std::optional<BatchVersion> current_for_sizing;
  const BatchVersion* sizing = previous ? &*previous : nullptr;
  if (!sizing && options.full) {
    auto current = versions_.Current();
    if (current.ok() && *current) {
      current_for_sizing = std::move(**current);
      sizing = &*current_for_sizing;
    }
  }
  auto groups_hint = [&](size_t i, size_t nsegments) -> size_t {
    if (!sizing || sizing->segments.empty()) return 0;
    const VersionView* v = sizing->FindView(plans[i]->name());
    if (!v || v->plan_fingerprint != plans[i]->fingerprint()) return 0;
    const uint64_t hint = std::min<uint64_t>(v->groups, v->groups * nsegments / sizing->segments.size());
    return hint >= kReserveMinGroups ? static_cast<size_t>(hint) : 0;
  };

  // Scan the segments some view still needs, in parallel.
  const auto scan_start = std::chrono::steady_clock::now();
  size_t lowest = segments.size();
  for (size_t f : first) lowest = std::min(lowest, f);
  report.segments_reused = lowest;
  const size_t nthreads_total =
      options.threads > 0 ? static_cast<size_t>(options.threads) : std::max(1u, std::thread::hardware_concurrency());
  size_t nthreads = std::max<size_t>(1, std::min(nthreads_total, segments.size() - lowest));
  if (options.progress) {
    uint64_t total = 0;
    for (size_t s = lowest; s < segments.size(); ++s) total += manifest.segments[s].to - manifest.segments[s].from;
    options.progress->total_events = total;
  }
  std::atomic<size_t> next{lowest};
  std::atomic<uint64_t> rows{0};
  std::mutex err_mu;
  Status error;
  std::vector<std::vector<std::unique_ptr<ViewState>>> partial(nthreads);
  auto worker = [&](size_t t) {
    for (size_t i = 0; i < plans.size(); ++i) {
      partial[t].push_back(plans[i]->NewState());
      const size_t mine = (segments.size() - first[i] + nthreads - 1) / nthreads;  // segments this thread may scan
      if (const size_t hint = groups_hint(i, mine)) partial[t].back()->Reserve(hint);
    }
    for (size_t s = next++; s < segments.size(); s = next++) {
      // A full run also proves the raw events intact: the sidecars it scans
      // are derived from them, and damage must never go unnoticed.
      Status st = options.full ? master_->VerifyRawChecksum(manifest.segments[s]) : Status::OK();
      if (st.ok())
        st = master_->ScanSegment(manifest.segments[s], [&](const Batch& batch) {
          for (size_t i = 0; i < plans.size(); ++i)
            if (s >= first[i]) partial[t][i]->Consume(batch);
          rows += batch.size;
          if (options.progress) options.progress->AddEvents(batch.size);
          return Status::OK();
        });
      if (!st.ok()) {
        std::lock_guard lock(err_mu);
        if (error.ok()) error = st;
        next = segments.size();
      }
    }
  };
  if (lowest < segments.size()) {
    std::vector<std::thread> threads;
    for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(worker, t);
    worker(0);
    for (auto& th : threads) th.join();
  }
  RETURN_IF_ERROR(error);
  if (lowest < segments.size())
    for (size_t i = 0; i < plans.size(); ++i)
      for (size_t t = 0; t < nthreads; ++t) {
        // A view that starts from nothing takes the first thread's state as
        // it is: combining it into an empty state would insert every group
        // once more.
        if (t == 0 && !loaded[i]) {
          states[i] = std::move(partial[t][i]);
          if (nthreads > 1)
            if (const size_t hint = groups_hint(i, segments.size() - first[i])) states[i]->Reserve(hint);
          continue;
        }
        states[i]->Combine(*partial[t][i]);
      }
  partial.clear();
  report.segments_scanned = segments.size() - lowest;
  report.rows_scanned = rows;
  const double scan_secs = Since(scan_start);

  // Write the version: per view its state and its TSV.
  const auto write_start = std::chrono::steady_clock::now();
  BatchVersion version;
  version.number = previous ? previous->number + 1 : 1;
  if (options.full || !previous) {
    // `full` skipped reading CURRENT; still number after it.
    auto current = versions_.Current();
    if (current.ok() && *current) version.number = (*current)->number + 1;
  }
  version.created_ms = NowMs();
  version.views_hash = views_hash_;
  version.schema_fingerprint = master_->schema_fingerprint();
  version.watermark = manifest.sealed;
  version.segments = segments;
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < plans.size(); ++i) {
    VersionView view;
    view.name = plans[i]->name();
    view.plan_fingerprint = plans[i]->fingerprint();
    view.groups = states[i]->num_groups();
    std::string state;
    states[i]->Serialize(&state);
    // Large views are finalized and formatted by several threads.
    std::string tsv;
    RETURN_IF_ERROR(AppendViewTsv(*plans[i], *states[i], nthreads_total, &tsv, &view.rows));
    view.state_bytes = state.size();
    view.state_hash = XXH3_64bits(state.data(), state.size());
    view.tsv_bytes = tsv.size();
    view.tsv_hash = XXH3_64bits(tsv.data(), tsv.size());
    files.emplace_back(StateFileName(view.name), std::move(state));
    files.emplace_back(TsvFileName(view.name), std::move(tsv));
    version.views.push_back(std::move(view));
    states[i].reset();  // release memory before the next view is written
  }
  version.timings = {{"load", load_secs}, {"scan", scan_secs}, {"write", Since(write_start)}};
  RETURN_IF_ERROR(versions_.Publish(&version, files));
  report.version = std::move(version);
  report.seconds = Since(start);
  return report;
}

}  // namespace lf
