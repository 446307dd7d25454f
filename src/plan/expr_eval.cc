#include "plan/expr_eval.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_set>

#include "common/format.h"
#include "common/time.h"

namespace lf {

using sql::BoundExpr;
using sql::BoundKind;
using sql::OpKind;

// The items of a long IN list of constants, for lookups in O(1): values
// under the SQL equality (SqlDoubleEq: all NaNs one value, -0.0 = 0.0).
struct InSet {
  bool has_null = false;
  std::unordered_set<int64_t> ints;
  std::unordered_set<uint64_t> double_bits;  // of CanonicalDouble
  std::vector<std::string> texts;            // owns the bytes of `strs`
  std::unordered_set<std::string_view> strs;

  static uint64_t Bits(double d) { return std::bit_cast<uint64_t>(CanonicalDouble(d)); }
  bool Contains(const Vector& x, size_t i) const {
    switch (PhysicalOf(x.type)) {
      case PhysicalType::kInt64:
        return ints.count(x.ints[i]) != 0;
      case PhysicalType::kDouble:
        return double_bits.count(Bits(x.dbls[i])) != 0;
      case PhysicalType::kString:
        return strs.count(x.strs[i]) != 0;
    }
    return false;
  }
};

// From this many constant items on, IN looks its items up in a hash set.
constexpr size_t kInSetMinItems = 8;

struct ExprEvaluator::Node {
  const BoundExpr* expr;
  std::unique_ptr<InSet> in_set;  // kIn over constants only
  std::vector<std::unique_ptr<Node>> children;
  Vector result;
  StringArena arena{16 * 1024};
  bool constant_filled = false;
  std::string scratch;
};

namespace {

using Node = ExprEvaluator::Node;

std::unique_ptr<InSet> BuildInSet(const BoundExpr& e) {
  if (e.children.size() - 1 < kInSetMinItems) return nullptr;
  for (size_t k = 1; k < e.children.size(); ++k)
    if (e.children[k]->kind != BoundKind::kConstant) return nullptr;
  auto set = std::make_unique<InSet>();
  const PhysicalType phys = PhysicalOf(e.children[0]->type);
  set->texts.reserve(e.children.size() - 1);  // no reallocation: `strs` points into it
  for (size_t k = 1; k < e.children.size(); ++k) {
    const Value& v = e.children[k]->constant;
    if (v.is_null) {
      set->has_null = true;
      continue;
    }
    if (phys == PhysicalType::kInt64) {
      set->ints.insert(v.i);
    } else if (phys == PhysicalType::kDouble) {
      set->double_bits.insert(InSet::Bits(v.d));
    } else {
      set->texts.push_back(v.s);
      set->strs.insert(set->texts.back());
    }
  }
  return set;
}

std::unique_ptr<Node> Build(const BoundExpr& e) {
  auto n = std::make_unique<Node>();
  n->expr = &e;
  if (e.kind == BoundKind::kIn) n->in_set = BuildInSet(e);
  if (n->in_set) {
    n->children.push_back(Build(*e.children[0]));  // the items are in the set
    return n;
  }
  for (const auto& c : e.children) n->children.push_back(Build(*c));
  return n;
}

const Vector& Eval(Node& n, const Batch& in);

void Prepare(Node& n, size_t rows) {
  if (n.result.capacity() < rows || n.result.type != n.expr->type) {
    n.result.Reset(n.expr->type, std::max<size_t>(rows, 16));
    n.constant_filled = false;
  }
  // A constant's strings are written once and must outlive later calls.
  if (n.expr->kind != BoundKind::kConstant || !n.constant_filled) n.arena.Reset();
}

// Integer arithmetic with NULL on overflow and on division by zero.
void ArithInt(OpKind op, const Vector& a, const Vector& b, Vector& r, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t valid = a.valid[i] & b.valid[i];
    int64_t x = a.ints[i], y = b.ints[i], z = 0;
    bool bad = false;
    switch (op) {
      case OpKind::kAdd:
        bad = __builtin_add_overflow(x, y, &z);
        break;
      case OpKind::kSub:
        bad = __builtin_sub_overflow(x, y, &z);
        break;
      case OpKind::kMul:
        bad = __builtin_mul_overflow(x, y, &z);
        break;
      case OpKind::kDiv:
        bad = y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1);
        z = bad ? 0 : x / y;
        break;
      case OpKind::kMod:
        bad = y == 0;
        z = bad || y == -1 ? 0 : x % y;
        break;
      default:
        bad = true;
    }
    r.ints[i] = z;
    r.valid[i] = valid & !bad;
  }
}

void ArithDouble(OpKind op, const Vector& a, const Vector& b, Vector& r, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t valid = a.valid[i] & b.valid[i];
    double x = a.dbls[i], y = b.dbls[i], z = 0;
    switch (op) {
      case OpKind::kAdd:
        z = x + y;
        break;
      case OpKind::kSub:
        z = x - y;
        break;
      case OpKind::kMul:
        z = x * y;
        break;
      case OpKind::kDiv:
        if (y == 0)
          valid = 0;
        else
          z = x / y;
        break;
      case OpKind::kMod:
        if (y == 0)
          valid = 0;
        else
          z = std::fmod(x, y);
        break;
      default:
        valid = 0;
    }
    r.dbls[i] = z;
    r.valid[i] = valid;
  }
}

// A double under the SQL order (types.h): NaN equals NaN and is greatest.
struct SqlDouble {
  double d;
  friend bool operator==(SqlDouble x, SqlDouble y) { return SqlDoubleEq(x.d, y.d); }
  friend bool operator!=(SqlDouble x, SqlDouble y) { return !SqlDoubleEq(x.d, y.d); }
  friend bool operator<(SqlDouble x, SqlDouble y) { return SqlDoubleLess(x.d, y.d); }
  friend bool operator<=(SqlDouble x, SqlDouble y) { return !SqlDoubleLess(y.d, x.d); }
  friend bool operator>(SqlDouble x, SqlDouble y) { return SqlDoubleLess(y.d, x.d); }
  friend bool operator>=(SqlDouble x, SqlDouble y) { return !SqlDoubleLess(x.d, y.d); }
};

template <typename T, typename Get>
void CompareLoop(OpKind op, const Vector& a, const Vector& b, Vector& r, size_t n, Get get) {
  // Specialized per operator so that the loop body has no switch.
  auto run = [&](auto cmp) {
    for (size_t i = 0; i < n; ++i) {
      r.valid[i] = a.valid[i] & b.valid[i];
      r.ints[i] = cmp(get(a, i), get(b, i));
    }
  };
  switch (op) {
    case OpKind::kEq:
      run([](const T& x, const T& y) { return x == y; });
      break;
    case OpKind::kNe:
      run([](const T& x, const T& y) { return x != y; });
      break;
    case OpKind::kLt:
      run([](const T& x, const T& y) { return x < y; });
      break;
    case OpKind::kLe:
      run([](const T& x, const T& y) { return x <= y; });
      break;
    case OpKind::kGt:
      run([](const T& x, const T& y) { return x > y; });
      break;
    case OpKind::kGe:
      run([](const T& x, const T& y) { return x >= y; });
      break;
    default:
      break;
  }
}

void Compare(OpKind op, const Vector& a, const Vector& b, Vector& r, size_t n) {
  switch (PhysicalOf(a.type)) {
    case PhysicalType::kInt64:
      CompareLoop<int64_t>(op, a, b, r, n, [](const Vector& v, size_t i) { return v.ints[i]; });
      break;
    case PhysicalType::kDouble:
      CompareLoop<SqlDouble>(op, a, b, r, n, [](const Vector& v, size_t i) { return SqlDouble{v.dbls[i]}; });
      break;
    case PhysicalType::kString:
      CompareLoop<std::string_view>(op, a, b, r, n, [](const Vector& v, size_t i) { return v.strs[i]; });
      break;
  }
}

bool SameValue(const Vector& a, size_t i, const Vector& b, size_t j) {
  switch (PhysicalOf(a.type)) {
    case PhysicalType::kInt64:
      return a.ints[i] == b.ints[j];
    case PhysicalType::kDouble:
      return SqlDoubleEq(a.dbls[i], b.dbls[j]);
    case PhysicalType::kString:
      return a.strs[i] == b.strs[j];
  }
  return false;
}

// Copies row i of `src` into row i of `dst` (same physical type).
void CopyRow(const Vector& src, Vector& dst, size_t i) {
  dst.valid[i] = src.valid[i];
  switch (PhysicalOf(dst.type)) {
    case PhysicalType::kInt64:
      dst.ints[i] = src.ints[i];
      break;
    case PhysicalType::kDouble:
      dst.dbls[i] = src.dbls[i];
      break;
    case PhysicalType::kString:
      dst.strs[i] = src.strs[i];
      break;
  }
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Byte offset of the k-th (0-based) UTF-8 character, or s.size().
size_t Utf8Offset(std::string_view s, int64_t k) {
  if (k <= 0) return 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (k == 0) return i;
      --k;
    }
  }
  return s.size();
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;  // "+-1"
  }
  auto res = std::from_chars(s.data(), s.data() + s.size(), *out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty();
}

void CastRow(const Vector& src, size_t i, Vector& dst, Node& n) {
  TypeId from = src.type, to = dst.type;
  if (src.IsNull(i)) {
    dst.SetNull(i);
    return;
  }
  auto set_int = [&](int64_t x) {
    if (to == TypeId::kInt && (x < INT32_MIN || x > INT32_MAX))
      dst.SetNull(i);
    else
      dst.SetInt(i, x);
  };
  auto from_double = [&](double d) {
    if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18))
      dst.SetNull(i);
    else
      set_int(static_cast<int64_t>(d));
  };
  switch (to) {
    case TypeId::kText: {
      std::string& s = n.scratch;
      s.clear();
      switch (from) {
        case TypeId::kBoolean:
          s = src.ints[i] ? "true" : "false";
          break;
        case TypeId::kInt:
        case TypeId::kBigInt:
          s = std::to_string(src.ints[i]);
          break;
        case TypeId::kDouble:
          AppendDouble(src.dbls[i], &s);
          break;
        case TypeId::kTimestamp:
          AppendTimestamp(src.ints[i], &s);
          break;
        case TypeId::kText:
          s.assign(src.strs[i]);
          break;
        case TypeId::kNull:
          break;
      }
      dst.SetString(i, n.arena.Copy(s));
      return;
    }
    case TypeId::kDouble:
      if (from == TypeId::kText) {
        double d;
        if (ParseNumber(src.strs[i], &d))
          dst.SetDouble(i, d);
        else
          dst.SetNull(i);
      } else if (from == TypeId::kDouble) {
        dst.SetDouble(i, src.dbls[i]);
      } else {
        dst.SetDouble(i, static_cast<double>(src.ints[i]));
      }
      return;
    case TypeId::kBoolean:
      if (from == TypeId::kText) {
        std::string_view s = src.strs[i];
        if (s == "true" || s == "t" || s == "1" || s == "TRUE")
          dst.SetInt(i, 1);
        else if (s == "false" || s == "f" || s == "0" || s == "FALSE")
          dst.SetInt(i, 0);
        else
          dst.SetNull(i);
      } else if (from == TypeId::kDouble) {
        dst.SetInt(i, src.dbls[i] != 0);
      } else {
        dst.SetInt(i, src.ints[i] != 0);
      }
      return;
    case TypeId::kTimestamp:
      // Outside the supported range (time.h) gives NULL, as unreadable text.
      if (from == TypeId::kText) {
        auto ts = ParseTimestamp(src.strs[i]);
        if (ts)
          dst.SetInt(i, *ts);
        else
          dst.SetNull(i);
      } else if (from == TypeId::kDouble) {
        double d = src.dbls[i];
        if (d >= static_cast<double>(kMinTimestampMs) && d <= static_cast<double>(kMaxTimestampMs))
          dst.SetInt(i, static_cast<int64_t>(d));
        else
          dst.SetNull(i);
      } else if (InTimestampRange(src.ints[i])) {
        dst.SetInt(i, src.ints[i]);
      } else {
        dst.SetNull(i);
      }
      return;
    case TypeId::kInt:
    case TypeId::kBigInt:
      if (from == TypeId::kText) {
        // Only integer text reads as an integer: '4.5', '1e3' and numbers
        // beyond BIGINT give NULL (as PostgreSQL refuses them).
        int64_t x;
        if (ParseNumber(src.strs[i], &x))
          set_int(x);
        else
          dst.SetNull(i);
      } else if (from == TypeId::kDouble) {
        from_double(src.dbls[i]);
      } else {
        set_int(src.ints[i]);
      }
      return;
    case TypeId::kNull:
      dst.SetNull(i);
      return;
  }
}

const Vector& EvalFunction(Node& n, const Batch& in, size_t count) {
  const BoundExpr& e = *n.expr;
  Vector& r = n.result;
  const Vector& a = Eval(*n.children[0], in);
  switch (e.kind) {
    case BoundKind::kDateTrunc: {
      int64_t step = 0;
      switch (e.unit) {
        case TimeUnit::kSecond:
          step = 1000;
          break;
        case TimeUnit::kMinute:
          step = 60000;
          break;
        case TimeUnit::kHour:
          step = 3600000;
          break;
        case TimeUnit::kDay:
          step = 86400000;
          break;
        default:
          break;
      }
      if (step) {
        for (size_t i = 0; i < count; ++i) {
          int64_t x = a.ints[i];
          int64_t q = x / step;
          q -= (x % step != 0) & (x < 0);
          r.ints[i] = q * step;
          r.valid[i] = a.valid[i];
        }
      } else {
        for (size_t i = 0; i < count; ++i) {
          r.valid[i] = a.valid[i];
          r.ints[i] = a.valid[i] ? TruncateTimestamp(e.unit, a.ints[i]) : 0;
        }
      }
      return r;
    }
    case BoundKind::kExtract:
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = a.valid[i];
        r.ints[i] = a.valid[i] ? ExtractField(e.field, a.ints[i]) : 0;
      }
      return r;
    case BoundKind::kLower:
    case BoundKind::kUpper:
      for (size_t i = 0; i < count; ++i) {
        if (a.IsNull(i)) {
          r.SetNull(i);
          continue;
        }
        std::string_view s = a.strs[i];
        char* p = n.arena.Allocate(s.size());
        for (size_t k = 0; k < s.size(); ++k) {
          char c = s[k];
          if (e.kind == BoundKind::kLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
          if (e.kind == BoundKind::kUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
          p[k] = c;
        }
        r.SetString(i, {p, s.size()});
      }
      return r;
    case BoundKind::kLength:
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = a.valid[i];
        r.ints[i] = a.valid[i] ? static_cast<int64_t>(Utf8Length(a.strs[i])) : 0;
      }
      return r;
    case BoundKind::kSubstr: {
      const Vector& start = Eval(*n.children[1], in);
      const Vector* len = n.children.size() > 2 ? &Eval(*n.children[2], in) : nullptr;
      for (size_t i = 0; i < count; ++i) {
        if (a.IsNull(i) || start.IsNull(i) || (len && len->IsNull(i)) || (len && len->ints[i] < 0)) {
          r.SetNull(i);
          continue;
        }
        // Characters [start, start + len) of a 1-based string, positions
        // before the first character counting as empty (as in PostgreSQL).
        int64_t from = start.ints[i];
        int64_t to = INT64_MAX;
        if (len && __builtin_add_overflow(from, len->ints[i], &to)) to = INT64_MAX;  // len >= 0: only upwards
        std::string_view s = a.strs[i];
        size_t b = Utf8Offset(s, std::max<int64_t>(from, 1) - 1);
        size_t end = to == INT64_MAX ? s.size() : Utf8Offset(s, std::max<int64_t>(to, 1) - 1);
        r.SetString(i, end > b ? s.substr(b, end - b) : std::string_view());
      }
      return r;
    }
    case BoundKind::kAbs:
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = a.valid[i];
        if (e.type == TypeId::kDouble) {
          r.dbls[i] = std::fabs(a.dbls[i]);
        } else {
          int64_t x = a.ints[i];
          if (x == std::numeric_limits<int64_t>::min()) r.valid[i] = 0;
          r.ints[i] = x < 0 ? -x : x;
        }
      }
      return r;
    case BoundKind::kRound: {
      const Vector* digits = n.children.size() > 1 ? &Eval(*n.children[1], in) : nullptr;
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = a.valid[i] & (digits ? digits->valid[i] : 1);
        const double x = a.dbls[i];
        const double scale = digits ? std::pow(10.0, static_cast<double>(digits->ints[i])) : 1.0;
        const double scaled = x * scale;
        if (scale == 0)
          r.dbls[i] = 0;  // rounding to a power of ten beyond DOUBLE's range
        else if (!std::isfinite(scaled))
          r.dbls[i] = x;  // x * 10^digits overflows: x has no digit there to round
        else
          r.dbls[i] = std::round(scaled) / scale;
      }
      return r;
    }
    default:
      break;
  }
  return r;
}

const Vector& Eval(Node& n, const Batch& in) {
  const BoundExpr& e = *n.expr;
  const size_t count = in.size;
  if (e.kind == BoundKind::kColumn) return in.columns[static_cast<size_t>(e.column)];
  Prepare(n, count);
  Vector& r = n.result;
  switch (e.kind) {
    case BoundKind::kColumn:
      break;
    case BoundKind::kConstant:
      if (!n.constant_filled) {
        Value v = e.constant;
        v.type = e.type;
        for (size_t i = 0; i < r.capacity(); ++i) r.SetValue(i, v, &n.arena);
        n.constant_filled = true;
      }
      return r;
    case BoundKind::kNeg: {
      const Vector& a = Eval(*n.children[0], in);
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = a.valid[i];
        if (e.type == TypeId::kDouble) {
          r.dbls[i] = -a.dbls[i];
        } else {
          if (a.ints[i] == std::numeric_limits<int64_t>::min()) r.valid[i] = 0;
          r.ints[i] = a.ints[i] == std::numeric_limits<int64_t>::min() ? 0 : -a.ints[i];
        }
      }
      return r;
    }
    case BoundKind::kNot: {
      const Vector& a = Eval(*n.children[0], in);
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = a.valid[i];
        r.ints[i] = !a.ints[i];
      }
      return r;
    }
    case BoundKind::kArith: {
      const Vector& a = Eval(*n.children[0], in);
      const Vector& b = Eval(*n.children[1], in);
      if (e.type == TypeId::kDouble)
        ArithDouble(e.op, a, b, r, count);
      else
        ArithInt(e.op, a, b, r, count);
      return r;
    }
    case BoundKind::kConcat: {
      const Vector& a = Eval(*n.children[0], in);
      const Vector& b = Eval(*n.children[1], in);
      for (size_t i = 0; i < count; ++i) {
        if (a.IsNull(i) || b.IsNull(i)) {
          r.SetNull(i);
          continue;
        }
        size_t la = a.strs[i].size(), lb = b.strs[i].size();
        char* p = n.arena.Allocate(la + lb);
        if (la) std::memcpy(p, a.strs[i].data(), la);
        if (lb) std::memcpy(p + la, b.strs[i].data(), lb);
        r.SetString(i, {p, la + lb});
      }
      return r;
    }
    case BoundKind::kCompare: {
      const Vector& a = Eval(*n.children[0], in);
      const Vector& b = Eval(*n.children[1], in);
      Compare(e.op, a, b, r, count);
      return r;
    }
    case BoundKind::kAnd:
    case BoundKind::kOr: {
      const Vector& a = Eval(*n.children[0], in);
      const Vector& b = Eval(*n.children[1], in);
      const bool is_and = e.kind == BoundKind::kAnd;
      for (size_t i = 0; i < count; ++i) {
        bool av = a.valid[i], bv = b.valid[i];
        bool at = av && a.ints[i], bt = bv && b.ints[i];
        bool af = av && !a.ints[i], bf = bv && !b.ints[i];
        if (is_and) {
          // false wins over NULL
          r.valid[i] = (av && bv) || af || bf;
          r.ints[i] = at && bt;
        } else {
          r.valid[i] = (av && bv) || at || bt;
          r.ints[i] = at || bt;
        }
      }
      return r;
    }
    case BoundKind::kIsNull: {
      const Vector& a = Eval(*n.children[0], in);
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = 1;
        r.ints[i] = (a.valid[i] == 0) != e.negated;
      }
      return r;
    }
    case BoundKind::kIn: {
      const Vector& x = Eval(*n.children[0], in);
      if (n.in_set) {
        const InSet& set = *n.in_set;
        for (size_t i = 0; i < count; ++i) {
          if (x.IsNull(i))
            r.SetNull(i);
          else if (set.Contains(x, i))
            r.SetInt(i, !e.negated);
          else if (set.has_null)
            r.SetNull(i);
          else
            r.SetInt(i, e.negated);
        }
        return r;
      }
      std::vector<const Vector*> items;
      for (size_t k = 1; k < n.children.size(); ++k) items.push_back(&Eval(*n.children[k], in));
      for (size_t i = 0; i < count; ++i) {
        if (x.IsNull(i)) {
          r.SetNull(i);
          continue;
        }
        bool found = false, saw_null = false;
        for (const Vector* item : items) {
          if (item->IsNull(i)) {
            saw_null = true;
          } else if (SameValue(x, i, *item, i)) {
            found = true;
            break;
          }
        }
        if (found)
          r.SetInt(i, !e.negated);
        else if (saw_null)
          r.SetNull(i);
        else
          r.SetInt(i, e.negated);
      }
      return r;
    }
    case BoundKind::kLike: {
      const Vector& s = Eval(*n.children[0], in);
      const Vector& p = Eval(*n.children[1], in);
      for (size_t i = 0; i < count; ++i) {
        r.valid[i] = s.valid[i] & p.valid[i];
        r.ints[i] = r.valid[i] ? LikeMatch(s.strs[i], p.strs[i]) != e.negated : 0;
      }
      return r;
    }
    case BoundKind::kCase: {
      // Every branch is evaluated over the whole batch; each row takes the
      // result of its first true condition.
      const size_t pairs = (n.children.size() - 1) / 2;
      std::vector<const Vector*> conds(pairs), results(pairs);
      for (size_t k = 0; k < pairs; ++k) {
        conds[k] = &Eval(*n.children[2 * k], in);
        results[k] = &Eval(*n.children[2 * k + 1], in);
      }
      const Vector& otherwise = Eval(*n.children.back(), in);
      for (size_t i = 0; i < count; ++i) {
        const Vector* pick = &otherwise;
        for (size_t k = 0; k < pairs; ++k) {
          if (conds[k]->valid[i] && conds[k]->ints[i]) {
            pick = results[k];
            break;
          }
        }
        CopyRow(*pick, r, i);
      }
      return r;
    }
    case BoundKind::kCoalesce: {
      std::vector<const Vector*> args;
      for (auto& c : n.children) args.push_back(&Eval(*c, in));
      for (size_t i = 0; i < count; ++i) {
        r.SetNull(i);
        for (const Vector* a : args) {
          if (a->valid[i]) {
            CopyRow(*a, r, i);
            break;
          }
        }
      }
      return r;
    }
    case BoundKind::kCast: {
      const Vector& a = Eval(*n.children[0], in);
      if (PhysicalOf(a.type) == PhysicalType::kInt64 && e.type == TypeId::kDouble) {
        for (size_t i = 0; i < count; ++i) {
          r.valid[i] = a.valid[i];
          r.dbls[i] = static_cast<double>(a.ints[i]);
        }
        return r;
      }
      for (size_t i = 0; i < count; ++i) CastRow(a, i, r, n);
      return r;
    }
    default:
      return EvalFunction(n, in, count);
  }
  return r;
}

}  // namespace

ExprEvaluator::ExprEvaluator(const sql::BoundExpr& expr) : root_(Build(expr)) {}
ExprEvaluator::~ExprEvaluator() = default;

const Vector& ExprEvaluator::Evaluate(const Batch& input) { return Eval(*root_, input); }

size_t SelectTrue(const Vector& v, size_t n, uint32_t* sel) {
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    sel[m] = static_cast<uint32_t>(i);
    m += v.valid[i] & (v.ints[i] != 0);
  }
  return m;
}

bool LikeMatch(std::string_view s, std::string_view p) {
  // Iterative matcher with backtracking to the last '%'.
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto char_len = [](std::string_view str, size_t i) {
    unsigned char c = static_cast<unsigned char>(str[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    return std::min(len, str.size() - i);
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star_p = ++pi;
      star_s = si;
    } else if (pi < p.size() && p[pi] == '_') {
      si += char_len(s, si);
      ++pi;
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++si;
      ++pi;
    } else if (star_p != std::string_view::npos) {
      star_s += char_len(s, star_s);
      si = star_s;
      pi = star_p;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

}  // namespace lf
