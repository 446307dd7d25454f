// The per-group state of every aggregate and its rules, as "ops": a State
// struct plus static Update / Combine / Finalize / Serialize / Deserialize.
// aggregate.cc turns each op into an AggregateStates (one State per group);
// docs/aggregates.md describes the rules and the encodings.
//
// An op declares how it reads its argument:
//   kArg == ArgUse::kNone       COUNT(*): Update(State&)
//   kArg == ArgUse::kValidOnly  COUNT(x): Update(State&, bool non_null)
//   kArg == ArgUse::kValue      Update(State&, Input) for non-NULL rows only
// and kHasHeap when HeapBytes(State) must be added to the memory usage.
// A default-constructed State is the empty state (the identity of Combine).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "agg/hyperloglog.h"
#include "agg/quantile_sketch.h"
#include "agg/state_coding.h"
#include "common/status.h"
#include "common/types.h"

namespace lf::agg_internal {

enum class ArgUse : uint8_t { kNone, kValidOnly, kValue };

// Leading byte of every non-HLL state encoding.
inline constexpr uint8_t kStateVersion = 1;

inline Status Truncated(const char* what) { return Status::Corruption(std::string(what) + " state: truncated"); }

// Reads and checks the version byte.
inline Status ReadVersion(std::string_view* in, const char* what) {
  uint8_t v;
  if (!agg_coding::GetU8(in, &v)) return Truncated(what);
  if (v != kStateVersion) {
    return Status::Corruption(std::string(what) + " state: unknown format version " + std::to_string(v));
  }
  return Status::OK();
}

// Reads a has-value byte that must be 0 or 1.
inline Status ReadFlag(std::string_view* in, const char* what, bool* flag) {
  uint8_t b;
  if (!agg_coding::GetU8(in, &b)) return Truncated(what);
  if (b > 1) return Status::Corruption(std::string(what) + " state: bad flag byte");
  *flag = b == 1;
  return Status::OK();
}

// Neumaier's variant of Kahan summation: `comp` collects the low-order bits
// that `sum` loses, whichever of the two operands is larger.
inline void CompensatedAdd(double* sum, double* comp, double x) {
  const double s = *sum;
  const double t = s + x;
  *comp += std::fabs(s) >= std::fabs(x) ? (s - t) + x : (x - t) + s;
  *sum = t;
}

// Two's complement addition for counters merged from stored states: a
// corrupt-but-well-formed state must not make Combine undefined behavior.
inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline __int128 WrapAdd(__int128 a, __int128 b) {
  return static_cast<__int128>(static_cast<unsigned __int128>(a) + static_cast<unsigned __int128>(b));
}

// Once the sum is infinite or NaN the compensation is meaningless (inf - inf).
inline double CompensatedResult(double sum, double comp) { return std::isfinite(sum) ? sum + comp : sum; }

// ---- COUNT(*) and COUNT(x) -------------------------------------------------

struct CountState {
  int64_t n = 0;
};

template <ArgUse kUse>
struct CountOp {
  using State = CountState;
  static constexpr ArgUse kArg = kUse;
  static constexpr bool kHasHeap = false;
  static constexpr const char* kName = "COUNT";

  static void Update(State& s) { ++s.n; }
  static void Update(State& s, bool non_null) { s.n += non_null; }
  static void Combine(State& s, const State& o) { s.n = WrapAdd(s.n, o.n); }
  static Status Finalize(const State& s, TypeId, Value* out) {
    *out = Value::Int(s.n);
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) {
    agg_coding::PutU8(out, kStateVersion);
    agg_coding::PutI64(out, s.n);
  }
  static Status Deserialize(std::string_view* in, State* s) {
    RETURN_IF_ERROR(ReadVersion(in, kName));
    if (!agg_coding::GetI64(in, &s->n)) return Truncated(kName);
    if (s->n < 0) return Status::Corruption("COUNT state: negative count");
    return Status::OK();
  }
  static size_t HeapBytes(const State&) { return 0; }
};

// ---- SUM(INT | BIGINT) -------------------------------------------------------

// The sum is kept in 128 bits, so the result (and whether it overflows
// BIGINT) depends only on the multiset of inputs, not on the order of updates
// and combines: MAX + 1 - 1 is MAX however it is split. Only the 128-bit
// accumulator overflowing (which needs ~2^64 rows) sets `overflow` directly.
struct SumIntState {
  __int128 sum = 0;
  bool has = false;
  bool overflow = false;
};

struct SumIntOp {
  using State = SumIntState;
  using Input = int64_t;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = false;
  static constexpr const char* kName = "SUM";

  static void Update(State& s, int64_t x) {
    s.overflow |= __builtin_add_overflow(s.sum, static_cast<__int128>(x), &s.sum);
    s.has = true;
  }
  static void Combine(State& s, const State& o) {
    if (!o.has) return;
    s.overflow |= o.overflow | __builtin_add_overflow(s.sum, o.sum, &s.sum);
    s.has = true;
  }
  static Status Finalize(const State& s, TypeId, Value* out) {
    if (!s.has) {
      *out = Value::Null(TypeId::kBigInt);
      return Status::OK();
    }
    if (s.overflow || s.sum > std::numeric_limits<int64_t>::max() || s.sum < std::numeric_limits<int64_t>::min()) {
      return Status::OutOfRange("integer overflow in SUM: the sum exceeds BIGINT; use SUM(CAST(x AS DOUBLE))");
    }
    *out = Value::Int(static_cast<int64_t>(s.sum));
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) {
    agg_coding::PutU8(out, kStateVersion);
    agg_coding::PutU8(out, static_cast<uint8_t>(s.has | (s.overflow << 1)));
    agg_coding::PutI128(out, s.sum);
  }
  static Status Deserialize(std::string_view* in, State* s) {
    RETURN_IF_ERROR(ReadVersion(in, kName));
    uint8_t flags;
    if (!agg_coding::GetU8(in, &flags) || !agg_coding::GetI128(in, &s->sum)) return Truncated(kName);
    // Overflow implies has; an empty state has a zero sum.
    if (flags == 2 || flags > 3 || (flags == 0 && s->sum != 0)) return Status::Corruption("SUM state: bad flags");
    s->has = flags & 1;
    s->overflow = flags & 2;
    return Status::OK();
  }
  static size_t HeapBytes(const State&) { return 0; }
};

// ---- SUM(DOUBLE) ---------------------------------------------------------------

struct SumDoubleState {
  double sum = 0;
  double comp = 0;  // compensation: the true sum is sum + comp
  bool has = false;
};

struct SumDoubleOp {
  using State = SumDoubleState;
  using Input = double;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = false;
  static constexpr const char* kName = "SUM";

  static void Update(State& s, double x) {
    CompensatedAdd(&s.sum, &s.comp, x);
    s.has = true;
  }
  static void Combine(State& s, const State& o) {
    if (!o.has) return;
    CompensatedAdd(&s.sum, &s.comp, o.sum);
    s.comp += o.comp;
    s.has = true;
  }
  static Status Finalize(const State& s, TypeId, Value* out) {
    *out = s.has ? Value::Double(CompensatedResult(s.sum, s.comp)) : Value::Null(TypeId::kDouble);
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) {
    agg_coding::PutU8(out, kStateVersion);
    agg_coding::PutU8(out, s.has);
    agg_coding::PutF64(out, s.sum);
    agg_coding::PutF64(out, s.comp);
  }
  static Status Deserialize(std::string_view* in, State* s) {
    RETURN_IF_ERROR(ReadVersion(in, kName));
    RETURN_IF_ERROR(ReadFlag(in, kName, &s->has));
    if (!agg_coding::GetF64(in, &s->sum) || !agg_coding::GetF64(in, &s->comp)) return Truncated(kName);
    return Status::OK();
  }
  static size_t HeapBytes(const State&) { return 0; }
};

// ---- AVG -------------------------------------------------------------------------

// Integer AVG: exact 128-bit sum. |sum| <= count * 2^63 always holds, so with
// fewer than 2^63 rows the sum cannot overflow.
struct AvgIntState {
  __int128 sum = 0;
  int64_t count = 0;
};

struct AvgIntOp {
  using State = AvgIntState;
  using Input = int64_t;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = false;
  static constexpr const char* kName = "AVG";

  static void Update(State& s, int64_t x) {
    s.sum += x;
    ++s.count;
  }
  static void Combine(State& s, const State& o) {
    s.sum = WrapAdd(s.sum, o.sum);
    s.count = WrapAdd(s.count, o.count);
  }
  static Status Finalize(const State& s, TypeId, Value* out) {
    *out = s.count == 0 ? Value::Null(TypeId::kDouble)
                        : Value::Double(static_cast<double>(s.sum) / static_cast<double>(s.count));
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) {
    agg_coding::PutU8(out, kStateVersion);
    agg_coding::PutI64(out, s.count);
    agg_coding::PutI128(out, s.sum);
  }
  static Status Deserialize(std::string_view* in, State* s) {
    RETURN_IF_ERROR(ReadVersion(in, kName));
    if (!agg_coding::GetI64(in, &s->count) || !agg_coding::GetI128(in, &s->sum)) return Truncated(kName);
    // Keeps the bound that makes later additions overflow-free.
    const __int128 bound = static_cast<__int128>(s->count) << 63;
    if (s->count < 0 || s->sum > bound || s->sum < -bound) return Status::Corruption("AVG state: sum out of range");
    return Status::OK();
  }
  static size_t HeapBytes(const State&) { return 0; }
};

struct AvgDoubleState {
  double sum = 0;
  double comp = 0;
  int64_t count = 0;
};

struct AvgDoubleOp {
  using State = AvgDoubleState;
  using Input = double;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = false;
  static constexpr const char* kName = "AVG";

  static void Update(State& s, double x) {
    CompensatedAdd(&s.sum, &s.comp, x);
    ++s.count;
  }
  static void Combine(State& s, const State& o) {
    if (o.count == 0) return;
    CompensatedAdd(&s.sum, &s.comp, o.sum);
    s.comp += o.comp;
    s.count = WrapAdd(s.count, o.count);
  }
  static Status Finalize(const State& s, TypeId, Value* out) {
    *out = s.count == 0 ? Value::Null(TypeId::kDouble)
                        : Value::Double(CompensatedResult(s.sum, s.comp) / static_cast<double>(s.count));
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) {
    agg_coding::PutU8(out, kStateVersion);
    agg_coding::PutI64(out, s.count);
    agg_coding::PutF64(out, s.sum);
    agg_coding::PutF64(out, s.comp);
  }
  static Status Deserialize(std::string_view* in, State* s) {
    RETURN_IF_ERROR(ReadVersion(in, kName));
    if (!agg_coding::GetI64(in, &s->count) || !agg_coding::GetF64(in, &s->sum) || !agg_coding::GetF64(in, &s->comp)) {
      return Truncated(kName);
    }
    if (s->count < 0) return Status::Corruption("AVG state: negative count");
    return Status::OK();
  }
  static size_t HeapBytes(const State&) { return 0; }
};

// ---- MIN / MAX --------------------------------------------------------------------

// Orders of the three physical types. Doubles use IEEE totalOrder with every
// NaN folded into one NaN above +inf, so that MIN/MAX do not depend on the
// order of the input (plain < would let -0.0 vs 0.0 and NaN depend on it).
struct IntOrder {
  static bool Less(int64_t a, int64_t b) { return a < b; }
};
struct DoubleOrder {
  static int64_t Key(double x) {
    if (x != x) return std::numeric_limits<int64_t>::max();
    const auto bits = std::bit_cast<int64_t>(x);
    return bits ^ ((bits >> 63) & std::numeric_limits<int64_t>::max());
  }
  static bool Less(double a, double b) { return Key(a) < Key(b); }
};
struct TextOrder {  // bytewise, as memcmp
  static bool Less(std::string_view a, std::string_view b) { return a < b; }
};

template <typename T>
struct MinMaxState {
  T v{};
  bool has = false;
};

template <typename In, typename Stored, typename Order, bool kIsMax>
struct MinMaxOp {
  using State = MinMaxState<Stored>;
  using Input = In;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = std::is_same_v<Stored, std::string>;
  static constexpr const char* kName = kIsMax ? "MAX" : "MIN";

  static bool Better(Input x, const Stored& cur) {
    if constexpr (kIsMax) {
      return Order::Less(cur, x);
    } else {
      return Order::Less(x, cur);
    }
  }
  static void Update(State& s, Input x) {
    if (!s.has || Better(x, s.v)) {
      s.v = x;
      s.has = true;
    }
  }
  static void Combine(State& s, const State& o) {
    if (o.has) Update(s, o.v);
  }
  static Status Finalize(const State& s, TypeId type, Value* out) {
    if (!s.has) {
      *out = Value::Null(type);
    } else if constexpr (std::is_same_v<Stored, std::string>) {
      *out = Value::Text(s.v);
    } else if constexpr (std::is_same_v<Stored, double>) {
      *out = Value::Double(s.v);
    } else {
      *out = Value::Int(s.v, type);
    }
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) {
    agg_coding::PutU8(out, kStateVersion);
    agg_coding::PutU8(out, s.has);
    if (!s.has) return;
    if constexpr (std::is_same_v<Stored, std::string>) {
      agg_coding::PutU32(out, static_cast<uint32_t>(s.v.size()));
      out->append(s.v);
    } else if constexpr (std::is_same_v<Stored, double>) {
      agg_coding::PutF64(out, s.v);
    } else {
      agg_coding::PutI64(out, s.v);
    }
  }
  static Status Deserialize(std::string_view* in, State* s) {
    RETURN_IF_ERROR(ReadVersion(in, kName));
    RETURN_IF_ERROR(ReadFlag(in, kName, &s->has));
    if (!s->has) return Status::OK();
    if constexpr (std::is_same_v<Stored, std::string>) {
      uint32_t n;
      if (!agg_coding::GetU32(in, &n) || in->size() < n) return Truncated(kName);
      s->v.assign(in->data(), n);
      in->remove_prefix(n);
    } else if constexpr (std::is_same_v<Stored, double>) {
      if (!agg_coding::GetF64(in, &s->v)) return Truncated(kName);
    } else {
      if (!agg_coding::GetI64(in, &s->v)) return Truncated(kName);
    }
    return Status::OK();
  }
  static size_t HeapBytes(const State& s) {
    if constexpr (std::is_same_v<Stored, std::string>) {
      // Strings that fit the small-string buffer own no heap memory.
      return s.v.capacity() > std::string().capacity() ? s.v.capacity() + 1 : 0;
    } else {
      return 0;
    }
  }
};

// ---- APPROX_COUNT_DISTINCT ------------------------------------------------------------

template <typename In>
struct HllOp {
  using State = HyperLogLog;
  using Input = In;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = true;
  static constexpr const char* kName = "APPROX_COUNT_DISTINCT";

  static void Update(State& s, In x) { s.AddHash(HyperLogLog::Hash(x)); }
  static void Combine(State& s, const State& o) { s.Merge(o); }
  static Status Finalize(const State& s, TypeId, Value* out) {
    *out = Value::Int(static_cast<int64_t>(s.Estimate()));
    return Status::OK();
  }
  static void Serialize(const State& s, std::string* out) { s.Serialize(out); }
  static Status Deserialize(std::string_view* in, State* s) { return HyperLogLog::Deserialize(in, s); }
  static size_t HeapBytes(const State& s) { return s.MemoryUsage(); }
};

// ---- APPROX_QUANTILE(x, q), APPROX_MEDIAN(x) ----------------------------------

// One sketch per group, shared by every quantile of the same argument and
// FILTER in a view: the plan finalizes it once per quantile asked for.
template <typename In>
struct QuantileOp {
  using State = QuantileSketch;
  using Input = In;
  static constexpr ArgUse kArg = ArgUse::kValue;
  static constexpr bool kHasHeap = true;
  static constexpr bool kHasQuantile = true;
  static constexpr const char* kName = "APPROX_QUANTILE";

  static void Update(State& s, In x) { s.Add(static_cast<double>(x)); }
  static void Combine(State& s, const State& o) { s.Merge(o); }
  static Status FinalizeQuantile(const State& s, double q, Value* out) {
    auto v = s.Quantile(q);
    *out = v ? Value::Double(*v) : Value::Null(TypeId::kDouble);
    return Status::OK();
  }
  static Status Finalize(const State& s, TypeId, Value* out) { return FinalizeQuantile(s, 0.5, out); }
  static void Serialize(const State& s, std::string* out) { s.Serialize(out); }
  static Status Deserialize(std::string_view* in, State* s) { return QuantileSketch::Deserialize(in, s); }
  static size_t HeapBytes(const State& s) { return s.MemoryUsage(); }
};

}  // namespace lf::agg_internal
