// Columnar batches: the unit of work of every plan. A Vector holds one
// column of up to Batch::kCapacity rows in its physical type; a Batch holds
// the columns of one stream (or intermediate results) plus the arena that
// owns their string bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/string_arena.h"
#include "common/types.h"

namespace lf {

// One column of values. `valid[i] == 0` means row i is NULL (its data slot
// is unspecified). Only the data array matching PhysicalOf(type) is used.
// Vectors are sized once to the batch capacity and reused.
struct Vector {
  TypeId type = TypeId::kNull;
  std::vector<uint8_t> valid;
  std::vector<int64_t> ints;
  std::vector<double> dbls;
  std::vector<std::string_view> strs;

  Vector() = default;
  Vector(TypeId t, size_t capacity) { Reset(t, capacity); }

  void Reset(TypeId t, size_t capacity) {
    type = t;
    valid.assign(capacity, 0);
    ints.clear();
    dbls.clear();
    strs.clear();
    switch (PhysicalOf(t)) {
      case PhysicalType::kInt64:
        ints.assign(capacity, 0);
        break;
      case PhysicalType::kDouble:
        dbls.assign(capacity, 0);
        break;
      case PhysicalType::kString:
        strs.assign(capacity, {});
        break;
    }
  }
  size_t capacity() const { return valid.size(); }

  void SetNull(size_t i) { valid[i] = 0; }
  void SetInt(size_t i, int64_t x) {
    valid[i] = 1;
    ints[i] = x;
  }
  void SetDouble(size_t i, double x) {
    valid[i] = 1;
    dbls[i] = x;
  }
  void SetString(size_t i, std::string_view x) {
    valid[i] = 1;
    strs[i] = x;
  }
  bool IsNull(size_t i) const { return valid[i] == 0; }

  // Row i as a Value (copies text). For tests, output and slow paths.
  Value GetValue(size_t i) const;
  // Stores a Value of this vector's physical type into row i; text is copied
  // into `arena`.
  void SetValue(size_t i, const Value& v, StringArena* arena);
};

// Copies cell i of `src` into cell k of `dst` (same physical type). Text is
// not copied: its bytes must outlive `dst`'s use.
inline void CopyCell(const Vector& src, size_t i, Vector& dst, size_t k) {
  dst.valid[k] = src.valid[i];
  switch (PhysicalOf(dst.type)) {
    case PhysicalType::kInt64:
      dst.ints[k] = src.ints[i];
      break;
    case PhysicalType::kDouble:
      dst.dbls[k] = src.dbls[i];
      break;
    case PhysicalType::kString:
      dst.strs[k] = src.strs[i];
      break;
  }
}

// A set of equally long columns.
struct Batch {
  static constexpr size_t kCapacity = 2048;

  std::vector<Vector> columns;
  size_t size = 0;    // rows in use
  StringArena arena;  // owns the bytes of string columns

  Batch() = default;
  explicit Batch(const std::vector<TypeId>& types, size_t capacity = kCapacity) { Init(types, capacity); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  Batch(Batch&&) = default;
  Batch& operator=(Batch&&) = default;

  void Init(const std::vector<TypeId>& types, size_t capacity = kCapacity) {
    columns.clear();
    columns.reserve(types.size());
    for (TypeId t : types) columns.emplace_back(t, capacity);
    size = 0;
    arena.Reset();
  }
  size_t capacity() const { return columns.empty() ? kCapacity : columns[0].capacity(); }
  bool full() const { return size >= capacity(); }
  // Empties the batch; keeps the memory.
  void Clear() {
    size = 0;
    arena.Reset();
  }
};

}  // namespace lf
