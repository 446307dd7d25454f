// libFuzzer target for the partition manifest decoder (src/store): any bytes
// must decode to a version that satisfies the content invariants, or give
// Corruption / Unimplemented, never crash. A decoded version encodes back to
// exactly the input (the format has one spelling per version).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/partition_manifest.h"

namespace {

void Require(bool cond) {
  if (!cond) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto m = lf::DecodePartitionManifest(input, "fuzz");
  if (!m.ok()) {
    Require(m.status().code() == lf::StatusCode::kCorruption || m.status().code() == lf::StatusCode::kUnimplemented);
    return 0;
  }
  Require(m->content.Validate().ok());
  Require(m->previous + 1 == m->version);
  Require(lf::EncodePartitionManifest(*m) == input);
  return 0;
}
