#include "pipeline/pipeline.h"

#include <algorithm>

#include "common/format.h"
#include "common/murmur2.h"
#include "ingest/input_reader.h"
#include "ingest/line_validator.h"
#include "speed/log_record_reader.h"

namespace lf {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RangeText(const OffsetRange& r) {
  return "p" + std::to_string(r.partition) + " [" + std::to_string(r.from) + ", " + std::to_string(r.to) + ")";
}

std::string WatermarkText(const std::vector<uint64_t>& w) {
  std::string s;
  for (size_t p = 0; p < w.size(); ++p) s += (p ? "," : "") + std::to_string(w[p]);
  return s;
}

}  // namespace

Pipeline::Pipeline(FileSystem* fs, PipelineOptions options) : fs_(fs), options_(std::move(options)) {}

Result<std::unique_ptr<Pipeline>> Pipeline::Start(FileSystem* fs, const std::string& dir, const std::string& views_path,
                                                  PipelineOptions options) {
  std::unique_ptr<Pipeline> p(new Pipeline(fs, std::move(options)));
  RETURN_IF_ERROR(p->Init(dir, views_path));
  if (p->options_.micro_batch.count() > 0) p->speed_thread_ = std::thread([q = p.get()] { q->SpeedLoop(); });
  p->archiver_thread_ = std::thread([q = p.get()] { q->ArchiverLoop(); });
  if (p->options_.batch_interval.count() >= 0) p->batch_thread_ = std::thread([q = p.get()] { q->BatchLoop(); });
  return p;
}

Pipeline::~Pipeline() { (void)Stop(); }

void Pipeline::LogLine(const std::string& line) const {
  if (options_.log) options_.log(line);
}

bool Pipeline::Stopping() const {
  MutexLock lock(&mu_);
  return stop_;
}

void Pipeline::SleepUnlessStopped(std::chrono::steady_clock::time_point deadline) {
  while (!stop_ && cv_.WaitUntil(&mu_, deadline)) {
  }
}

Status Pipeline::Init(const std::string& dir, const std::string& views_path) {
  DataDirOptions dopts = options_.dir;
  if (options_.source && dopts.partitions == 0) {
    // A new directory over a source has the source's partitions.
    ASSIGN_OR_RETURN(bool exists, fs_->Exists(JoinPath(dir, "FORMAT")));
    if (!exists) dopts.partitions = static_cast<int>(options_.source->partition_count());
  } else if (options_.source && dopts.partitions != static_cast<int>(options_.source->partition_count())) {
    return Status::InvalidArgument("--partitions " + std::to_string(dopts.partitions) + " does not match " +
                                   options_.source->Describe() + ", which has " +
                                   std::to_string(options_.source->partition_count()) +
                                   " partitions: with --source the data directory has the topic's partitions; drop "
                                   "--partitions");
  }
  if (options_.member) {
    if (!options_.source)
      return Status::InvalidArgument("a consumer group member (--group) reads a Kafka topic: add --source kafka://...");
    // Owns nothing until the group assigns; several writers share the store.
    dopts.claim_all_at_open = false;
    dopts.store_writers = std::max(dopts.store_writers, 2);
  }
  ASSIGN_OR_RETURN(dir_, DataDir::Open(fs_, dir, views_path, /*read_only=*/false, dopts));
  if (options_.source) RETURN_IF_ERROR(PrepareSource());
  if (!options_.partition_by.empty()) {
    const auto& cols = dir_->schema().columns;
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i].name == options_.partition_by) partition_column_ = static_cast<int>(i);
    std::string names;
    for (const auto& c : cols) names += (names.empty() ? "" : ", ") + c.name;
    if (partition_column_ < 0)
      return Status::InvalidArgument("partition_by: the stream " + dir_->schema().name + " has no column '" +
                                     options_.partition_by + "' (columns: " + names + ")");
    const TypeId t = cols[static_cast<size_t>(partition_column_)].type;
    if (t != TypeId::kInt && t != TypeId::kBigInt && t != TypeId::kText)
      return Status::InvalidArgument("partition_by: the column '" + options_.partition_by + "' is " + TypeName(t) +
                                     "; partition keys are INT, BIGINT or TEXT columns");
  }
  for (const auto& n : dir_->log_recovery().notes) LogLine("log recovery: " + n);
  for (const auto& v : dir_->catalog().views) {
    if (v.stream != dir_->stream()) continue;
    ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(v));
    plans_.push_back(plan.get());
    owned_plans_.push_back(std::move(plan));
  }
  batch_ = std::make_unique<BatchLayer>(dir_->catalog(), dir_->stream(), dir_->views_text(), dir_->master());
  served_ = std::make_unique<ServedViews>(plans_, options_.query_limits);
  SpeedOptions sopts;
  sopts.seal_events = options_.dir.seal_events;
  sopts.seal_age = options_.seal_age;
  sopts.decoder = options_.dir.decoder;
  if (options_.source) sopts.on_reject = [this](int p, uint64_t offset, const Reject& r) { HoldReject(p, offset, r); };
  speed_ = std::make_unique<SpeedLayer>(plans_, dir_->schema(), dir_->partitions(), sopts, &decoded_);

  // The version to serve: the current one if it was computed for these
  // views, else a fresh run over the master dataset. A member owns nothing
  // yet: every partition from the version its own chain names.
  std::optional<PendingVersion> version;
  const Manifest m = dir_->master()->Snapshot();
  std::vector<uint64_t> w = m.first;
  if (options_.member) {
    MutexLock speed_lock(&speed_mu_);
    for (int p = 0; p < dir_->partitions(); ++p) {
      auto other = ReadOther(p, nullptr);
      if (!other.ok()) {
        LogLine("group: partition " + std::to_string(p) + "'s batch version not read (" + other.status().ToString() +
                "); served from its first offset");
        OtherPartition empty;
        empty.watermark = m.first[static_cast<size_t>(p)];
        empty.states = NewViewStates(plans_);
        others_[p] = std::move(empty);
      } else {
        others_[p] = std::move(other->other);
      }
      w[static_cast<size_t>(p)] = others_[p].watermark;
    }
  } else {
    ASSIGN_OR_RETURN(version, LoadServableVersion());
    if (!version && !m.segments.empty()) {
      LogLine("batch: the current version does not match the views; recomputing");
      // Pieces are checked before they are referenced again: a damaged one
      // may be why the version did not load.
      ASSIGN_OR_RETURN(BatchRunReport report,
                       batch_->RunOnce(BatchRunOptions{.threads = options_.batch_threads, .verify = true}));
      ++batch_runs_;
      batch_run_seconds_.Observe(report.seconds);
      ASSIGN_OR_RETURN(PendingVersion loaded, LoadVersion(report.version, std::vector<bool>(m.first.size(), true)));
      version = std::move(loaded);
    }
    if (version) w = version->version.watermark;
  }
  RETURN_IF_ERROR(speed_->Rebuild(*dir_->master(), w));
  const bool real = version.has_value();
  {
    MutexLock speed_lock(&speed_mu_);
    batch_part_.states = real ? std::move(version->states) : NewViewStates(plans_);
    batch_part_.to = w;
    batch_part_.in.assign(w.size(), !options_.member);
    batch_part_.pieces.assign(w.size(), {});
    if (real)
      for (size_t p = 0; p < w.size(); ++p) batch_part_.pieces[p] = PlanPieces(version->version, static_cast<int>(p));
    batch_part_.id = 1;
    MutexLock lock(&batch_part_mu_);
    batch_part_id_ = batch_part_.id;
    batch_part_to_ = batch_part_.to;
    batch_part_in_ = batch_part_.in;
    if (real) last_swap_ = version->stats;
    Coverage c;
    c.batch = w;
    if (real) {
      c.batch_version = version->version.number;
      c.batch_created_ms = version->version.created_ms;
      served_version_ = version->version;
    }
    c.caught_up_ms = WallMs();
    lock.Unlock();
    ServeBatchPart(std::move(c));
  }
  LogLine("serving batch version " + (real ? std::to_string(version->version.number) : std::string("none")) +
          " (W=" + WatermarkText(w) + "), speed layer rebuilt to S=" + WatermarkText(speed_->watermark()) + " with " +
          std::to_string(speed_->num_buckets()) + " buckets" +
          (real ? ", " + std::to_string(version->stats.pieces_read) + " pieces read in " +
                      std::to_string(static_cast<int64_t>(version->stats.read_seconds * 1000)) + " ms"
                : std::string()));
  if (options_.source) {
    RETURN_IF_ERROR(StartSource());
  } else {
    log_reader_ = std::make_unique<LogRecordReader>(dir_->log());
    reader_ = log_reader_.get();
  }
  // Catch up with the log's unsealed tail before serving.
  return MicroBatch();
}

// ---- ingest ----

Result<AcceptReport> Pipeline::Accept(std::string_view body, const std::optional<ProducerBatch>& producer,
                                      std::optional<int> partition) {
  if (!options_.http_ingest_refused.empty()) return Status::Conflict(options_.http_ingest_refused);
  return AcceptImpl(body, producer, partition, nullptr);
}

Result<AcceptReport> Pipeline::AcceptFromFeeder(std::string_view body, const ProducerBatch& producer, int partition,
                                                const std::function<std::string(uint64_t line)>& rejects_input) {
  return AcceptImpl(body, producer, partition, &rejects_input);
}

Result<AcceptReport> Pipeline::AcceptImpl(std::string_view body, const std::optional<ProducerBatch>& producer,
                                          std::optional<int> partition,
                                          const std::function<std::string(uint64_t line)>* rejects_input) {
  AcceptReport report;
  if (stopped_.load()) return Status::Unavailable("the server is shutting down");
  if (feed_)
    return Status::Conflict("this server reads its events from " + feed_->Describe() +
                            ": produce them to the topic (e.g. `lambdaflow produce --to " + feed_->Describe() +
                            "`), not to POST /v1/events");
  const int n = dir_->partitions();
  if (partition && (*partition < 0 || *partition >= n))
    return Status::InvalidArgument("partition " + std::to_string(*partition) + " does not exist: this server has " +
                                   std::to_string(n) +
                                   (n == 1 ? " partition (0)" : " partitions (0 to " + std::to_string(n - 1) + ")"));
  {
    MutexLock lock(&mu_);
    if (to_seal_.size() > options_.max_unsealed_buckets)
      return Status::Unavailable("the archiver is " + std::to_string(to_seal_.size()) +
                                 " segments behind (sealing cannot keep up); retry shortly");
  }
  // The decoder parses in place from a padded copy of the body.
  std::string buffer;
  buffer.reserve(body.size() + kJsonPadding);
  buffer.append(body);
  buffer.append(kJsonPadding, '\0');
  LineChunk chunk{buffer.data(), body.size(), buffer.size(), 1};
  std::unique_ptr<JsonDecoder> decoder;
  {
    MutexLock lock(&decoders_mu_);
    if (!decoders_.empty()) {
      decoder = std::move(decoders_.back());
      decoders_.pop_back();
    }
  }
  if (!decoder) decoder = std::make_unique<JsonDecoder>(dir_->schema(), options_.dir.decoder);
  Batch scratch(dir_->schema().types());
  std::vector<std::string_view> records;
  std::vector<std::unique_ptr<Batch>> rows;  // kept for the speed layer
  ValidateLines(*decoder, chunk, &scratch, &records, &report.rejects, &rows);
  {
    MutexLock lock(&decoders_mu_);
    decoders_.push_back(std::move(decoder));
  }
  // The partition of the whole request (of NULL keys when split by key).
  const bool split = !partition && partition_column_ >= 0 && n > 1;
  const int target = partition            ? *partition
                     : producer && !split ? KeyPartition(producer->id, n)
                                          : static_cast<int>(next_partition_.fetch_add(1) % static_cast<uint64_t>(n));
  // A retry of a producer's last batch is answered from the log's producer
  // table (the appends below decide again, atomically; this early look only
  // keeps a retry's rejects out of the dead-letter store).
  const int first = split ? 0 : target;
  bool early_duplicate = false;
  if (producer) {
    if (auto last = dir_->log()->FindProducer(first, producer->id); last && last->seq == producer->seq)
      early_duplicate = true;
  }
  if (!report.rejects.empty() && !early_duplicate) {
    MutexLock lock(&rejects_mu_);
    if (rejects_input) {
      for (const Reject& r : report.rejects) RETURN_IF_ERROR(dir_->AppendRejects((*rejects_input)(r.line), {r}));
    } else {
      RETURN_IF_ERROR(
          dir_->AppendRejects(split ? "http" : "http (partition " + std::to_string(target) + ")", report.rejects));
    }
    rejected_ += report.rejects.size();
  }
  if (!split) {
    bool duplicate = false;
    OffsetRange range;
    RETURN_IF_ERROR(AppendTo(target, records, std::move(rows), producer, /*wait=*/true, &range, &duplicate));
    report.duplicate = duplicate;
    report.offsets = range;
    report.accepted = range.to - range.from;
    report.ranges.push_back(range);
    if (!duplicate) accepted_ += report.accepted;
    return report;
  }
  // Split by key: each partition's records in body order, one append each,
  // and its decoded rows (copied, text included) for the speed layer.
  std::vector<std::vector<std::string_view>> parts(static_cast<size_t>(n));
  std::vector<std::vector<std::unique_ptr<Batch>>> part_rows(static_cast<size_t>(n));
  const std::vector<TypeId> types = dir_->schema().types();
  size_t next = 0;
  std::string key;
  for (const auto& batch : rows) {
    const Vector& col = batch->columns[static_cast<size_t>(partition_column_)];
    for (size_t i = 0; i < batch->size; ++i, ++next) {
      int p = target;
      if (!col.IsNull(i)) {
        if (PhysicalOf(col.type) == PhysicalType::kString) {
          p = KeyPartition(col.strs[i], n);
        } else {
          key = std::to_string(col.ints[i]);
          p = KeyPartition(key, n);
        }
      }
      parts[static_cast<size_t>(p)].push_back(records[next]);
      auto& out = part_rows[static_cast<size_t>(p)];
      if (out.empty() || out.back()->full()) out.push_back(std::make_unique<Batch>(types));
      Batch& dst = *out.back();
      for (size_t c = 0; c < types.size(); ++c) {
        Vector& to = dst.columns[c];
        CopyCell(batch->columns[c], i, to, dst.size);
        if (PhysicalOf(to.type) == PhysicalType::kString && !to.IsNull(dst.size))
          to.strs[dst.size] = dst.arena.Copy(to.strs[dst.size]);
      }
      ++dst.size;
    }
  }
  if (next != records.size()) return Status::Internal("ingest: decoded rows and accepted lines differ in number");
  // Every partition's append first, then one wait for their durability
  // (the group commits of the partitions overlap).
  bool all_duplicate = true;
  std::vector<bool> waits;
  for (int p = 0; p < n; ++p) {
    auto& recs = parts[static_cast<size_t>(p)];
    if (recs.empty() && !producer) continue;
    bool duplicate = false;
    OffsetRange range;
    RETURN_IF_ERROR(
        AppendTo(p, recs, std::move(part_rows[static_cast<size_t>(p)]), producer, /*wait=*/false, &range, &duplicate));
    all_duplicate = all_duplicate && duplicate;
    report.accepted += range.to - range.from;
    report.ranges.push_back(range);
    waits.push_back(!duplicate);
  }
  for (size_t i = 0; i < report.ranges.size(); ++i) {
    if (!waits[i]) continue;  // a duplicate was answered once durable
    const OffsetRange& r = report.ranges[i];
    Status durable = r.from == r.to ? dir_->log()->SyncNow(r.partition) : dir_->log()->WaitDurable(r.partition, r.to);
    if (!durable.ok()) return Status::Unavailable("the log cannot take writes: " + durable.ToString());
    accepted_ += r.to - r.from;
  }
  report.duplicate = producer && all_duplicate;
  if (report.ranges.size() == 1) report.offsets = report.ranges[0];
  if (report.ranges.empty()) {
    report.offsets = {target, dir_->log()->end_offset(target), dir_->log()->end_offset(target)};
    report.ranges.push_back(report.offsets);
  }
  return report;
}

Status Pipeline::AppendTo(int p, const std::vector<std::string_view>& records, std::vector<std::unique_ptr<Batch>> rows,
                          const std::optional<ProducerBatch>& producer, bool wait, OffsetRange* range,
                          bool* duplicate) {
  Log* log = dir_->log();
  *duplicate = false;
  auto answer_duplicate = [&](const OffsetRange& original) -> Status {
    Status durable = original.from == original.to ? log->SyncNow(p) : log->WaitDurable(p, original.to);
    if (!durable.ok()) return Status::Unavailable("the log cannot take writes: " + durable.ToString());
    *duplicate = true;
    *range = original;
    return Status::OK();
  };
  if (producer) {
    if (auto last = log->FindProducer(p, producer->id); last && last->seq == producer->seq)
      return answer_duplicate({p, last->from, last->to});
  }
  if (records.empty() && !producer) {
    range->partition = p;
    range->from = range->to = log->end_offset(p);
    return Status::OK();
  }
  auto appended = log->AppendNoWait(p, records, producer ? &*producer : nullptr);
  if (!appended.ok()) {
    const Status& st = appended.status();
    if (st.code() == StatusCode::kConflict || st.code() == StatusCode::kInvalidArgument) return st;
    return Status::Unavailable("the log cannot take writes: " + st.ToString());
  }
  if (appended->duplicate) return answer_duplicate(appended->range);
  *range = appended->range;
  // The rows are handed over before the records are acknowledged, so the
  // speed layer finds them when it consumes the range.
  if (!records.empty() && !rows.empty()) decoded_.Put(p, range->from, range->to, std::move(rows));
  if (!wait) return Status::OK();
  Status durable = records.empty() ? log->SyncNow(p) : log->WaitDurable(p, range->to);
  if (!durable.ok()) return Status::Unavailable("the log cannot take writes: " + durable.ToString());
  return Status::OK();
}

// ---- speed ----

Status Pipeline::MicroBatch() {
  MutexLock speed_lock(&speed_mu_);
  const int64_t now = WallMs();
  ViewStates delta;
  std::vector<OffsetRange> closed;
  RETURN_IF_ERROR(speed_->Poll(*reader_, &delta, &closed));
  ++micro_batches_;
  // Caught up: with the embedded log, now (its end is what was read); with
  // a source, as far as its high watermarks confirm.
  const int64_t caught_up = feed_ ? feed_->CaughtUpMs(speed_->watermark()) : now;
  if (served_->coverage().speed != speed_->watermark()) {
    served_->Apply(delta, speed_->watermark(), caught_up);
  } else {
    served_->Touch(caught_up);
  }
  if (!closed.empty()) {
    MutexLock lock(&mu_);
    to_seal_.insert(to_seal_.end(), closed.begin(), closed.end());
    cv_.NotifyAll();
  }
  std::optional<PendingVersion> pending;
  std::vector<PendingOther> others;
  {
    MutexLock lock(&mu_);
    pending.swap(pending_);
    others.swap(pending_others_);
  }
  if (pending) RETURN_IF_ERROR(InstallVersion(std::move(*pending)));
  if (!others.empty()) InstallOthers(std::move(others));
  speed_buckets_ = speed_->num_buckets();
  speed_handed_over_ = speed_->events_handed_over();
  speed_decoded_ = speed_->events_decoded();
  speed_memory_ = speed_->MemoryUsage();
  return Status::OK();
}

void Pipeline::SpeedLoop() {
  MutexLock lock(&mu_);
  while (!stop_) {
    SleepUnlessStopped(std::chrono::steady_clock::now() + options_.micro_batch);
    if (stop_) break;
    lock.Unlock();
    const auto t0 = std::chrono::steady_clock::now();
    Status st = MicroBatch();
    micro_batch_seconds_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    lock.Lock();
    if (!st.ok()) {
      last_error_ = "speed layer: " + st.ToString();
      LogLine(last_error_);
      SleepUnlessStopped(std::chrono::steady_clock::now() + std::chrono::seconds(1));
    }
  }
}

// ---- archiver ----

void Pipeline::ArchiverLoop() {
  MutexLock lock(&mu_);
  while (true) {
    while (!stop_ && to_seal_.empty()) cv_.Wait(&mu_);
    if (stop_) break;
    const OffsetRange r = to_seal_.front();
    lock.Unlock();
    Status st;
    const uint64_t sealed = dir_->master()->Snapshot().sealed[static_cast<size_t>(r.partition)];
    if (const std::string fenced = dir_->master()->FencedReason(r.partition); !fenced.empty()) {
      // Another process owns the partition now: its ranges are not ours to
      // seal (they stay in this process's log, unsealed).
      st = Status::Fenced(fenced);
    } else if (sealed != r.from) {
      st = Status::Internal("archiver: the bucket " + RangeText(r) + " does not start at the sealed watermark " +
                            std::to_string(sealed));
    } else {
      MutexLock heavy(&heavy_mu_);
      st = feed_ ? SealFromSource(r) : dir_->SealRange(r.partition, r.to);
    }
    lock.Lock();
    // A group member's rebalance may have dropped the range meanwhile.
    const bool still_front = !to_seal_.empty() && to_seal_.front().partition == r.partition &&
                             to_seal_.front().from == r.from && to_seal_.front().to == r.to;
    if (!still_front) {
      if (st.ok()) ++segments_sealed_;
      continue;
    }
    if (st.ok()) {
      to_seal_.pop_front();
      ++segments_sealed_;
      cv_.NotifyAll();
    } else if (st.code() == StatusCode::kFenced) {
      to_seal_.pop_front();
      cv_.NotifyAll();
      const std::string line = "partition " + std::to_string(r.partition) +
                               " is fenced: another lambdaflow process claimed it in the store " + dir_->store_path() +
                               "; this process stops sealing it and running batches for it (" + st.message() + ")";
      if (last_error_ != line) {
        last_error_ = line;
        LogLine("archiver: " + line);
      }
    } else {
      last_error_ = "archiver: sealing " + RangeText(r) + ": " + st.ToString();
      LogLine(last_error_ + " (retrying in 1 s)");
      SleepUnlessStopped(std::chrono::steady_clock::now() + std::chrono::seconds(1));
    }
  }
}

// ---- batch ----

Status Pipeline::RunBatch() {
  BatchRunOptions bopts;
  bopts.threads = options_.batch_threads;
  std::vector<uint64_t> run_sealed;
  if (options_.member) {
    // The partitions owned elsewhere: their chains' newest versions.
    RefreshOthers();
    // A group member computes only what it owns now (pipeline_ownership.cc).
    bopts.partitions = MemberBatchPartitions(&run_sealed);
    if (bopts.partitions.empty()) return Status::OK();
  } else {
    bool all_fenced = true;
    for (int p = 0; p < dir_->partitions(); ++p) all_fenced = all_fenced && !dir_->master()->FencedReason(p).empty();
    if (all_fenced) return Status::Fenced("every partition is owned by another lambdaflow process");
    const Manifest m = dir_->master()->Snapshot();
    auto current = dir_->versions().Current();
    if (current.ok() && *current && (*current)->watermark == m.sealed) return Status::OK();  // nothing new
    if (m.segments.empty()) return Status::OK();
  }
  MutexLock heavy(&heavy_mu_);
  auto run = batch_->RunOnce(bopts);
  if (options_.member && (run.ok() || run.status().code() == StatusCode::kFenced)) {
    // Fenced: a partition moved while the run was written; the others got
    // the version. Either way these watermarks are done.
    last_run_partitions_ = bopts.partitions;
    last_run_sealed_ = run_sealed;
  }
  if (!run.ok()) return run.status();
  BatchRunReport report = std::move(run).value();
  ++batch_runs_;
  batch_run_seconds_.Observe(report.seconds);
  ASSIGN_OR_RETURN(PendingVersion loaded, PrepareVersion(report.version));
  heavy.Unlock();
  LogLine("batch: version " + std::to_string(report.version.number) + " (W=" + WatermarkText(report.version.watermark) +
          ") in " + std::to_string(static_cast<int64_t>(report.seconds * 1000)) + " ms, " +
          std::to_string(report.segments_scanned) + " segments scanned, " + std::to_string(report.segments_reused) +
          " reused");
  // Manifest versions and objects no kept version names (batch versions
  // replaced, segments of seals that crashed) go after a grace period; at
  // most once a minute (it lists the store).
  if (const auto now = std::chrono::steady_clock::now(); now >= next_gc_) {
    next_gc_ = now + std::chrono::minutes(1);
    auto gc = dir_->versions().CollectGarbage();
    if (!gc.ok()) LogLine("garbage collection: " + gc.status().ToString() + " (retried after a later batch run)");
  }
  MutexLock lock(&mu_);
  pending_ = std::move(loaded);
  return Status::OK();
}

void Pipeline::BatchLoop() {
  auto next = std::chrono::steady_clock::now() + options_.batch_interval;
  MutexLock lock(&mu_);
  while (!stop_) {
    SleepUnlessStopped(next);
    if (stop_) break;
    next = std::chrono::steady_clock::now() + options_.batch_interval;
    lock.Unlock();
    Status st = RunBatch();
    lock.Lock();
    if (st.code() == StatusCode::kFenced && options_.member) {
      // A member's partition moved during the run: the next run covers
      // what it owns then.
      last_error_ = "batch: " + st.message();
      LogLine(last_error_);
      continue;
    }
    if (st.code() == StatusCode::kFenced) {
      last_error_ = "batch: stopped: " + st.message() + " (in the store " + dir_->store_path() +
                    "); this process serves what it has and no longer seals or publishes";
      LogLine(last_error_);
      break;
    }
    if (!st.ok()) {
      ++batch_failures_;
      last_error_ = "batch: " + st.ToString();
      LogLine(last_error_);
    }
  }
}

Status Pipeline::RunMicroBatchForTesting() {
  RETURN_IF_ERROR(MicroBatch());
  // Seal what closed right away, so that a batch run can cover it.
  while (true) {
    MutexLock lock(&mu_);
    if (to_seal_.empty()) return Status::OK();
    (void)cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + std::chrono::milliseconds(10));
  }
}

Status Pipeline::RunBatchForTesting() { return RunBatch(); }

// ---- shutdown and stats ----

Status Pipeline::Stop() {
  if (stopped_.exchange(true)) return Status::OK();
  {
    MutexLock lock(&mu_);
    stop_ = true;
    cv_.NotifyAll();
  }
  for (std::thread* t : {&speed_thread_, &archiver_thread_, &batch_thread_})
    if (t->joinable()) t->join();
  if (feed_) feed_->Stop();
  if (options_.member) {
    // The source, destroyed later, reports its partitions lost: nothing
    // here listens any more.
    MutexLock lock(&options_.member->mu);
    options_.member->on_gain = nullptr;
    options_.member->on_lose = nullptr;
  }
  // A Start that failed before the data directory opened has nothing to close.
  return dir_ && dir_->log() ? dir_->log()->Close() : Status::OK();
}

PipelineStats Pipeline::stats() const {
  PipelineStats s;
  s.accepted = accepted_;
  s.rejected = rejected_;
  s.batch_runs = batch_runs_;
  s.batch_failures = batch_failures_;
  s.micro_batches = micro_batches_;
  s.segments_sealed = segments_sealed_;
  s.speed_buckets = speed_buckets_;
  s.speed_events_handed_over = speed_handed_over_;
  s.speed_events_decoded = speed_decoded_;
  s.speed_memory = speed_memory_;
  s.served_memory = served_->MemoryUsage();
  const Manifest m = dir_->master()->Snapshot();
  s.sealed = m.sealed;
  if (feed_) {
    s.source = feed_->Describe();
    s.accepted = feed_->records_read();  // no HTTP ingest: what was read from the source
    s.source_partitions = feed_->partitions();
    for (const auto& sp : s.source_partitions) s.log_end.push_back(std::max(sp.high_watermark, sp.position));
    const SourceHealth h = feed_->health();
    s.source_transient_errors = h.transient_errors;
    s.source_last_transient_error = h.last_transient_error;
  } else {
    for (int p = 0; p < dir_->log()->partitions(); ++p) s.log_end.push_back(dir_->log()->end_offset(p));
  }
  AddMemberStats(&s);
  MutexLock lock(&mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace lf
