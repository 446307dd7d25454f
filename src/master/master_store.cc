// MasterStore: sealing (write files, sync, publish the manifest), scanning
// with transparent sidecar rebuilds, and garbage collection.
#include "master/master_store.h"

#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <unordered_set>
#include <utility>

#include "master/column_file.h"
#include "master/manifest_format.h"
#include "master/segment_files.h"
#include "master/segment_format.h"

namespace lf {
namespace {

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string Range(uint64_t from, uint64_t to) { return "[" + std::to_string(from) + ", " + std::to_string(to) + ")"; }

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

MasterStore::MasterStore(FileSystem* fs, std::string dir, const StreamSchema& schema, MasterStoreOptions options,
                         Manifest manifest)
    : fs_(fs),
      dir_(std::move(dir)),
      schema_(schema),
      fingerprint_(SchemaFingerprint(schema)),
      options_(std::move(options)),
      manifest_(std::move(manifest)) {
  for (int p = 0; p < manifest_.partitions(); ++p) partition_mu_.push_back(std::make_unique<Mutex>());
}

MasterStore::~MasterStore() = default;

Result<std::unique_ptr<MasterStore>> MasterStore::Open(FileSystem* fs, const std::string& dir,
                                                       const StreamSchema& schema, int partitions,
                                                       MasterStoreOptions options) {
  if (partitions <= 0) return Status::InvalidArgument("a master dataset needs at least one partition");
  if (options.row_group_rows == 0 || options.row_group_rows > segment_format::kMaxGroupRows) {
    return Status::InvalidArgument("row_group_rows must be in [1, " + std::to_string(segment_format::kMaxGroupRows) +
                                   "]");
  }
  if (options.decoder.max_line_bytes > (8u << 20)) {
    return Status::InvalidArgument("decoder.max_line_bytes must be at most 8 MiB for the master dataset");
  }
  const std::string seg_dir = JoinPath(dir, segment_format::kSegmentDir);
  RETURN_IF_ERROR(fs->CreateDirs(seg_dir));
  RETURN_IF_ERROR(fs->SyncDir(dir));
  RETURN_IF_ERROR(fs->SyncDir(DirName(dir)));
  const std::string path = JoinPath(dir, manifest_format::kFileName);
  ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  Manifest m;
  const uint64_t fp = SchemaFingerprint(schema);
  if (exists) {
    ASSIGN_OR_RETURN(std::string data, fs->ReadFile(path));
    auto decoded = DecodeManifest(data, path);
    if (!decoded.ok() && decoded.status().code() == StatusCode::kCorruption) {
      return Status::Corruption(decoded.status().message() +
                                "; restore it from a backup (it alone says which segments are committed)");
    }
    ASSIGN_OR_RETURN(m, std::move(decoded));
    if (m.partitions() > partitions) {
      return Status::InvalidArgument(path + " has " + std::to_string(m.partitions()) +
                                     " partitions; opened with only " + std::to_string(partitions));
    }
  } else {
    m.schema_fingerprint = fp;
  }
  m.first.resize(partitions, 0);
  m.sealed.resize(partitions, 0);
  std::string changed;
  if (m.schema_fingerprint != fp) {
    changed = "master: the stream schema changed (" + Hex16(m.schema_fingerprint) + " -> " + Hex16(fp) + "); " +
              std::to_string(m.segments.size()) + " sidecars will be rebuilt on first scan";
    m.schema_fingerprint = fp;
    for (auto& s : m.segments) {
      s.cols_name = ColsSegmentName(s.partition, s.from, s.to, fp);
      s.cols_hash = 0;
    }
  }
  auto store = std::unique_ptr<MasterStore>(new MasterStore(fs, dir, schema, std::move(options), std::move(m)));
  if (!changed.empty()) store->Log(changed);
  return store;
}

Manifest MasterStore::Snapshot() const {
  MutexLock l(&mu_);
  return manifest_;
}

std::string MasterStore::PathOf(const std::string& name) const { return JoinPath(dir_, name); }

void MasterStore::Log(const std::string& line) const {
  if (!options_.log) return;
  MutexLock l(&log_mu_);
  options_.log(line);
}

Status MasterStore::SetFirstOffset(int partition, uint64_t first) {
  if (partition < 0 || partition >= static_cast<int>(partition_mu_.size())) {
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  }
  MutexLock pl(partition_mu_[partition].get());
  MutexLock l(&publish_mu_);
  Manifest next = Snapshot();
  if (next.first[partition] == first) return Status::OK();
  if (next.sealed[partition] != next.first[partition]) {
    return Status::InvalidArgument("partition " + std::to_string(partition) +
                                   " already has segments; its first offset is fixed");
  }
  next.first[partition] = first;
  next.sealed[partition] = first;
  return PublishLocked(next);
}

Status MasterStore::PublishLocked(const Manifest& base) {
  Manifest next = base;
  next.generation = base.generation + 1;
  {
    MutexLock l(&mu_);
    // Hashes of sidecars rebuilt since the last publish.
    for (auto& s : next.segments) {
      for (const auto& [name, hash] : built_) {
        if (s.cols_name == name) s.cols_hash = hash;
      }
    }
    built_.clear();
  }
  CHECK(ValidateManifest(next).ok(), "publishing an invalid manifest");
  RETURN_IF_ERROR(fs_->WriteFileAtomic(PathOf(manifest_format::kFileName), EncodeManifest(next)));
  MutexLock l(&mu_);
  manifest_ = std::move(next);
  return Status::OK();
}

Status MasterStore::Seal(int partition, uint64_t from, uint64_t to, const std::vector<std::string_view>& records) {
  if (to < from || records.size() > to - from)
    return Status::InvalidArgument("seal of partition " + std::to_string(partition) + " " + Range(from, to) + ": " +
                                   std::to_string(records.size()) + " records do not fit the range");
  if (records.size() == to - from) return Seal(partition, from, records);
  return Status::Unimplemented("seal of partition " + std::to_string(partition) + " " + Range(from, to) + ": " +
                               std::to_string(records.size()) + " records with " +
                               std::to_string(to - from - records.size()) +
                               " offsets missing (a gapped range) is not supported by this master store yet");
}

Status MasterStore::Seal(int partition, uint64_t from, const std::vector<std::string_view>& records) {
  if (partition < 0 || partition >= static_cast<int>(partition_mu_.size())) {
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  }
  if (records.empty()) return Status::InvalidArgument("cannot seal an empty range");
  if (records.size() > UINT64_MAX - from) return Status::InvalidArgument("range overflows");
  const uint64_t to = from + records.size();
  MutexLock pl(partition_mu_[partition].get());

  SegmentInfo seg;
  seg.partition = partition;
  seg.from = from;
  seg.to = to;
  seg.events = to - from;
  seg.raw_name = RawSegmentName(partition, from, to);
  seg.cols_name = ColsSegmentName(partition, from, to, fingerprint_);
  {
    MutexLock l(&mu_);
    const uint64_t sealed = manifest_.sealed[partition];
    if (from != sealed) {
      for (const auto& s : manifest_.segments) {
        if (s.partition == partition && s.from == from && s.to == to) return Status::OK();  // already sealed
      }
      std::string why = from > sealed ? "would leave the gap " + Range(sealed, from)
                                      : "overlaps the sealed range " + Range(manifest_.first[partition], sealed);
      return Status::InvalidArgument("seal of partition " + std::to_string(partition) + " " + Range(from, to) +
                                     " refused: the sealed watermark is " + std::to_string(sealed) + "; it " + why);
    }
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].find('\n') != std::string_view::npos || IsBlank(records[i])) {
      return Status::InvalidArgument("seal of partition " + std::to_string(partition) + ": event at offset " +
                                     std::to_string(from + i) + " is blank or contains a newline");
    }
  }

  // Files of this seal are not garbage while it runs.
  {
    MutexLock l(&mu_);
    in_flight_.insert(seg.raw_name);
    in_flight_.insert(seg.cols_name);
  }
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(auto raw, fs_->NewWritableFile(PathOf(seg.raw_name)));
    ASSIGN_OR_RETURN(auto cols, fs_->NewWritableFile(PathOf(seg.cols_name)));
    HistoricalRejectFn on_reject;
    if (options_.on_reject) {
      on_reject = [&](uint64_t offset, const Reject& r) {
        MutexLock l(&log_mu_);
        options_.on_reject(seg, offset, r);
      };
    }
    SegmentBuilder builder(schema_, {fingerprint_, partition, from, to}, options_.row_group_rows, options_.zstd_level,
                           options_.decoder, raw.get(), cols.get(), std::move(on_reject));
    for (std::string_view r : records) RETURN_IF_ERROR(builder.Add(r));
    RETURN_IF_ERROR(builder.Finish());
    RETURN_IF_ERROR(raw->Sync());
    RETURN_IF_ERROR(raw->Close());
    RETURN_IF_ERROR(cols->Sync());
    RETURN_IF_ERROR(cols->Close());
    RETURN_IF_ERROR(fs_->SyncDir(PathOf(segment_format::kSegmentDir)));
    seg.raw_bytes = builder.raw_bytes();
    seg.raw_hash = builder.raw_hash();
    seg.cols_hash = builder.cols_hash();
    if (builder.rejected() > 0) {
      Log("master: sealed " + SegmentLabel(seg) + " with " + std::to_string(builder.rejected()) +
          " events that do not decode with the current schema");
    }
    MutexLock l(&publish_mu_);
    Manifest next = Snapshot();
    auto pos = std::upper_bound(next.segments.begin(), next.segments.end(), seg, [](const auto& a, const auto& b) {
      return a.partition != b.partition ? a.partition < b.partition : a.from < b.from;
    });
    next.segments.insert(pos, seg);
    next.sealed[partition] = to;
    return PublishLocked(next);
  }();
  MutexLock l(&mu_);
  in_flight_.erase(in_flight_.find(seg.raw_name));
  in_flight_.erase(in_flight_.find(seg.cols_name));
  return st;
}

Status MasterStore::RebuildSidecar(const SegmentInfo& seg, const std::string& why) const {
  MutexLock rl(&rebuild_mu_);
  const std::string name = ColsSegmentName(seg.partition, seg.from, seg.to, fingerprint_);
  const ColumnFileKey key{fingerprint_, seg.partition, seg.from, seg.to};
  // Another scan may have rebuilt it while this one waited.
  {
    auto r = ColumnFileReader::Open(fs_, PathOf(name), schema_, key);
    if (r.ok() && (*r)->VerifyAll().ok()) return Status::OK();
  }
  Log("master: rebuilding sidecar " + name + " of " + SegmentLabel(seg) + " from the raw segment: " + why);
  {
    MutexLock l(&mu_);
    in_flight_.insert(name);
  }
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(auto cols, fs_->NewWritableFile(PathOf(name)));
    HistoricalRejectFn on_reject;
    if (options_.on_reject) {
      on_reject = [&](uint64_t offset, const Reject& r) {
        MutexLock l(&log_mu_);
        options_.on_reject(seg, offset, r);
      };
    }
    SegmentBuilder builder(schema_, key, options_.row_group_rows, options_.zstd_level, options_.decoder, nullptr,
                           cols.get(), std::move(on_reject));
    RETURN_IF_ERROR(ReadRawSegment(fs_, PathOf(seg.raw_name), seg,
                                   [&](uint64_t, std::string_view event) { return builder.Add(event); }));
    RETURN_IF_ERROR(builder.Finish());
    RETURN_IF_ERROR(cols->Sync());
    RETURN_IF_ERROR(cols->Close());
    RETURN_IF_ERROR(fs_->SyncDir(PathOf(segment_format::kSegmentDir)));
    if (builder.rejected() > 0) {
      Log("master: " + std::to_string(builder.rejected()) + " events of " + SegmentLabel(seg) +
          " do not decode with the current schema and have no rows");
    }
    MutexLock l(&mu_);
    built_.emplace_back(name, builder.cols_hash());
    return Status::OK();
  }();
  MutexLock l(&mu_);
  in_flight_.erase(in_flight_.find(name));
  return st;
}

Status MasterStore::ScanSegment(const SegmentInfo& seg, const std::function<Status(const Batch&)>& fn,
                                SegmentScanStats* stats) const {
  const std::string path = PathOf(ColsSegmentName(seg.partition, seg.from, seg.to, fingerprint_));
  const ColumnFileKey key{fingerprint_, seg.partition, seg.from, seg.to};
  SegmentScanStats local;
  SegmentScanStats* out = stats ? stats : &local;
  *out = {};
  Batch batch(schema_.types());
  // A damaged sidecar is rebuilt and the scan resumes at the next row. Two
  // rebuilds are allowed (another thread may rewrite the file meanwhile);
  // a sidecar still bad after that means a bug or a failing disk.
  for (int attempt = 0;; ++attempt) {
    auto rebuild = [&](const Status& why) -> Status {
      if (why.code() == StatusCode::kIOError) return why;
      if (attempt >= 2) {
        return Status::Corruption("sidecar of " + SegmentLabel(seg) +
                                  " is still unreadable after a rebuild: " + why.ToString());
      }
      std::string reason = why.code() == StatusCode::kNotFound ? "missing" : why.message();
      RETURN_IF_ERROR(RebuildSidecar(seg, reason));
      out->rebuilt = true;
      return Status::OK();
    };
    auto reader = ColumnFileReader::Open(fs_, path, schema_, key);
    if (!reader.ok()) {
      RETURN_IF_ERROR(rebuild(reader.status()));
      continue;
    }
    if (out->rows > (*reader)->rows()) {
      return Status::Corruption("sidecar of " + SegmentLabel(seg) + " has fewer rows than were already scanned");
    }
    (*reader)->SeekToRow(out->rows);
    out->rejected = (*reader)->rejects().size();
    bool retry = false;
    while (true) {
      auto more = (*reader)->Next(&batch);
      if (!more.ok()) {
        RETURN_IF_ERROR(rebuild(more.status()));
        retry = true;
        break;
      }
      if (!*more) break;
      RETURN_IF_ERROR(fn(batch));
      out->rows += batch.size;
    }
    if (!retry) return Status::OK();
  }
}

Status MasterStore::ScanRaw(const SegmentInfo& seg,
                            const std::function<Status(uint64_t offset, std::string_view event)>& fn) const {
  return ReadRawSegment(fs_, PathOf(seg.raw_name), seg, fn);
}

Status MasterStore::VerifySegment(const SegmentInfo& seg) const {
  RETURN_IF_ERROR(ScanRaw(seg, [](uint64_t, std::string_view) { return Status::OK(); }));
  const std::string name = ColsSegmentName(seg.partition, seg.from, seg.to, fingerprint_);
  auto reader = ColumnFileReader::Open(fs_, PathOf(name), schema_, {fingerprint_, seg.partition, seg.from, seg.to});
  Status st = reader.ok() ? (*reader)->VerifyAll() : reader.status();
  if (st.ok() || st.code() == StatusCode::kIOError) return st;
  return RebuildSidecar(seg, st.code() == StatusCode::kNotFound ? "missing" : st.message());
}

Status MasterStore::VerifyRawChecksum(const SegmentInfo& seg) const {
  ASSIGN_OR_RETURN(auto file, fs_->NewRandomAccessFile(PathOf(seg.raw_name)));
  if (file->size() != seg.raw_bytes)
    return Status::Corruption("raw segment " + SegmentLabel(seg) + " has " + std::to_string(file->size()) +
                              " bytes, the manifest says " + std::to_string(seg.raw_bytes));
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, 0);
  std::vector<char> buf(1 << 20);
  uint64_t offset = 0;
  Status st;
  while (offset < seg.raw_bytes) {
    auto n = file->Read(offset, std::min<uint64_t>(buf.size(), seg.raw_bytes - offset), buf.data());
    if (!n.ok() || *n == 0) {
      st = n.ok() ? Status::Corruption("raw segment " + SegmentLabel(seg) + " is shorter than its size") : n.status();
      break;
    }
    XXH64_update(state, buf.data(), *n);
    offset += *n;
  }
  const uint64_t hash = XXH64_digest(state);
  XXH64_freeState(state);
  RETURN_IF_ERROR(st);
  if (hash != seg.raw_hash)
    return Status::Corruption("raw segment " + SegmentLabel(seg) +
                              " fails its checksum (the manifest's xxh64 "
                              "differs): its events are damaged; restore the file from a backup");
  return Status::OK();
}

Result<size_t> MasterStore::CollectGarbage() {
  MutexLock pl(&publish_mu_);
  // List first, then decide under mu_ and remove while holding it: a file
  // in the listing was created after its writer registered it in in_flight_
  // (under mu_), and it leaves in_flight_ only once the manifest names it,
  // so no file of a live seal or rebuild can be taken.
  const std::string seg_dir = PathOf(segment_format::kSegmentDir);
  ASSIGN_OR_RETURN(auto names, fs_->ListDir(seg_dir));
  std::vector<std::string> removed_names;
  {
    MutexLock l(&mu_);
    std::unordered_set<std::string> keep(in_flight_.begin(), in_flight_.end());
    for (const auto& s : manifest_.segments) {
      keep.insert(s.raw_name);
      keep.insert(s.cols_name);
    }
    for (const auto& n : names) {
      std::string name = std::string(segment_format::kSegmentDir) + "/" + n;
      if (keep.count(name)) continue;
      RETURN_IF_ERROR(fs_->Remove(PathOf(name)));
      removed_names.push_back(std::move(name));
    }
  }
  for (const auto& name : removed_names) Log("master: removed orphan " + name);
  size_t removed = removed_names.size();
  const std::string tmp = std::string(manifest_format::kFileName) + ".tmp";
  ASSIGN_OR_RETURN(bool tmp_exists, fs_->Exists(PathOf(tmp)));
  if (tmp_exists) {
    RETURN_IF_ERROR(fs_->Remove(PathOf(tmp)));
    ++removed;
  }
  if (removed > 0) {
    RETURN_IF_ERROR(fs_->SyncDir(seg_dir));
    RETURN_IF_ERROR(fs_->SyncDir(dir_));
  }
  return removed;
}

}  // namespace lf
