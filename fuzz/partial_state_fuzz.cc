// libFuzzer target for the partial-state decoder (src/cluster/partial.h),
// which reads what other workers send over HTTP: any bytes must decode to a
// partial whose partitions are ascending with W <= S, or give Corruption,
// never crash. A decoded partial encodes back to exactly the input (the
// format has one spelling).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cluster/partial.h"

namespace {

void Require(bool cond) {
  if (!cond) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto p = lf::DecodePartial(input, "fuzz");
  if (!p.ok()) {
    Require(p.status().code() == lf::StatusCode::kCorruption);
    return 0;
  }
  for (size_t i = 0; i < p->partitions.size(); ++i) {
    Require(p->partitions[i].batch <= p->partitions[i].speed);
    Require(i == 0 || p->partitions[i - 1].partition < p->partitions[i].partition);
  }
  Require(lf::EncodePartial(*p) == input);
  return 0;
}
