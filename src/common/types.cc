#include "common/types.h"

#include "common/format.h"

namespace lf {

const char* TypeName(TypeId t) {
  switch (t) {
    case TypeId::kNull:
      return "NULL";
    case TypeId::kBoolean:
      return "BOOLEAN";
    case TypeId::kInt:
      return "INT";
    case TypeId::kBigInt:
      return "BIGINT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kText:
      return "TEXT";
    case TypeId::kTimestamp:
      return "TIMESTAMP";
  }
  return "?";
}

bool Value::operator==(const Value& o) const {
  if (is_null || o.is_null) return is_null == o.is_null;
  switch (PhysicalOf(type)) {
    case PhysicalType::kInt64:
      return i == o.i;
    case PhysicalType::kDouble:
      return d == o.d;
    case PhysicalType::kString:
      return s == o.s;
  }
  return false;
}

int Value::Compare(const Value& o) const {
  if (is_null || o.is_null) return int(o.is_null) - int(is_null);
  switch (PhysicalOf(type)) {
    case PhysicalType::kInt64:
      return i < o.i ? -1 : (i > o.i ? 1 : 0);
    case PhysicalType::kDouble:
      return SqlDoubleCompare(d, o.d);  // NaN one value above +inf, as views sort keys
    case PhysicalType::kString: {
      int c = s.compare(o.s);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

std::string Value::DebugString() const {
  if (is_null) return "NULL";
  std::string out;
  switch (type) {
    case TypeId::kBoolean:
      return i ? "true" : "false";
    case TypeId::kInt:
    case TypeId::kBigInt:
      return std::to_string(i);
    case TypeId::kDouble:
      AppendDouble(d, &out);
      return out;
    case TypeId::kTimestamp:
      AppendTimestamp(i, &out);
      return out;
    case TypeId::kText:
      return s;
    case TypeId::kNull:
      return "NULL";
  }
  return out;
}

}  // namespace lf
