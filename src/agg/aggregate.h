// Aggregate functions as mergeable state machines (init / update / combine /
// finalize). One implementation serves the batch layer, the speed layer and
// the serving layer: states built from any split of the input combine to the
// same result as one pass.
//
// An AggregateFunction is immutable and part of a compiled plan. Its mutable
// part is an AggregateStates: one state per group, indexed by group id,
// grown with Resize(). AggregateStates is not thread-safe; each thread of a
// driver keeps its own and the driver combines them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/types.h"
#include "common/vector.h"

namespace lf {

enum class AggKind : uint8_t {
  kCountStar,  // COUNT(*)
  kCount,      // COUNT(x): non-NULL x
  kSum,        // SUM(x): integer sum exact (overflow is an error), DOUBLE compensated
  kMin,
  kMax,
  kAvg,                  // AVG(x) -> DOUBLE, state (sum, count)
  kApproxCountDistinct,  // APPROX_COUNT_DISTINCT(x): HyperLogLog -> BIGINT
  kApproxQuantile,       // APPROX_QUANTILE(x, q), APPROX_MEDIAN(x): QuantileSketch -> DOUBLE
};

const char* AggKindName(AggKind kind);  // "COUNT", "SUM", ...

// The states of one aggregate for every group of one plan execution.
class AggregateStates {
 public:
  virtual ~AggregateStates() = default;

  // Number of groups held.
  virtual size_t size() const = 0;
  // Grows to `groups` states; new states are initialized (empty).
  virtual void Resize(size_t groups) = 0;
  // Makes room for `groups` states without creating them (a size hint).
  virtual void Reserve(size_t groups) { (void)groups; }
  // For k in [0, count): updates state groups[k] with row rows[k] of `arg`.
  // `arg` is nullptr for COUNT(*). NULL inputs are ignored (as in SQL).
  virtual void Update(const uint32_t* groups, const uint32_t* rows, size_t count, const Vector* arg) = 0;
  // For g in [0, other.size()): state[target[g]] = state[target[g]] ⊕ other.state[g].
  // `other` must come from the same AggregateFunction.
  virtual void Combine(const AggregateStates& other, const uint32_t* target) = 0;
  // The SQL result of group `g`. Fails with OutOfRange on integer SUM overflow.
  virtual Status Finalize(size_t g, Value* out) const = 0;
  // Finalize of groups gids[0..n) into rows 0..n-1 of `out` (a vector of
  // the result's physical type; text copied into `arena`). On failure
  // returns Finalize's error and sets *failed to the index k that failed.
  // The default calls Finalize per group; StatesOf does it without a
  // virtual call per group.
  virtual Status FinalizeInto(const uint32_t* gids, size_t n, Vector* out, StringArena* arena, size_t* failed) const {
    Value v;
    for (size_t k = 0; k < n; ++k) {
      Status st = Finalize(gids[k], &v);
      if (!st.ok()) {
        *failed = k;
        return st;
      }
      out->SetValue(k, v, arena);
    }
    return Status::OK();
  }
  // APPROX_QUANTILE: the q-quantile of group `g` (one state serves every q).
  virtual Status FinalizeQuantile(size_t g, double q, Value* out) const {
    return Status::InvalidArgument("not a quantile aggregate");
  }
  // Appends a self-delimiting binary encoding of state `g` to `out`, and
  // reads one back into state `g` (which is overwritten), advancing `in`.
  // The encoding is specified in docs/aggregates.md.
  virtual void Serialize(size_t g, std::string* out) const = 0;
  virtual Status Deserialize(size_t g, std::string_view* in) = 0;
  // Approximate heap bytes held, for memory accounting.
  virtual size_t MemoryUsage() const = 0;
  // An independent copy of every state.
  virtual std::unique_ptr<AggregateStates> Clone() const = 0;
};

class AggregateFunction {
 public:
  // Checks that `kind` accepts `arg_type` (kNull for COUNT(*)) and fixes the
  // result type. Errors say why and what to use instead, e.g. SUM(TEXT).
  static Result<std::unique_ptr<AggregateFunction>> Make(AggKind kind, TypeId arg_type);

  AggKind kind() const { return kind_; }
  TypeId arg_type() const { return arg_type_; }
  TypeId result_type() const { return result_type_; }
  std::unique_ptr<AggregateStates> NewStates() const;

 private:
  AggregateFunction(AggKind kind, TypeId arg, TypeId result) : kind_(kind), arg_type_(arg), result_type_(result) {}
  const AggKind kind_;
  const TypeId arg_type_;
  const TypeId result_type_;
};

}  // namespace lf
