// The version of the `lambdaflow` binary and the source it was built from.
#pragma once

#include <string>

namespace lf::cli {

// "0.1.0"
const char* Version();
// The git commit of the source tree at build time ("1a2b3c4d5e6f", with
// "-dirty" for uncommitted changes); "" for a build outside a git checkout.
const char* GitCommit();
// "lambdaflow 0.1.0 (commit 1a2b3c4d5e6f)", or "lambdaflow 0.1.0 (built
// outside a git checkout: commit unknown)": what --version prints.
std::string VersionLine();

}  // namespace lf::cli
