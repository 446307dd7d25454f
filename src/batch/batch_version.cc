#include "batch/batch_version.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <sstream>

namespace lf {
namespace {

constexpr const char* kHeader = "lambdaflow batch version 1";
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

std::string TsvFileName(const std::string& view) { return FileSafe(view) + ".tsv"; }
std::string StateFileName(const std::string& view) { return FileSafe(view) + ".state"; }

std::string EncodeVersion(const BatchVersion& v) {
  std::ostringstream o;
  o << kHeader << "\n";
  o << "number " << v.number << "\n";
  o << "created_ms " << v.created_ms << "\n";
  o << "views_hash " << Hex(v.views_hash) << "\n";
  o << "schema " << Hex(v.schema_fingerprint) << "\n";
  for (size_t p = 0; p < v.watermark.size(); ++p) o << "watermark " << p << " " << v.watermark[p] << "\n";
  for (const auto& s : v.segments)
    o << "segment " << s.partition << " " << s.from << " " << s.to << " " << Hex(s.raw_hash) << "\n";
  for (const auto& w : v.views)
    o << "view " << Hex(w.plan_fingerprint) << " " << w.groups << " " << w.rows << " " << w.tsv_bytes << " "
      << Hex(w.tsv_hash) << " " << w.state_bytes << " " << Hex(w.state_hash) << " " << w.name << "\n";
  for (const auto& [phase, secs] : v.timings) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6f", secs);
    o << "timing " << phase << " " << buf << "\n";
  }
  std::string body = o.str();
  return body + "checksum " + Hex(XXH3_64bits(body.data(), body.size())) + "\n";
}

Result<BatchVersion> DecodeVersion(std::string_view data, const std::string& file_name) {
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
  if (line != kHeader) {
    if (line.rfind("lambdaflow batch version ", 0) == 0)
      return Status::Unimplemented(file_name + ": written by a newer lambdaflow (" + line +
                                   "); upgrade, or recompute with `lambdaflow batch --full`");
    return corrupt("not a batch version manifest");
  }
  BatchVersion v;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key;
    f >> key;
    bool ok = true;
    if (key == "number") {
      f >> v.number;
    } else if (key == "created_ms") {
      f >> v.created_ms;
    } else if (key == "views_hash" || key == "schema") {
      std::string h;
      f >> h;
      ok = ParseU64(h, key == "schema" ? &v.schema_fingerprint : &v.views_hash, 16);
    } else if (key == "watermark") {
      size_t p;
      uint64_t w;
      f >> p >> w;
      if (p != v.watermark.size()) return corrupt("watermarks out of order");
      v.watermark.push_back(w);
    } else if (key == "segment") {
      VersionSegment s;
      std::string h;
      f >> s.partition >> s.from >> s.to >> h;
      ok = ParseU64(h, &s.raw_hash, 16);
      v.segments.push_back(s);
    } else if (key == "view") {
      VersionView w;
      std::string fp, th, sh;
      f >> fp >> w.groups >> w.rows >> w.tsv_bytes >> th >> w.state_bytes >> sh;
      f.get();
      std::getline(f, w.name);
      ok = ParseU64(fp, &w.plan_fingerprint, 16) && ParseU64(th, &w.tsv_hash, 16) && ParseU64(sh, &w.state_hash, 16);
      v.views.push_back(w);
    } else if (key == "timing") {
      std::string phase;
      double secs;
      f >> phase >> secs;
      v.timings.emplace_back(phase, secs);
    } else {
      return corrupt("unknown line '" + line + "'");
    }
    if (!ok || f.fail()) return corrupt("bad line '" + line + "'");
  }
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
  ASSIGN_OR_RETURN(BatchVersion v, DecodeVersion(*data, path));
  v.key = key;
  return v;
}

Result<std::optional<BatchVersion>> VersionStore::Current() const {
  // The partitions' chains name the version; after a crash between two
  // partitions' publishes they may name two: the newer one is current (the
  // next publish names it everywhere).
  std::optional<BatchVersion> best;
  std::vector<std::string> seen;
  for (const BatchRef& ref : master_->BatchRefs()) {
    if (ref.key.empty() || std::find(seen.begin(), seen.end(), ref.key) != seen.end()) continue;
    seen.push_back(ref.key);
    ASSIGN_OR_RETURN(BatchVersion v, Read(ref.key));
    if (!best || v.number > best->number) best = std::move(v);
  }
  return best;
}

Status VersionStore::Publish(BatchVersion* version, const std::vector<std::pair<std::string, std::string>>& files) {
  version->key = NewVersionKey(version->number);
  for (const auto& [name, data] : files) RETURN_IF_ERROR(store_->Put(version->key + "/" + name, data));
  // VERSION last: a version folder without it is an orphan of a crash.
  RETURN_IF_ERROR(store_->Put(version->key + "/" + kVersionFile, EncodeVersion(*version)));
  return master_->PublishBatch(version->watermark, version->key);
}

Result<std::string> VersionStore::ReadViewFile(const BatchVersion& version, const VersionView& view, bool state) const {
  const std::string path = version.key + "/" + (state ? StateFileName(view.name) : TsvFileName(view.name));
  ASSIGN_OR_RETURN(std::string data, store_->Get(path));
  uint64_t bytes = state ? view.state_bytes : view.tsv_bytes;
  uint64_t hash = state ? view.state_hash : view.tsv_hash;
  if (data.size() != bytes || XXH3_64bits(data.data(), data.size()) != hash)
    return Status::Corruption(path +
                              ": size or checksum does not match the version manifest; recompute with "
                              "`lambdaflow batch`");
  return data;
}

}  // namespace lf
