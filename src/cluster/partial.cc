#include "cluster/partial.h"

#include <charconv>

#include "store/partition_manifest.h"

namespace lf {
namespace {

constexpr std::string_view kMagic = "lambdaflow-partial 1";

// A number in its one spelling (no sign, no leading zero, no spaces).
template <typename T>
bool ParseCanonical(std::string_view s, T* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0') || s[0] == '+' || s[0] == '-') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseHex64(std::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Hex64(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kDigits[v & 15];
  return s;
}

// Splits "field value" at the first space.
void SplitField(std::string_view line, std::string_view* field, std::string_view* value) {
  const size_t sp = line.find(' ');
  *field = line.substr(0, sp);
  *value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
}

}  // namespace

std::string EncodePartial(const Partial& p) {
  std::string out(kMagic);
  out += "\nwriter " + p.writer_id + "\nview " + p.view + "\nfingerprint " + Hex64(p.fingerprint) + "\ncaught_up_ms " +
         std::to_string(p.caught_up_ms < 0 ? 0 : p.caught_up_ms) + "\n";
  for (const PartitionCover& c : p.partitions)
    out += "partition " + std::to_string(c.partition) + " " + std::to_string(c.epoch) + " " + std::to_string(c.batch) +
           " " + std::to_string(c.speed) + "\n";
  out += "state " + std::to_string(p.state.size()) + "\n";
  out += p.state;
  out += "end\n";
  return out;
}

Result<Partial> DecodePartial(std::string_view bytes, const std::string& what) {
  Partial p;
  size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return Status::Corruption("partial state from " + what + ", line " + std::to_string(line_no) + ": " + why);
  };
  auto next_line = [&](std::string_view* line) {
    const size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) return false;
    *line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    ++line_no;
    return true;
  };
  std::string_view line, field, value;
  // The fixed header, in order.
  const char* const kFields[] = {"writer", "view", "fingerprint", "caught_up_ms"};
  if (!next_line(&line) || line != kMagic) {
    line_no = 1;
    return bad("not a partial state (expected '" + std::string(kMagic) + "')");
  }
  for (const char* want : kFields) {
    if (!next_line(&line)) return bad("truncated header (no '" + std::string(want) + "' line)");
    SplitField(line, &field, &value);
    if (field != want) return bad("expected '" + std::string(want) + " ...', got '" + std::string(field) + "'");
    if (field == "writer") {
      if (!ValidWriterId(value)) return bad("bad writer id");
      p.writer_id = value;
    } else if (field == "view") {
      if (value.empty()) return bad("empty view name");
      p.view = value;
    } else if (field == "fingerprint") {
      if (!ParseHex64(value, &p.fingerprint)) return bad("fingerprint must be 16 lower-case hex digits");
    } else if (!ParseCanonical(value, &p.caught_up_ms)) {
      return bad("bad caught_up_ms");
    }
  }
  // Partitions, then the state.
  while (true) {
    if (!next_line(&line)) return bad("truncated (no 'state' line)");
    SplitField(line, &field, &value);
    if (field == "state") break;
    if (field != "partition") return bad("expected 'partition' or 'state', got '" + std::string(field) + "'");
    PartitionCover c;
    std::string_view parts[4];
    for (int i = 0; i < 4; ++i) {
      const size_t sp = value.find(' ');
      if ((i < 3) == (sp == std::string_view::npos)) return bad("expected 'partition <p> <epoch> <W> <S>'");
      parts[i] = value.substr(0, sp);
      if (i < 3) value.remove_prefix(sp + 1);
    }
    if (!ParseCanonical(parts[0], &c.partition) || !ParseCanonical(parts[1], &c.epoch) ||
        !ParseCanonical(parts[2], &c.batch) || !ParseCanonical(parts[3], &c.speed))
      return bad("expected 'partition <p> <epoch> <W> <S>' with decimal numbers");
    if (c.batch > c.speed) return bad("W > S for partition " + std::to_string(c.partition));
    if (!p.partitions.empty() && p.partitions.back().partition >= c.partition)
      return bad("partitions not ascending (partition " + std::to_string(c.partition) + ")");
    p.partitions.push_back(c);
  }
  uint64_t n = 0;
  if (!ParseCanonical(value, &n)) return bad("bad state length");
  if (bytes.size() < n)
    return bad("truncated state (" + std::to_string(bytes.size()) + " of " + std::to_string(n) + " bytes)");
  p.state = bytes.substr(0, n);
  bytes.remove_prefix(n);
  if (bytes != "end\n") return bad("expected 'end' right after the state and nothing after it");
  return p;
}

}  // namespace lf
