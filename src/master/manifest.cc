// MANIFEST encoding, decoding and validation. The format is a small line
// format parsed strictly by hand: every line must match its grammar exactly,
// so a damaged file is never read as a different valid one (and the
// trailing checksum catches the rest).
#include "master/manifest.h"

#include <xxhash.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "master/manifest_format.h"
#include "master/segment_format.h"

namespace lf {
namespace {

namespace mf = manifest_format;

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string RangeStem(int partition, uint64_t from, uint64_t to) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%s/p%d-%020" PRIu64 "-%020" PRIu64, segment_format::kSegmentDir, partition, from, to);
  return buf;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t sp = line.find(' ', pos);
    out.push_back(line.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return out;
}

// Decimal without sign, leading zeros (except "0") or overflow.
bool ParseDec(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v, 10);
  return ec == std::errc() && p == s.data() + s.size();
}

// Exactly 16 lower-case hex digits.
bool ParseHex16(std::string_view s, uint64_t* v) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

// Reads the lines of a manifest body one at a time and reports errors with
// the file name and the line number.
class LineParser {
 public:
  LineParser(std::string_view body, const std::string& file_name) : rest_(body), file_(file_name) {}

  bool AtEnd() const { return rest_.empty(); }
  // The fields of the next line (the body always ends with '\n').
  std::vector<std::string_view> Next() {
    size_t nl = rest_.find('\n');
    std::string_view line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
    ++line_no_;
    return SplitFields(line);
  }
  Status Error(std::string_view what) const {
    return Status::Corruption(file_ + ": line " + std::to_string(line_no_) + ": " + std::string(what));
  }
  // Next line must be "<keyword> <decimal>".
  Status ExpectCount(std::string_view keyword, uint64_t* v) {
    if (AtEnd()) return Error(std::string("missing '") + std::string(keyword) + "' line");
    auto f = Next();
    if (f.size() != 2 || f[0] != keyword || !ParseDec(f[1], v)) {
      return Error(std::string("expected '") + std::string(keyword) + " <number>'");
    }
    return Status::OK();
  }

 private:
  std::string_view rest_;
  const std::string& file_;
  int line_no_ = 1;  // the magic line was line 1
};

}  // namespace

uint64_t SchemaFingerprint(const StreamSchema& schema) {
  std::string canon = "lambdaflow-schema-1\n";
  for (const auto& c : schema.columns) {
    canon += c.name;
    canon += '\t';
    canon += TypeName(c.type);
    canon += c.not_null ? "\tNOT NULL\n" : "\n";
  }
  return XXH64(canon.data(), canon.size(), 0);
}

std::string RawSegmentName(int partition, uint64_t from, uint64_t to) {
  return RangeStem(partition, from, to) + segment_format::kRawSuffix;
}

std::string ColsSegmentName(int partition, uint64_t from, uint64_t to, uint64_t schema_fingerprint) {
  return RangeStem(partition, from, to) + "." + Hex16(schema_fingerprint) + segment_format::kColsSuffix;
}

std::string SegmentLabel(const SegmentInfo& seg) {
  return "partition " + std::to_string(seg.partition) + " [" + std::to_string(seg.from) + ", " +
         std::to_string(seg.to) + ")";
}

Status ValidateManifest(const Manifest& m) {
  if (m.first.size() != m.sealed.size()) return Status::Corruption("partition vectors differ in length");
  const int n = m.partitions();
  for (int p = 0; p < n; ++p) {
    if (m.first[p] > m.sealed[p]) {
      return Status::Corruption("partition " + std::to_string(p) + ": first offset " + std::to_string(m.first[p]) +
                                " is above the sealed watermark " + std::to_string(m.sealed[p]));
    }
  }
  // Walk the segments partition by partition; `next` is where the next
  // segment of the current partition must start.
  int p = -1;
  uint64_t next = 0;
  auto close_partition = [&](int q) -> Status {
    if (q >= 0 && next != m.sealed[q]) {
      return Status::Corruption(
          "partition " + std::to_string(q) + ": segments end at " + std::to_string(next) +
          " but the sealed watermark is " + std::to_string(m.sealed[q]) +
          (next < m.sealed[q] ? " (missing range [" + std::to_string(next) + ", " + std::to_string(m.sealed[q]) + "))"
                              : ""));
    }
    return Status::OK();
  };
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const SegmentInfo& s = m.segments[i];
    if (s.partition < 0 || s.partition >= n) {
      return Status::Corruption("segment " + SegmentLabel(s) + ": no such partition (" + std::to_string(n) +
                                " partitions)");
    }
    if (s.partition < p) return Status::Corruption("segment " + SegmentLabel(s) + ": segments not sorted by partition");
    while (p < s.partition) {
      RETURN_IF_ERROR(close_partition(p));
      ++p;
      next = m.first[p];
      // Partitions without segments must have first == sealed.
      if (p < s.partition) RETURN_IF_ERROR(close_partition(p));
    }
    if (s.from >= s.to) return Status::Corruption("segment " + SegmentLabel(s) + ": empty or inverted range");
    if (s.from != next) {
      std::string why = s.from > next
                            ? "gap: [" + std::to_string(next) + ", " + std::to_string(s.from) + ") is in no segment"
                            : "overlaps the range before it, which ends at " + std::to_string(next);
      return Status::Corruption("segment " + SegmentLabel(s) + ": " + why);
    }
    if (s.events != s.to - s.from) {
      return Status::Corruption("segment " + SegmentLabel(s) + ": event count " + std::to_string(s.events) +
                                " does not match its range");
    }
    if (s.raw_name != RawSegmentName(s.partition, s.from, s.to)) {
      return Status::Corruption("segment " + SegmentLabel(s) + ": raw file name '" + s.raw_name +
                                "' is not the name of its range");
    }
    if (s.cols_name != ColsSegmentName(s.partition, s.from, s.to, m.schema_fingerprint)) {
      return Status::Corruption("segment " + SegmentLabel(s) + ": sidecar name '" + s.cols_name +
                                "' is not the name of its range and schema");
    }
    next = s.to;
  }
  while (p < n) {
    RETURN_IF_ERROR(close_partition(p));
    ++p;
    if (p < n) next = m.first[p];
  }
  return Status::OK();
}

std::string EncodeManifest(const Manifest& m) {
  std::string out;
  out += std::string(mf::kMagic) + " " + std::to_string(mf::kVersion) + "\n";
  out += "generation " + std::to_string(m.generation) + "\n";
  out += "schema " + Hex16(m.schema_fingerprint) + "\n";
  out += "partitions " + std::to_string(m.partitions()) + "\n";
  for (int p = 0; p < m.partitions(); ++p) {
    out += "partition " + std::to_string(p) + " first " + std::to_string(m.first[p]) + " sealed " +
           std::to_string(m.sealed[p]) + "\n";
  }
  out += "segments " + std::to_string(m.segments.size()) + "\n";
  for (const auto& s : m.segments) {
    out += "segment " + std::to_string(s.partition) + " " + std::to_string(s.from) + " " + std::to_string(s.to) + " " +
           std::to_string(s.events) + " " + s.raw_name + " " + std::to_string(s.raw_bytes) + " " + Hex16(s.raw_hash) +
           " " + s.cols_name + " " + Hex16(s.cols_hash) + "\n";
  }
  out += std::string(mf::kChecksumKeyword) + " " + Hex16(XXH64(out.data(), out.size(), 0)) + "\n";
  return out;
}

Result<Manifest> DecodeManifest(std::string_view data, const std::string& file_name) {
  auto corrupt = [&](const std::string& what) { return Status::Corruption(file_name + ": " + what); };
  if (data.size() > mf::kMaxBytes)
    return corrupt("larger than any manifest (" + std::to_string(data.size()) + " bytes)");
  if (data.empty() || data.back() != '\n') return corrupt("truncated (does not end with a newline)");

  // The checksum line comes first: it is the same in every version, so
  // damage is reported as such even where it hits the version number.
  std::string_view body = data.substr(0, data.size() - 1);
  size_t last_nl = body.rfind('\n');
  if (last_nl == std::string_view::npos) return corrupt("truncated (no checksum line)");
  std::string_view sum_line = body.substr(last_nl + 1);
  body = data.substr(0, last_nl + 1);
  auto sum_fields = SplitFields(sum_line);
  uint64_t stored = 0;
  if (sum_fields.size() != 2 || sum_fields[0] != mf::kChecksumKeyword || !ParseHex16(sum_fields[1], &stored)) {
    return corrupt("truncated or damaged (the last line is not a checksum line)");
  }
  uint64_t actual = XXH64(body.data(), body.size(), 0);
  if (actual != stored) {
    return corrupt("checksum mismatch (stored " + Hex16(stored) + ", computed " + Hex16(actual) + ")");
  }

  // Magic and version.
  size_t nl = body.find('\n');
  auto head = SplitFields(body.substr(0, nl));
  uint64_t version = 0;
  if (head.size() != 2 || head[0] != mf::kMagic || !ParseDec(head[1], &version)) {
    return corrupt("not a lambdaflow manifest (bad first line)");
  }
  if (version > mf::kVersion) {
    return Status::Unimplemented(file_name + ": manifest format version " + std::to_string(version) +
                                 " is newer than this build reads (" + std::to_string(mf::kVersion) +
                                 "); upgrade lambdaflow");
  }
  if (version != mf::kVersion) return corrupt("unknown manifest format version " + std::to_string(version));

  LineParser lp(body.substr(nl + 1), file_name);
  Manifest m;
  RETURN_IF_ERROR(lp.ExpectCount("generation", &m.generation));
  if (lp.AtEnd()) return lp.Error("missing 'schema' line");
  auto f = lp.Next();
  if (f.size() != 2 || f[0] != "schema" || !ParseHex16(f[1], &m.schema_fingerprint)) {
    return lp.Error("expected 'schema <16 hex digits>'");
  }
  uint64_t partitions = 0;
  RETURN_IF_ERROR(lp.ExpectCount("partitions", &partitions));
  if (partitions > (1u << 20)) return lp.Error("implausible partition count");
  m.first.resize(partitions);
  m.sealed.resize(partitions);
  for (uint64_t p = 0; p < partitions; ++p) {
    if (lp.AtEnd()) return lp.Error("missing partition line");
    f = lp.Next();
    uint64_t id = 0;
    if (f.size() != 6 || f[0] != "partition" || !ParseDec(f[1], &id) || id != p || f[2] != "first" ||
        !ParseDec(f[3], &m.first[p]) || f[4] != "sealed" || !ParseDec(f[5], &m.sealed[p])) {
      return lp.Error("expected 'partition " + std::to_string(p) + " first <offset> sealed <offset>'");
    }
  }
  uint64_t count = 0;
  RETURN_IF_ERROR(lp.ExpectCount("segments", &count));
  if (count > body.size()) return lp.Error("implausible segment count");
  m.segments.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (lp.AtEnd()) return lp.Error("missing segment line");
    f = lp.Next();
    SegmentInfo s;
    uint64_t part = 0;
    if (f.size() != 10 || f[0] != "segment" || !ParseDec(f[1], &part) || part >= partitions ||
        !ParseDec(f[2], &s.from) || !ParseDec(f[3], &s.to) || !ParseDec(f[4], &s.events) ||
        !ParseDec(f[6], &s.raw_bytes) || !ParseHex16(f[7], &s.raw_hash) || !ParseHex16(f[9], &s.cols_hash)) {
      return lp.Error(
          "expected 'segment <partition> <from> <to> <events> <raw name> <raw bytes> <raw xxh64> "
          "<sidecar name> <sidecar xxh64>'");
    }
    s.partition = static_cast<int>(part);
    s.raw_name = std::string(f[5]);
    s.cols_name = std::string(f[8]);
    m.segments.push_back(std::move(s));
  }
  if (!lp.AtEnd()) return lp.Error("unexpected content after the segments");
  Status st = ValidateManifest(m);
  if (!st.ok()) return corrupt(st.message());
  return m;
}

}  // namespace lf
