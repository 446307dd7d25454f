// Small helpers shared by the subcommands: mapping a Status to an exit
// code and a message, and writing files with every error checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lf::cli {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // I/O errors, corrupt data, internal errors
inline constexpr int kExitUsage = 2;    // bad SQL, bad flags, bad arguments

// Prints "lambdaflow: <message>" to stderr; returns the exit code for it.
int ReportError(const Status& status);

// "malformed_json: 1, wrong_type: 2" for the non-zero counts of a
// per-reason array (kNumRejectReasons long); "" when all are zero.
std::string RejectReasonCounts(const uint64_t* by_reason);

// Writes `data` to `path` (truncating), or to stdout for "-"; reports a
// full disk or any other write error with the path.
Status WriteFile(const std::string& path, std::string_view data);
Status WriteStdout(std::string_view data);

}  // namespace lf::cli
