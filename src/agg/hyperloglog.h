// HyperLogLog sketch for APPROX_COUNT_DISTINCT: precision 12 (4096 registers),
// a sparse form for small cardinalities, register-wise max as the merge, and
// Ertl's improved estimator. Layout and error bound: docs/aggregates.md.
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf {

// One sketch. Holds either a sorted list of (register, value) pairs for the
// non-zero registers (sparse) or all 4096 registers, one byte each (dense).
// Invariant: the sketch is dense iff more than kMaxSparse registers are
// non-zero, so the representation (and the serialized bytes) is a function of
// the register values alone: merging partial sketches gives byte-identical
// results to one pass over the union. Not thread-safe; copyable.
//
// The object is 16 bytes, because a view holds one per group: up to
// kInline sparse entries live in the object itself (no heap allocation);
// longer lists live in one heap block whose capacity grows in steps that fill
// glibc's malloc chunks (4k + 2 entries) instead of doubling; a dense sketch
// owns one 4096-byte block.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 12;
  static constexpr uint32_t kRegisters = 1u << kPrecision;
  static constexpr uint8_t kMaxRho = 64 - kPrecision + 1;  // 53: all remaining bits zero
  // Sparse entries are 4 bytes; at 256 of them the list is a quarter of the dense array.
  static constexpr size_t kMaxSparse = kRegisters / 16;
  // Sparse entries held in the object itself.
  static constexpr size_t kInline = 3;
  static constexpr uint8_t kFormatVersion = 1;

  HyperLogLog() = default;
  HyperLogLog(const HyperLogLog& other);
  HyperLogLog(HyperLogLog&& other) noexcept;
  HyperLogLog& operator=(const HyperLogLog& other);
  HyperLogLog& operator=(HyperLogLog&& other) noexcept;
  ~HyperLogLog() { Free(); }

  // The 64-bit hash of a value. Doubles hash their bits with -0.0 folded into
  // 0.0 and every NaN into one NaN, so that SQL-equal values hash equal.
  static uint64_t Hash(int64_t v) {
    static_assert(std::endian::native == std::endian::little, "hashes assume a little-endian host");
    return XXH3_64bits(&v, sizeof v);
  }
  static uint64_t Hash(double v) {
    if (v == 0) v = 0.0;
    if (v != v) v = __builtin_nan("");
    return Hash(std::bit_cast<int64_t>(v));
  }
  static uint64_t Hash(std::string_view v) { return XXH3_64bits(v.data(), v.size()); }

  // Adds one hashed value: the top kPrecision bits pick the register, the
  // register keeps the maximum of 1 + (leading zeros of the remaining bits).
  void AddHash(uint64_t h) {
    const auto index = static_cast<uint32_t>(h >> (64 - kPrecision));
    const auto rho = static_cast<uint8_t>(std::countl_zero((h << kPrecision) | (uint64_t{1} << (kPrecision - 1))) + 1);
    if (is_dense()) {
      uint8_t* d = dense();
      if (d[index] < rho) d[index] = rho;
    } else {
      AddSparse(index, rho);
    }
  }

  // this = register-wise max(this, other).
  void Merge(const HyperLogLog& other);

  // Estimated number of distinct values added (0 when empty).
  uint64_t Estimate() const;

  bool is_sparse() const { return !is_dense(); }
  bool empty() const { return !is_dense() && size_ == 0; }
  // Number of non-zero registers.
  size_t NonZeroRegisters() const;
  // Value of register `index` (< kRegisters).
  uint8_t Register(uint32_t index) const;
  // Equal register values (the representation follows from them).
  bool operator==(const HyperLogLog& other) const;

  // Heap bytes owned (0 while the sparse list fits in the object).
  size_t MemoryUsage() const {
    if (is_dense()) return kRegisters;
    return cap_ == 0 ? 0 : size_t{cap_} * sizeof(uint32_t);
  }

  // Appends the versioned encoding (docs/aggregates.md) to `out`.
  void Serialize(std::string* out) const;
  // Reads one encoding from the front of `in` into `out`; Corruption on any
  // malformed input (then `out` is unchanged).
  static Status Deserialize(std::string_view* in, HyperLogLog* out);

 private:
  static constexpr uint16_t kDenseCap = 0xffff;

  // Sparse entry: register index << 8 | value; sorted by index, indexes unique, values in [1, kMaxRho].
  static uint32_t Entry(uint32_t index, uint8_t rho) { return (index << 8) | rho; }
  static uint32_t IndexOf(uint32_t entry) { return entry >> 8; }
  static uint8_t RhoOf(uint32_t entry) { return static_cast<uint8_t>(entry & 0xff); }
  // The smallest heap capacity >= n (and > kInline) that fills a malloc chunk: 4k + 2 entries.
  static uint16_t HeapCapacity(size_t n);

  bool is_dense() const { return cap_ == kDenseCap; }
  void* heap() const {
    void* p;
    std::memcpy(&p, words_, sizeof p);
    return p;
  }
  void set_heap(void* p) { std::memcpy(words_, &p, sizeof p); }
  uint8_t* dense() const { return static_cast<uint8_t*>(heap()); }
  uint32_t* entries() { return cap_ == 0 ? words_ : static_cast<uint32_t*>(heap()); }
  const uint32_t* entries() const { return cap_ == 0 ? words_ : static_cast<const uint32_t*>(heap()); }
  size_t capacity() const { return cap_ == 0 ? kInline : cap_; }

  void Free();
  void AddSparse(uint32_t index, uint8_t rho);
  // Makes this sketch sparse with exactly the `n` entries `e` (n <= kMaxSparse).
  void AssignSparse(const uint32_t* e, size_t n);
  // Switches to dense with the registers listed in `e[0, n)`; frees the sparse list.
  void ToDense(const uint32_t* e, size_t n);
  // Re-establishes the representation invariant after decoding dense bytes.
  void Canonicalize();

  uint32_t words_[kInline] = {};  // the sparse entries while cap_ == 0, else the heap block's address
  uint16_t size_ = 0;             // sparse entries (unused when dense)
  uint16_t cap_ = 0;              // 0: inline; kDenseCap: dense; else the heap list's capacity
};

static_assert(sizeof(HyperLogLog) == 16);

}  // namespace lf
