// SQL data types and the scalar Value used for literals, group keys and
// finalized aggregate results. Bulk data travels in Vectors (vector.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lf {

enum class TypeId : uint8_t {
  kNull,  // the type of an untyped NULL literal; never a column type
  kBoolean,
  kInt,     // 32-bit signed; stored as int64 in vectors, range-checked on input
  kBigInt,  // 64-bit signed
  kDouble,
  kText,       // UTF-8
  kTimestamp,  // milliseconds since the Unix epoch, UTC
};

// "INT", "BIGINT", ... as written in SQL.
const char* TypeName(TypeId t);

// How a type is held in a Vector: booleans, integers and timestamps as
// int64, doubles as double, text as string_view.
enum class PhysicalType : uint8_t { kInt64, kDouble, kString };

inline PhysicalType PhysicalOf(TypeId t) {
  switch (t) {
    case TypeId::kDouble:
      return PhysicalType::kDouble;
    case TypeId::kText:
      return PhysicalType::kString;
    default:
      return PhysicalType::kInt64;
  }
}

inline bool IsInteger(TypeId t) { return t == TypeId::kInt || t == TypeId::kBigInt; }
inline bool IsNumeric(TypeId t) { return IsInteger(t) || t == TypeId::kDouble; }

// The SQL order of DOUBLE values, used by comparisons, IN, GROUP BY keys and
// their sort (as in PostgreSQL and DuckDB): every NaN is one value, equal to
// itself and greater than +inf; -0.0 equals 0.0.
inline bool SqlDoubleEq(double x, double y) { return x == y || (x != x && y != y); }
inline bool SqlDoubleLess(double x, double y) { return x < y || (x == x && y != y); }
// -1, 0 or 1 in the same order.
inline int SqlDoubleCompare(double x, double y) { return SqlDoubleLess(x, y) ? -1 : (SqlDoubleLess(y, x) ? 1 : 0); }
// One representative per SQL-equal class: 0.0 for -0.0, one quiet NaN.
inline double CanonicalDouble(double d) {
  if (d != d) return __builtin_nan("");
  return d == 0 ? 0.0 : d;
}

// A single SQL value. Owns its text.
struct Value {
  TypeId type = TypeId::kNull;
  bool is_null = true;
  int64_t i = 0;  // kBoolean (0/1), kInt, kBigInt, kTimestamp
  double d = 0;   // kDouble
  std::string s;  // kText

  static Value Null(TypeId t = TypeId::kNull) {
    Value v;
    v.type = t;
    return v;
  }
  static Value Bool(bool b) {
    Value v;
    v.type = TypeId::kBoolean;
    v.is_null = false;
    v.i = b;
    return v;
  }
  static Value Int(int64_t x, TypeId t = TypeId::kBigInt) {
    Value v;
    v.type = t;
    v.is_null = false;
    v.i = x;
    return v;
  }
  static Value Double(double x) {
    Value v;
    v.type = TypeId::kDouble;
    v.is_null = false;
    v.d = x;
    return v;
  }
  static Value Text(std::string x) {
    Value v;
    v.type = TypeId::kText;
    v.is_null = false;
    v.s = std::move(x);
    return v;
  }
  static Value Timestamp(int64_t ms) {
    Value v;
    v.type = TypeId::kTimestamp;
    v.is_null = false;
    v.i = ms;
    return v;
  }

  bool operator==(const Value& o) const;
  // SQL-ish total order for sorting output rows: NULLs first, then by value.
  // Both values must have the same physical type (or be NULL).
  int Compare(const Value& o) const;
  // A readable rendering for messages and the table format ("NULL" for null).
  std::string DebugString() const;
};

}  // namespace lf
