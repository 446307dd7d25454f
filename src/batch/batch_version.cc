#include "batch/batch_version.h"

#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace lf {
namespace {

constexpr const char* kHeader = "lambdaflow batch version 1";
constexpr const char* kCurrent = "CURRENT";
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

// A view name as a file name: bytes outside [A-Za-z0-9_-] are %XX-escaped,
// so that no name can escape the folder or clash with another.
std::string FileSafe(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
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

std::string VersionStore::VersionDir(uint64_t number) const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "v%020" PRIu64, number);
  return JoinPath(dir_, buf);
}

Result<std::optional<BatchVersion>> VersionStore::Current() const {
  std::string current = JoinPath(dir_, kCurrent);
  ASSIGN_OR_RETURN(bool exists, fs_->Exists(current));
  if (!exists) return std::optional<BatchVersion>();
  ASSIGN_OR_RETURN(std::string pointer, fs_->ReadFile(current));
  while (!pointer.empty() && (pointer.back() == '\n' || pointer.back() == '\r')) pointer.pop_back();
  if (pointer.empty() || pointer.find('/') != std::string::npos)
    return Status::Corruption(current + ": bad version pointer '" + pointer + "'");
  std::string path = JoinPath(JoinPath(dir_, pointer), kVersionFile);
  ASSIGN_OR_RETURN(std::string data, fs_->ReadFile(path));
  ASSIGN_OR_RETURN(BatchVersion v, DecodeVersion(data, path));
  return std::optional<BatchVersion>(std::move(v));
}

Status VersionStore::Publish(const BatchVersion& version, const std::vector<std::pair<std::string, std::string>>& files,
                             int keep) {
  const std::string dir = VersionDir(version.number);
  RETURN_IF_ERROR(fs_->CreateDirs(dir));
  for (const auto& [name, data] : files) RETURN_IF_ERROR(fs_->WriteFileDurable(JoinPath(dir, name), data));
  RETURN_IF_ERROR(fs_->WriteFileDurable(JoinPath(dir, kVersionFile), EncodeVersion(version)));
  RETURN_IF_ERROR(fs_->SyncDir(dir));
  RETURN_IF_ERROR(fs_->SyncDir(dir_));
  std::string name = dir.substr(dir.find_last_of('/') + 1);
  RETURN_IF_ERROR(fs_->WriteFileAtomic(JoinPath(dir_, kCurrent), name + "\n"));
  // Keep the newest `keep` versions. Listing is only used to collect
  // garbage; CURRENT alone says which version is served.
  ASSIGN_OR_RETURN(auto entries, fs_->ListDir(dir_));
  std::vector<std::string> versions;
  for (const auto& e : entries)
    if (e.size() == 21 && e[0] == 'v') versions.push_back(e);
  std::sort(versions.begin(), versions.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < versions.size(); ++i) {
    if (versions[i] >= name) break;
    std::string old = JoinPath(dir_, versions[i]);
    ASSIGN_OR_RETURN(auto old_files, fs_->ListDir(old));
    for (const auto& f : old_files) RETURN_IF_ERROR(fs_->Remove(JoinPath(old, f)));
    RETURN_IF_ERROR(fs_->Remove(old));
  }
  return Status::OK();
}

Result<std::string> VersionStore::ReadViewFile(const BatchVersion& version, const VersionView& view, bool state) const {
  std::string path = JoinPath(VersionDir(version.number), state ? StateFileName(view.name) : TsvFileName(view.name));
  ASSIGN_OR_RETURN(std::string data, fs_->ReadFile(path));
  uint64_t bytes = state ? view.state_bytes : view.tsv_bytes;
  uint64_t hash = state ? view.state_hash : view.tsv_hash;
  if (data.size() != bytes || XXH3_64bits(data.data(), data.size()) != hash)
    return Status::Corruption(path +
                              ": size or checksum does not match the version manifest; recompute with "
                              "`lambdaflow batch`");
  return data;
}

}  // namespace lf
