#include "log/producer_table.h"

#include <xxhash.h>

#include <cinttypes>
#include <cstdio>
#include <vector>

namespace lf {
namespace {

constexpr std::string_view kMagicLine = "lambdaflow-producers 1";

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t r = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (r > (UINT64_MAX - d) / 10) return false;
    r = r * 10 + d;
  }
  *v = r;
  return true;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (pos <= line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    f.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return f;
}

}  // namespace

ProducerTable::Check ProducerTable::Classify(const ProducerBatch& b) const {
  auto it = last_.find(b.id);
  if (it == last_.end()) return {Verdict::kAppend, {}};
  const ProducerLast& l = it->second;
  if (b.seq == l.seq) return {Verdict::kDuplicate, l};
  if (l.seq != UINT64_MAX && b.seq == l.seq + 1) return {Verdict::kAppend, l};
  return {Verdict::kOutOfOrder, l};
}

void ProducerTable::Record(std::string_view id, uint64_t seq, uint64_t from, uint64_t to) {
  auto it = last_.find(id);
  if (it != last_.end()) {
    by_end_.erase({it->second.to, it->first});
    it->second = {seq, from, to};
  } else {
    it = last_.emplace(std::string(id), ProducerLast{seq, from, to}).first;
  }
  by_end_.insert({to, it->first});
  while (last_.size() > kMaxProducers) {
    auto victim = by_end_.begin();
    last_.erase(victim->second);
    by_end_.erase(victim);
  }
}

std::optional<ProducerLast> ProducerTable::Find(std::string_view id) const {
  auto it = last_.find(id);
  if (it == last_.end()) return std::nullopt;
  return it->second;
}

std::string ProducerTable::Describe(std::string_view id, const ProducerLast& last) {
  return "the last batch of producer '" + std::string(id) + "' was seq " + std::to_string(last.seq) + " (offsets [" +
         std::to_string(last.from) + ", " + std::to_string(last.to) + "))";
}

std::string ProducerTable::Encode(uint64_t as_of) const {
  std::string out(kMagicLine);
  out += "\nas_of " + std::to_string(as_of) + "\nproducers " + std::to_string(last_.size()) + "\n";
  for (const auto& [id, l] : last_) {
    out += "producer " + Hex(id) + " " + std::to_string(l.seq) + " " + std::to_string(l.from) + " " +
           std::to_string(l.to) + "\n";
  }
  char sum[40];
  std::snprintf(sum, sizeof sum, "checksum %016" PRIx64 "\n", static_cast<uint64_t>(XXH64(out.data(), out.size(), 0)));
  return out + sum;
}

Result<ProducerTable> ProducerTable::Decode(std::string_view text, const std::string& name, uint64_t* as_of) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(name + ": damaged producer checkpoint (" + why +
                              "); restore it from a backup, or delete it to forget the producers' last batches "
                              "(their retries would then be appended again)");
  };
  if (text.empty() || text.back() != '\n') return bad("it does not end with a newline");
  const size_t last_line = text.rfind('\n', text.size() - 2);
  const size_t body_end = last_line == std::string_view::npos ? 0 : last_line + 1;
  const std::string_view sum_line = text.substr(body_end, text.size() - 1 - body_end);
  char want[40];
  std::snprintf(want, sizeof want, "checksum %016" PRIx64, static_cast<uint64_t>(XXH64(text.data(), body_end, 0)));
  if (sum_line != want) return bad("checksum mismatch");
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < body_end;) {
    const size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.size() < 3 || lines[0] != kMagicLine) return bad("not a version 1 producer checkpoint");
  auto f = Fields(lines[1]);
  if (f.size() != 2 || f[0] != "as_of" || !ParseU64(f[1], as_of)) return bad("bad as_of line");
  f = Fields(lines[2]);
  uint64_t n = 0;
  if (f.size() != 2 || f[0] != "producers" || !ParseU64(f[1], &n) || n != lines.size() - 3) return bad("bad count");
  ProducerTable t;
  for (size_t i = 3; i < lines.size(); ++i) {
    f = Fields(lines[i]);
    std::string id;
    uint64_t seq, from, to;
    if (f.size() != 5 || f[0] != "producer" || !Unhex(f[1], &id) || id.empty() || id.size() > kMaxProducerIdBytes ||
        !ParseU64(f[2], &seq) || !ParseU64(f[3], &from) || !ParseU64(f[4], &to) || from > to || to > *as_of)
      return bad("bad producer line " + std::to_string(i + 1));
    t.Record(id, seq, from, to);
  }
  return t;
}

}  // namespace lf
