// The batch layer: one recompute of every view from the master dataset.
// RunOnce snapshots the manifest (watermark W per partition), runs every
// view's plan over the sealed segments — in parallel over segments and
// cores, combining per-thread partial states — and publishes a new batch
// version (write-once objects, then named in every partition's manifest). `lambdaflow batch` runs it once; `lambdaflow
// run` runs it in a loop.
//
// Incremental recompute: segments are immutable, so the state a published
// version holds for a view is a valid partial state for the same segments.
// When the previous version's segments are a prefix of the manifest's and
// the view's plan is unchanged, the run starts from that state and scans
// only the new segments. `full` ignores it and recomputes from the raw
// segments' sidecars (themselves rebuilt from the raw events if damaged).
#pragma once

#include <string>
#include <vector>

#include "batch/batch_version.h"
#include "common/progress_counters.h"
#include "master/master_store.h"
#include "plan/view_plan.h"
#include "sql/binder.h"

namespace lf {

struct BatchRunOptions {
  bool full = false;  // ignore every cached state
  int threads = 0;    // 0: one per core
  // Rows scanned so far, and the rows of the segments to scan as the total;
  // may be null.
  ProgressCounters* progress = nullptr;
  // A worker of a consumer group computes only the partitions it owns
  // (docs/formats/ownership.md): the version covers these, each to its
  // sealed watermark, and every other partition q only to its first offset
  // (W[q] = first[q]: nothing of it). Empty: every partition.
  std::vector<int> partitions = {};
};

struct BatchRunReport {
  BatchVersion version;
  uint64_t segments_scanned = 0;
  uint64_t segments_reused = 0;  // covered by a reused state
  uint64_t rows_scanned = 0;
  double seconds = 0;
};

class BatchLayer {
 public:
  // `catalog` and `master` must outlive the layer; `views_text` is the
  // views file the catalog came from (its hash is recorded per version).
  BatchLayer(const sql::Catalog& catalog, int stream, std::string_view views_text, MasterStore* master);

  Result<BatchRunReport> RunOnce(const BatchRunOptions& options);
  VersionStore& versions() { return versions_; }

 private:
  VersionStore versions_;
  const sql::Catalog& catalog_;
  const int stream_;
  const uint64_t views_hash_;
  MasterStore* const master_;
};

}  // namespace lf
