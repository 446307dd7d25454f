// Gathering a query's state from the workers of a group (`run --group`,
// docs/formats/ownership.md §5): this worker's partial over the partitions
// it owns, the owners' partials (fetched over HTTP, found through the
// workers' directory) for the partitions it does not own, and, for a
// partition without a live owner or whose owner's partial is refused, that
// partition's batch state alone (S[p] = W[p]: exact, only less fresh). The
// states are merged (aggregates are monoids), and the coverage reports W[p]
// and S[p] for every partition: the merged state equals the view over
// exactly events[p][0, S[p]) for all p.
//
// A fetched partial is refused, whole (its state cannot be split by
// partition), when
//   - its plan fingerprint or view differ from ours (another views file);
//   - it names a partition already covered (by us or a partial taken
//     before: partials must be disjoint) or one out of range;
//   - its epoch for some partition is lower than the latest epoch of that
//     partition's manifest chain (a stale owner: the chain, not the
//     directory, is the truth);
//   - its state image does not load.
//
// GatherBackend is what the gather needs from the world (this worker's
// pipeline, the directory, HTTP, the chains); tests give a fake.
// Thread-safe as the backend is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/partial.h"
#include "common/status.h"
#include "plan/view_plan.h"
#include "serving/served_views.h"
#include "store/worker_directory.h"

namespace lf {

// This worker's own partial, as states (no image: nothing is serialized).
struct LocalPartial {
  std::unique_ptr<ViewState> state;        // over exactly `partitions`; the gather merges into it
  std::vector<PartitionCover> partitions;  // ascending
  int64_t caught_up_ms = 0;
  std::optional<uint64_t> batch_version;
  int64_t batch_created_ms = 0;
};

// One partition's batch state alone, for a partition not owned here.
struct BatchPiece {
  std::unique_ptr<ViewState> state;  // the view over events[p][0, W)
  uint64_t batch = 0;                // W[p]
};

class GatherBackend {
 public:
  virtual ~GatherBackend() = default;
  virtual int partitions() const = 0;
  virtual const std::string& writer_id() const = 0;
  // This worker's partial of `view` over the partitions it owns.
  virtual Result<LocalPartial> Local(size_t view) = 0;
  // The workers' directory (may be cached for a moment).
  virtual Result<std::vector<WorkerRecord>> Directory() = 0;
  // The partial of `view` from each of `addresses` (host:port), asked in
  // parallel with a short timeout; one result per address, in order.
  virtual std::vector<Result<Partial>> Fetch(const std::vector<std::string>& addresses, const std::string& view) = 0;
  // The latest owner epoch of partition p's manifest chain (may be cached
  // for a moment).
  virtual Result<uint64_t> ChainEpoch(uint32_t partition) = 0;
  // Partition p's batch state alone (not owned here).
  virtual Result<BatchPiece> Batch(size_t view, uint32_t partition) = 0;
  // Wall clock (ms) for the directory's age limit.
  virtual int64_t NowMs() const = 0;
};

// Where each partition of an answer came from.
struct GatherReport {
  enum class From { kOwn, kWorker, kBatch };
  struct Source {
    From from = From::kBatch;
    std::string writer_id;  // kWorker: the owner asked
  };
  std::vector<Source> partitions;
  std::vector<std::string> refused;  // why each refused or failed partial was not used
  size_t fetched = 0;                // partials asked over HTTP
};

struct Gathered {
  std::unique_ptr<ViewState> state;
  Coverage coverage;
  GatherReport report;
};

struct GatherOptions {
  // A directory record older than this is not asked (its worker is
  // presumed gone; its partitions are answered from their batch states).
  int64_t directory_max_age_ms = 10'000;
};

// The gathered state of `view` (planned by `plan`, which must be the
// catalog's plan of that view). Fails only when a partition can be
// answered by nobody (not even its batch state).
Result<Gathered> Gather(GatherBackend* backend, const ViewPlan& plan, size_t view, const GatherOptions& options);

}  // namespace lf
