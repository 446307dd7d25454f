#include "batch/batch_version.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace lf {
namespace {

constexpr const char* kHeader1 = "lambdaflow batch version 1";
constexpr const char* kHeader2 = "lambdaflow batch version 2";
constexpr const char* kVersionFile = "VERSION";

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

bool ParseU64(const std::string& s, uint64_t* out, int base = 10) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, base);
  if (errno || *end) return false;
  *out = v;
  return true;
}

// A view name as an object name: bytes outside [A-Za-z0-9_] are
// -XX-escaped, so that no name can escape the folder or clash with another.
std::string FileSafe(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "-%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

const VersionView* BatchVersion::FindView(std::string_view name) const {
  for (const auto& v : views)
    if (v.name == name) return &v;
  return nullptr;
}

int BatchVersion::ViewIndex(std::string_view name) const {
  for (size_t i = 0; i < views.size(); ++i)
    if (views[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<const VersionPiece*> BatchVersion::PiecesOf(size_t view, int partition) const {
  std::vector<const VersionPiece*> out;
  for (const auto& p : pieces)
    if (p.view == view && p.partition == partition) out.push_back(&p);
  std::sort(out.begin(), out.end(), [](const VersionPiece* a, const VersionPiece* b) { return a->from < b->from; });
  return out;
}

std::vector<const VersionPiece*> BatchVersion::PiecesOf(size_t view) const {
  std::vector<const VersionPiece*> out;
  for (const auto& p : pieces)
    if (p.view == view) out.push_back(&p);
  return out;
}

std::string TsvFileName(const std::string& view) { return FileSafe(view) + ".tsv"; }
std::string StateFileName(const std::string& view) { return FileSafe(view) + ".state"; }
std::string PieceFileName(const std::string& view, int partition, uint64_t from, uint64_t to) {
  // FileSafe escapes '.', so the view's part ends at the first '.'.
  return FileSafe(view) + ".p" + std::to_string(partition) + "-" + std::to_string(from) + "-" + std::to_string(to) +
         ".state";
}

std::string EncodeVersion(const BatchVersion& v) {
  std::ostringstream o;
  o << (v.format == 1 ? kHeader1 : kHeader2) << "\n";
  o << "number " << v.number << "\n";
  o << "created_ms " << v.created_ms << "\n";
  o << "views_hash " << Hex(v.views_hash) << "\n";
  o << "schema " << Hex(v.schema_fingerprint) << "\n";
  if (v.format != 1 && v.full) o << "full\n";
  for (size_t p = 0; p < v.watermark.size(); ++p) o << "watermark " << p << " " << v.watermark[p] << "\n";
  for (const auto& s : v.segments)
    o << "segment " << s.partition << " " << s.from << " " << s.to << " " << Hex(s.raw_hash) << "\n";
  if (v.format == 1) {
    for (const auto& w : v.views)
      o << "view " << Hex(w.plan_fingerprint) << " " << w.groups << " " << w.rows << " " << w.tsv_bytes << " "
        << Hex(w.tsv_hash) << " " << w.state_bytes << " " << Hex(w.state_hash) << " " << w.name << "\n";
  } else {
    for (const auto& w : v.views) o << "view " << Hex(w.plan_fingerprint) << " " << w.name << "\n";
    for (const auto& p : v.pieces)
      o << "piece " << p.view << " " << p.partition << " " << p.from << " " << p.to << " " << p.groups << " " << p.bytes
        << " " << Hex(p.hash) << " " << p.key << "\n";
    for (size_t i = 0; i < v.views.size(); ++i) {
      const VersionView& w = v.views[i];
      if (w.has_tsv) o << "tsv " << i << " " << w.rows << " " << w.tsv_bytes << " " << Hex(w.tsv_hash) << "\n";
    }
  }
  for (const auto& [phase, secs] : v.timings) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6f", secs);
    o << "timing " << phase << " " << buf << "\n";
  }
  std::string body = o.str();
  return body + "checksum " + Hex(XXH3_64bits(body.data(), body.size())) + "\n";
}

namespace {

// A format-1 version's one state per view as pieces: of its one partition
// with segments, or (partition -1) of several, which cannot be split.
void SynthesizeV1Pieces(BatchVersion* v) {
  std::vector<int> parts;
  for (const auto& s : v->segments)
    if (std::find(parts.begin(), parts.end(), s.partition) == parts.end()) parts.push_back(s.partition);
  if (parts.empty()) return;
  for (size_t i = 0; i < v->views.size(); ++i) {
    const VersionView& w = v->views[i];
    VersionPiece piece;
    piece.view = i;
    piece.groups = w.groups;
    piece.bytes = w.state_bytes;
    piece.hash = w.state_hash;
    piece.key = v->key + "/" + StateFileName(w.name);
    if (parts.size() == 1) {
      piece.partition = parts[0];
      piece.from = UINT64_MAX;
      for (const auto& s : v->segments) piece.from = std::min(piece.from, s.from);
      piece.to = v->watermark[static_cast<size_t>(parts[0])];
    } else {
      piece.partition = -1;
    }
    v->pieces.push_back(std::move(piece));
  }
}

}  // namespace

Result<BatchVersion> DecodeVersion(std::string_view data, const std::string& file_name, const std::string& key) {
  auto corrupt = [&](const std::string& why) { return Status::Corruption(file_name + ": " + why); };
  size_t cut = data.rfind("checksum ");
  if (cut == std::string_view::npos) return corrupt("no checksum line (truncated?)");
  uint64_t stored;
  std::string hex(data.substr(cut + 9));
  while (!hex.empty() && hex.back() == '\n') hex.pop_back();
  if (!ParseU64(hex, &stored, 16)) return corrupt("bad checksum line");
  if (XXH3_64bits(data.data(), cut) != stored) return corrupt("checksum mismatch");
  std::istringstream in{std::string(data.substr(0, cut))};
  std::string line;
  std::getline(in, line);
  BatchVersion v;
  v.key = key;
  if (line == kHeader1) {
    v.format = 1;
  } else if (line == kHeader2) {
    v.format = 2;
  } else {
    if (line.rfind("lambdaflow batch version ", 0) == 0)
      return Status::Unimplemented(file_name + ": written by a newer lambdaflow (" + line +
                                   "); upgrade, or recompute with `lambdaflow batch --full`");
    return corrupt("not a batch version manifest");
  }
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string kind;
    f >> kind;
    bool ok = true;
    if (kind == "number") {
      f >> v.number;
    } else if (kind == "created_ms") {
      f >> v.created_ms;
    } else if (kind == "views_hash" || kind == "schema") {
      std::string h;
      f >> h;
      ok = ParseU64(h, kind == "schema" ? &v.schema_fingerprint : &v.views_hash, 16);
    } else if (kind == "full" && v.format == 2) {
      v.full = true;
    } else if (kind == "watermark") {
      size_t p;
      uint64_t w;
      f >> p >> w;
      if (p != v.watermark.size()) return corrupt("watermarks out of order");
      v.watermark.push_back(w);
    } else if (kind == "segment") {
      VersionSegment s;
      std::string h;
      f >> s.partition >> s.from >> s.to >> h;
      ok = ParseU64(h, &s.raw_hash, 16);
      v.segments.push_back(s);
    } else if (kind == "view" && v.format == 1) {
      VersionView w;
      std::string fp, th, sh;
      f >> fp >> w.groups >> w.rows >> w.tsv_bytes >> th >> w.state_bytes >> sh;
      f.get();
      std::getline(f, w.name);
      w.has_tsv = true;
      ok = ParseU64(fp, &w.plan_fingerprint, 16) && ParseU64(th, &w.tsv_hash, 16) && ParseU64(sh, &w.state_hash, 16);
      v.views.push_back(w);
    } else if (kind == "view") {
      VersionView w;
      std::string fp;
      f >> fp;
      f.get();
      std::getline(f, w.name);
      ok = ParseU64(fp, &w.plan_fingerprint, 16) && !w.name.empty();
      v.views.push_back(w);
    } else if (kind == "piece" && v.format == 2) {
      VersionPiece p;
      std::string h;
      f >> p.view >> p.partition >> p.from >> p.to >> p.groups >> p.bytes >> h >> p.key;
      ok = ParseU64(h, &p.hash, 16) && p.view < v.views.size() && p.partition >= 0 &&
           static_cast<size_t>(p.partition) < v.watermark.size() && p.from <= p.to && !p.key.empty();
      v.pieces.push_back(std::move(p));
    } else if (kind == "tsv" && v.format == 2) {
      size_t i = 0;
      std::string h;
      f >> i >> h;
      if (!f.fail() && i < v.views.size()) {
        VersionView& w = v.views[i];
        std::istringstream g(h);
        g >> w.rows;
        std::string th;
        f >> w.tsv_bytes >> th;
        ok = ParseU64(th, &w.tsv_hash, 16);
        w.has_tsv = true;
      } else {
        ok = false;
      }
    } else if (kind == "timing") {
      std::string phase;
      double secs;
      f >> phase >> secs;
      v.timings.emplace_back(phase, secs);
    } else {
      return corrupt("unknown line '" + line + "'");
    }
    if (!ok || f.fail()) return corrupt("bad line '" + line + "'");
  }
  if (v.format == 1) SynthesizeV1Pieces(&v);
  return v;
}

std::string VersionStore::NewVersionKey(uint64_t number) {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::random_device rd;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "batch/v%020" PRIu64 "-%013" PRId64 "-%08x", number, std::max<int64_t>(0, now),
                static_cast<unsigned>(rd()));
  return buf;
}

Result<BatchVersion> VersionStore::Read(const std::string& key) const {
  const std::string path = key + "/" + kVersionFile;
  auto data = store_->Get(path);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound)
    return Status::Corruption("batch version " + path + " named by the manifest is missing from " + store_->Describe() +
                              "; recompute with `lambdaflow batch`");
  RETURN_IF_ERROR(data.status());
  return DecodeVersion(*data, path, key);
}

Result<std::vector<std::optional<BatchVersion>>> VersionStore::CurrentByPartition() const {
  std::vector<std::optional<BatchVersion>> out;
  std::unordered_map<std::string, size_t> read;  // key -> index in out of its first reader
  for (const BatchRef& ref : master_->BatchRefs()) {
    if (ref.key.empty()) {
      out.emplace_back();
      continue;
    }
    if (auto it = read.find(ref.key); it != read.end()) {
      out.push_back(out[it->second]);
      continue;
    }
    ASSIGN_OR_RETURN(BatchVersion v, Read(ref.key));
    read.emplace(ref.key, out.size());
    out.emplace_back(std::move(v));
  }
  return out;
}

Result<std::optional<BatchVersion>> VersionStore::Current() const {
  // After a crash between two partitions' publishes, or with several
  // workers, the chains may name several versions: the newest is current.
  ASSIGN_OR_RETURN(auto by_partition, CurrentByPartition());
  std::optional<BatchVersion> best;
  for (auto& v : by_partition)
    if (v && (!best || v->number > best->number)) best = std::move(v);
  return best;
}

Status VersionStore::PutFile(const BatchVersion& version, const std::string& name, std::string_view data) {
  if (version.key.empty()) return Status::Internal("writing a batch file without a version key");
  return store_->Put(version.key + "/" + name, data);
}

Status VersionStore::Publish(const BatchVersion& version, const std::vector<std::pair<std::string, std::string>>& files,
                             const std::vector<int>& partitions) {
  if (version.key.empty()) return Status::Internal("publishing a batch version without a key");
  for (const auto& [name, data] : files) RETURN_IF_ERROR(store_->Put(version.key + "/" + name, data));
  // VERSION last: a version folder without it is an orphan of a crash.
  RETURN_IF_ERROR(store_->Put(version.key + "/" + kVersionFile, EncodeVersion(version)));
  return master_->PublishBatch(version.watermark, version.key, partitions);
}

namespace {

Status CheckObject(const std::string& path, const std::string& data, uint64_t bytes, uint64_t hash) {
  if (data.size() != bytes || XXH3_64bits(data.data(), data.size()) != hash)
    return Status::Corruption(path +
                              ": size or checksum does not match the version manifest; recompute with "
                              "`lambdaflow batch --full`");
  return Status::OK();
}

}  // namespace

Result<std::string> VersionStore::ReadViewFile(const BatchVersion& version, const VersionView& view, bool state) const {
  const std::string path = version.key + "/" + (state ? StateFileName(view.name) : TsvFileName(view.name));
  if (!state && !view.has_tsv) return Status::NotFound("batch version " + version.key + " has no TSV of " + view.name);
  ASSIGN_OR_RETURN(std::string data, store_->Get(path));
  RETURN_IF_ERROR(
      CheckObject(path, data, state ? view.state_bytes : view.tsv_bytes, state ? view.state_hash : view.tsv_hash));
  return data;
}

Result<std::string> VersionStore::ReadPiece(const VersionPiece& piece) const {
  auto data = store_->Get(piece.key);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound)
    return Status::Corruption("batch piece " + piece.key + " is missing from " + store_->Describe() +
                              "; recompute with `lambdaflow batch --full`");
  RETURN_IF_ERROR(data.status());
  RETURN_IF_ERROR(CheckObject(piece.key, *data, piece.bytes, piece.hash));
  return std::move(*data);
}

Result<std::unique_ptr<ViewState>> VersionStore::ReadPieces(const ViewPlan& plan,
                                                            const std::vector<const VersionPiece*>& pieces) const {
  auto state = plan.NewState();
  for (const VersionPiece* piece : pieces) {
    ASSIGN_OR_RETURN(std::string image, ReadPiece(*piece));
    Status st = state->Deserialize(image);  // combines the image into the state
    if (!st.ok()) return Status::Corruption(piece->key + ": " + st.message());
  }
  return state;
}

Result<std::vector<const VersionPiece*>> DatasetPieces(const std::vector<std::optional<BatchVersion>>& by_partition,
                                                       const std::string& name, uint64_t fingerprint) {
  std::vector<const VersionPiece*> out;
  for (size_t p = 0; p < by_partition.size(); ++p) {
    const auto& v = by_partition[p];
    if (!v) continue;
    const int i = v->ViewIndex(name);
    if (i < 0 || v->views[static_cast<size_t>(i)].plan_fingerprint != fingerprint)
      return Status::NotFound("view '" + name + "' changed since batch version " + std::to_string(v->number) +
                              "; run `lambdaflow batch` to recompute it");
    for (const VersionPiece* piece : v->PiecesOf(static_cast<size_t>(i), static_cast<int>(p))) out.push_back(piece);
    // A format-1 state over several partitions: once, for the whole dataset.
    for (const VersionPiece* piece : v->PiecesOf(static_cast<size_t>(i), -1)) {
      for (const auto& other : by_partition)
        if (!other || other->key != v->key)
          return Status::Conflict("batch version " + std::to_string(v->number) +
                                  " (format 1) holds one state over several partitions that cannot be "
                                  "split; run `lambdaflow batch` to recompute it");
      if (p == 0) out.push_back(piece);
    }
  }
  return out;
}

Result<PartitionBatch> VersionStore::ReadPartition(int p, const std::vector<const ViewPlan*>& plans) const {
  if (p < 0 || p >= master_->partitions())
    return Status::InvalidArgument("partition " + std::to_string(p) + " of a master dataset of " +
                                   std::to_string(master_->partitions()));
  PartitionBatch out;
  out.partition = p;
  const BatchRef ref = master_->BatchRefs()[static_cast<size_t>(p)];
  out.watermark = master_->Snapshot().first[static_cast<size_t>(p)];
  if (!ref.key.empty()) {
    ASSIGN_OR_RETURN(BatchVersion v, Read(ref.key));
    out.watermark = v.watermark[static_cast<size_t>(p)];
    out.version = std::move(v);
  }
  for (const ViewPlan* plan : plans) {
    if (!out.version) {
      out.states.push_back(plan->NewState());
      continue;
    }
    const BatchVersion& v = *out.version;
    const int i = v.ViewIndex(plan->name());
    if (i < 0 || v.views[static_cast<size_t>(i)].plan_fingerprint != plan->fingerprint())
      return Status::NotFound("view '" + plan->name() + "' changed since batch version " + std::to_string(v.number) +
                              "; run `lambdaflow batch` to recompute it");
    if (!v.PiecesOf(static_cast<size_t>(i), -1).empty())
      return Status::Conflict("batch version " + std::to_string(v.number) +
                              " (format 1) holds one state over several partitions; partition " + std::to_string(p) +
                              " cannot be read alone until the next batch run");
    ASSIGN_OR_RETURN(auto state, ReadPieces(*plan, v.PiecesOf(static_cast<size_t>(i), p)));
    out.states.push_back(std::move(state));
  }
  return out;
}

Result<std::vector<std::unique_ptr<ViewState>>> VersionStore::ReadDataset(
    const std::vector<std::optional<BatchVersion>>& by_partition, const std::vector<const ViewPlan*>& plans) const {
  std::vector<std::unique_ptr<ViewState>> out;
  for (const ViewPlan* plan : plans) {
    ASSIGN_OR_RETURN(auto pieces, DatasetPieces(by_partition, plan->name(), plan->fingerprint()));
    ASSIGN_OR_RETURN(auto state, ReadPieces(*plan, pieces));
    out.push_back(std::move(state));
  }
  return out;
}

Result<std::vector<std::string>> VersionStore::References(const std::string& key) const {
  auto v = Read(key);
  if (!v.ok()) {
    // A version folder already gone references nothing; a damaged VERSION
    // stops the collection (its pieces must not be taken).
    auto exists = store_->Size(key + "/" + kVersionFile);
    if (!exists.ok() && exists.status().code() == StatusCode::kNotFound) return std::vector<std::string>();
    return v.status();
  }
  std::vector<std::string> out;
  for (const auto& p : v->pieces)
    if (p.key.compare(0, key.size() + 1, key + "/") != 0) out.push_back(p.key);
  return out;
}

Result<GarbageReport> VersionStore::CollectGarbage(uint64_t keep_versions, int64_t grace_ms) {
  return master_->CollectGarbage(keep_versions, grace_ms, [this](const std::string& key) { return References(key); });
}

}  // namespace lf
