#include "engine/ingestor.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "ingest/input_reader.h"
#include "ingest/line_validator.h"

namespace lf {
namespace {

// Rows are offered to seals of at most this many events (the master
// store holds up to 2M offered rows).
constexpr uint64_t kOfferRowsUpToSealEvents = 1u << 20;

struct ChunkResult {
  ChunkBuffer* buffer = nullptr;
  std::vector<std::string_view> records;  // views into buffer
  std::vector<Reject> rejects;
  std::vector<std::unique_ptr<Batch>> rows;  // decoded rows of `records`, for the seal
};

}  // namespace

Ingestor::Ingestor(DataDir* dir, int threads, ProgressCounters* progress)
    : dir_(dir),
      threads_(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      progress_(progress) {}

Status Ingestor::IngestInput(const std::string& input, const std::function<void()>& after_chunk, IngestStats* stats) {
  InputReaderOptions ropts;
  ropts.max_line_bytes = dir_->options().decoder.max_line_bytes;
  ASSIGN_OR_RETURN(auto reader, InputReader::Open(input, ropts));

  const size_t nbuffers = static_cast<size_t>(threads_) * 2 + 2;
  std::vector<ChunkBuffer> storage(nbuffers);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<ChunkBuffer*> free_buffers;
  for (auto& b : storage) free_buffers.push_back(&b);
  std::deque<std::pair<uint64_t, ChunkBuffer*>> jobs;
  std::map<uint64_t, ChunkResult> done;
  uint64_t chunks_read = 0;
  bool reading_done = false, stop = false;
  Status read_status;

  std::thread reader_thread([&] {
    while (true) {
      ChunkBuffer* b;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !free_buffers.empty() || stop; });
        if (stop) break;
        b = free_buffers.front();
        free_buffers.pop_front();
      }
      auto more = reader->Next(b);
      std::lock_guard lock(mu);
      if (!more.ok() || !*more) {
        if (!more.ok()) read_status = more.status();
        free_buffers.push_back(b);
        break;
      }
      jobs.emplace_back(chunks_read++, b);
      cv.notify_all();
    }
    std::lock_guard lock(mu);
    reading_done = true;
    cv.notify_all();
  });

  auto worker = [&] {
    JsonDecoder decoder(dir_->schema(), dir_->options().decoder);
    Batch batch(dir_->schema().types());
    while (true) {
      std::pair<uint64_t, ChunkBuffer*> job;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !jobs.empty() || reading_done || stop; });
        if (stop || jobs.empty()) return;
        job = jobs.front();
        jobs.pop_front();
      }
      ChunkResult r;
      r.buffer = job.second;
      ValidateLines(decoder, job.second->chunk(), &batch, &r.records, &r.rejects, &r.rows);
      std::lock_guard lock(mu);
      done.emplace(job.first, std::move(r));
      cv.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads_; ++t) workers.emplace_back(worker);

  // Append chunk results in input order.
  Status status;
  for (uint64_t next = 0;; ++next) {
    ChunkResult r;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done.count(next) || (reading_done && chunks_read == next); });
      if (!done.count(next)) break;
      r = std::move(done[next]);
      done.erase(next);
    }
    // Rejects are kept before the accepted events are acknowledged.
    status = dir_->AppendRejects(input, r.rejects);
    if (status.ok() && !r.records.empty()) {
      auto appended = dir_->log()->AppendNoWait(0, r.records);
      status = appended.status();
      // The rows validation decoded are offered to the seal of these
      // offsets, which then builds the sidecar without decoding again.
      size_t rows = 0;
      for (const auto& b : r.rows) rows += b->size;
      // Only when seals come often enough to take them before the store's
      // cap drops them (with sealing off they would only cost memory).
      if (appended.ok() && appended->to - appended->from == r.records.size() && rows == r.records.size() &&
          dir_->options().seal_events <= kOfferRowsUpToSealEvents)
        dir_->master()->OfferRows(0, appended->from, std::move(r.rows));
    }
    stats->accepted += r.records.size();
    stats->rejected += r.rejects.size();
    for (const auto& rej : r.rejects) ++stats->rejected_by_reason[static_cast<int>(rej.reason)];
    if (progress_) {
      progress_->AddEvents(r.records.size() + r.rejects.size());
      progress_->AddBytes(r.buffer->chunk().size);
    }
    {
      std::lock_guard lock(mu);
      free_buffers.push_back(r.buffer);
      cv.notify_all();
    }
    if (!status.ok()) break;
    if (after_chunk) after_chunk();
  }
  {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  }
  reader_thread.join();
  for (auto& w : workers) w.join();
  stats->bytes += reader->bytes_decoded();
  RETURN_IF_ERROR(status);
  return read_status;
}

}  // namespace lf
