// Ingest: validates NDJSON inputs against the stream on several threads
// and appends the accepted events, in input order, to a data directory's
// log; rejected lines go to its dead-letter store first. One thread reads
// chunks of whole lines, workers decode them, and the calling thread
// appends chunk results in sequence (pipelined: durability is awaited by
// the caller through Log::WaitDurable / end_offset).
#pragma once

#include <functional>
#include <string>

#include "common/progress_counters.h"
#include "engine/data_dir.h"

namespace lf {

struct IngestStats {
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t rejected_by_reason[kNumRejectReasons] = {};
  uint64_t bytes = 0;  // input bytes after decompression
};

class Ingestor {
 public:
  // `dir` must be open for writing; threads <= 0: one per core. `progress`
  // (may be null) counts the lines and bytes of each chunk handed to the log.
  Ingestor(DataDir* dir, int threads, ProgressCounters* progress = nullptr);

  // Ingests one input ("-" is stdin). `after_chunk` is called on the
  // calling thread after each chunk's events were handed to the log.
  Status IngestInput(const std::string& input, const std::function<void()>& after_chunk, IngestStats* stats);

 private:
  DataDir* const dir_;
  const int threads_;
  ProgressCounters* const progress_;
};

}  // namespace lf
