// AggregateFunction: type checking of kind x argument type, and one
// struct-of-arrays AggregateStates template over the ops of states.h.
#include "agg/aggregate.h"

#include <algorithm>
#include <vector>

#include "agg/states.h"

namespace lf {

namespace {

using agg_internal::ArgUse;

template <typename T>
const T* DataOf(const Vector& v) {
  if constexpr (std::is_same_v<T, int64_t>) {
    return v.ints.data();
  } else if constexpr (std::is_same_v<T, double>) {
    return v.dbls.data();
  } else {
    static_assert(std::is_same_v<T, std::string_view>);
    return v.strs.data();
  }
}

// The states of one op for every group: a plain vector of State indexed by
// group id. Update is the hot path: the argument's physical array and the
// validity bytes are resolved once per call, then one tight loop per call
// with no virtual call and no allocation per row (except when a TEXT MIN/MAX
// takes a new longer string or an HLL sparse list grows).
template <typename Op>
class StatesOf final : public AggregateStates {
 public:
  using State = typename Op::State;

  StatesOf(TypeId arg_type, TypeId result_type) : arg_type_(arg_type), result_type_(result_type) {}

  size_t size() const override { return states_.size(); }

  void Resize(size_t groups) override {
    if (groups <= states_.size()) return;
    // Grow by a quarter rather than doubling: a large served state that
    // gains a few groups after a swap keeps little unused capacity.
    if (groups > states_.capacity())
      states_.reserve(std::max(groups, states_.capacity() + states_.capacity() / 4 + 64));
    states_.resize(groups);
  }
  void Reserve(size_t groups) override { states_.reserve(groups); }

  void Update(const uint32_t* groups, const uint32_t* rows, size_t count, const Vector* arg) override {
    State* s = states_.data();
    if constexpr (Op::kArg == ArgUse::kNone) {
      for (size_t k = 0; k < count; ++k) Op::Update(s[groups[k]]);
    } else {
      CHECK(arg != nullptr && PhysicalOf(arg->type) == PhysicalOf(arg_type_), "aggregate argument of the wrong type");
      const uint8_t* valid = arg->valid.data();
      if constexpr (Op::kArg == ArgUse::kValidOnly) {
        for (size_t k = 0; k < count; ++k) Op::Update(s[groups[k]], valid[rows[k]] != 0);
      } else {
        const auto* data = DataOf<typename Op::Input>(*arg);
        for (size_t k = 0; k < count; ++k) {
          const uint32_t r = rows[k];
          if (valid[r]) Op::Update(s[groups[k]], data[r]);
        }
      }
    }
  }

  void Combine(const AggregateStates& other, const uint32_t* target) override {
    const auto* o = dynamic_cast<const StatesOf*>(&other);
    CHECK(o != nullptr, "Combine of states from a different aggregate");
    const size_t n = o->states_.size();
    const size_t size = states_.size();
    for (size_t g = 0; g < n; ++g) {
      CHECK(target[g] < size, "Combine target group out of range; Resize first");
      Op::Combine(states_[target[g]], o->states_[g]);
    }
  }

  Status Finalize(size_t g, Value* out) const override {
    CHECK(g < states_.size(), "Finalize of a group out of range");
    return Op::Finalize(states_[g], result_type_, out);
  }

  Status FinalizeInto(const uint32_t* gids, size_t n, Vector* out, StringArena* arena, size_t* failed) const override {
    Value v;
    const State* s = states_.data();
    const size_t size = states_.size();
    for (size_t k = 0; k < n; ++k) {
      CHECK(gids[k] < size, "Finalize of a group out of range");
      // Groups come in key order, scattered over the state array: fetch
      // the state of the group eight ahead while this one is finalized.
      if (k + 8 < n) __builtin_prefetch(&s[gids[k + 8]]);
      Status st = Op::Finalize(s[gids[k]], result_type_, &v);
      if (!st.ok()) [[unlikely]] {
        *failed = k;
        return st;
      }
      if (v.is_null) {
        out->SetNull(k);
      } else if (v.type == TypeId::kDouble && PhysicalOf(out->type) == PhysicalType::kDouble) {
        out->SetDouble(k, v.d);
      } else if (v.type != TypeId::kDouble && PhysicalOf(out->type) == PhysicalType::kInt64) {
        out->SetInt(k, v.i);
      } else {
        out->SetValue(k, v, arena);
      }
    }
    return Status::OK();
  }

  Status FinalizeQuantile(size_t g, double q, Value* out) const override {
    if constexpr (requires { Op::kHasQuantile; }) {
      CHECK(g < states_.size(), "Finalize of a group out of range");
      return Op::FinalizeQuantile(states_[g], q, out);
    } else {
      return AggregateStates::FinalizeQuantile(g, q, out);
    }
  }

  void Serialize(size_t g, std::string* out) const override {
    CHECK(g < states_.size(), "Serialize of a group out of range");
    Op::Serialize(states_[g], out);
  }

  Status Deserialize(size_t g, std::string_view* in) override {
    CHECK(g < states_.size(), "Deserialize into a group out of range");
    std::string_view rest = *in;
    State s;
    RETURN_IF_ERROR(Op::Deserialize(&rest, &s));
    states_[g] = std::move(s);
    *in = rest;
    return Status::OK();
  }

  std::unique_ptr<AggregateStates> Clone() const override { return std::make_unique<StatesOf>(*this); }

  size_t MemoryUsage() const override {
    size_t bytes = states_.capacity() * sizeof(State);
    if constexpr (Op::kHasHeap) {
      for (const State& s : states_) bytes += Op::HeapBytes(s);
    }
    return bytes;
  }

 private:
  const TypeId arg_type_;
  const TypeId result_type_;
  std::vector<State> states_;
};

template <typename Op>
std::unique_ptr<AggregateStates> New(TypeId arg, TypeId result) {
  return std::make_unique<StatesOf<Op>>(arg, result);
}

// MIN or MAX over the argument's physical type.
template <bool kIsMax>
std::unique_ptr<AggregateStates> NewMinMax(TypeId arg) {
  using namespace agg_internal;
  switch (PhysicalOf(arg)) {
    case PhysicalType::kInt64:
      return New<MinMaxOp<int64_t, int64_t, IntOrder, kIsMax>>(arg, arg);
    case PhysicalType::kDouble:
      return New<MinMaxOp<double, double, DoubleOrder, kIsMax>>(arg, arg);
    case PhysicalType::kString:
      return New<MinMaxOp<std::string_view, std::string, TextOrder, kIsMax>>(arg, arg);
  }
  return nullptr;
}

std::string Call(AggKind kind, TypeId arg) { return std::string(AggKindName(kind)) + "(" + TypeName(arg) + ")"; }

// Why SUM/AVG refuse a non-numeric argument, and what to write instead.
Status NotNumeric(AggKind kind, TypeId arg) {
  const std::string call = Call(kind, arg);
  const std::string fn = AggKindName(kind);
  switch (arg) {
    case TypeId::kNull:
      return Status::InvalidArgument(call + ": the argument is an untyped NULL; cast it, e.g. " + fn +
                                     "(CAST(NULL AS BIGINT))");
    case TypeId::kBoolean:
      return Status::InvalidArgument(call + " is not defined: " + fn +
                                     " needs INT, BIGINT or DOUBLE; to count true rows use SUM(CASE WHEN x THEN 1 "
                                     "ELSE 0 END)");
    case TypeId::kText:
      return Status::InvalidArgument(call + " is not defined: " + fn +
                                     " needs INT, BIGINT or DOUBLE; convert the text, e.g. " + fn +
                                     "(CAST(x AS DOUBLE))");
    case TypeId::kTimestamp:
      return Status::InvalidArgument(call +
                                     " is not defined: adding points in time has no meaning; use MIN or "
                                     "MAX, or aggregate a number derived from the timestamp");
    default:
      return Status::InvalidArgument(call + " is not defined: " + fn + " needs INT, BIGINT or DOUBLE");
  }
}

}  // namespace

const char* AggKindName(AggKind kind) {
  switch (kind) {
    case AggKind::kCountStar:
      return "COUNT";
    case AggKind::kCount:
      return "COUNT";
    case AggKind::kSum:
      return "SUM";
    case AggKind::kMin:
      return "MIN";
    case AggKind::kMax:
      return "MAX";
    case AggKind::kAvg:
      return "AVG";
    case AggKind::kApproxCountDistinct:
      return "APPROX_COUNT_DISTINCT";
    case AggKind::kApproxQuantile:
      return "APPROX_QUANTILE";
  }
  return "?";
}

Result<std::unique_ptr<AggregateFunction>> AggregateFunction::Make(AggKind kind, TypeId arg) {
  TypeId result = TypeId::kNull;
  switch (kind) {
    case AggKind::kCountStar:
      if (arg != TypeId::kNull) return Status::InvalidArgument("COUNT(*) takes no argument");
      result = TypeId::kBigInt;
      break;
    case AggKind::kCount:
    case AggKind::kApproxCountDistinct:
      result = TypeId::kBigInt;  // any argument; an untyped NULL just counts nothing
      break;
    case AggKind::kSum:
      if (!IsNumeric(arg)) return NotNumeric(kind, arg);
      result = IsInteger(arg) ? TypeId::kBigInt : TypeId::kDouble;
      break;
    case AggKind::kAvg:
    case AggKind::kApproxQuantile:
      if (!IsNumeric(arg)) return NotNumeric(kind, arg);
      result = TypeId::kDouble;
      break;
    case AggKind::kMin:
    case AggKind::kMax:
      if (arg == TypeId::kNull) {
        return Status::InvalidArgument(Call(kind, arg) + ": the argument is an untyped NULL; cast it, e.g. " +
                                       AggKindName(kind) + "(CAST(NULL AS BIGINT))");
      }
      result = arg;
      break;
    default:
      return Status::InvalidArgument("unknown aggregate kind " + std::to_string(static_cast<int>(kind)));
  }
  return std::unique_ptr<AggregateFunction>(new AggregateFunction(kind, arg, result));
}

std::unique_ptr<AggregateStates> AggregateFunction::NewStates() const {
  using namespace agg_internal;
  const TypeId arg = arg_type_;
  const TypeId res = result_type_;
  const PhysicalType phys = PhysicalOf(arg);
  switch (kind_) {
    case AggKind::kCountStar:
      return New<CountOp<ArgUse::kNone>>(arg, res);
    case AggKind::kCount:
      return New<CountOp<ArgUse::kValidOnly>>(arg, res);
    case AggKind::kSum:
      return phys == PhysicalType::kDouble ? New<SumDoubleOp>(arg, res) : New<SumIntOp>(arg, res);
    case AggKind::kAvg:
      return phys == PhysicalType::kDouble ? New<AvgDoubleOp>(arg, res) : New<AvgIntOp>(arg, res);
    case AggKind::kMin:
      return NewMinMax<false>(arg);
    case AggKind::kMax:
      return NewMinMax<true>(arg);
    case AggKind::kApproxCountDistinct:
      switch (phys) {
        case PhysicalType::kInt64:
          return New<HllOp<int64_t>>(arg, res);
        case PhysicalType::kDouble:
          return New<HllOp<double>>(arg, res);
        case PhysicalType::kString:
          return New<HllOp<std::string_view>>(arg, res);
      }
      break;
    case AggKind::kApproxQuantile:
      return phys == PhysicalType::kDouble ? New<QuantileOp<double>>(arg, res) : New<QuantileOp<int64_t>>(arg, res);
  }
  CHECK(false, "NewStates: aggregate kind without states");
}

}  // namespace lf
