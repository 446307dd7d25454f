#include "common/vector.h"

namespace lf {

Value Vector::GetValue(size_t i) const {
  if (IsNull(i)) return Value::Null(type);
  Value v;
  v.type = type;
  v.is_null = false;
  switch (PhysicalOf(type)) {
    case PhysicalType::kInt64:
      v.i = ints[i];
      break;
    case PhysicalType::kDouble:
      v.d = dbls[i];
      break;
    case PhysicalType::kString:
      v.s.assign(strs[i]);
      break;
  }
  return v;
}

void Vector::SetValue(size_t i, const Value& v, StringArena* arena) {
  if (v.is_null) {
    SetNull(i);
    return;
  }
  switch (PhysicalOf(type)) {
    case PhysicalType::kInt64:
      SetInt(i, v.type == TypeId::kDouble ? int64_t(v.d) : v.i);
      break;
    case PhysicalType::kDouble:
      SetDouble(i, v.type == TypeId::kDouble ? v.d : double(v.i));
      break;
    case PhysicalType::kString:
      SetString(i, arena->Copy(v.s));
      break;
  }
}

}  // namespace lf
