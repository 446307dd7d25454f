// The local driver: runs the plans of several views over NDJSON inputs in
// one pass, decoding and aggregating on every core. One thread reads
// chunks of whole lines; worker threads decode them into batches and feed
// each batch to every view's per-thread state; at the end the per-thread
// states are combined. The batch layer runs the same plans over master
// segments; this is the `lambdaflow eval` path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/progress_counters.h"
#include "common/status.h"
#include "ingest/json_decoder.h"
#include "plan/view_plan.h"

namespace lf {

struct EvalOptions {
  int threads = 0;  // 0: one per core
  DecoderOptions decoder;
  size_t chunk_bytes = 4 << 20;
  // Advanced as chunks are read (bytes) and decoded (lines); may be null.
  ProgressCounters* progress = nullptr;
};

struct EvalStats {
  uint64_t lines = 0;  // non-blank lines seen
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t rejected_by_reason[kNumRejectReasons] = {};
  uint64_t bytes = 0;  // input bytes after decompression
  double seconds = 0;
};

// Receives every rejected line; called from worker threads, serialized by
// the driver (never concurrently). `input` is the path the line came from.
using RejectHandler = std::function<void(const std::string& input, const Reject& reject)>;

// Evaluates `plans` (all over `schema`) over `inputs` ("-" is stdin).
// Returns one combined state per plan. Fails only if an input cannot be
// read; rejected lines are counted and passed to `on_reject` (may be empty).
Result<std::vector<std::unique_ptr<ViewState>>> EvaluateInputs(const std::vector<const ViewPlan*>& plans,
                                                               const StreamSchema& schema,
                                                               const std::vector<std::string>& inputs,
                                                               const EvalOptions& options,
                                                               const RejectHandler& on_reject, EvalStats* stats);

}  // namespace lf
