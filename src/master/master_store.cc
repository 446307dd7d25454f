// MasterStore: sealing (write segment objects, publish the partition's next
// manifest version), scanning with transparent sidecar rebuilds, the
// previous release's MANIFEST migrated into the chains, garbage collection.
#include "master/master_store.h"

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

#include "master/column_file.h"
#include "master/segment_files.h"
#include "master/segment_format.h"
#include "store/local_object_store.h"

namespace lf {
namespace {

constexpr std::string_view kRawSuffix = ".ndjson.zst";
// Seals of at least this many events build the raw object and the sidecar
// on two threads; smaller ones (an archiver's buckets) are dominated by
// syncs and stay on one.
constexpr size_t kParallelSealEvents = 16 * 1024;

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string Range(uint64_t from, uint64_t to) { return "[" + std::to_string(from) + ", " + std::to_string(to) + ")"; }

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The creation time a segment or batch object's name carries: the part
// before the last '-' of its file (or folder) stem, when it is 13 digits.
// nullopt for names without one (the previous release's).
std::optional<int64_t> TimeInName(std::string_view key, std::string_view root) {
  std::string_view rest = key.substr(root.size());
  // segments/p<P>/<stem>.<ext> or batch/<folder>/<file>: the component that
  // carries the time is the file for segments, the folder for batch.
  const size_t slash = rest.find('/');
  std::string_view name = root == "batch/" ? rest.substr(0, slash) : rest.substr(rest.rfind('/') + 1);
  name = name.substr(0, name.find('.'));
  const size_t last = name.rfind('-');
  if (last == std::string_view::npos) return std::nullopt;
  const size_t before = name.rfind('-', last - 1);
  if (before == std::string_view::npos) return std::nullopt;
  const std::string_view digits = name.substr(before + 1, last - before - 1);
  if (digits.size() != 13) return std::nullopt;
  int64_t ms = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
  return ms;
}

// W of partition p in the previous release's batch VERSION text: its line
// "watermark <p> <W>" (the batch layer checks the whole file when it loads
// the version; this only records the reference).
std::optional<uint64_t> LegacyWatermark(std::string_view version, int p) {
  const std::string needle = "\nwatermark " + std::to_string(p) + " ";
  const size_t at = version.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t begin = at + needle.size();
  const size_t end = version.find('\n', begin);
  if (end == std::string_view::npos) return std::nullopt;
  uint64_t w = 0;
  const auto r = std::from_chars(version.data() + begin, version.data() + end, w);
  if (r.ec != std::errc() || r.ptr != version.data() + end) return std::nullopt;
  return w;
}

}  // namespace

std::string HistoricalEventLabel(const SegmentInfo& seg, uint64_t index) {
  if (seg.events == seg.to - seg.from) {
    return "offset " + std::to_string(seg.from + index) + " of partition " + std::to_string(seg.partition);
  }
  return "event " + std::to_string(index) + " of partition " + std::to_string(seg.partition) + " " +
         Range(seg.from, seg.to);
}

std::string SidecarKey(const std::string& raw_key, uint64_t schema_fingerprint) {
  std::string stem = raw_key;
  if (stem.size() > kRawSuffix.size() &&
      stem.compare(stem.size() - kRawSuffix.size(), kRawSuffix.size(), kRawSuffix) == 0)
    stem.resize(stem.size() - kRawSuffix.size());
  return stem + "." + Hex16(schema_fingerprint) + segment_format::kColsSuffix;
}

MasterStore::MasterStore(ObjectStore* store, const StreamSchema& schema, MasterStoreOptions options)
    : store_(store), schema_(schema), fingerprint_(SchemaFingerprint(schema)), options_(std::move(options)) {
  std::random_device rd;
  MutexLock l(&mu_);
  next_nonce_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

MasterStore::~MasterStore() = default;

Result<std::unique_ptr<MasterStore>> MasterStore::Open(FileSystem* fs, const std::string& dir,
                                                       const StreamSchema& schema, int partitions,
                                                       MasterStoreOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<LocalObjectStore> local, LocalObjectStore::Open(fs, dir));
  if (options.writer_id.empty()) options.writer_id = UniqueWriterId();
  ObjectStore* raw = local.get();
  auto opened = Open(raw, schema, partitions, std::move(options));
  if (!opened.ok()) return opened.status();
  (*opened)->owned_store_ = std::move(local);
  return opened;
}

Result<std::unique_ptr<MasterStore>> MasterStore::Open(ObjectStore* store, const StreamSchema& schema, int partitions,
                                                       MasterStoreOptions options) {
  if (partitions <= 0) return Status::InvalidArgument("a master dataset needs at least one partition");
  if (options.row_group_rows == 0 || options.row_group_rows > segment_format::kMaxGroupRows) {
    return Status::InvalidArgument("row_group_rows must be in [1, " + std::to_string(segment_format::kMaxGroupRows) +
                                   "]");
  }
  if (options.decoder.max_line_bytes > (8u << 20)) {
    return Status::InvalidArgument("decoder.max_line_bytes must be at most 8 MiB for the master dataset");
  }
  std::unique_ptr<MasterStore> m(new MasterStore(store, schema, std::move(options)));
  RETURN_IF_ERROR(m->OpenPartitions(partitions));
  return m;
}

Result<std::optional<PartitionContent>> MasterStore::LegacyContent(int p) {
  if (options_.legacy_master_prefix.empty()) return std::optional<PartitionContent>();
  const std::string key = options_.legacy_master_prefix + "/MANIFEST";
  auto data = store_->Get(key);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound) return std::optional<PartitionContent>();
  RETURN_IF_ERROR(data.status());
  auto decoded = DecodeManifest(*data, key + " in " + store_->Describe());
  if (!decoded.ok() && decoded.status().code() == StatusCode::kCorruption) {
    return Status::Corruption(decoded.status().message() +
                              "; restore it from a backup (it alone says which segments are committed)");
  }
  RETURN_IF_ERROR(decoded.status());
  const Manifest& old = *decoded;
  PartitionContent c;
  if (p < old.partitions()) {
    c.start = old.first[static_cast<size_t>(p)];
    c.sealed = old.sealed[static_cast<size_t>(p)];
    for (const SegmentInfo& s : old.segments) {
      if (s.partition != p) continue;
      c.segments.push_back(
          {s.from, s.to, s.events, options_.legacy_master_prefix + "/" + s.raw_name, s.raw_bytes, s.raw_hash});
    }
  }
  c.batch_watermark = c.start;
  if (!options_.legacy_batch_prefix.empty()) {
    auto current = store_->Get(options_.legacy_batch_prefix + "/CURRENT");
    if (current.ok()) {
      std::string name = *current;
      while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
      const std::string folder = options_.legacy_batch_prefix + "/" + name;
      auto version =
          ValidateKey(folder).ok() ? store_->Get(folder + "/VERSION") : Result<std::string>(Status::NotFound(""));
      std::optional<uint64_t> w = version.ok() ? LegacyWatermark(*version, p) : std::nullopt;
      if (w && *w >= c.start && *w <= c.sealed) {
        c.batch_watermark = *w;
        c.batch_key = folder;
      } else {
        Log("master: partition " + std::to_string(p) + ": the previous batch version (" + options_.legacy_batch_prefix +
            "/CURRENT) is not usable; the batch layer recomputes it");
      }
    }
  }
  RETURN_IF_ERROR(c.Validate());
  return std::optional<PartitionContent>(std::move(c));
}

Status MasterStore::OpenPartitions(int partitions) {
  for (int p = 0; p < partitions; ++p) {
    partition_mu_.push_back(std::make_unique<Mutex>());
    ManifestChainOptions copts;
    copts.writer_id = writer() ? options_.writer_id : "reader";
    copts.now_ms = options_.now_ms;
    chains_.push_back(std::make_unique<ManifestChain>(store_, static_cast<uint32_t>(p), copts));
  }
  std::vector<PartitionManifest> latest(static_cast<size_t>(partitions));
  for (int p = 0; p < partitions; ++p) {
    ManifestChain& chain = *chains_[static_cast<size_t>(p)];
    auto read = chain.ReadLatest();
    if (!read.ok() && read.status().code() == StatusCode::kCorruption) {
      return Status::Corruption(read.status().message() +
                                "; restore that version from a backup (the chain alone says which segments are "
                                "committed)");
    }
    RETURN_IF_ERROR(read.status());
    std::optional<PartitionContent> legacy;
    if (!*read) {
      ASSIGN_OR_RETURN(legacy, LegacyContent(p));
    }
    PartitionManifest& m = latest[static_cast<size_t>(p)];
    if (writer() && options_.claim_all_at_open) {
      ASSIGN_OR_RETURN(m, chain.Claim(legacy ? *legacy : PartitionContent{}));
      if (legacy && m.version == 1) {
        migrated_any_ = true;
        Log("master: migrated partition " + std::to_string(p) + " of " + options_.legacy_master_prefix +
            "/MANIFEST into manifest chain version 1 (" + std::to_string(legacy->segments.size()) +
            " segments, sealed to " + std::to_string(legacy->sealed) + ", batch W " +
            std::to_string(legacy->batch_watermark) +
            "); segments stay where they are, the old MANIFEST is no "
            "longer read");
      }
    } else if (*read) {
      m = std::move(**read);
    } else {
      m.partition = static_cast<uint32_t>(p);
      if (legacy) m.content = std::move(*legacy);
    }
  }
  {
    MutexLock ol(&offered_mu_);
    offered_.resize(static_cast<size_t>(partitions));
  }
  MutexLock l(&mu_);
  latest_ = std::move(latest);
  fenced_.assign(static_cast<size_t>(partitions), std::string());
  owned_.assign(static_cast<size_t>(partitions), writer() && options_.claim_all_at_open);
  return Status::OK();
}

void MasterStore::OfferRows(int partition, uint64_t from, std::vector<std::unique_ptr<Batch>> rows) {
  if (partition < 0 || partition >= partitions() || !writer()) return;
  uint64_t n = 0;
  for (const auto& b : rows) n += b->size;
  if (n == 0 || n > UINT64_MAX - from) return;
  uint64_t sealed;
  {
    MutexLock l(&mu_);
    sealed = latest_[static_cast<size_t>(partition)].content.sealed;
  }
  if (from + n <= sealed) return;
  auto entry = std::make_shared<Offered>();
  entry->from = from;
  entry->to = from + n;
  entry->batches = std::move(rows);
  MutexLock l(&offered_mu_);
  if (offered_rows_ + n > options_.offered_rows_limit) return;
  auto& q = offered_[static_cast<size_t>(partition)];
  // Offers come in offset order; one that does not continue the last
  // replaces what is held (a rewound or restarted producer).
  if (!q.empty() && q.back()->to != from) {
    for (const auto& e : q) offered_rows_ -= e->to - e->from;
    q.clear();
  }
  offered_rows_ += n;
  q.push_back(std::move(entry));
}

uint64_t MasterStore::offered_rows() const {
  MutexLock l(&offered_mu_);
  return offered_rows_;
}

std::vector<std::shared_ptr<const MasterStore::Offered>> MasterStore::TakeOffered(int p, uint64_t from, uint64_t to) {
  std::vector<std::shared_ptr<const Offered>> out;
  MutexLock l(&offered_mu_);
  auto& q = offered_[static_cast<size_t>(p)];
  while (!q.empty() && q.front()->to <= from) {
    offered_rows_ -= q.front()->to - q.front()->from;
    q.pop_front();
  }
  bool covered = !q.empty() && q.front()->from <= from;
  uint64_t at = from;
  for (size_t i = 0; covered && i < q.size() && at < to; ++i) {
    if (q[i]->from != at && i > 0) covered = false;
    at = q[i]->to;
    out.push_back(q[i]);
  }
  if (!covered || at < to) out.clear();
  // What ends at or below `to` is of no use to later seals.
  while (!q.empty() && q.front()->to <= to) {
    offered_rows_ -= q.front()->to - q.front()->from;
    q.pop_front();
  }
  return out;
}

Result<PartitionManifest> MasterStore::Claim(int partition) {
  if (partition < 0 || partition >= partitions())
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  if (!writer()) return Status::Internal("Claim on a read-only master dataset");
  const auto p = static_cast<size_t>(partition);
  MutexLock pl(partition_mu_[p].get());
  {
    MutexLock l(&mu_);
    if (owned_[p] && fenced_[p].empty()) return latest_[p];
  }
  // The chain's latest content, claimed under its epoch + 1 (the chain
  // reads the latest version itself: what this store knew may be stale).
  std::optional<PartitionContent> legacy;
  ASSIGN_OR_RETURN(std::optional<PartitionManifest> read, chains_[p]->ReadLatest());
  if (!read) {
    ASSIGN_OR_RETURN(legacy, LegacyContent(partition));
  }
  auto claimed = chains_[p]->Claim(legacy ? *legacy : PartitionContent{});
  if (!claimed.ok()) {
    if (claimed.status().code() == StatusCode::kFenced) {
      return Status::Fenced("partition " + std::to_string(partition) + " of " + store_->Describe() +
                            ": another lambdaflow process claimed it at the same time (" + claimed.status().message() +
                            ")");
    }
    return claimed.status();
  }
  Log("master: claimed partition " + std::to_string(partition) + " at epoch " + std::to_string(claimed->epoch) +
      " (version " + std::to_string(claimed->version) + ", sealed to " + std::to_string(claimed->content.sealed) + ")");
  MutexLock l(&mu_);
  latest_[p] = *claimed;
  fenced_[p].clear();
  owned_[p] = true;
  return *claimed;
}

void MasterStore::Release(int partition) {
  if (partition < 0 || partition >= partitions()) return;
  const auto p = static_cast<size_t>(partition);
  MutexLock pl(partition_mu_[p].get());  // a seal or publish in progress finishes first
  MutexLock l(&mu_);
  if (!owned_[p]) return;
  owned_[p] = false;
  Log("master: released partition " + std::to_string(partition) + " (epoch " + std::to_string(latest_[p].epoch) +
      "); this process no longer seals or publishes it");
}

Result<PartitionManifest> MasterStore::Refresh(int partition) {
  if (partition < 0 || partition >= partitions())
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  const auto p = static_cast<size_t>(partition);
  MutexLock pl(partition_mu_[p].get());
  ASSIGN_OR_RETURN(std::optional<PartitionManifest> read, chains_[p]->ReadLatest());
  MutexLock l(&mu_);
  if (!read) return latest_[p];
  if (owned_[p] && fenced_[p].empty()) {
    if (read->epoch > latest_[p].epoch) {
      fenced_[p] = "partition " + std::to_string(partition) + " was claimed at epoch " + std::to_string(read->epoch) +
                   " above this writer's " + std::to_string(latest_[p].epoch) + " (" + store_->Describe() + ")";
    } else {
      return latest_[p];  // this writer's own view is the latest
    }
  }
  latest_[p] = std::move(*read);
  return latest_[p];
}

bool MasterStore::Owns(int partition) const {
  MutexLock l(&mu_);
  const auto p = static_cast<size_t>(partition);
  return partition >= 0 && p < owned_.size() && owned_[p] && fenced_[p].empty();
}

std::vector<int> MasterStore::Owned() const {
  MutexLock l(&mu_);
  std::vector<int> out;
  for (size_t p = 0; p < owned_.size(); ++p)
    if (owned_[p] && fenced_[p].empty()) out.push_back(static_cast<int>(p));
  return out;
}

uint64_t MasterStore::Epoch(int partition) const {
  MutexLock l(&mu_);
  const auto p = static_cast<size_t>(partition);
  return partition >= 0 && p < latest_.size() ? latest_[p].epoch : 0;
}

namespace {
std::string NotOwnedReason(int partition, const std::string& store) {
  return "partition " + std::to_string(partition) + " is not owned by this process in " + store +
         " (released or never claimed)";
}
}  // namespace

int64_t MasterStore::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SegmentInfo MasterStore::ToSegmentInfo(int partition, const SegmentEntry& e) const {
  SegmentInfo s;
  s.partition = partition;
  s.from = e.from;
  s.to = e.to;
  s.events = e.events;
  s.raw_name = e.key;
  s.raw_bytes = e.bytes;
  s.raw_hash = e.xxh64;
  s.cols_name = SidecarKey(e.key, fingerprint_);
  return s;
}

Manifest MasterStore::Snapshot() const {
  Manifest out;
  out.schema_fingerprint = fingerprint_;
  MutexLock l(&mu_);
  for (size_t p = 0; p < latest_.size(); ++p) {
    const PartitionContent& c = latest_[p].content;
    out.generation += latest_[p].version;
    out.first.push_back(c.start);
    out.sealed.push_back(c.sealed);
    for (const SegmentEntry& e : c.segments) out.segments.push_back(ToSegmentInfo(static_cast<int>(p), e));
  }
  return out;
}

std::vector<BatchRef> MasterStore::BatchRefs() const {
  MutexLock l(&mu_);
  std::vector<BatchRef> out;
  for (const auto& m : latest_) out.push_back({m.content.batch_watermark, m.content.batch_key});
  return out;
}

std::string MasterStore::FencedReason(int partition) const {
  MutexLock l(&mu_);
  return partition >= 0 && static_cast<size_t>(partition) < fenced_.size() ? fenced_[static_cast<size_t>(partition)]
                                                                           : std::string();
}

void MasterStore::Log(const std::string& line) const {
  if (!options_.log) return;
  MutexLock l(&log_mu_);
  options_.log(line);
}

std::string MasterStore::NewSegmentKey(int partition, uint64_t from, uint64_t to) {
  uint64_t r = 0;
  {
    MutexLock l(&mu_);
    r = SplitMix(&next_nonce_);
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "segments/p%d/%020" PRIu64 "-%020" PRIu64 "-%013" PRId64 "-%08x%s", partition, from,
                to, std::max<int64_t>(0, NowMs()), static_cast<unsigned>(r), std::string(kRawSuffix).c_str());
  return buf;
}

Status MasterStore::PublishLocked(int p, PartitionContent next) {
  PartitionManifest base;
  {
    MutexLock l(&mu_);
    if (!fenced_[static_cast<size_t>(p)].empty()) return Status::Fenced(fenced_[static_cast<size_t>(p)]);
    if (!owned_[static_cast<size_t>(p)]) return Status::Fenced(NotOwnedReason(p, store_->Describe()));
    base = latest_[static_cast<size_t>(p)];
  }
  const PartitionContent wanted = next;
  auto published = chains_[static_cast<size_t>(p)]->Publish(base, base.epoch, std::move(next));
  if (published.status().code() == StatusCode::kAlreadyExists) {
    // The slot is taken. When by this writer at its own epoch, it is an
    // earlier publish of this process whose outcome was lost (a request
    // that failed after the store had applied it, e.g. an outage): that
    // version is adopted as the latest. If it says what this publish says
    // (the same ranges, watermark and batch version; segment objects may
    // differ), the publish is done; otherwise the caller retries on top of it.
    auto latest = chains_[static_cast<size_t>(p)]->ReadLatest();
    if (latest.ok() && *latest && (*latest)->writer == options_.writer_id && (*latest)->epoch == base.epoch &&
        (*latest)->version > base.version) {
      const PartitionManifest adopted = **latest;
      {
        MutexLock l(&mu_);
        latest_[static_cast<size_t>(p)] = adopted;
      }
      auto ranges = [](const PartitionContent& c) {
        std::vector<std::pair<uint64_t, uint64_t>> r;
        for (const auto& s : c.segments) r.emplace_back(s.from, s.to);
        return r;
      };
      const PartitionContent& a = adopted.content;
      const bool same = a.start == wanted.start && a.sealed == wanted.sealed &&
                        a.batch_watermark == wanted.batch_watermark && a.batch_key == wanted.batch_key &&
                        ranges(a) == ranges(wanted);
      Log("master: partition " + std::to_string(p) + ": version " + std::to_string(adopted.version) +
          " was published by this process in an earlier attempt whose answer was lost; adopted" +
          (same ? "" : " (it differs from this publish, which is retried on top of it)"));
      if (same) return Status::OK();
      return Status::IOError("partition " + std::to_string(p) +
                             ": an earlier publish of this process was adopted as version " +
                             std::to_string(adopted.version) + "; retry on top of it");
    }
  }
  if (published.status().code() == StatusCode::kFenced) {
    const std::string why = published.status().message() + " (" + store_->Describe() + ")";
    {
      MutexLock l(&mu_);
      fenced_[static_cast<size_t>(p)] = why;
    }
    Log("master: partition " + std::to_string(p) + " is fenced: another lambdaflow process claimed it in " +
        store_->Describe() + "; this process stops sealing and publishing it (" + published.status().message() + ")");
    return Status::Fenced(why);
  }
  RETURN_IF_ERROR(published.status());
  MutexLock l(&mu_);
  latest_[static_cast<size_t>(p)] = std::move(*published);
  return Status::OK();
}

Status MasterStore::SetFirstOffset(int partition, uint64_t first) {
  if (partition < 0 || partition >= partitions())
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  if (!writer()) return Status::Internal("SetFirstOffset on a read-only master dataset");
  MutexLock pl(partition_mu_[static_cast<size_t>(partition)].get());
  PartitionContent next;
  {
    MutexLock l(&mu_);
    next = latest_[static_cast<size_t>(partition)].content;
  }
  if (next.start == first) return Status::OK();
  if (!next.segments.empty()) {
    return Status::InvalidArgument("partition " + std::to_string(partition) +
                                   " already has segments; its first offset is fixed");
  }
  next.start = next.sealed = next.batch_watermark = first;
  next.batch_key.clear();
  return PublishLocked(partition, std::move(next));
}

Status MasterStore::Seal(int partition, uint64_t from, const std::vector<std::string_view>& records) {
  if (records.empty()) return Status::InvalidArgument("cannot seal an empty range");
  if (records.size() > UINT64_MAX - from) return Status::InvalidArgument("range overflows");
  return Seal(partition, from, from + records.size(), records);
}

Status MasterStore::Seal(int partition, uint64_t from, uint64_t to, const std::vector<std::string_view>& records) {
  if (partition < 0 || partition >= partitions())
    return Status::InvalidArgument("no partition " + std::to_string(partition));
  if (to <= from) return Status::InvalidArgument("cannot seal an empty range " + Range(from, to));
  if (records.size() > to - from) {
    return Status::InvalidArgument("seal of partition " + std::to_string(partition) + " " + Range(from, to) + ": " +
                                   std::to_string(records.size()) + " records do not fit in " +
                                   std::to_string(to - from) + " offsets");
  }
  if (!writer()) return Status::Internal("Seal on a read-only master dataset");
  MutexLock pl(partition_mu_[static_cast<size_t>(partition)].get());
  PartitionContent next;
  {
    MutexLock l(&mu_);
    if (!fenced_[static_cast<size_t>(partition)].empty())
      return Status::Fenced(fenced_[static_cast<size_t>(partition)]);
    if (!owned_[static_cast<size_t>(partition)]) return Status::Fenced(NotOwnedReason(partition, store_->Describe()));
    next = latest_[static_cast<size_t>(partition)].content;
  }
  if (from != next.sealed) {
    for (const auto& s : next.segments) {
      if (s.from == from && s.to == to) return Status::OK();  // already sealed
    }
    std::string why = from > next.sealed ? "would leave the gap " + Range(next.sealed, from)
                                         : "overlaps the sealed range " + Range(next.start, next.sealed);
    return Status::InvalidArgument("seal of partition " + std::to_string(partition) + " " + Range(from, to) +
                                   " refused: the sealed watermark is " + std::to_string(next.sealed) + "; it " + why);
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].find('\n') != std::string_view::npos || IsBlank(records[i])) {
      const std::string where = records.size() == to - from ? "event at offset " + std::to_string(from + i)
                                                            : "event " + std::to_string(i) + " of " + Range(from, to);
      return Status::InvalidArgument("seal of partition " + std::to_string(partition) + ": " + where +
                                     " is blank or contains a newline");
    }
  }

  // Rows decoded at ingest, when they cover the whole (dense) range.
  std::vector<std::shared_ptr<const Offered>> offered;
  if (records.size() == to - from) offered = TakeOffered(partition, from, to);

  SegmentInfo seg;
  seg.partition = partition;
  seg.from = from;
  seg.to = to;
  seg.events = records.size();
  seg.raw_name = NewSegmentKey(partition, from, to);
  seg.cols_name = SidecarKey(seg.raw_name, fingerprint_);
  // Objects of this seal are not garbage while it runs.
  {
    MutexLock l(&mu_);
    in_flight_.insert(seg.raw_name);
    in_flight_.insert(seg.cols_name);
  }
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> raw, store_->NewObject(seg.raw_name));
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> cols, store_->NewObject(seg.cols_name));
    HistoricalRejectFn on_reject;
    if (options_.on_reject) {
      on_reject = [&](uint64_t offset, const Reject& r) {
        MutexLock l(&log_mu_);
        options_.on_reject(seg, offset - seg.from, r);
      };
    }
    // The sidecar (decoding, or the offered rows; encoding; commit) and the
    // raw object (compression, commit) are independent: a seal of many
    // events builds and syncs them on two threads, so that one's CPU work
    // overlaps the other's and their syncs overlap each other.
    uint64_t rejected = 0;
    auto build_cols = [&]() -> Status {
      ObjectWritableFile cols_file(cols.get());
      SegmentBuilder builder(schema_, {fingerprint_, partition, from, to}, options_.row_group_rows, options_.zstd_level,
                             options_.decoder, /*raw=*/nullptr, &cols_file, on_reject);
      if (!offered.empty()) {
        for (const auto& e : offered) {
          uint64_t at = e->from;
          for (const auto& b : e->batches) {
            const uint64_t b_to = at + b->size;
            const uint64_t lo = std::max(at, from), hi = std::min(b_to, to);
            if (lo < hi) RETURN_IF_ERROR(builder.AddRows(*b, lo - at, hi - at));
            at = b_to;
          }
        }
      } else {
        for (std::string_view r : records) RETURN_IF_ERROR(builder.Add(r));
      }
      RETURN_IF_ERROR(builder.Finish());
      rejected = builder.rejected();
      // Derived data: it need not be durable before the version naming it
      // exists (only the raw object and the manifest version are synced).
      // A crash that loses its bytes leaves it missing or damaged, and
      // ScanSegment rebuilds it from the raw segment.
      return cols->CommitDerived();
    };
    ObjectWritableFile raw_file(raw.get());
    RawSegmentWriter raw_writer(&raw_file, options_.zstd_level);
    auto build_raw = [&]() -> Status {
      for (std::string_view r : records) RETURN_IF_ERROR(raw_writer.Add(r));
      RETURN_IF_ERROR(raw_writer.Finish());
      return raw->Commit();
    };
    Status cols_status, raw_status;
    if (records.size() >= kParallelSealEvents) {
      std::thread side([&] { cols_status = build_cols(); });
      raw_status = build_raw();
      side.join();
    } else {
      cols_status = build_cols();
      if (cols_status.ok()) raw_status = build_raw();
    }
    RETURN_IF_ERROR(raw_status);
    RETURN_IF_ERROR(cols_status);
    if (rejected > 0) {
      Log("master: sealed " + SegmentLabel(seg) + " with " + std::to_string(rejected) +
          " events that do not decode with the current schema");
    }
    next.segments.push_back({from, to, seg.events, seg.raw_name, raw_writer.bytes(), raw_writer.hash()});
    next.sealed = to;
    return PublishLocked(partition, std::move(next));
  }();
  MutexLock l(&mu_);
  in_flight_.erase(in_flight_.find(seg.raw_name));
  in_flight_.erase(in_flight_.find(seg.cols_name));
  return st;
}

Status MasterStore::PublishBatch(const std::vector<uint64_t>& watermark, const std::string& key,
                                 const std::vector<int>& only) {
  if (!writer()) return Status::Internal("PublishBatch on a read-only master dataset");
  if (watermark.size() != static_cast<size_t>(partitions())) {
    return Status::InvalidArgument("a batch version of " + std::to_string(watermark.size()) +
                                   " partitions for a master dataset of " + std::to_string(partitions()));
  }
  std::string fenced;
  for (int p = 0; p < partitions(); ++p) {
    if (!only.empty() && std::find(only.begin(), only.end(), p) == only.end()) continue;
    MutexLock pl(partition_mu_[static_cast<size_t>(p)].get());
    PartitionContent next;
    {
      MutexLock l(&mu_);
      // Another worker's partition: not ours to publish, also when this
      // worker was fenced on it before it released it (the group told it).
      if (!owned_[static_cast<size_t>(p)]) continue;
      if (!fenced_[static_cast<size_t>(p)].empty()) {
        fenced += (fenced.empty() ? "" : ", ") + std::to_string(p);
        continue;
      }
      next = latest_[static_cast<size_t>(p)].content;
    }
    if (next.batch_key == key && next.batch_watermark == watermark[static_cast<size_t>(p)]) continue;
    next.batch_watermark = watermark[static_cast<size_t>(p)];
    next.batch_key = key;
    Status st = PublishLocked(p, std::move(next));
    if (st.code() == StatusCode::kFenced) {
      fenced += (fenced.empty() ? "" : ", ") + std::to_string(p);
      continue;
    }
    RETURN_IF_ERROR(st);
  }
  if (!fenced.empty()) {
    return Status::Fenced("batch version " + key + " not published for partition(s) " + fenced +
                          ": another lambdaflow process owns them in " + store_->Describe());
  }
  return Status::OK();
}

Status MasterStore::RebuildSidecar(const SegmentInfo& seg, const std::string& why) const {
  MutexLock rl(&rebuild_mu_);
  const std::string key = SidecarKey(seg.raw_name, fingerprint_);
  const ColumnFileKey ckey{fingerprint_, seg.partition, seg.from, seg.to};
  // Another scan (or process) may have rebuilt it while this one waited.
  {
    auto file = store_->NewReader(key);
    if (file.ok()) {
      auto r = ColumnFileReader::Open(std::move(*file), key, schema_, ckey);
      if (r.ok() && (*r)->rows() + (*r)->rejects().size() == seg.events && (*r)->VerifyAll().ok()) return Status::OK();
    }
  }
  Log("master: rebuilding sidecar " + key + " of " + SegmentLabel(seg) + " from the raw segment: " + why);
  {
    MutexLock l(&mu_);
    in_flight_.insert(key);
  }
  Status st = [&]() -> Status {
    // The sidecar is derived data: a damaged one is removed and written
    // anew (create-if-absent: of two rebuilding processes one wins, and
    // both produce the same bytes).
    RETURN_IF_ERROR(store_->Delete(key));
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> cols, store_->NewObject(key));
    ObjectWritableFile cols_file(cols.get());
    HistoricalRejectFn on_reject;
    if (options_.on_reject) {
      on_reject = [&](uint64_t offset, const Reject& r) {
        MutexLock l(&log_mu_);
        options_.on_reject(seg, offset - seg.from, r);
      };
    }
    SegmentBuilder builder(schema_, ckey, options_.row_group_rows, options_.zstd_level, options_.decoder, nullptr,
                           &cols_file, std::move(on_reject));
    RETURN_IF_ERROR(ReadRawSegment(store_->NewReader(seg.raw_name), seg,
                                   [&](uint64_t, std::string_view event) { return builder.Add(event); }));
    RETURN_IF_ERROR(builder.Finish());
    // Derived data, committed without a sync as at the seal.
    Status committed = cols->CommitDerived();
    if (committed.code() == StatusCode::kAlreadyExists) return Status::OK();  // another process rebuilt it
    RETURN_IF_ERROR(committed);
    if (builder.rejected() > 0) {
      Log("master: " + std::to_string(builder.rejected()) + " events of " + SegmentLabel(seg) +
          " do not decode with the current schema and have no rows");
    }
    return Status::OK();
  }();
  MutexLock l(&mu_);
  in_flight_.erase(in_flight_.find(key));
  return st;
}

Status MasterStore::ScanSegment(const SegmentInfo& seg, const std::function<Status(const Batch&)>& fn,
                                SegmentScanStats* stats) const {
  const std::string key = SidecarKey(seg.raw_name, fingerprint_);
  const ColumnFileKey ckey{fingerprint_, seg.partition, seg.from, seg.to};
  SegmentScanStats local;
  SegmentScanStats* out = stats ? stats : &local;
  *out = {};
  Batch batch(schema_.types());
  // A damaged sidecar is rebuilt and the scan resumes at the next row. Two
  // rebuilds are allowed (another thread may rewrite the object meanwhile);
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
    auto file = store_->NewReader(key);
    if (!file.ok()) {
      RETURN_IF_ERROR(rebuild(file.status()));
      continue;
    }
    auto reader = ColumnFileReader::Open(std::move(*file), key, schema_, ckey);
    if (!reader.ok()) {
      RETURN_IF_ERROR(rebuild(reader.status()));
      continue;
    }
    if ((*reader)->rows() + (*reader)->rejects().size() != seg.events) {
      RETURN_IF_ERROR(rebuild(Status::Corruption(key + ": rows and rejects do not add up to the manifest's " +
                                                 std::to_string(seg.events) + " events")));
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
  return ReadRawSegment(store_->NewReader(seg.raw_name), seg, fn);
}

Status MasterStore::VerifySegment(const SegmentInfo& seg) const {
  RETURN_IF_ERROR(ScanRaw(seg, [](uint64_t, std::string_view) { return Status::OK(); }));
  const std::string key = SidecarKey(seg.raw_name, fingerprint_);
  Status st;
  auto file = store_->NewReader(key);
  if (!file.ok()) {
    st = file.status();
  } else {
    auto reader =
        ColumnFileReader::Open(std::move(*file), key, schema_, {fingerprint_, seg.partition, seg.from, seg.to});
    st = reader.ok() ? (*reader)->VerifyAll() : reader.status();
    if (st.ok() && (*reader)->rows() + (*reader)->rejects().size() != seg.events)
      st = Status::Corruption(key + ": rows and rejects do not add up to the manifest's event count");
  }
  if (st.ok() || st.code() == StatusCode::kIOError) return st;
  return RebuildSidecar(seg, st.code() == StatusCode::kNotFound ? "missing" : st.message());
}

Status MasterStore::VerifyRawChecksum(const SegmentInfo& seg) const {
  auto opened = store_->NewReader(seg.raw_name);
  if (!opened.ok() && opened.status().code() == StatusCode::kNotFound)
    return Status::Corruption("raw segment " + SegmentLabel(seg) + " (" + seg.raw_name + ") is missing from " +
                              store_->Describe() + "; restore it from a backup");
  ASSIGN_OR_RETURN(auto file, std::move(opened));
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
                              "differs): its events are damaged; restore the object from a backup");
  return Status::OK();
}

Result<GarbageReport> MasterStore::CollectGarbage(uint64_t keep_versions, int64_t grace_ms,
                                                  const BatchReferences& references) {
  if (!writer()) return Status::Internal("garbage collection on a read-only master dataset");
  GarbageReport report;
  // 1. Old manifest versions.
  for (int p = 0; p < partitions(); ++p) {
    MutexLock pl(partition_mu_[static_cast<size_t>(p)].get());
    if (!Owns(p)) continue;  // another writer prunes its own chains
    ASSIGN_OR_RETURN(uint64_t pruned, chains_[static_cast<size_t>(p)]->Prune(keep_versions, grace_ms));
    report.versions += pruned;
  }
  // 2. Candidates: everything under the data roots (listing is for garbage
  // collection only). Only those past the grace period can go; without any,
  // the kept versions need not be read.
  std::vector<std::pair<std::string, std::string>> candidates;  // key, root
  std::vector<std::string> roots = {"segments/", "batch/"};
  if (!options_.legacy_master_prefix.empty()) roots.push_back(options_.legacy_master_prefix + "/segments/");
  if (!options_.legacy_batch_prefix.empty() && options_.legacy_batch_prefix + "/" != "batch/")
    roots.push_back(options_.legacy_batch_prefix + "/");
  const int64_t now = NowMs();
  for (const std::string& root : roots) {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(root));
    for (auto& k : keys) {
      const std::optional<int64_t> born = TimeInName(k, root == "batch/" ? "batch/" : root);
      if (born && now - *born < grace_ms) continue;
      candidates.emplace_back(std::move(k), root);
    }
  }
  if (candidates.empty()) return report;
  // 3. What the kept versions name.
  std::unordered_set<std::string> keep;
  std::vector<std::string> keep_prefixes;
  auto name_all = [&](const PartitionContent& c) {
    for (const auto& s : c.segments) {
      keep.insert(s.key);
      keep.insert(SidecarKey(s.key, fingerprint_));
    }
    if (!c.batch_key.empty()) keep_prefixes.push_back(c.batch_key + "/");
  };
  for (int p = 0; p < partitions(); ++p) {
    ASSIGN_OR_RETURN(std::vector<std::string> versions, store_->List(ManifestPrefix(static_cast<uint32_t>(p))));
    for (const std::string& key : versions) {
      if (key == ManifestHintKey(static_cast<uint32_t>(p))) continue;
      auto data = store_->Get(key);
      if (!data.ok() && data.status().code() == StatusCode::kNotFound) continue;  // pruned meanwhile
      RETURN_IF_ERROR(data.status());
      ASSIGN_OR_RETURN(PartitionManifest m, DecodePartitionManifest(*data, key));
      name_all(m.content);
    }
  }
  {
    MutexLock l(&mu_);
    for (const auto& m : latest_) name_all(m.content);
  }
  // 4. What the kept batch versions reference outside their folders.
  if (references) {
    std::unordered_set<std::string> seen;
    const std::vector<std::string> prefixes = keep_prefixes;
    for (const std::string& prefix : prefixes) {
      const std::string key = prefix.substr(0, prefix.size() - 1);
      if (!seen.insert(key).second) continue;
      ASSIGN_OR_RETURN(std::vector<std::string> used, references(key));
      for (auto& k : used) keep.insert(std::move(k));
    }
  }
  // 5. Decided against in-memory state under mu_, so that no object of a
  // seal or rebuild in progress is taken.
  std::vector<std::string> removed;
  {
    MutexLock l(&mu_);
    for (const auto& m : latest_) name_all(m.content);
    for (const auto& [key, root] : candidates) {
      if (keep.count(key) || in_flight_.count(key)) continue;
      bool kept = false;
      for (const auto& prefix : keep_prefixes) kept = kept || key.compare(0, prefix.size(), prefix) == 0;
      if (kept) continue;
      RETURN_IF_ERROR(store_->Delete(key));
      removed.push_back(key);
    }
  }
  for (const auto& key : removed) Log("master: removed orphan " + key);
  report.objects = removed.size();
  return report;
}

}  // namespace lf
