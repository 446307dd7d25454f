#include "plan/parallel_eval.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "ingest/input_reader.h"

namespace lf {
namespace {

// A chunk handed from the reader to a worker, with the input it came from.
struct Work {
  ChunkBuffer* buffer;
  const std::string* input;
};

// Bounded hand-off between the reader and the workers; buffers rotate
// between `free` and `full` so that no chunk memory is allocated after
// warm-up.
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t buffers) : storage_(buffers) {
    for (auto& b : storage_) free_.push_back(&b);
  }

  ChunkBuffer* TakeFree() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    ChunkBuffer* b = free_.front();
    free_.pop_front();
    return b;
  }
  void ReturnFree(ChunkBuffer* b) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(b);
    }
    cv_.notify_all();
  }
  void PushFull(Work w) {
    {
      std::lock_guard lock(mu_);
      full_.push_back(w);
    }
    cv_.notify_all();
  }
  // Returns false once closed and drained.
  bool PopFull(Work* w) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || closed_; });
    if (full_.empty()) return false;
    *w = full_.front();
    full_.pop_front();
    return true;
  }
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::vector<ChunkBuffer> storage_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChunkBuffer*> free_;
  std::deque<Work> full_;
  bool closed_ = false;
};

struct Worker {
  std::vector<std::unique_ptr<ViewState>> states;
  EvalStats stats;
};

}  // namespace

Result<std::vector<std::unique_ptr<ViewState>>> EvaluateInputs(const std::vector<const ViewPlan*>& plans,
                                                               const StreamSchema& schema,
                                                               const std::vector<std::string>& inputs,
                                                               const EvalOptions& options,
                                                               const RejectHandler& on_reject, EvalStats* stats) {
  auto start = std::chrono::steady_clock::now();
  size_t nthreads =
      options.threads > 0 ? static_cast<size_t>(options.threads) : std::max(1u, std::thread::hardware_concurrency());
  ChunkQueue queue(nthreads * 2 + 1);
  std::vector<Worker> workers(nthreads);
  std::mutex reject_mu;

  auto run_worker = [&](Worker& w) {
    // Text points into the chunk: the batch is consumed before the chunk
    // goes back to the reader.
    DecoderOptions dopts = options.decoder;
    dopts.text_into_input = true;
    JsonDecoder decoder(schema, dopts);
    for (const ViewPlan* p : plans) w.states.push_back(p->NewState());
    Batch batch(schema.types());
    std::vector<Reject> rejects;
    auto flush = [&] {
      for (auto& s : w.states) s->Consume(batch);
      batch.Clear();
    };
    Work work;
    while (queue.PopFull(&work)) {
      // Windows of lines at a time (see JsonDecoder::DecodeMany), each
      // ending after a whole line; the batch goes to the views when full.
      const LineChunk& chunk = work.buffer->chunk();
      size_t pos = 0;
      uint64_t line_no = chunk.first_line_no;
      while (pos < chunk.size) {
        const size_t rows_before = batch.size;
        uint64_t lines = 0;
        rejects.clear();
        pos += decoder.DecodeMany(chunk.data + pos, chunk.size - pos, chunk.padded_capacity - pos, line_no, &batch,
                                  &rejects, &lines);
        line_no += lines;
        if (options.progress) options.progress->AddEvents(lines);
        w.stats.accepted += batch.size - rows_before;
        if (!rejects.empty()) {
          w.stats.rejected += rejects.size();
          for (const Reject& r : rejects) ++w.stats.rejected_by_reason[static_cast<int>(r.reason)];
          if (on_reject) {
            std::lock_guard lock(reject_mu);
            for (const Reject& r : rejects) on_reject(*work.input, r);
          }
        }
        if (batch.full()) flush();
      }
      // The batch's text may point into the chunk (and the rest into its
      // arena): the views take it before the chunk goes back to the reader.
      flush();
      queue.ReturnFree(work.buffer);
    }
    flush();
  };

  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back(run_worker, std::ref(w));

  Status read_status;
  uint64_t bytes = 0;
  InputReaderOptions ropts;
  ropts.max_line_bytes = options.decoder.max_line_bytes;
  ropts.chunk_bytes = options.chunk_bytes;
  for (const std::string& input : inputs) {
    auto reader = InputReader::Open(input, ropts);
    if (!reader.ok()) {
      read_status = reader.status();
      break;
    }
    while (true) {
      ChunkBuffer* buffer = queue.TakeFree();
      auto more = (*reader)->Next(buffer);
      if (!more.ok() || !*more) {
        queue.ReturnFree(buffer);
        if (!more.ok()) read_status = more.status();
        break;
      }
      if (options.progress) options.progress->AddBytes(buffer->chunk().size);
      queue.PushFull(Work{buffer, &input});
    }
    bytes += (*reader)->bytes_decoded();
    if (!read_status.ok()) break;
  }
  queue.Close();
  for (auto& t : threads) t.join();
  if (!read_status.ok()) return read_status;

  // Combine per-thread states into the first worker's.
  std::vector<std::unique_ptr<ViewState>> result = std::move(workers[0].states);
  for (size_t w = 1; w < workers.size(); ++w)
    for (size_t p = 0; p < plans.size(); ++p) result[p]->Combine(*workers[w].states[p]);
  if (stats) {
    *stats = EvalStats{};
    for (const auto& w : workers) {
      stats->accepted += w.stats.accepted;
      stats->rejected += w.stats.rejected;
      for (int r = 0; r < kNumRejectReasons; ++r) stats->rejected_by_reason[r] += w.stats.rejected_by_reason[r];
    }
    stats->lines = stats->accepted + stats->rejected;
    stats->bytes = bytes;
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return result;
}

}  // namespace lf
