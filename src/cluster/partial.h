// A worker's partial state of one view (docs/formats/partial.md): what
// `GET /v1/internal/partial?view=NAME` answers and what a worker that
// gathers a query (cluster/gather.h) merges. It holds the view's state over
// exactly the partitions the worker owns, and per partition the owner epoch
// it holds it under, W (what its batch state covers) and S (what the state
// covers in all): the state equals the view over events[p][0, S[p]) of
// those partitions and holds nothing of any other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf {

// One partition of a partial: owner epoch, W and S (W <= S).
struct PartitionCover {
  uint32_t partition = 0;
  uint64_t epoch = 0;
  uint64_t batch = 0;  // W[p]
  uint64_t speed = 0;  // S[p]
  bool operator==(const PartitionCover&) const = default;
};

struct Partial {
  std::string writer_id;                   // [A-Za-z0-9._:-]{1,128}, as in manifest versions
  std::string view;                        // the view's name (no newline), as the catalog spells it
  uint64_t fingerprint = 0;                // ViewPlan::fingerprint() of the plan the state was built by
  int64_t caught_up_ms = 0;                // wall clock when the worker's S last equalled the source's end
  std::vector<PartitionCover> partitions;  // ascending, each once
  std::string state;                       // ViewState::Serialize image (docs/formats/view_state.md)
  bool operator==(const Partial&) const = default;
};

// The bytes of `p`; EncodePartial(DecodePartial(b)) == b for every b that
// decodes (one spelling per partial).
std::string EncodePartial(const Partial& p);

// Parses bytes from the network. Corruption naming `what` (e.g. the worker's
// address) and what is wrong: a bad header line, partitions not ascending or
// repeated, W > S, a truncated state, bytes after the end. The state image
// itself is checked when it is loaded (ViewState::Deserialize).
Result<Partial> DecodePartial(std::string_view bytes, const std::string& what);

// The media type of the encoded form.
inline constexpr char kPartialContentType[] = "application/vnd.lambdaflow.partial";

}  // namespace lf
