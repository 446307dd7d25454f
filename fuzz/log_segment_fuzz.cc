// libFuzzer target for log recovery and the producer checkpoint: the input
// is split in two at its first byte: the rest's first part becomes the last
// segment file of a log partition (after a valid version-2 header, so that
// the records are reached), the second a PRODUCERS checkpoint. Opening the
// log must succeed or fail with a Status, never crash; when it opens, every
// event it reports must be readable, and appends must continue at its end.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/testing/fault_file_system.h"
#include "log/log.h"
#include "log/log_format.h"

namespace {

void Require(bool cond) {
  if (!cond) __builtin_trap();
}

void Write(lf::FileSystem& fs, const std::string& path, std::string_view data) {
  auto f = fs.NewWritableFile(path);
  Require(f.ok());
  Require((*f)->Append(data).ok());
  Require((*f)->Close().ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = std::min<size_t>(static_cast<uint8_t>(in[0]) * 16, in.size() - 1);
  const std::string_view records = in.substr(1, cut);
  const std::string_view checkpoint = in.substr(1 + cut);

  lf::FaultFileSystem fs(1);
  Require(fs.CreateDirs("/log/p0").ok());
  std::string segment(lf::logfmt::kHeaderSize, '\0');
  lf::logfmt::EncodeHeader(0, 0, segment.data());
  segment.append(records);
  Write(fs, "/log/p0/00000000000000000000.log", segment);
  if (!checkpoint.empty()) Write(fs, "/log/p0/PRODUCERS", checkpoint);

  lf::LogOptions opts;
  opts.fsync = lf::FsyncPolicy::kNone;
  auto log = lf::Log::Open(&fs, "/log", opts, nullptr);
  if (!log.ok()) return 0;
  const uint64_t start = (*log)->start_offset(0), end = (*log)->end_offset(0);
  uint64_t next = start;
  lf::Status st = (*log)->Read(0, start, end, [&](uint64_t off, std::string_view) {
    Require(off == next++);
    return lf::Status::OK();
  });
  Require(st.ok());
  Require(next == end);
  const std::vector<std::string_view> more = {"{}"};
  lf::ProducerBatch b{"fuzz", 0};
  auto r = (*log)->AppendNoWait(0, more, &b);
  if (r.ok() && !r->duplicate) Require(r->range.from == end);
  return 0;
}
