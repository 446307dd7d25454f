// Idempotent producers: the last batch of every producer, as the log
// remembers it. A batch appended with a producer id and sequence number is
// framed with them in the log (log_format.h), so the table is rebuilt from
// the log on recovery; when sealed log segments are reclaimed, the table as
// of the new log start is kept in a checkpoint file (docs/formats/log.md).
//
// The rule (Kafka's idempotent producer, with a window of one batch):
//   unknown producer            any seq is accepted (a new producer);
//   seq == last + 1             the next batch: appended;
//   seq == last                 a retry of the last batch: answered with the
//                               offsets it was given, not appended again;
//   anything else               out of order: refused.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace lf {

// At most this many bytes in a producer id.
inline constexpr size_t kMaxProducerIdBytes = 64;

// A batch's producer tag: who sent it and its sequence number.
struct ProducerBatch {
  std::string id;  // 1..kMaxProducerIdBytes bytes, any content
  uint64_t seq = 0;
};

// What the table remembers of a producer: its last batch and the offsets
// [from, to) it was given (from == to when it held no accepted event).
struct ProducerLast {
  uint64_t seq = 0;
  uint64_t from = 0, to = 0;
  bool operator==(const ProducerLast&) const = default;
};

// Not thread-safe (the log guards it).
class ProducerTable {
 public:
  // The table keeps at most this many producers; beyond it, the producer
  // whose last batch ended lowest in the log is forgotten (a retry of its
  // last batch would then be appended again).
  static constexpr size_t kMaxProducers = 100'000;

  enum class Verdict { kAppend, kDuplicate, kOutOfOrder };
  struct Check {
    Verdict verdict = Verdict::kAppend;
    ProducerLast last;  // kDuplicate, kOutOfOrder: what the table holds
  };
  Check Classify(const ProducerBatch& b) const;

  // Records `b` as its producer's last batch, given offsets [from, to).
  void Record(std::string_view id, uint64_t seq, uint64_t from, uint64_t to);

  std::optional<ProducerLast> Find(std::string_view id) const;
  size_t size() const { return last_.size(); }
  bool operator==(const ProducerTable& o) const { return last_ == o.last_; }

  // The checkpoint file's text (docs/formats/log.md, "Producer checkpoint"),
  // the table as of log offset `as_of`.
  std::string Encode(uint64_t as_of) const;
  // Parses a checkpoint; Corruption naming `name` on any damage.
  static Result<ProducerTable> Decode(std::string_view text, const std::string& name, uint64_t* as_of);

  // "the last batch of producer 'x' was seq 7 (offsets [10, 20))".
  static std::string Describe(std::string_view id, const ProducerLast& last);

 private:
  std::map<std::string, ProducerLast, std::less<>> last_;
  std::set<std::pair<uint64_t, std::string>> by_end_;  // (to, id): eviction order
};

}  // namespace lf
