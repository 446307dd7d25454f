// The batch layer: one recompute of every view from the master dataset.
// RunOnce snapshots the manifest (watermark W per partition), runs every
// view's plan over the sealed segments — in parallel over segments and
// cores, combining per-thread partial states — and publishes a new batch
// version (write-once objects, then named in every partition's manifest). `lambdaflow batch` runs it once; `lambdaflow
// run` runs it in a loop.
//
// Delta runs: segments are immutable, so a published piece (one view over
// one partition's segments [from, to)) stays valid while those segments and
// the view's plan are unchanged. A run references every such piece of the
// versions the partitions' chains name, without reading it, scans only the
// segments no reused piece covers and writes one new piece per view and
// partition with new segments; pieces that pile up are merged (compaction,
// size-tiered by the offsets they cover). `full` ignores every piece and
// recomputes from the raw segments' sidecars (themselves rebuilt from the
// raw events if damaged).
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
  // Also write the TSV of every view (always with `full`, and for the first
  // version of a dataset). Needs a run over every partition.
  bool tsv = false;
  // Read every reused piece and check its checksum (not its groups): a
  // damaged one is recomputed instead of referenced again. For a run after
  // a version failed to load.
  bool verify = false;
  // Compaction: a partition's pieces of one view are tiered by the offsets
  // they cover (tier k: up to 4^k times compact_base offsets); when more
  // than compact_fanout adjacent pieces share a tier they are merged into
  // one new piece.
  size_t compact_fanout = 4;
  uint64_t compact_base = 4096;
};

struct BatchRunReport {
  BatchVersion version;
  uint64_t segments_scanned = 0;
  uint64_t segments_reused = 0;  // covered by a reused state
  uint64_t rows_scanned = 0;
  uint64_t pieces_written = 0;  // new pieces (scanned or merged)
  uint64_t pieces_reused = 0;   // referenced from earlier versions, not read
  uint64_t pieces_merged = 0;   // pieces compaction read and merged
  double seconds = 0;
};

class BatchLayer {
 public:
  // `catalog` and `master` must outlive the layer; `views_text` is the
  // views file the catalog came from (its hash is recorded per version).
  BatchLayer(const sql::Catalog& catalog, int stream, std::string_view views_text, MasterStore* master);

  Result<BatchRunReport> RunOnce(const BatchRunOptions& options);
  // Pieces of one (view, partition) after a run, in offset order: which
  // adjacent runs compaction merges (index ranges [first, last)).
  static std::vector<std::pair<size_t, size_t>> CompactionRuns(const std::vector<uint64_t>& spans, size_t fanout,
                                                               uint64_t base);
  VersionStore& versions() { return versions_; }

 private:
  VersionStore versions_;
  const sql::Catalog& catalog_;
  const int stream_;
  const uint64_t views_hash_;
  MasterStore* const master_;
};

}  // namespace lf
