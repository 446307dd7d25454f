// The embedded log: recovery, batched appends with group commit, reads, reclaim.
#include "log/log.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "log/log_format.h"
#include "log/log_reader.h"

namespace lf {

Result<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  if (name == "always") return FsyncPolicy::kAlways;
  if (name == "interval") return FsyncPolicy::kInterval;
  if (name == "none") return FsyncPolicy::kNone;
  return Status::InvalidArgument("unknown fsync policy '" + std::string(name) + "': use always, interval or none");
}

namespace {

using logfmt::kHeaderSize;
using logfmt::kRecordHeaderSize;

// A sparse index entry every this many bytes lets Read start near `from`.
constexpr uint64_t kIndexEveryBytes = 64 << 10;
constexpr int kMaxPartitions = 1 << 16;

std::string SegmentName(uint64_t base) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 ".log", base);
  return buf;
}

bool ParseSegmentName(const std::string& name, uint64_t* base) {
  if (name.size() != logfmt::kSegmentNameDigits + logfmt::kSegmentSuffix.size()) return false;
  if (name.compare(logfmt::kSegmentNameDigits, std::string::npos, logfmt::kSegmentSuffix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < logfmt::kSegmentNameDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(name[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *base = v;
  return true;
}

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

struct IndexEntry {
  uint64_t offset;
  uint64_t pos;
};

// A producer-tagged batch of a segment: [from, to) with its producer's seq.
struct ProducerEntry {
  std::string id;
  uint64_t seq;
  uint64_t from, to;
};

constexpr const char* kCheckpointName = "PRODUCERS";

std::string Restore(const std::string& dir) {
  return "restore " + dir +
         " from a backup (a human decides: lambdaflow never drops records that may have been "
         "acknowledged)";
}

}  // namespace

struct Log::Segment {
  uint64_t base = 0;
  uint32_t version = logfmt::kFormatVersion;
  std::string name;
  std::string path;
  std::shared_ptr<const RandomAccessFile> file;
  // Guarded by Partition::seg_mu while this is the last segment; fixed after.
  uint64_t end_offset = 0;  // one past its last written record
  uint64_t end_pos = 0;     // file bytes holding those records
  std::vector<IndexEntry> index;
  std::vector<ProducerEntry> producers;  // its producer-tagged batches, in order (same guard as end_offset)
};

struct Log::Partition {
  int id = 0;
  std::string dir;

  // Writer state, guarded by mu.
  std::mutex mu;
  std::condition_variable synced_cv;  // signalled when `synced` or `error` changes
  std::unique_ptr<WritableFile> file;
  std::shared_ptr<Segment> active;
  uint64_t written = 0;  // == appended outside WriteLocked
  uint64_t synced = 0;
  uint64_t file_pos = 0;  // bytes of the active file handed to the OS
  uint64_t last_index_pos = 0;
  bool closed = false;
  Status error;  // sticky: the partition is unwritable
  std::unique_ptr<char[]> buf;
  size_t buf_cap = 0;
  ProducerTable table;  // as of `written`
  bool dirty = false;   // bytes written since the last sync (also event-less batches)

  std::atomic<uint64_t> acked{0};  // end_offset()
  std::atomic<uint64_t> start{0};  // start_offset()

  mutable std::mutex seg_mu;  // guards `segments` and the last segment's end/index
  std::vector<std::shared_ptr<Segment>> segments;

  // The producer table as of start_offset() (what reclaimed segments held),
  // kept in the PRODUCERS checkpoint. Guarded by reclaim_mu.
  std::mutex reclaim_mu;
  ProducerTable base_table;
  bool has_checkpoint = false;
  uint64_t checkpoint_as_of = 0;

  std::string Where(const Segment& s) const { return "log partition " + std::to_string(id) + " segment " + s.name; }
};

Log::Log(FileSystem* fs, std::string dir, const LogOptions& opts) : fs_(fs), dir_(std::move(dir)), opts_(opts) {}

Log::~Log() {
  if (!closed_.load()) (void)Close();
}

Result<std::unique_ptr<Log>> Log::Open(FileSystem* fs, const std::string& dir, const LogOptions& opts,
                                       LogRecoveryReport* report) {
  if (opts.partitions < 1 || opts.partitions > kMaxPartitions) {
    return Status::InvalidArgument("log: partitions must be in [1, " + std::to_string(kMaxPartitions) + "]");
  }
  if (opts.segment_bytes <= kHeaderSize) return Status::InvalidArgument("log: segment_bytes is too small");
  if (opts.fsync_interval_ms < 0) return Status::InvalidArgument("log: fsync_interval_ms must be >= 0");
  LogRecoveryReport ignored;
  if (report == nullptr) report = &ignored;

  RETURN_IF_ERROR(fs->CreateDirs(dir));
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  int existing = 0;
  for (const std::string& n : names) {
    if (n.size() > 1 && n[0] == 'p' && std::all_of(n.begin() + 1, n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      ++existing;
  }
  if (existing > 0 && existing != opts.partitions) {
    return Status::InvalidArgument("log " + dir + " has " + std::to_string(existing) + " partitions but " +
                                   std::to_string(opts.partitions) +
                                   " were configured; the partition count of a log cannot change");
  }
  std::unique_ptr<Log> log(new Log(fs, dir, opts));
  for (int i = 0; i < opts.partitions; ++i) {
    auto p = std::make_unique<Partition>();
    p->id = i;
    p->dir = JoinPath(dir, "p" + std::to_string(i));
    RETURN_IF_ERROR(fs->CreateDirs(p->dir));
    log->parts_.push_back(std::move(p));
  }
  if (existing == 0) {  // make the new partition directories (and `dir` itself) durable
    RETURN_IF_ERROR(fs->SyncDir(dir));
    RETURN_IF_ERROR(fs->SyncDir(DirName(dir)));
  }
  for (auto& p : log->parts_) {
    std::lock_guard<std::mutex> l(p->mu);
    RETURN_IF_ERROR(log->Recover(*p, report));
  }
  if (opts.fsync == FsyncPolicy::kInterval) log->syncer_ = std::thread([raw = log.get()] { raw->SyncerLoop(); });
  return log;
}

// Scans every segment of the partition, checking headers, checksums and that
// the segments' offset ranges are contiguous; truncates a torn tail of the
// last segment and syncs it (what a crashed process left in the page cache
// is not durable yet, and is acknowledged from now on). Then checks the
// result against the sealed watermark (LogOptions::sealed).
Status Log::Recover(Partition& p, LogRecoveryReport* report) {
  // Unknown (opened without a master dataset): no check against it.
  const bool known = static_cast<size_t>(p.id) < opts_.sealed.size();
  const uint64_t sealed = known ? opts_.sealed[static_cast<size_t>(p.id)] : 0;
  const std::string pname = "log partition " + std::to_string(p.id);
  // The producer checkpoint: the table as of the log's start.
  const std::string ckpt = JoinPath(p.dir, kCheckpointName);
  uint64_t ckpt_as_of = 0;
  ASSIGN_OR_RETURN(bool has_ckpt, fs_->Exists(ckpt));
  if (has_ckpt) {
    ASSIGN_OR_RETURN(std::string text, fs_->ReadFile(ckpt));
    ASSIGN_OR_RETURN(p.base_table, ProducerTable::Decode(text, ckpt, &ckpt_as_of));
    p.has_checkpoint = true;
    p.checkpoint_as_of = ckpt_as_of;
    if (known && ckpt_as_of > sealed) {
      return Status::Corruption(ckpt + " is as of offset " + std::to_string(ckpt_as_of) +
                                ", above the sealed watermark " + std::to_string(sealed) +
                                " of the master dataset: the log and the master dataset disagree; " + Restore(p.dir));
    }
  }
  RETURN_IF_ERROR(RecoverSegments(p, sealed, report));

  uint64_t end = p.segments.empty() ? 0 : p.segments.back()->end_offset;
  const uint64_t start = p.segments.empty() ? 0 : p.segments.front()->base;
  if (known && !p.segments.empty() && start > sealed) {
    return Status::Corruption(pname + ": the log starts at offset " + std::to_string(start) +
                              " but the master dataset is sealed only to " + std::to_string(sealed) + ": events [" +
                              std::to_string(sealed) + ", " + std::to_string(start) +
                              ") are in neither (a log segment or the master's MANIFEST was lost); " + Restore(p.dir) +
                              " and the master's MANIFEST");
  }
  if (end < sealed || (p.segments.empty() && sealed > 0)) {
    const std::string what = p.segments.empty() ? "has no segment files" : "ends at offset " + std::to_string(end);
    if (!opts_.restart_at_sealed) {
      return Status::Corruption(
          pname + " (" + p.dir + ") " + what + " but the master dataset is sealed to offset " + std::to_string(sealed) +
          ": log segment files were truncated or deleted, and events acknowledged above offset " +
          std::to_string(sealed) + " that only the log held may be lost. Appending now would hand out offsets " +
          "that were already acknowledged, so lambdaflow refuses. Restore " + p.dir +
          " from a backup; if there is none, start once with --restart-log-at-sealed to move the damaged "
          "segments aside (*.log.lost) and continue the log at offset " +
          std::to_string(sealed) + " (the master dataset holds every event below it)");
    }
    for (const auto& seg : p.segments) {
      RETURN_IF_ERROR(fs_->Rename(seg->path, seg->path + ".lost"));
      report->notes.push_back(p.Where(*seg) + ": moved aside as " + seg->name + ".lost (--restart-log-at-sealed)");
    }
    RETURN_IF_ERROR(fs_->SyncDir(p.dir));
    report->notes.push_back(pname + ": " + what + ", below the sealed watermark " + std::to_string(sealed) +
                            "; restarted at offset " + std::to_string(sealed) +
                            " (events acknowledged above it that only the log held are lost)");
    p.segments.clear();
    p.table = p.base_table;
    end = sealed;
  }
  if (p.segments.empty()) {
    RETURN_IF_ERROR(CreateSegmentLocked(p, end));
    p.start.store(end);
    p.written = p.synced = end;
    p.acked.store(end);
    return Status::OK();
  }

  std::shared_ptr<Segment> last = p.segments.back();
  if (last->version < logfmt::kFormatVersion && last->end_pos > kHeaderSize) {
    // An older segment is never appended to: continue in a new one.
    ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> old, fs_->NewAppendableFile(last->path));
    RETURN_IF_ERROR(old->Sync());
    RETURN_IF_ERROR(old->Close());
    report->notes.push_back(p.Where(*last) + ": format version " + std::to_string(last->version) +
                            " (read only); appends continue in a new segment of version " +
                            std::to_string(logfmt::kFormatVersion));
    p.start.store(p.segments.front()->base);
    RETURN_IF_ERROR(CreateSegmentLocked(p, last->end_offset));
    p.written = p.synced = last->end_offset;
    p.acked.store(last->end_offset);
    return Status::OK();
  }
  if (last->version < logfmt::kFormatVersion || last->end_pos == kHeaderSize) {
    // An empty last segment (or a torn header): (re)write its header in this version.
    ASSIGN_OR_RETURN(p.file, fs_->NewWritableFile(last->path));
    char header[kHeaderSize];
    logfmt::EncodeHeader(static_cast<uint32_t>(p.id), last->base, header);
    RETURN_IF_ERROR(p.file->Append(std::string_view(header, kHeaderSize)));
    last->version = logfmt::kFormatVersion;
    ASSIGN_OR_RETURN(last->file, fs_->NewRandomAccessFile(last->path));
  } else {
    ASSIGN_OR_RETURN(p.file, fs_->NewAppendableFile(last->path));
  }
  RETURN_IF_ERROR(p.file->Sync());
  if (p.file->size() != last->end_pos) {  // another process is writing this log
    return Status::Internal(p.Where(*last) + ": file size changed during recovery");
  }
  p.active = last;
  p.file_pos = last->end_pos;
  p.last_index_pos = last->index.back().pos;
  p.written = p.synced = last->end_offset;
  p.acked.store(last->end_offset);
  p.start.store(p.segments.front()->base);
  return Status::OK();
}

// Reads the segments into p.segments and p.table (starting from
// p.base_table). Segments wholly below the producer checkpoint are leftovers
// of an interrupted reclaim, and damaged or missing segments wholly below
// `sealed` are held by the master dataset: both are removed, as a reclaim
// would. Any other damage but a torn tail of the last segment is an error.
Status Log::RecoverSegments(Partition& p, uint64_t sealed, LogRecoveryReport* report) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(p.dir));
  std::vector<uint64_t> bases;
  for (const std::string& n : names) {
    uint64_t base;
    if (ParseSegmentName(n, &base)) bases.push_back(base);
  }
  std::sort(bases.begin(), bases.end());
  const std::string pname = "log partition " + std::to_string(p.id);
  const uint64_t ckpt_as_of = p.checkpoint_as_of;
  std::vector<std::string> doomed;  // files to remove once recovery succeeds
  // Drops everything scanned so far (all of it below `upto` <= sealed).
  auto drop_scanned = [&](const std::string& why, uint64_t upto) {
    for (const auto& seg : p.segments) doomed.push_back(seg->path);
    report->notes.push_back(pname + ": " + why + "; offsets below " + std::to_string(upto) +
                            " are sealed in the master dataset, so the segments holding them are dropped" +
                            (p.segments.empty() ? "" : " (" + std::to_string(p.segments.size()) + " segments)"));
    p.segments.clear();
  };
  uint64_t expected = bases.empty() ? 0 : bases[0];
  bool reset_last = false;  // the last segment's header was torn: rewrite it
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool last = i + 1 == bases.size();
    const uint64_t next_base = last ? UINT64_MAX : bases[i + 1];
    auto seg = std::make_shared<Segment>();
    seg->base = bases[i];
    seg->name = SegmentName(bases[i]);
    seg->path = JoinPath(p.dir, seg->name);
    if (!last && next_base <= ckpt_as_of) {  // its producers are in the checkpoint; a reclaim was interrupted
      doomed.push_back(seg->path);
      expected = next_base;
      continue;
    }
    if (seg->base != expected) {
      if (seg->base <= sealed) {
        drop_scanned("records [" + std::to_string(expected) + ", " + std::to_string(seg->base) + ") are missing",
                     seg->base);
        expected = seg->base;
      } else {
        return Status::Corruption(pname + ": records [" + std::to_string(expected) + ", " + std::to_string(seg->base) +
                                  ") are missing: no segment holds them (the segment before " + seg->name +
                                  " ends at offset " + std::to_string(expected) + "); " + Restore(p.dir));
      }
    }
    // Damage in a segment that is not the last and lies wholly below the
    // sealed watermark is dropped with everything before it; other damage is
    // returned.
    auto damaged = [&](const std::string& what) -> Status {
      if (!last && next_base <= sealed) {
        doomed.push_back(seg->path);
        drop_scanned(p.Where(*seg) + ": " + what, next_base);
        expected = next_base;
        return Status::OK();
      }
      return Status::Corruption(p.Where(*seg) + ": " + what + "; " + Restore(p.dir));
    };
    ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, fs_->NewRandomAccessFile(seg->path));
    uint64_t size = file->size();
    std::string head(kHeaderSize, '\0');
    ASSIGN_OR_RETURN(size_t got, file->Read(0, kHeaderSize, head.data()));
    head.resize(got);
    if (got < kHeaderSize || AllZero(head)) {
      // A header that was never completely written: a torn creation if this
      // is the last segment and nothing but zeros follows.
      std::string rest(static_cast<size_t>(size), '\0');
      ASSIGN_OR_RETURN(size_t all, file->Read(0, rest.size(), rest.data()));
      if (!last || !AllZero(std::string_view(rest.data(), all).substr(std::min<size_t>(all, got)))) {
        RETURN_IF_ERROR(damaged("truncated or zeroed file header (" + std::to_string(size) +
                                " bytes) in a segment that holds offsets from " + std::to_string(seg->base)));
        continue;
      }
      report->notes.push_back(p.Where(*seg) + ": torn file header (" + std::to_string(size) +
                              " bytes) rewritten; partition ends at offset " + std::to_string(seg->base));
      report->truncated_bytes += size;
      reset_last = true;
      seg->end_offset = seg->base;
      seg->end_pos = kHeaderSize;
      seg->index.push_back({seg->base, kHeaderSize});
      p.segments.push_back(seg);
      break;
    }
    SegmentHeader h;
    if (Status st = DecodeSegmentHeader(head, p.dir + "/" + seg->name, &h); !st.ok()) {
      if (st.code() != StatusCode::kCorruption) return st;  // a newer version: upgrade
      RETURN_IF_ERROR(damaged(st.message()));
      continue;
    }
    if (h.partition != static_cast<uint32_t>(p.id) || h.base_offset != seg->base) {
      RETURN_IF_ERROR(damaged("header names partition " + std::to_string(h.partition) + " and base offset " +
                              std::to_string(h.base_offset) + ", not its own"));
      continue;
    }
    seg->version = h.version;
    SegmentCursor cursor(*file, kHeaderSize, size, h.version);
    uint64_t off = seg->base;
    uint64_t last_index_pos = kHeaderSize;
    seg->index.push_back({off, kHeaderSize});
    bool dropped = false;
    while (true) {
      std::string_view payload;
      ASSIGN_OR_RETURN(SegmentCursor::Outcome o, cursor.Next(&payload));
      if (o == SegmentCursor::Outcome::kEnd) break;
      if (o == SegmentCursor::Outcome::kRecord) {
        if (cursor.record_pos() - last_index_pos >= kIndexEveryBytes) {
          seg->index.push_back({off, cursor.record_pos()});
          last_index_pos = cursor.record_pos();
        }
        if (h.version < logfmt::kFirstBatchVersion) {
          ++off;
          continue;
        }
        logfmt::BatchView b;
        if (!logfmt::DecodeBatch(payload, &b)) {
          RETURN_IF_ERROR(damaged("a batch record at byte " + std::to_string(cursor.record_pos()) + " (offset " +
                                  std::to_string(off) + ") has a valid checksum but an invalid structure"));
          dropped = true;
          break;
        }
        if (!b.producer_id.empty()) {
          seg->producers.push_back({std::string(b.producer_id), b.producer_seq, off, off + b.count});
        }
        off += b.count;
        continue;
      }
      const uint64_t pos = cursor.record_pos();
      const std::string what = std::string(logfmt::RecordCheckName(cursor.damage())) + " at byte " +
                               std::to_string(pos) + " (record offset " + std::to_string(off) + ")";
      if (!last) {
        RETURN_IF_ERROR(damaged(what + " in a segment that is not the last: offsets from " + std::to_string(off) +
                                " up to " + std::to_string(next_base) + " cannot be read"));
        dropped = true;
        break;
      }
      ASSIGN_OR_RETURN(std::optional<uint64_t> valid, FindValidRecordAfter(*file, pos + 1, size, h.version));
      if (valid) {
        return Status::Corruption(p.Where(*seg) + ": " + what + ", but a valid record follows at byte " +
                                  std::to_string(*valid) +
                                  ": mid-log corruption, not a torn tail; records from offset " + std::to_string(off) +
                                  " on are unreadable; " + Restore(p.dir));
      }
      RETURN_IF_ERROR(fs_->Truncate(seg->path, pos));
      report->notes.push_back(p.Where(*seg) + ": torn tail: " + what + "; " + std::to_string(size - pos) +
                              " bytes truncated; partition ends at offset " + std::to_string(off));
      report->truncated_bytes += size - pos;
      size = pos;
      break;
    }
    if (dropped) continue;
    if (!last && off != next_base && next_base <= sealed) {
      // A segment cut short (e.g. truncated by hand) below the sealed watermark.
      doomed.push_back(seg->path);
      drop_scanned(p.Where(*seg) + " ends at offset " + std::to_string(off) + ", not " + std::to_string(next_base),
                   next_base);
      expected = next_base;
      continue;
    }
    seg->end_offset = off;
    seg->end_pos = size;
    expected = off;
    seg->file = std::move(file);
    p.segments.push_back(std::move(seg));
  }
  (void)reset_last;
  for (const std::string& path : doomed) {
    RETURN_IF_ERROR(fs_->Remove(path));
    RETURN_IF_ERROR(fs_->SyncDir(p.dir));
  }
  p.table = p.base_table;
  for (const auto& seg : p.segments) {
    for (const ProducerEntry& e : seg->producers) p.table.Record(e.id, e.seq, e.from, e.to);
  }
  return Status::OK();
}

// Starts segment `base` and makes it durable (data and directory entry)
// before any record in it can be acknowledged.
Status Log::CreateSegmentLocked(Partition& p, uint64_t base) {
  auto seg = std::make_shared<Segment>();
  seg->base = base;
  seg->name = SegmentName(base);
  seg->path = JoinPath(p.dir, seg->name);
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_->NewWritableFile(seg->path));
  char header[kHeaderSize];
  logfmt::EncodeHeader(static_cast<uint32_t>(p.id), base, header);
  RETURN_IF_ERROR(file->Append(std::string_view(header, kHeaderSize)));
  RETURN_IF_ERROR(file->Sync());
  RETURN_IF_ERROR(fs_->SyncDir(p.dir));
  ASSIGN_OR_RETURN(seg->file, fs_->NewRandomAccessFile(seg->path));
  seg->end_offset = base;
  seg->end_pos = kHeaderSize;
  seg->index.push_back({base, kHeaderSize});
  {
    std::lock_guard<std::mutex> l(p.seg_mu);
    p.segments.push_back(seg);
  }
  p.active = std::move(seg);
  p.file = std::move(file);
  p.file_pos = kHeaderSize;
  p.last_index_pos = kHeaderSize;
  return Status::OK();
}

Result<Log::Partition*> Log::Find(int partition) const {
  if (partition < 0 || partition >= partitions()) {
    return Status::InvalidArgument("log: no partition " + std::to_string(partition) + " (the log has " +
                                   std::to_string(partitions()) + ")");
  }
  return parts_[partition].get();
}

Result<OffsetRange> Log::Append(int partition, const std::vector<std::string_view>& records) {
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  std::unique_lock<std::mutex> l(p->mu);
  AppendOutcome out;
  RETURN_IF_ERROR(WriteLocked(*p, records, nullptr, &out));
  const OffsetRange range = out.range;
  switch (opts_.fsync) {
    case FsyncPolicy::kNone:
      break;
    case FsyncPolicy::kAlways:
      RETURN_IF_ERROR(SyncLocked(*p));
      break;
    case FsyncPolicy::kInterval:
      WakeSyncer();
      p->synced_cv.wait(l, [&] { return p->synced >= range.to || !p->error.ok() || p->closed; });
      if (p->synced < range.to)
        return p->error.ok() ? Status::IOError("log: closed before the append was synced") : p->error;
      break;
  }
  return range;
}

Result<OffsetRange> Log::AppendNoWait(int partition, const std::vector<std::string_view>& records) {
  ASSIGN_OR_RETURN(AppendOutcome out, AppendNoWait(partition, records, nullptr));
  return out.range;
}

Result<AppendOutcome> Log::AppendNoWait(int partition, const std::vector<std::string_view>& records,
                                        const ProducerBatch* producer) {
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  AppendOutcome out;
  {
    std::lock_guard<std::mutex> l(p->mu);
    RETURN_IF_ERROR(WriteLocked(*p, records, producer, &out));
  }
  if (opts_.fsync == FsyncPolicy::kInterval && !out.duplicate) WakeSyncer();
  return out;
}

Status Log::SyncNow(int partition) {
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  if (opts_.fsync == FsyncPolicy::kNone) return Status::OK();
  std::lock_guard<std::mutex> l(p->mu);
  return SyncLocked(*p);
}

std::optional<ProducerLast> Log::FindProducer(int partition, std::string_view id) const {
  CHECK(partition >= 0 && partition < partitions(), "partition in range");
  Partition& p = *parts_[partition];
  std::lock_guard<std::mutex> l(p.mu);
  return p.table.Find(id);
}

Status Log::WaitDurable(int partition, uint64_t offset) {
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  if (p->acked.load(std::memory_order_acquire) >= offset) return Status::OK();
  std::unique_lock<std::mutex> l(p->mu);
  if (offset > p->written) {
    return Status::InvalidArgument("log partition " + std::to_string(partition) + ": offset " + std::to_string(offset) +
                                   " was never appended");
  }
  if (opts_.fsync == FsyncPolicy::kAlways) return SyncLocked(*p);
  if (opts_.fsync == FsyncPolicy::kNone) return p->error;  // acked == written
  WakeSyncer();
  p->synced_cv.wait(l, [&] { return p->synced >= offset || !p->error.ok() || p->closed; });
  if (p->synced >= offset) return Status::OK();
  return p->error.ok() ? Status::IOError("log: closed before the records were synced") : p->error;
}

Status Log::WriteLocked(Partition& p, const std::vector<std::string_view>& records, const ProducerBatch* producer,
                        AppendOutcome* out) {
  if (p.closed) return Status::IOError("log: append after Close");
  RETURN_IF_ERROR(p.error);
  out->range.partition = p.id;
  out->duplicate = false;
  if (producer != nullptr) {
    if (producer->id.empty() || producer->id.size() > kMaxProducerIdBytes) {
      return Status::InvalidArgument("log: a producer id has 1 to " + std::to_string(kMaxProducerIdBytes) + " bytes");
    }
    const ProducerTable::Check c = p.table.Classify(*producer);
    if (c.verdict == ProducerTable::Verdict::kDuplicate) {
      out->range.from = c.last.from;
      out->range.to = c.last.to;
      out->duplicate = true;
      return Status::OK();
    }
    if (c.verdict == ProducerTable::Verdict::kOutOfOrder) {
      return Status::Conflict("producer '" + producer->id + "' sent seq " + std::to_string(producer->seq) + " but " +
                              ProducerTable::Describe(producer->id, c.last) + ": send seq " +
                              std::to_string(c.last.seq + 1) + " next (or " + std::to_string(c.last.seq) +
                              " again to retry the last batch), or use a new producer id");
    }
  }
  const size_t id_bytes = producer != nullptr ? producer->id.size() : 0;
  out->range.from = p.written;
  if (records.empty() && producer == nullptr) {
    out->range.to = p.written;
    return Status::OK();
  }
  // One batch record per append; without a producer, an append over the
  // record limit is split into several (each atomic on its own).
  size_t begin = 0;
  do {
    size_t end = begin, event_bytes = 0;
    while (end < records.size() &&
           (end == begin || logfmt::BatchPayloadSize(id_bytes, event_bytes + records[end].size(), end + 1 - begin) <=
                                logfmt::kMaxBatchBytes)) {
      event_bytes += records[end].size();
      ++end;
    }
    const size_t payload = logfmt::BatchPayloadSize(id_bytes, event_bytes, end - begin);
    if (payload > logfmt::kMaxBatchBytes || (producer != nullptr && end < records.size())) {
      return Status::InvalidArgument("log: an append of " + std::to_string(payload) +
                                     " bytes is above the batch limit of " + std::to_string(logfmt::kMaxBatchBytes));
    }
    RETURN_IF_ERROR(WriteBatchLocked(p, records, begin, end, payload, producer));
    begin = end;
  } while (begin < records.size());
  out->range.to = p.written;
  if (producer != nullptr) p.table.Record(producer->id, producer->seq, out->range.from, out->range.to);
  if (opts_.fsync == FsyncPolicy::kNone) p.acked.store(p.written, std::memory_order_release);
  return Status::OK();
}

// Encodes records[begin, end) as one batch record (rolling to a new segment
// first when the active one holds events and this one would take it past
// segment_bytes; a segment's name is its first offset, so one holding only
// event-less batches is never rolled) and hands it to the OS with one write.
Status Log::WriteBatchLocked(Partition& p, const std::vector<std::string_view>& records, size_t begin, size_t end,
                             size_t payload, const ProducerBatch* producer) {
  const size_t bytes = kRecordHeaderSize + payload;
  if (p.written > p.active->base && p.file_pos + bytes > opts_.segment_bytes) RETURN_IF_ERROR(RollLocked(p));
  if (p.buf_cap < bytes) {
    p.buf_cap = std::max<size_t>(bytes, 2 * p.buf_cap);
    p.buf = std::make_unique<char[]>(p.buf_cap);
  }
  const std::string_view id = producer != nullptr ? std::string_view(producer->id) : std::string_view();
  logfmt::EncodeBatch(id, producer != nullptr ? producer->seq : 0, records, begin, end, p.buf.get());
  const uint64_t pos = p.file_pos;
  Status st = p.file->Append(std::string_view(p.buf.get(), bytes));
  if (st.ok()) st = p.file->Flush();
  if (!st.ok()) return WriteFailedLocked(p, std::move(st));
  const uint64_t from = p.written;
  p.dirty = true;
  p.file_pos = pos + bytes;
  p.written = from + (end - begin);
  const bool index = pos - p.last_index_pos >= kIndexEveryBytes;
  if (index) p.last_index_pos = pos;
  {
    std::lock_guard<std::mutex> l(p.seg_mu);
    p.active->end_offset = p.written;
    p.active->end_pos = p.file_pos;
    if (index) p.active->index.push_back({from, pos});
    if (producer != nullptr) p.active->producers.push_back({producer->id, producer->seq, from, p.written});
  }
  return Status::OK();
}

// Seals the active segment (synced first, so that only the last segment can
// ever have a torn tail) and starts the next.
Status Log::RollLocked(Partition& p) {
  Status st = SyncLocked(p);
  if (st.ok()) st = p.file->Close();
  if (st.ok()) st = CreateSegmentLocked(p, p.written);
  if (!st.ok()) return Unwritable(p, st);
  return Status::OK();
}

Status Log::SyncLocked(Partition& p) {
  RETURN_IF_ERROR(p.error);
  if (p.synced == p.written && !p.dirty) return Status::OK();
  if (p.file == nullptr) return Status::IOError("log partition " + std::to_string(p.id) + " is closed");
  Status st = p.file->Sync();
  if (!st.ok()) return Unwritable(p, st);
  p.synced = p.written;
  p.dirty = false;
  if (opts_.fsync != FsyncPolicy::kNone) p.acked.store(p.synced, std::memory_order_release);
  p.synced_cv.notify_all();
  return Status::OK();
}

// Undoes a failed write: drop the handle (it may hold a broken buffer), cut
// the segment back to the last complete write, reopen for append.
Status Log::WriteFailedLocked(Partition& p, Status cause) {
  p.file.reset();
  Status st = fs_->Truncate(p.active->path, p.file_pos);
  if (st.ok()) {
    auto file = fs_->NewAppendableFile(p.active->path);
    if (file.ok() && (*file)->size() == p.file_pos) {
      p.file = std::move(file).value();
      return cause;
    }
    st = file.ok() ? Status::IOError("reopened segment has the wrong size") : file.status();
  }
  (void)Unwritable(p, Status(cause.code(), cause.message() + "; undoing the write failed: " + st.message()));
  return cause;
}

Status Log::Unwritable(Partition& p, const Status& cause) {
  if (p.error.ok()) {
    p.error = Status(cause.code(), "log partition " + std::to_string(p.id) + " is unwritable after an I/O error (" +
                                       cause.message() + "); reopen the log to recover");
  }
  p.synced_cv.notify_all();
  return p.error;
}

void Log::WakeSyncer() {
  {
    std::lock_guard<std::mutex> l(sync_mu_);
    sync_wanted_ = true;
  }
  sync_cv_.notify_one();
}

void Log::SyncerLoop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(opts_.fsync_interval_ms);
  Clock::time_point last = Clock::now() - interval;
  std::unique_lock<std::mutex> l(sync_mu_);
  while (true) {
    sync_cv_.wait(l, [&] { return stop_ || sync_wanted_; });
    if (!stop_) sync_cv_.wait_until(l, last + interval, [&] { return stop_; });
    const bool stopping = stop_;
    sync_wanted_ = false;
    l.unlock();
    last = Clock::now();
    for (auto& p : parts_) {
      std::lock_guard<std::mutex> pl(p->mu);
      if (p->file != nullptr) (void)SyncLocked(*p);  // a failure is recorded in p->error for the waiters
    }
    l.lock();
    if (stopping) return;
  }
}

uint64_t Log::end_offset(int partition) const {
  CHECK(partition >= 0 && partition < partitions(), "partition in range");
  return parts_[partition]->acked.load(std::memory_order_acquire);
}

uint64_t Log::start_offset(int partition) const {
  CHECK(partition >= 0 && partition < partitions(), "partition in range");
  return parts_[partition]->start.load(std::memory_order_acquire);
}

Status Log::Read(int partition, uint64_t from, uint64_t to,
                 const std::function<Status(uint64_t, std::string_view)>& fn) const {
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  const uint64_t end = p->acked.load(std::memory_order_acquire);
  if (from > to) return Status::InvalidArgument("log read: from > to");
  if (to > end) {
    return Status::OutOfRange("log partition " + std::to_string(partition) + ": read up to offset " +
                              std::to_string(to) + " but the log ends at " + std::to_string(end));
  }
  struct Piece {
    std::shared_ptr<const Segment> seg;
    uint64_t offset, pos, limit;
  };
  std::vector<Piece> pieces;
  {
    std::lock_guard<std::mutex> l(p->seg_mu);
    if (from < p->start.load()) {
      return Status::NotFound("log partition " + std::to_string(partition) + ": offset " + std::to_string(from) +
                              " was reclaimed (the log starts at " + std::to_string(p->start.load()) + ")");
    }
    if (from == to) return Status::OK();
    auto it = std::upper_bound(p->segments.begin(), p->segments.end(), from,
                               [](uint64_t o, const std::shared_ptr<Segment>& s) { return o < s->base; });
    for (--it; it != p->segments.end() && (*it)->base < to; ++it) {
      const Segment& s = **it;
      IndexEntry start{s.base, kHeaderSize};
      if (from > s.base) {
        auto e = std::upper_bound(s.index.begin(), s.index.end(), from,
                                  [](uint64_t o, const IndexEntry& x) { return o < x.offset; });
        start = *std::prev(e);
      }
      pieces.push_back({*it, start.offset, start.pos, s.end_pos});
    }
  }
  uint64_t delivered = from;
  for (const Piece& piece : pieces) {
    const uint32_t version = piece.seg->version;
    SegmentCursor cursor(*piece.seg->file, piece.pos, piece.limit, version);
    uint64_t off = piece.offset;
    while (off < to) {
      std::string_view payload;
      ASSIGN_OR_RETURN(SegmentCursor::Outcome o, cursor.Next(&payload));
      if (o == SegmentCursor::Outcome::kEnd) break;  // next segment
      if (o == SegmentCursor::Outcome::kDamaged) {
        return Status::Corruption(p->Where(*piece.seg) + ": " + logfmt::RecordCheckName(cursor.damage()) + " at byte " +
                                  std::to_string(cursor.record_pos()) + " (record offset " + std::to_string(off) + ")");
      }
      if (version < logfmt::kFirstBatchVersion) {
        if (off >= from) {
          CHECK(off == delivered, "log read: offsets are contiguous");
          RETURN_IF_ERROR(fn(off, payload));
          ++delivered;
        }
        ++off;
        continue;
      }
      logfmt::BatchView b;
      if (!logfmt::DecodeBatch(payload, &b)) {
        return Status::Corruption(p->Where(*piece.seg) + ": invalid batch structure at byte " +
                                  std::to_string(cursor.record_pos()) + " (record offset " + std::to_string(off) + ")");
      }
      if (off + b.count <= from) {
        off += b.count;
        continue;
      }
      size_t pos = 0;
      for (uint32_t i = 0; i < b.count && off < to; ++i, ++off) {
        const std::string_view event = logfmt::NextEvent(b.events, &pos);
        if (off < from) continue;
        CHECK(off == delivered, "log read: offsets are contiguous");
        RETURN_IF_ERROR(fn(off, event));
        ++delivered;
      }
    }
  }
  if (delivered != to) {
    return Status::Corruption("log partition " + std::to_string(partition) + ": records from offset " +
                              std::to_string(delivered) + " are missing from the segment files");
  }
  return Status::OK();
}

Status Log::ReclaimBelow(int partition, uint64_t offset) {
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  std::lock_guard<std::mutex> rl(p->reclaim_mu);
  std::vector<std::shared_ptr<Segment>> doomed;
  uint64_t new_start = 0;
  {
    std::lock_guard<std::mutex> l(p->seg_mu);
    size_t k = 0;
    while (k + 1 < p->segments.size() && p->segments[k + 1]->base <= offset) ++k;
    if (k == 0) return Status::OK();
    doomed.assign(p->segments.begin(), p->segments.begin() + static_cast<std::ptrdiff_t>(k));
    new_start = p->segments[k]->base;
  }
  // The producers' last batches in the doomed segments (fixed: none is the
  // active one) go into the checkpoint before any file is removed.
  bool producers = p->has_checkpoint;
  for (const auto& seg : doomed) {
    for (const ProducerEntry& e : seg->producers) {
      p->base_table.Record(e.id, e.seq, e.from, e.to);
      producers = true;
    }
  }
  if (producers) {
    RETURN_IF_ERROR(fs_->WriteFileAtomic(JoinPath(p->dir, kCheckpointName), p->base_table.Encode(new_start)));
    p->has_checkpoint = true;
    p->checkpoint_as_of = new_start;
  }
  {
    std::lock_guard<std::mutex> l(p->seg_mu);
    p->segments.erase(p->segments.begin(), p->segments.begin() + static_cast<std::ptrdiff_t>(doomed.size()));
    p->start.store(new_start, std::memory_order_release);
  }
  // Oldest first, each removal durable before the next: a crash never leaves a gap.
  for (const auto& seg : doomed) {
    RETURN_IF_ERROR(fs_->Remove(seg->path));
    RETURN_IF_ERROR(fs_->SyncDir(p->dir));
  }
  return Status::OK();
}

Status Log::Close() {
  if (closed_.exchange(true)) return Status::OK();
  {
    std::lock_guard<std::mutex> l(sync_mu_);
    stop_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  Status result;
  for (auto& p : parts_) {
    std::lock_guard<std::mutex> l(p->mu);
    if (p->file != nullptr) {
      Status st = p->error.ok() ? p->file->Sync() : p->error;
      if (st.ok()) {
        p->synced = p->written;
        p->acked.store(p->synced, std::memory_order_release);
        st = p->file->Close();
      }
      if (!st.ok() && result.ok()) result = st;
      p->file.reset();
    }
    p->closed = true;
    p->synced_cv.notify_all();
  }
  return result;
}

}  // namespace lf
