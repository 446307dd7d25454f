// Encoding and strict decoding of a partition manifest version
// (docs/formats/store.md).
#include "store/partition_manifest.h"

#include <xxhash.h>

#include <charconv>
#include <cstdio>

#include "store/object_store.h"

namespace lf {

namespace {

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Splits "a b c" on single spaces; empty fields (double spaces) stay empty
// and fail the parsers below.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t sp = line.find(' ', start);
    out.push_back(line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start));
    if (sp == std::string_view::npos) return out;
    start = sp + 1;
  }
}

// Decimal without sign or leading zeros.
bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseI64(std::string_view s, int64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0') || s == "-0" || (s.size() > 2 && s[0] == '-' && s[1] == '0')) {
    return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseHex16(std::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

class LineReader {
 public:
  explicit LineReader(std::string_view body) : rest_(body) {}
  bool Next(std::string_view* line) {
    if (rest_.empty()) return false;
    const size_t nl = rest_.find('\n');  // the body ends in '\n' (checked before)
    *line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
    return true;
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace

bool ValidWriterId(std::string_view id) {
  if (id.empty() || id.size() > kMaxWriterIdBytes) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == ':';
    if (!ok) return false;
  }
  return true;
}

Status PartitionContent::Validate() const {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("partition manifest content: " + why); };
  if (start > sealed) return bad("start " + std::to_string(start) + " > sealed " + std::to_string(sealed));
  if (batch_watermark < start || batch_watermark > sealed) {
    return bad("batch watermark " + std::to_string(batch_watermark) + " outside [start, sealed]");
  }
  if (!batch_key.empty()) RETURN_IF_ERROR(ValidateKey(batch_key));
  uint64_t next = start;
  for (const SegmentEntry& s : segments) {
    if (s.from != next) {
      return bad("segment [" + std::to_string(s.from) + ", " + std::to_string(s.to) + ") does not start at " +
                 std::to_string(next) + " (segments must be sorted and contiguous)");
    }
    if (s.to <= s.from) return bad("segment starting at " + std::to_string(s.from) + " is empty");
    if (s.events > s.to - s.from) {
      return bad("segment [" + std::to_string(s.from) + ", " + std::to_string(s.to) +
                 ") holds more events than offsets");
    }
    RETURN_IF_ERROR(ValidateKey(s.key));
    next = s.to;
  }
  if (next != sealed)
    return bad("segments end at " + std::to_string(next) + ", not at sealed " + std::to_string(sealed));
  return Status::OK();
}

std::string ManifestPrefix(uint32_t partition) { return "manifest/p" + std::to_string(partition) + "/"; }

std::string ManifestVersionKey(uint32_t partition, uint64_t version) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(version));
  return ManifestPrefix(partition) + buf;
}

std::string ManifestHintKey(uint32_t partition) { return ManifestPrefix(partition) + "latest"; }

std::string EncodePartitionManifest(const PartitionManifest& m) {
  std::string out;
  out += std::string(kPartitionManifestMagic) + " " + std::to_string(kPartitionManifestFormatVersion) + "\n";
  out += "partition " + std::to_string(m.partition) + "\n";
  out += "version " + std::to_string(m.version) + "\n";
  out += "previous " + std::to_string(m.previous) + "\n";
  out += "epoch " + std::to_string(m.epoch) + "\n";
  out += "writer " + m.writer + " " + Hex16(m.nonce) + "\n";
  out += "created_ms " + std::to_string(m.created_ms) + "\n";
  const PartitionContent& c = m.content;
  out += "start " + std::to_string(c.start) + "\n";
  out += "sealed " + std::to_string(c.sealed) + "\n";
  out += "batch " + std::to_string(c.batch_watermark) + " " + (c.batch_key.empty() ? "-" : c.batch_key) + "\n";
  out += "segments " + std::to_string(c.segments.size()) + "\n";
  for (const SegmentEntry& s : c.segments) {
    out += "segment " + std::to_string(s.from) + " " + std::to_string(s.to) + " " + std::to_string(s.events) + " " +
           s.key + " " + std::to_string(s.bytes) + " " + Hex16(s.xxh64) + "\n";
  }
  out += "checksum " + Hex16(XXH64(out.data(), out.size(), 0)) + "\n";
  return out;
}

Result<PartitionManifest> DecodePartitionManifest(std::string_view data, std::string_view where) {
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("partition manifest " + std::string(where) + ": " + why);
  };
  // 1. The checksum line, the same in every format version.
  if (data.empty() || data.back() != '\n') return corrupt("does not end in a newline (truncated?)");
  const size_t last_start = data.rfind('\n', data.size() - 2);
  const size_t body_len = last_start == std::string_view::npos ? 0 : last_start + 1;
  const std::string_view last = data.substr(body_len, data.size() - 1 - body_len);
  uint64_t want = 0;
  if (last.substr(0, 9) != "checksum " || !ParseHex16(last.substr(9), &want)) {
    return corrupt("the last line is not 'checksum <16 hex digits>' (truncated?)");
  }
  const std::string_view body = data.substr(0, body_len);
  if (XXH64(body.data(), body.size(), 0) != want) return corrupt("checksum mismatch");

  // 2. The format version.
  LineReader lines(body);
  std::string_view line;
  if (!lines.Next(&line)) return corrupt("empty");
  std::vector<std::string_view> f = Fields(line);
  uint64_t format = 0;
  if (f.size() != 2 || f[0] != kPartitionManifestMagic || !ParseU64(f[1], &format)) {
    return corrupt("the first line is not '" + std::string(kPartitionManifestMagic) + " <version>'");
  }
  if (format != static_cast<uint64_t>(kPartitionManifestFormatVersion)) {
    return Status::Unimplemented("partition manifest " + std::string(where) + " has format version " +
                                 std::to_string(format) + "; this lambdaflow reads version " +
                                 std::to_string(kPartitionManifestFormatVersion) + " (upgrade lambdaflow)");
  }

  // 3. The fields, in order.
  PartitionManifest m;
  auto field = [&](std::string_view name, size_t n) -> bool {
    if (!lines.Next(&line)) return false;
    f = Fields(line);
    return f.size() == n + 1 && f[0] == name;
  };
  auto u64_field = [&](std::string_view name, uint64_t* out) -> Status {
    if (!field(name, 1) || !ParseU64(f[1], out)) return corrupt("expected '" + std::string(name) + " <number>'");
    return Status::OK();
  };
  uint64_t partition = 0;
  RETURN_IF_ERROR(u64_field("partition", &partition));
  if (partition > UINT32_MAX) return corrupt("partition out of range");
  m.partition = static_cast<uint32_t>(partition);
  RETURN_IF_ERROR(u64_field("version", &m.version));
  RETURN_IF_ERROR(u64_field("previous", &m.previous));
  if (m.version == 0 || m.previous != m.version - 1) return corrupt("previous must be version - 1, version >= 1");
  RETURN_IF_ERROR(u64_field("epoch", &m.epoch));
  if (!field("writer", 2) || !ValidWriterId(f[1]) || !ParseHex16(f[2], &m.nonce)) {
    return corrupt("expected 'writer <id> <16 hex digits>'");
  }
  m.writer = std::string(f[1]);
  if (!field("created_ms", 1) || !ParseI64(f[1], &m.created_ms)) return corrupt("expected 'created_ms <number>'");
  PartitionContent& c = m.content;
  RETURN_IF_ERROR(u64_field("start", &c.start));
  RETURN_IF_ERROR(u64_field("sealed", &c.sealed));
  if (!field("batch", 2) || !ParseU64(f[1], &c.batch_watermark)) return corrupt("expected 'batch <watermark> <key>'");
  if (f[2] != "-") c.batch_key = std::string(f[2]);
  uint64_t count = 0;
  RETURN_IF_ERROR(u64_field("segments", &count));
  for (uint64_t i = 0; i < count; ++i) {
    SegmentEntry s;
    if (!field("segment", 6) || !ParseU64(f[1], &s.from) || !ParseU64(f[2], &s.to) || !ParseU64(f[3], &s.events) ||
        !ParseU64(f[5], &s.bytes) || !ParseHex16(f[6], &s.xxh64)) {
      return corrupt("segment line " + std::to_string(i + 1) + " of " + std::to_string(count) +
                     " is not 'segment <from> <to> <events> <key> <bytes> <xxh64>'");
    }
    s.key = std::string(f[4]);
    c.segments.push_back(std::move(s));
  }
  if (!lines.done()) return corrupt("unexpected lines after the last segment");
  if (Status v = c.Validate(); !v.ok()) return corrupt(v.message());
  return m;
}

}  // namespace lf
