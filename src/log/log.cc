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

}  // namespace

struct Log::Segment {
  uint64_t base = 0;
  std::string name;
  std::string path;
  std::shared_ptr<const RandomAccessFile> file;
  // Guarded by Partition::seg_mu while this is the last segment; fixed after.
  uint64_t end_offset = 0;  // one past its last written record
  uint64_t end_pos = 0;     // file bytes holding those records
  std::vector<IndexEntry> index;
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
  std::vector<IndexEntry> staged_index;

  std::atomic<uint64_t> acked{0};  // end_offset()
  std::atomic<uint64_t> start{0};  // start_offset()

  mutable std::mutex seg_mu;  // guards `segments` and the last segment's end/index
  std::vector<std::shared_ptr<Segment>> segments;

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
// is not durable yet, and is acknowledged from now on).
Status Log::Recover(Partition& p, LogRecoveryReport* report) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(p.dir));
  std::vector<uint64_t> bases;
  for (const std::string& n : names) {
    uint64_t base;
    if (ParseSegmentName(n, &base)) bases.push_back(base);
  }
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) {
    RETURN_IF_ERROR(CreateSegmentLocked(p, 0));
    p.start.store(0);
    return Status::OK();
  }
  const std::string pname = "log partition " + std::to_string(p.id);
  uint64_t expected = bases[0];
  bool reset_last = false;  // the last segment's header was torn: rewrite it
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool last = i + 1 == bases.size();
    auto seg = std::make_shared<Segment>();
    seg->base = bases[i];
    seg->name = SegmentName(bases[i]);
    seg->path = JoinPath(p.dir, seg->name);
    if (seg->base != expected) {
      return Status::Corruption(pname + ": records [" + std::to_string(expected) + ", " + std::to_string(seg->base) +
                                ") are missing: no segment holds them (the segment before " + seg->name +
                                " ends at offset " + std::to_string(expected) + ")");
    }
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
        return Status::Corruption(p.Where(*seg) + ": truncated or zeroed file header (" + std::to_string(size) +
                                  " bytes) in a segment that holds offsets from " + std::to_string(seg->base));
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
    RETURN_IF_ERROR(DecodeSegmentHeader(head, p.dir + "/" + seg->name, &h));
    if (h.partition != static_cast<uint32_t>(p.id) || h.base_offset != seg->base) {
      return Status::Corruption(p.Where(*seg) + ": header names partition " + std::to_string(h.partition) +
                                " and base offset " + std::to_string(h.base_offset) + ", not its own");
    }
    SegmentCursor cursor(*file, kHeaderSize, size);
    uint64_t off = seg->base;
    uint64_t last_index_pos = kHeaderSize;
    seg->index.push_back({off, kHeaderSize});
    while (true) {
      std::string_view payload;
      ASSIGN_OR_RETURN(SegmentCursor::Outcome o, cursor.Next(&payload));
      if (o == SegmentCursor::Outcome::kEnd) break;
      if (o == SegmentCursor::Outcome::kRecord) {
        if (cursor.record_pos() - last_index_pos >= kIndexEveryBytes) {
          seg->index.push_back({off, cursor.record_pos()});
          last_index_pos = cursor.record_pos();
        }
        ++off;
        continue;
      }
      const uint64_t pos = cursor.record_pos();
      const std::string what = std::string(logfmt::RecordCheckName(cursor.damage())) + " at byte " +
                               std::to_string(pos) + " (record offset " + std::to_string(off) + ")";
      if (!last) {
        return Status::Corruption(p.Where(*seg) + ": " + what + " in a segment that is not the last: offsets from " +
                                  std::to_string(off) + " up to " + std::to_string(bases[i + 1]) + " cannot be read");
      }
      ASSIGN_OR_RETURN(std::optional<uint64_t> valid, FindValidRecordAfter(*file, pos + 1, size));
      if (valid) {
        return Status::Corruption(
            p.Where(*seg) + ": " + what + ", but a valid record follows at byte " + std::to_string(*valid) +
            ": mid-log corruption, not a torn tail; records from offset " + std::to_string(off) + " on are unreadable");
      }
      RETURN_IF_ERROR(fs_->Truncate(seg->path, pos));
      report->notes.push_back(p.Where(*seg) + ": torn tail: " + what + "; " + std::to_string(size - pos) +
                              " bytes truncated; partition ends at offset " + std::to_string(off));
      report->truncated_bytes += size - pos;
      size = pos;
      break;
    }
    seg->end_offset = off;
    seg->end_pos = size;
    expected = off;
    seg->file = std::move(file);
    p.segments.push_back(std::move(seg));
  }

  std::shared_ptr<Segment> last = p.segments.back();
  if (reset_last) {
    ASSIGN_OR_RETURN(p.file, fs_->NewWritableFile(last->path));
    char header[kHeaderSize];
    logfmt::EncodeHeader(static_cast<uint32_t>(p.id), last->base, header);
    RETURN_IF_ERROR(p.file->Append(std::string_view(header, kHeaderSize)));
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
  OffsetRange range;
  RETURN_IF_ERROR(WriteLocked(*p, records, &range));
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
  ASSIGN_OR_RETURN(Partition * p, Find(partition));
  OffsetRange range;
  {
    std::lock_guard<std::mutex> l(p->mu);
    RETURN_IF_ERROR(WriteLocked(*p, records, &range));
  }
  if (opts_.fsync == FsyncPolicy::kInterval) WakeSyncer();
  return range;
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

Status Log::WriteLocked(Partition& p, const std::vector<std::string_view>& records, OffsetRange* range) {
  if (p.closed) return Status::IOError("log: append after Close");
  RETURN_IF_ERROR(p.error);
  for (std::string_view r : records) {
    if (r.size() > logfmt::kMaxRecordBytes) {
      return Status::InvalidArgument("log: record of " + std::to_string(r.size()) + " bytes is above the maximum of " +
                                     std::to_string(logfmt::kMaxRecordBytes));
    }
  }
  range->partition = p.id;
  range->from = p.written;
  size_t next = 0;
  while (next < records.size()) {
    const uint64_t need = kRecordHeaderSize + records[next].size();
    if (p.written > p.active->base && p.file_pos + need > opts_.segment_bytes) RETURN_IF_ERROR(RollLocked(p));
    RETURN_IF_ERROR(WriteChunkLocked(p, records, &next));
  }
  range->to = p.written;
  if (opts_.fsync == FsyncPolicy::kNone) p.acked.store(p.written, std::memory_order_release);
  return Status::OK();
}

// Encodes records from *next on, as many as fit in the active segment (at
// least one), and hands them to the OS with one write.
Status Log::WriteChunkLocked(Partition& p, const std::vector<std::string_view>& records, size_t* next) {
  uint64_t pos = p.file_pos;
  uint64_t off = p.written;
  size_t end = *next;
  size_t bytes = 0;
  for (; end < records.size(); ++end) {
    const uint64_t need = kRecordHeaderSize + records[end].size();
    if (end > *next && pos + bytes + need > opts_.segment_bytes) break;
    bytes += need;
  }
  if (p.buf_cap < bytes) {
    p.buf_cap = std::max<size_t>(bytes, 2 * p.buf_cap);
    p.buf = std::make_unique<char[]>(p.buf_cap);
  }
  p.staged_index.clear();
  uint64_t last_index_pos = p.last_index_pos;
  char* dst = p.buf.get();
  for (size_t i = *next; i < end; ++i) {
    if (pos - last_index_pos >= kIndexEveryBytes) {
      p.staged_index.push_back({off, pos});
      last_index_pos = pos;
    }
    logfmt::EncodeRecord(records[i], dst);
    const size_t n = kRecordHeaderSize + records[i].size();
    dst += n;
    pos += n;
    ++off;
  }
  Status st = p.file->Append(std::string_view(p.buf.get(), bytes));
  if (st.ok()) st = p.file->Flush();
  if (!st.ok()) return WriteFailedLocked(p, std::move(st));
  p.file_pos = pos;
  p.written = off;
  p.last_index_pos = last_index_pos;
  {
    std::lock_guard<std::mutex> l(p.seg_mu);
    p.active->end_offset = off;
    p.active->end_pos = pos;
    p.active->index.insert(p.active->index.end(), p.staged_index.begin(), p.staged_index.end());
  }
  *next = end;
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
  if (p.synced == p.written) return Status::OK();
  if (p.file == nullptr) return Status::IOError("log partition " + std::to_string(p.id) + " is closed");
  Status st = p.file->Sync();
  if (!st.ok()) return Unwritable(p, st);
  p.synced = p.written;
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
    SegmentCursor cursor(*piece.seg->file, piece.pos, piece.limit);
    for (uint64_t off = piece.offset; off < to; ++off) {
      std::string_view payload;
      ASSIGN_OR_RETURN(SegmentCursor::Outcome o, cursor.Next(&payload));
      if (o == SegmentCursor::Outcome::kEnd) break;  // next segment
      if (o == SegmentCursor::Outcome::kDamaged) {
        return Status::Corruption(p->Where(*piece.seg) + ": " + logfmt::RecordCheckName(cursor.damage()) + " at byte " +
                                  std::to_string(cursor.record_pos()) + " (record offset " + std::to_string(off) + ")");
      }
      if (off < from) continue;
      CHECK(off == delivered, "log read: offsets are contiguous");
      RETURN_IF_ERROR(fn(off, payload));
      ++delivered;
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
  while (true) {
    std::shared_ptr<Segment> doomed;
    {
      std::lock_guard<std::mutex> l(p->seg_mu);
      if (p->segments.size() < 2 || p->segments[1]->base > offset) return Status::OK();
      doomed = p->segments.front();
      p->segments.erase(p->segments.begin());
      p->start.store(p->segments.front()->base, std::memory_order_release);
    }
    // Oldest first, each removal durable before the next: a crash never leaves a gap.
    RETURN_IF_ERROR(fs_->Remove(doomed->path));
    RETURN_IF_ERROR(fs_->SyncDir(p->dir));
  }
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
