// Tests of the aggregate states: for every aggregate and argument type,
// "any split, any grouping, any combine order, then finalize == one pass ==
// a direct computation", encodings round-trip and reject damage, and the
// edge cases of SUM (overflow, compensation), MIN/MAX and NULL handling.
#include "agg/aggregate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <random>

namespace lf {
namespace {

constexpr size_t kChunk = 2048;  // rows per Update call, as a batch

std::unique_ptr<AggregateFunction> MakeOrDie(AggKind kind, TypeId arg) {
  auto f = AggregateFunction::Make(kind, arg);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return std::move(f).value();
}

// A column of random values (about 10% NULL) and a group id per row.
struct Input {
  Vector vec;
  std::deque<std::string> text;  // owns the bytes `vec.strs` points at
  std::vector<uint32_t> group;
  size_t n = 0;
};

void RandomInput(TypeId type, size_t n, uint32_t groups, std::mt19937_64* rng, Input* in) {
  std::uniform_int_distribution<int> pct(0, 99);
  in->n = n;
  in->vec.Reset(type, n);
  in->group.resize(n);
  for (size_t i = 0; i < n; ++i) {
    // The last group never gets a row: its result must be the empty one.
    in->group[i] = static_cast<uint32_t>((*rng)() % (groups - 1));
    if (type == TypeId::kNull || pct(*rng) < 10) continue;
    switch (type) {
      case TypeId::kBoolean:
        in->vec.SetInt(i, (*rng)() % 2);
        break;
      case TypeId::kInt:
        in->vec.SetInt(i, pct(*rng) < 80 ? static_cast<int64_t>((*rng)() % 201) - 100
                                         : static_cast<int32_t>(static_cast<uint32_t>((*rng)())));
        break;
      case TypeId::kBigInt:
        in->vec.SetInt(i, pct(*rng) < 50 ? static_cast<int64_t>((*rng)() % 2001) - 1000
                                         : static_cast<int64_t>((*rng)() % 2000000000000001ULL) - 1000000000000000LL);
        break;
      case TypeId::kDouble: {
        std::uniform_real_distribution<double> u(-1, 1);
        in->vec.SetDouble(i, u(*rng) * std::pow(10.0, static_cast<int>((*rng)() % 12) - 3));
        break;
      }
      case TypeId::kText: {
        static constexpr char kBytes[] = {'a', 'b', 'c', 'Z', ' ', '\xc3', '\xa9', '\xff', '0'};
        std::string s(pct(*rng) < 70 ? (*rng)() % 6 : (*rng)() % 40, ' ');
        for (char& c : s) c = kBytes[(*rng)() % sizeof kBytes];
        in->text.push_back(std::move(s));
        in->vec.SetString(i, in->text.back());
        break;
      }
      case TypeId::kTimestamp:
        in->vec.SetInt(i, 1400000000000LL + static_cast<int64_t>((*rng)() % 10000000000ULL));
        break;
      case TypeId::kNull:
        break;
    }
  }
}

// Updates `states` with `rows` (each mapped to a group by `group_of`), in
// chunks of at most one batch.
template <typename GroupOf>
void UpdateRows(AggregateStates* states, const Vector* arg, const std::vector<uint32_t>& rows, GroupOf group_of) {
  std::vector<uint32_t> g, r;
  for (size_t start = 0; start < rows.size(); start += kChunk) {
    const size_t end = std::min(rows.size(), start + kChunk);
    g.clear();
    r.clear();
    for (size_t k = start; k < end; ++k) {
      r.push_back(rows[k]);
      g.push_back(group_of(rows[k]));
    }
    states->Update(g.data(), r.data(), r.size(), arg);
  }
}

// A direct computation of the exact aggregates, independent of the states.
Value Oracle(const AggregateFunction& f, const Input& in, uint32_t group) {
  std::vector<size_t> rows;
  for (size_t i = 0; i < in.n; ++i) {
    if (in.group[i] == group && (f.kind() == AggKind::kCountStar || !in.vec.IsNull(i))) rows.push_back(i);
  }
  const TypeId t = f.arg_type();
  switch (f.kind()) {
    case AggKind::kCountStar:
    case AggKind::kCount:
      return Value::Int(static_cast<int64_t>(rows.size()));
    case AggKind::kSum:
    case AggKind::kAvg: {
      if (rows.empty()) return Value::Null(f.result_type());
      if (t == TypeId::kDouble) {
        long double s = 0;
        for (size_t i : rows) s += in.vec.dbls[i];
        return Value::Double(static_cast<double>(f.kind() == AggKind::kSum ? s : s / rows.size()));
      }
      __int128 s = 0;
      for (size_t i : rows) s += in.vec.ints[i];
      if (f.kind() == AggKind::kSum) return Value::Int(static_cast<int64_t>(s));
      return Value::Double(static_cast<double>(s) / static_cast<double>(rows.size()));
    }
    case AggKind::kMin:
    case AggKind::kMax: {
      if (rows.empty()) return Value::Null(t);
      Value best = in.vec.GetValue(rows[0]);
      for (size_t i : rows) {
        const Value v = in.vec.GetValue(i);
        const int c = v.Compare(best);
        if (f.kind() == AggKind::kMin ? c < 0 : c > 0) best = v;
      }
      return best;
    }
    case AggKind::kApproxCountDistinct:
    case AggKind::kApproxQuantile:
      break;
  }
  return Value::Null();
}

bool IsDoubleSum(const AggregateFunction& f) {
  return (f.kind() == AggKind::kSum || f.kind() == AggKind::kAvg) && f.arg_type() == TypeId::kDouble;
}

// Equal, or for compensated double sums within a few units in the last place.
void ExpectSame(const AggregateFunction& f, const Value& expected, const Value& got, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.is_null, expected.is_null);
  EXPECT_EQ(got.type, f.result_type());
  if (IsDoubleSum(f) && !got.is_null && !expected.is_null) {
    EXPECT_NEAR(got.d, expected.d, 1e-12 * std::max(1.0, std::fabs(expected.d)));
  } else {
    EXPECT_TRUE(got == expected) << "expected " << expected.DebugString() << ", got " << got.DebugString();
  }
}

Value Final(const AggregateStates& s, size_t g) {
  Value v;
  Status st = s.Finalize(g, &v);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return v;
}

// Splits the rows into k random parts with their own group numbering, updates
// each, combines them (partly pairwise) in random order, and checks the
// result against one pass and the oracle; then round-trips the encoding.
void CheckSplitCombine(AggKind kind, TypeId type, uint64_t seed) {
  SCOPED_TRACE(std::string(AggKindName(kind)) + "(" + TypeName(type) + ") seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const auto f = MakeOrDie(kind, type);
  const uint32_t groups = 2 + rng() % 6;
  Input in;
  RandomInput(kind == AggKind::kCountStar ? TypeId::kBigInt : type, 1000 + rng() % 7000, groups, &rng, &in);
  const Vector* arg = kind == AggKind::kCountStar ? nullptr : &in.vec;

  std::vector<uint32_t> all(in.n);
  std::iota(all.begin(), all.end(), 0);
  auto one = f->NewStates();
  one->Resize(groups);
  UpdateRows(one.get(), arg, all, [&](uint32_t r) { return in.group[r]; });

  // Part p names global group g (copy c in {0,1}) by local id perm[p][g + c * groups].
  const size_t k = 1 + rng() % 5;
  std::vector<std::vector<uint32_t>> part_rows(k), perm(k), global_of(k);
  std::vector<std::unique_ptr<AggregateStates>> parts;
  for (size_t p = 0; p < k; ++p) {
    perm[p].resize(2 * groups);
    std::iota(perm[p].begin(), perm[p].end(), 0);
    std::shuffle(perm[p].begin(), perm[p].end(), rng);
    global_of[p].resize(2 * groups);
    for (uint32_t x = 0; x < 2 * groups; ++x) global_of[p][perm[p][x]] = x % groups;
    parts.push_back(f->NewStates());
    parts[p]->Resize(2 * groups);
  }
  std::vector<uint32_t> copy_of(in.n);
  for (size_t i = 0; i < in.n; ++i) {
    part_rows[rng() % k].push_back(static_cast<uint32_t>(i));
    copy_of[i] = rng() % 2;
  }
  for (size_t p = 0; p < k; ++p) {
    std::shuffle(part_rows[p].begin(), part_rows[p].end(), rng);
    UpdateRows(parts[p].get(), arg, part_rows[p],
               [&](uint32_t r) { return perm[p][in.group[r] + copy_of[r] * groups]; });
  }
  // Sometimes fold part 1 into part 0 first (a combine of combines).
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  if (k >= 2 && rng() % 2) {
    std::vector<uint32_t> to0(2 * groups);
    for (uint32_t l = 0; l < 2 * groups; ++l) to0[l] = perm[0][global_of[1][l] + (rng() % 2) * groups];
    parts[0]->Combine(*parts[1], to0.data());
    order.erase(order.begin() + 1);
  }
  std::shuffle(order.begin(), order.end(), rng);
  auto combined = f->NewStates();
  combined->Resize(groups);
  for (size_t p : order) combined->Combine(*parts[p], global_of[p].data());

  const bool exact = !IsDoubleSum(*f);
  for (uint32_t g = 0; g < groups; ++g) {
    SCOPED_TRACE("group " + std::to_string(g));
    const Value v1 = Final(*one, g);
    const Value vc = Final(*combined, g);
    ExpectSame(*f, v1, vc, "combined vs one pass");
    if (kind != AggKind::kApproxCountDistinct && kind != AggKind::kApproxQuantile)
      ExpectSame(*f, Oracle(*f, in, g), v1, "one pass vs oracle");
    if (exact) {
      // Exact states (and HLL registers, quantile buckets) are equal, so
      // their encodings are too.
      std::string a, b;
      one->Serialize(g, &a);
      combined->Serialize(g, &b);
      EXPECT_EQ(a, b);
    }
  }

  std::string bytes;
  for (uint32_t g = 0; g < groups; ++g) combined->Serialize(g, &bytes);
  auto back = f->NewStates();
  back->Resize(groups);
  std::string_view cursor = bytes;
  for (uint32_t g = 0; g < groups; ++g) ASSERT_TRUE(back->Deserialize(g, &cursor).ok());
  EXPECT_TRUE(cursor.empty());
  for (uint32_t g = 0; g < groups; ++g) {
    const Value a = Final(*combined, g);
    const Value b = Final(*back, g);
    EXPECT_TRUE(a == b && a.is_null == b.is_null) << a.DebugString() << " vs " << b.DebugString();
  }
}

struct Sig {
  AggKind kind;
  TypeId type;
};

std::vector<Sig> AllAccepted() {
  const TypeId kAll[] = {TypeId::kNull,   TypeId::kBoolean, TypeId::kInt,      TypeId::kBigInt,
                         TypeId::kDouble, TypeId::kText,    TypeId::kTimestamp};
  std::vector<Sig> out = {{AggKind::kCountStar, TypeId::kNull}};
  for (TypeId t : kAll) {
    for (AggKind k : {AggKind::kCount, AggKind::kSum, AggKind::kMin, AggKind::kMax, AggKind::kAvg,
                      AggKind::kApproxCountDistinct, AggKind::kApproxQuantile}) {
      if (AggregateFunction::Make(k, t).ok()) out.push_back({k, t});
    }
  }
  return out;
}

TEST(AggregateTest, SplitCombineEqualsOnePassForEveryAggregate) {
  const auto sigs = AllAccepted();
  EXPECT_EQ(sigs.size(), 1u + 7 + 3 + 6 + 6 + 3 + 7 + 3);
  for (const Sig& s : sigs) {
    for (uint64_t seed = 1; seed <= 12; ++seed)
      CheckSplitCombine(s.kind, s.type, seed * 7919 + static_cast<int>(s.type));
  }
}

TEST(AggregateTest, MakeChecksArgumentTypes) {
  EXPECT_EQ(MakeOrDie(AggKind::kCountStar, TypeId::kNull)->result_type(), TypeId::kBigInt);
  EXPECT_EQ(MakeOrDie(AggKind::kCount, TypeId::kText)->result_type(), TypeId::kBigInt);
  EXPECT_EQ(MakeOrDie(AggKind::kSum, TypeId::kInt)->result_type(), TypeId::kBigInt);
  EXPECT_EQ(MakeOrDie(AggKind::kSum, TypeId::kDouble)->result_type(), TypeId::kDouble);
  EXPECT_EQ(MakeOrDie(AggKind::kAvg, TypeId::kBigInt)->result_type(), TypeId::kDouble);
  EXPECT_EQ(MakeOrDie(AggKind::kMin, TypeId::kTimestamp)->result_type(), TypeId::kTimestamp);
  EXPECT_EQ(MakeOrDie(AggKind::kMax, TypeId::kText)->result_type(), TypeId::kText);
  EXPECT_EQ(MakeOrDie(AggKind::kApproxCountDistinct, TypeId::kDouble)->result_type(), TypeId::kBigInt);

  for (TypeId t : {TypeId::kText, TypeId::kBoolean, TypeId::kTimestamp, TypeId::kNull}) {
    for (AggKind k : {AggKind::kSum, AggKind::kAvg}) {
      auto f = AggregateFunction::Make(k, t);
      ASSERT_FALSE(f.ok());
      EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(f.status().message().find(std::string(AggKindName(k)) + "(" + TypeName(t) + ")"), std::string::npos)
          << f.status().message();
    }
  }
  EXPECT_NE(AggregateFunction::Make(AggKind::kSum, TypeId::kText).status().message().find("CAST(x AS DOUBLE)"),
            std::string::npos);
  EXPECT_FALSE(AggregateFunction::Make(AggKind::kMin, TypeId::kNull).ok());
  EXPECT_FALSE(AggregateFunction::Make(AggKind::kCountStar, TypeId::kInt).ok());
  EXPECT_STREQ(AggKindName(AggKind::kApproxCountDistinct), "APPROX_COUNT_DISTINCT");
  EXPECT_STREQ(AggKindName(AggKind::kCountStar), "COUNT");
}

// Runs `values` (NULL where nullopt) through one state of kind(type).
std::unique_ptr<AggregateStates> RunStates(const AggregateFunction& f, const std::vector<Value>& values) {
  auto s = f.NewStates();
  s->Resize(1);
  StringArena arena;
  Vector v(f.arg_type(), values.size());
  for (size_t i = 0; i < values.size(); ++i) v.SetValue(i, values[i], &arena);
  std::vector<uint32_t> groups(values.size(), 0), rows(values.size());
  std::iota(rows.begin(), rows.end(), 0);
  s->Update(groups.data(), rows.data(), rows.size(), &v);
  return s;
}

Value RunOne(AggKind kind, TypeId type, const std::vector<Value>& values) {
  auto f = MakeOrDie(kind, type);
  return Final(*RunStates(*f, values), 0);
}

TEST(AggregateTest, SumOverflowInUpdateIsAnError) {
  auto f = MakeOrDie(AggKind::kSum, TypeId::kBigInt);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (const auto& values :
       {std::vector<Value>{Value::Int(kMax), Value::Int(1)}, std::vector<Value>{Value::Int(kMin), Value::Int(-1)},
        std::vector<Value>{Value::Int(kMax), Value::Int(kMax), Value::Int(kMax)}}) {
    auto s = RunStates(*f, values);
    Value v;
    Status st = s->Finalize(0, &v);
    EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
    EXPECT_EQ(st.message(), "integer overflow in SUM: the sum exceeds BIGINT; use SUM(CAST(x AS DOUBLE))");
  }
}

TEST(AggregateTest, SumOverflowInCombineIsAnError) {
  auto f = MakeOrDie(AggKind::kSum, TypeId::kBigInt);
  const int64_t half = std::numeric_limits<int64_t>::max() / 2 + 1;
  auto a = RunStates(*f, {Value::Int(half)});
  auto b = RunStates(*f, {Value::Int(half)});
  EXPECT_EQ(Final(*a, 0).i, half);
  const uint32_t to0 = 0;
  a->Combine(*b, &to0);
  Value v;
  EXPECT_EQ(a->Finalize(0, &v).code(), StatusCode::kOutOfRange);
  // The error survives the encoding.
  std::string bytes;
  a->Serialize(0, &bytes);
  std::string_view in = bytes;
  ASSERT_TRUE(b->Deserialize(0, &in).ok());
  EXPECT_EQ(b->Finalize(0, &v).code(), StatusCode::kOutOfRange);
}

// Whether a SUM overflows must not depend on how the input was split: the
// batch and speed layers split the same events differently.
TEST(AggregateTest, SumOverflowDependsOnlyOnTheTotal) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(RunOne(AggKind::kSum, TypeId::kBigInt, {Value::Int(kMax), Value::Int(1), Value::Int(-1)}).i, kMax);
  auto f = MakeOrDie(AggKind::kSum, TypeId::kBigInt);
  auto a = RunStates(*f, {Value::Int(kMax), Value::Int(1)});
  auto b = RunStates(*f, {Value::Int(-1)});
  const uint32_t to0 = 0;
  a->Combine(*b, &to0);
  EXPECT_EQ(Final(*a, 0).i, kMax);
}

TEST(AggregateTest, SumDoubleIsCompensated) {
  auto sum = [](std::vector<double> xs) {
    std::vector<Value> v;
    for (double x : xs) v.push_back(Value::Double(x));
    return RunOne(AggKind::kSum, TypeId::kDouble, v).d;
  };
  EXPECT_EQ(sum({1e16, 1, -1e16}), 1);
  EXPECT_EQ(sum({1, 1e100, 1, -1e100}), 2);
  EXPECT_EQ(sum({1e16, 1, 1, 1, 1, -1e16}), 4);  // naive summation loses the ones
  EXPECT_EQ(RunOne(AggKind::kAvg, TypeId::kDouble, {Value::Double(1e16), Value::Double(2), Value::Double(-1e16)}).d,
            2.0 / 3);
  EXPECT_TRUE(std::isinf(sum({std::numeric_limits<double>::infinity(), 1})));
  EXPECT_TRUE(std::isnan(sum({std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()})));

  // Combine carries the compensation of each part.
  auto f = MakeOrDie(AggKind::kSum, TypeId::kDouble);
  auto a = RunStates(*f, {Value::Double(1e16), Value::Double(1)});
  auto b = RunStates(*f, {Value::Double(-1e16), Value::Double(1)});
  const uint32_t to0 = 0;
  a->Combine(*b, &to0);
  EXPECT_EQ(Final(*a, 0).d, 2);
}

TEST(AggregateTest, MinMaxTextIsBytewiseAndOwnsItsString) {
  const std::vector<std::string> words = {"b",       "a", "", "\xff", "Z", "ab", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
                                          "\xc3\xa9"};
  auto fmin = MakeOrDie(AggKind::kMin, TypeId::kText);
  auto fmax = MakeOrDie(AggKind::kMax, TypeId::kText);
  auto smin = fmin->NewStates();
  auto smax = fmax->NewStates();
  smin->Resize(1);
  smax->Resize(1);
  {
    std::deque<std::string> owned(words.begin(), words.end());
    Vector v(TypeId::kText, owned.size() + 1);
    for (size_t i = 0; i < owned.size(); ++i) v.SetString(i, owned[i]);
    v.SetNull(owned.size());
    std::vector<uint32_t> groups(v.capacity(), 0), rows(v.capacity());
    std::iota(rows.begin(), rows.end(), 0);
    smin->Update(groups.data(), rows.data(), rows.size(), &v);
    smax->Update(groups.data(), rows.data(), rows.size(), &v);
    for (auto& s : owned) s.assign(s.size(), '?');  // the input bytes die with the batch
  }
  EXPECT_EQ(Final(*smin, 0).s, "");
  EXPECT_EQ(Final(*smax, 0).s, "\xff");
  EXPECT_EQ(RunOne(AggKind::kMin, TypeId::kText, {Value::Text("ab"), Value::Text("a"), Value::Text("b")}).s, "a");
  EXPECT_EQ(RunOne(AggKind::kMax, TypeId::kText, {Value::Text("Z"), Value::Text("a")}).s, "a");
  EXPECT_EQ(RunOne(AggKind::kMax, TypeId::kText, {Value::Text("z"), Value::Text("\xc3\xa9")}).s, "\xc3\xa9");
  EXPECT_GT(smax->MemoryUsage(), 0u);
}

TEST(AggregateTest, MinMaxDoubleDoesNotDependOnOrder) {
  for (bool neg_first : {false, true}) {
    std::vector<Value> v = {Value::Double(-0.0), Value::Double(0.0)};
    if (!neg_first) std::swap(v[0], v[1]);
    EXPECT_TRUE(std::signbit(RunOne(AggKind::kMin, TypeId::kDouble, v).d));
    EXPECT_FALSE(std::signbit(RunOne(AggKind::kMax, TypeId::kDouble, v).d));
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(RunOne(AggKind::kMin, TypeId::kDouble, {Value::Double(nan), Value::Double(3)}).d, 3);
  EXPECT_EQ(RunOne(AggKind::kMin, TypeId::kDouble, {Value::Double(3), Value::Double(nan)}).d, 3);
  EXPECT_TRUE(std::isnan(RunOne(AggKind::kMax, TypeId::kDouble, {Value::Double(3), Value::Double(nan)}).d));
}

TEST(AggregateTest, NullsAndEmptyGroups) {
  const std::vector<Value> nulls = {Value::Null(), Value::Null()};
  EXPECT_EQ(RunOne(AggKind::kCount, TypeId::kInt, nulls).i, 0);
  EXPECT_EQ(RunOne(AggKind::kCountStar, TypeId::kNull, nulls).i, 2);
  EXPECT_EQ(RunOne(AggKind::kApproxCountDistinct, TypeId::kText, nulls).i, 0);
  for (auto [kind, type] : {std::pair{AggKind::kSum, TypeId::kInt},
                            {AggKind::kSum, TypeId::kDouble},
                            {AggKind::kAvg, TypeId::kBigInt},
                            {AggKind::kMin, TypeId::kText},
                            {AggKind::kMax, TypeId::kBoolean}}) {
    const Value v = RunOne(kind, type, nulls);
    EXPECT_TRUE(v.is_null);
    EXPECT_EQ(v.type, MakeOrDie(kind, type)->result_type());
  }
  EXPECT_EQ(
      RunOne(AggKind::kAvg, TypeId::kInt, {Value::Int(1, TypeId::kInt), Value::Null(), Value::Int(2, TypeId::kInt)}).d,
      1.5);
  const Value m = RunOne(AggKind::kMax, TypeId::kTimestamp, {Value::Timestamp(5), Value::Timestamp(9)});
  EXPECT_EQ(m.type, TypeId::kTimestamp);
  EXPECT_EQ(m.i, 9);
}

TEST(AggregateTest, ResizeOnlyGrowsAndKeepsStates) {
  auto f = MakeOrDie(AggKind::kCountStar, TypeId::kNull);
  auto s = f->NewStates();
  s->Resize(2);
  const uint32_t g[] = {1, 1}, r[] = {0, 1};
  s->Update(g, r, 2, nullptr);
  s->Resize(100000);
  EXPECT_EQ(s->size(), 100000u);
  EXPECT_EQ(Final(*s, 1).i, 2);
  EXPECT_EQ(Final(*s, 99999).i, 0);
  s->Resize(1);
  EXPECT_EQ(s->size(), 100000u);
  EXPECT_GE(s->MemoryUsage(), 100000u * sizeof(int64_t));
}

// Every strict prefix of a valid encoding, and garbage, is Corruption; a wrong
// version byte too. Nothing crashes.
TEST(AggregateTest, DeserializeRejectsDamage) {
  std::mt19937_64 rng(42);
  for (const Sig& sig : AllAccepted()) {
    SCOPED_TRACE(std::string(AggKindName(sig.kind)) + "(" + TypeName(sig.type) + ")");
    auto f = MakeOrDie(sig.kind, sig.type);
    Input in;
    RandomInput(sig.kind == AggKind::kCountStar ? TypeId::kBigInt : sig.type, 3000, 3, &rng, &in);
    std::vector<uint32_t> all(in.n);
    std::iota(all.begin(), all.end(), 0);
    auto s = f->NewStates();
    s->Resize(3);
    UpdateRows(s.get(), sig.kind == AggKind::kCountStar ? nullptr : &in.vec, all,
               [&](uint32_t r) { return in.group[r]; });
    auto back = f->NewStates();
    back->Resize(1);
    for (uint32_t g = 0; g < 3; ++g) {
      std::string bytes;
      s->Serialize(g, &bytes);
      for (size_t len = 0; len < bytes.size(); ++len) {
        std::string_view cut(bytes.data(), len);
        EXPECT_EQ(back->Deserialize(0, &cut).code(), StatusCode::kCorruption) << "prefix " << len;
        EXPECT_EQ(cut.size(), len);  // nothing consumed on failure
      }
      std::string bad = bytes;
      bad[0] = '\x7f';
      std::string_view b = bad;
      EXPECT_EQ(back->Deserialize(0, &b).code(), StatusCode::kCorruption);
    }
    for (int trial = 0; trial < 300; ++trial) {
      std::string junk(rng() % 64, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      if (!junk.empty() && rng() % 2) junk[0] = 1;  // a plausible version byte
      std::string_view j = junk;
      Status st = back->Deserialize(0, &j);
      if (st.ok()) {
        Value v;
        (void)back->Finalize(0, &v);
      } else {
        EXPECT_EQ(st.code(), StatusCode::kCorruption);
      }
    }
  }
}

}  // namespace
}  // namespace lf
