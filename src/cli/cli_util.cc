#include "cli/cli_util.h"

#include <cerrno>
#include <cstdio>

#include "ingest/json_decoder.h"

namespace lf::cli {

std::string RejectReasonCounts(const uint64_t* by_reason) {
  std::string out;
  for (int r = 0; r < kNumRejectReasons; ++r) {
    if (!by_reason[r]) continue;
    if (!out.empty()) out += ", ";
    out += std::string(RejectReasonName(static_cast<RejectReason>(r))) + ": " + std::to_string(by_reason[r]);
  }
  return out;
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "lambdaflow: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

namespace {
Status WriteAll(std::FILE* f, std::string_view data, const std::string& name) {
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), f) != data.size())
    return Status::FromErrno(errno, "cannot write " + name);
  if (std::fflush(f) != 0) return Status::FromErrno(errno, "cannot write " + name);
  return Status::OK();
}
}  // namespace

Status WriteFile(const std::string& path, std::string_view data) {
  if (path == "-") return WriteStdout(data);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::FromErrno(errno, "cannot create '" + path + "'");
  Status st = WriteAll(f, data, "'" + path + "'");
  if (std::fclose(f) != 0 && st.ok()) st = Status::FromErrno(errno, "cannot write '" + path + "'");
  return st;
}

Status WriteStdout(std::string_view data) { return WriteAll(stdout, data, "standard output"); }

}  // namespace lf::cli
