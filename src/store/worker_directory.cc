#include "store/worker_directory.h"

#include <charconv>

#include "store/partition_manifest.h"

namespace lf {
namespace {

constexpr std::string_view kMagic = "lambdaflow-worker 1";

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string FormatWorkerRecord(const WorkerRecord& r) {
  std::string out(kMagic);
  out += "\nwriter " + r.writer_id + "\naddress " + r.address + "\nupdated_ms " + std::to_string(r.updated_ms) + "\n";
  for (const auto& [p, epoch] : r.partitions)
    out += "partition " + std::to_string(p) + " " + std::to_string(epoch) + "\n";
  out += "end\n";
  return out;
}

Result<WorkerRecord> ParseWorkerRecord(std::string_view text, const std::string& what) {
  WorkerRecord r;
  size_t line_no = 0;
  bool ended = false, has_writer = false, has_address = false, has_updated = false;
  auto bad = [&](const std::string& why) {
    return Status::Corruption("worker record " + what + ", line " + std::to_string(line_no) + ": " + why);
  };
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return bad("no newline at the end (a torn write)");
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (ended) return bad("text after 'end'");
    if (line_no == 1) {
      if (line != kMagic) return bad("not a worker record (expected '" + std::string(kMagic) + "')");
      continue;
    }
    const size_t sp = line.find(' ');
    const std::string_view field = line.substr(0, sp);
    const std::string_view value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (field == "end" && sp == std::string_view::npos) {
      ended = true;
    } else if (field == "writer") {
      if (!ValidWriterId(value)) return bad("bad writer id");
      r.writer_id = value;
      has_writer = true;
    } else if (field == "address") {
      if (value.empty()) return bad("empty address");
      r.address = value;
      has_address = true;
    } else if (field == "updated_ms") {
      if (!ParseNumber(value, &r.updated_ms)) return bad("bad updated_ms");
      has_updated = true;
    } else if (field == "partition") {
      const size_t sp2 = value.find(' ');
      uint32_t p = 0;
      uint64_t epoch = 0;
      if (sp2 == std::string_view::npos || !ParseNumber(value.substr(0, sp2), &p) ||
          !ParseNumber(value.substr(sp2 + 1), &epoch))
        return bad("expected 'partition <p> <epoch>'");
      if (!r.partitions.emplace(p, epoch).second) return bad("partition " + std::to_string(p) + " listed twice");
    } else {
      return bad("unknown field '" + std::string(field) + "'");
    }
  }
  if (!ended) return bad("no 'end' line (a torn write)");
  if (!has_writer || !has_address || !has_updated) return bad("writer, address or updated_ms missing");
  return r;
}

Status WorkerDirectory::Publish(const WorkerRecord& r) {
  if (!ValidWriterId(r.writer_id)) return Status::InvalidArgument("worker record: bad writer id '" + r.writer_id + "'");
  if (r.address.empty() || r.address.find_first_of("\n ") != std::string::npos)
    return Status::InvalidArgument("worker record: bad address '" + r.address + "'");
  return store_->Replace(Key(r.writer_id), FormatWorkerRecord(r));
}

Status WorkerDirectory::Remove(const std::string& writer_id) {
  Status st = store_->Delete(Key(writer_id));
  if (st.code() == StatusCode::kNotFound) return Status::OK();
  return st;
}

Result<std::vector<WorkerRecord>> WorkerDirectory::List(std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(kPrefix));
  std::vector<WorkerRecord> out;
  for (const std::string& key : keys) {
    auto text = store_->Get(key);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      return text.status();
    }
    auto r = ParseWorkerRecord(*text, key);
    if (!r.ok() || Key(r->writer_id) != key) {
      if (skipped != nullptr) skipped->push_back(key);
      continue;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

std::map<uint32_t, PartitionOwner> WorkerDirectory::Owners(const std::vector<WorkerRecord>& records, int64_t now_ms,
                                                           int64_t max_age_ms) {
  std::map<uint32_t, PartitionOwner> owners;
  std::map<uint32_t, int64_t> updated;
  for (const WorkerRecord& r : records) {
    if (r.updated_ms < now_ms - max_age_ms) continue;
    for (const auto& [p, epoch] : r.partitions) {
      auto it = owners.find(p);
      if (it == owners.end() || epoch > it->second.epoch || (epoch == it->second.epoch && r.updated_ms > updated[p])) {
        owners[p] = {r.writer_id, r.address, epoch};
        updated[p] = r.updated_ms;
      }
    }
  }
  return owners;
}

}  // namespace lf
