#include "server/producer_headers.h"

namespace lf {

Result<std::optional<ProducerBatch>> ParseProducerHeaders(const std::optional<std::string>& id,
                                                          const std::optional<std::string>& seq) {
  if (!id && !seq) return std::optional<ProducerBatch>();
  if (!id || !seq) {
    return Status::InvalidArgument(std::string("an idempotent producer sends both ") + kProducerIdHeader + " and " +
                                   kProducerSeqHeader + "; this request has only " +
                                   (id ? kProducerIdHeader : kProducerSeqHeader));
  }
  if (id->empty() || id->size() > kMaxProducerIdBytes) {
    return Status::InvalidArgument(std::string(kProducerIdHeader) + " must have 1 to " +
                                   std::to_string(kMaxProducerIdBytes) + " bytes; it has " +
                                   std::to_string(id->size()));
  }
  const std::string& s = *seq;
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 20 && (s.size() == 1 || s[0] != '0');
  for (char c : s) {
    if (!ok) break;
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + d;
  }
  if (!ok) {
    return Status::InvalidArgument(std::string(kProducerSeqHeader) + " must be a decimal number from 0 to " +
                                   std::to_string(UINT64_MAX) + " without leading zeros; got '" + s.substr(0, 40) +
                                   "'");
  }
  return std::optional<ProducerBatch>(ProducerBatch{*id, v});
}

}  // namespace lf
