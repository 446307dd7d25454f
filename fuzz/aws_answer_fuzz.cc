// libFuzzer target for what lambdaflow reads from AWS's answers (src/aws):
// any bytes must parse as XML into a tree or give Corruption, never crash;
// base64 must decode or give Corruption, and what decodes encodes back to
// the canonical spelling of the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/base64.h"
#include "aws/xml.h"

namespace {

void Require(bool cond) {
  if (!cond) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto doc = lf::aws::ParseXml(input, "fuzz");
  if (doc.ok()) {
    Require(*doc != nullptr);
    (void)(*doc)->ChildText("Code");
    (void)(*doc)->Children("Contents");
  } else {
    Require(doc.status().code() == lf::StatusCode::kCorruption);
  }
  auto bytes = lf::aws::Base64Decode(input, "fuzz");
  if (bytes.ok()) {
    auto again = lf::aws::Base64Decode(lf::aws::Base64Encode(*bytes), "fuzz");
    Require(again.ok() && *again == *bytes);
  } else {
    Require(bytes.status().code() == lf::StatusCode::kCorruption);
  }
  return 0;
}
