// HyperLogLog: sparse/dense transitions, merge, Ertl's estimator, encoding.
#include "agg/hyperloglog.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "agg/state_coding.h"

namespace lf {

namespace {

constexpr uint8_t kSparseForm = 0;
constexpr uint8_t kDenseForm = 1;
constexpr size_t kPackedDenseBytes = HyperLogLog::kRegisters * 6 / 8;  // 3072

// sigma and tau from O. Ertl, "New cardinality estimation algorithms for
// HyperLogLog sketches" (2017), section 4: they correct for registers that
// are still zero and registers that hit the maximum value.
double Sigma(double x) {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1;
  double z = x;
  for (;;) {
    x *= x;
    const double prev = z;
    z += x * y;
    y += y;
    if (z == prev) return z;
  }
}

double Tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1;
  double z = 1 - x;
  for (;;) {
    x = std::sqrt(x);
    const double prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z == prev) return z / 3;
  }
}

}  // namespace

namespace {

// std::lower_bound without data-dependent branches: with random hashes every
// comparison of the classic loop is a coin flip the branch predictor misses.
size_t LowerBound(const uint32_t* v, size_t n, uint32_t key) {
  if (n == 0) return 0;
  const uint32_t* base = v;
  size_t len = n;
  while (len > 1) {
    const size_t half = len / 2;
    base += static_cast<size_t>(base[half - 1] < key) * half;
    len -= half;
  }
  return static_cast<size_t>(base - v) + (*base < key);
}

void* Allocate(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

uint16_t HyperLogLog::HeapCapacity(size_t n) {
  // glibc's chunks hold 16j + 8 usable bytes (at least 24): capacities of 4j + 2 entries waste nothing.
  const size_t c = std::max<size_t>(n, 6);
  return static_cast<uint16_t>(std::min((c + 1) / 4 * 4 + 2, kMaxSparse));
}

HyperLogLog::HyperLogLog(const HyperLogLog& other) {
  if (other.is_dense()) {
    void* p = Allocate(kRegisters);
    std::memcpy(p, other.dense(), kRegisters);
    set_heap(p);
    cap_ = kDenseCap;
  } else {
    AssignSparse(other.entries(), other.size_);
  }
}

HyperLogLog::HyperLogLog(HyperLogLog&& other) noexcept
    : words_{other.words_[0], other.words_[1], other.words_[2]}, size_(other.size_), cap_(other.cap_) {
  other.size_ = 0;
  other.cap_ = 0;
}

HyperLogLog& HyperLogLog::operator=(const HyperLogLog& other) {
  if (&other != this) *this = HyperLogLog(other);
  return *this;
}

HyperLogLog& HyperLogLog::operator=(HyperLogLog&& other) noexcept {
  if (&other != this) {
    Free();
    std::memcpy(words_, other.words_, sizeof words_);
    size_ = other.size_;
    cap_ = other.cap_;
    other.size_ = 0;
    other.cap_ = 0;
  }
  return *this;
}

void HyperLogLog::Free() {
  if (cap_ != 0) std::free(heap());
  size_ = 0;
  cap_ = 0;
}

bool HyperLogLog::operator==(const HyperLogLog& other) const {
  if (is_dense() != other.is_dense()) return false;
  if (is_dense()) return std::memcmp(dense(), other.dense(), kRegisters) == 0;
  return size_ == other.size_ && std::memcmp(entries(), other.entries(), size_t{size_} * sizeof(uint32_t)) == 0;
}

void HyperLogLog::AssignSparse(const uint32_t* e, size_t n) {
  if (n <= capacity() && !is_dense()) {
    std::memmove(entries(), e, n * sizeof(uint32_t));
    size_ = static_cast<uint16_t>(n);
    return;
  }
  if (n <= kInline) {
    uint32_t tmp[kInline];
    std::memcpy(tmp, e, n * sizeof(uint32_t));
    Free();
    std::memcpy(words_, tmp, n * sizeof(uint32_t));
    size_ = static_cast<uint16_t>(n);
    return;
  }
  const uint16_t cap = HeapCapacity(n);
  void* p = Allocate(size_t{cap} * sizeof(uint32_t));
  std::memcpy(p, e, n * sizeof(uint32_t));
  Free();
  set_heap(p);
  cap_ = cap;
  size_ = static_cast<uint16_t>(n);
}

void HyperLogLog::AddSparse(uint32_t index, uint8_t rho) {
  uint32_t* e = entries();
  const size_t n = size_;
  const size_t pos = LowerBound(e, n, Entry(index, 0));
  if (pos < n && IndexOf(e[pos]) == index) {
    if (RhoOf(e[pos]) < rho) e[pos] = Entry(index, rho);
    return;
  }
  if (n == kMaxSparse) {
    // The new register would make the list larger than a quarter of the dense array.
    ToDense(e, n);
    dense()[index] = rho;
    return;
  }
  if (n == capacity()) {
    // Grow by a quarter (at least to the next chunk size), up to kMaxSparse.
    const uint16_t cap = HeapCapacity(std::max(n + 1, n + n / 4));
    void* p;
    if (cap_ == 0) {
      p = Allocate(size_t{cap} * sizeof(uint32_t));
      std::memcpy(p, words_, n * sizeof(uint32_t));
    } else {
      p = std::realloc(heap(), size_t{cap} * sizeof(uint32_t));
      if (p == nullptr) throw std::bad_alloc();
    }
    set_heap(p);
    cap_ = cap;
    e = static_cast<uint32_t*>(p);
  }
  std::memmove(e + pos + 1, e + pos, (n - pos) * sizeof(uint32_t));
  e[pos] = Entry(index, rho);
  size_ = static_cast<uint16_t>(n + 1);
}

void HyperLogLog::ToDense(const uint32_t* e, size_t n) {
  auto* d = static_cast<uint8_t*>(Allocate(kRegisters));
  std::memset(d, 0, kRegisters);
  for (size_t k = 0; k < n; ++k) d[IndexOf(e[k])] = RhoOf(e[k]);
  Free();
  set_heap(d);
  cap_ = kDenseCap;
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  if (&other == this) return;
  if (other.is_dense()) {
    if (!is_dense()) ToDense(entries(), size_);
    uint8_t* a = dense();
    const uint8_t* b = other.dense();
    for (uint32_t i = 0; i < kRegisters; ++i) a[i] = std::max(a[i], b[i]);
    return;
  }
  if (other.size_ == 0) return;
  const uint32_t* ob = other.entries();
  const size_t on = other.size_;
  if (is_dense()) {
    uint8_t* d = dense();
    for (size_t k = 0; k < on; ++k) {
      uint8_t& r = d[IndexOf(ob[k])];
      r = std::max(r, RhoOf(ob[k]));
    }
    return;
  }
  // Sparse + sparse: merge the sorted lists, keeping the larger value per register.
  uint32_t merged[2 * kMaxSparse];
  size_t m = 0;
  const uint32_t* a = entries();
  const uint32_t* ae = a + size_;
  const uint32_t* b = ob;
  const uint32_t* be = ob + on;
  while (a != ae || b != be) {
    if (b == be || (a != ae && IndexOf(*a) < IndexOf(*b))) {
      merged[m++] = *a++;
    } else if (a == ae || IndexOf(*b) < IndexOf(*a)) {
      merged[m++] = *b++;
    } else {
      merged[m++] = std::max(*a++, *b++);  // same index: the larger entry has the larger value
    }
  }
  if (m > kMaxSparse) {
    ToDense(merged, m);
  } else {
    AssignSparse(merged, m);
  }
}

size_t HyperLogLog::NonZeroRegisters() const {
  if (!is_dense()) return size_;
  size_t n = 0;
  const uint8_t* d = dense();
  for (uint32_t i = 0; i < kRegisters; ++i) n += d[i] != 0;
  return n;
}

uint8_t HyperLogLog::Register(uint32_t index) const {
  if (is_dense()) return dense()[index];
  const uint32_t* e = entries();
  const size_t pos = LowerBound(e, size_, Entry(index, 0));
  return pos < size_ && IndexOf(e[pos]) == index ? RhoOf(e[pos]) : 0;
}

uint64_t HyperLogLog::Estimate() const {
  if (empty()) return 0;
  // Histogram of register values: c[k] = number of registers equal to k.
  std::array<uint32_t, kMaxRho + 1> c{};
  if (!is_dense()) {
    c[0] = kRegisters - size_;
    const uint32_t* e = entries();
    for (size_t k = 0; k < size_; ++k) ++c[RhoOf(e[k])];
  } else {
    const uint8_t* d = dense();
    for (uint32_t i = 0; i < kRegisters; ++i) ++c[d[i]];
  }
  constexpr double m = kRegisters;
  constexpr int q = 64 - kPrecision;
  double z = m * Tau(1 - c[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + c[k]);
  z += m * Sigma(c[0] / m);
  const double alpha_inf = 1 / (2 * std::log(2.0));
  return static_cast<uint64_t>(std::llround(alpha_inf * m * m / z));
}

void HyperLogLog::Serialize(std::string* out) const {
  using namespace agg_coding;
  PutU8(out, kFormatVersion);
  if (!is_dense()) {
    PutU8(out, kSparseForm);
    PutU16(out, size_);
    const uint32_t* e = entries();
    for (size_t k = 0; k < size_; ++k) {
      PutU16(out, static_cast<uint16_t>(IndexOf(e[k])));
      PutU8(out, RhoOf(e[k]));
    }
    return;
  }
  PutU8(out, kDenseForm);
  // Four 6-bit registers in three bytes, the first register in the low bits.
  const uint8_t* d = dense();
  std::string packed(kPackedDenseBytes, '\0');
  for (uint32_t i = 0, o = 0; i < kRegisters; i += 4, o += 3) {
    const uint32_t w = d[i] | (d[i + 1] << 6) | (d[i + 2] << 12) | (uint32_t{d[i + 3]} << 18);
    packed[o] = static_cast<char>(w);
    packed[o + 1] = static_cast<char>(w >> 8);
    packed[o + 2] = static_cast<char>(w >> 16);
  }
  out->append(packed);
}

Status HyperLogLog::Deserialize(std::string_view* in, HyperLogLog* out) {
  using namespace agg_coding;
  std::string_view rest = *in;
  uint8_t version, form;
  if (!GetU8(&rest, &version) || !GetU8(&rest, &form)) return Status::Corruption("HLL state: truncated header");
  if (version != kFormatVersion) {
    return Status::Corruption("HLL state: unknown format version " + std::to_string(version));
  }
  HyperLogLog h;
  if (form == kSparseForm) {
    uint16_t n;
    if (!GetU16(&rest, &n)) return Status::Corruption("HLL state: truncated sparse count");
    if (n > kMaxSparse) return Status::Corruption("HLL state: sparse list longer than " + std::to_string(kMaxSparse));
    if (rest.size() < size_t{n} * 3) return Status::Corruption("HLL state: truncated sparse list");
    uint32_t e[kMaxSparse];
    for (uint16_t k = 0; k < n; ++k) {
      uint16_t index = 0;
      uint8_t rho = 0;
      (void)GetU16(&rest, &index);
      (void)GetU8(&rest, &rho);
      if (index >= kRegisters || rho == 0 || rho > kMaxRho) {
        return Status::Corruption("HLL state: sparse entry out of range");
      }
      if (k > 0 && IndexOf(e[k - 1]) >= index) {
        return Status::Corruption("HLL state: sparse entries not strictly increasing");
      }
      e[k] = Entry(index, rho);
    }
    h.AssignSparse(e, n);
  } else if (form == kDenseForm) {
    if (rest.size() < kPackedDenseBytes) return Status::Corruption("HLL state: truncated dense registers");
    auto* d = static_cast<uint8_t*>(Allocate(kRegisters));
    h.set_heap(d);
    h.cap_ = kDenseCap;
    auto b = reinterpret_cast<const unsigned char*>(rest.data());
    for (uint32_t i = 0, o = 0; i < kRegisters; i += 4, o += 3) {
      const uint32_t w = b[o] | (b[o + 1] << 8) | (uint32_t{b[o + 2]} << 16);
      for (uint32_t j = 0; j < 4; ++j) {
        const auto r = static_cast<uint8_t>((w >> (6 * j)) & 0x3f);
        if (r > kMaxRho) return Status::Corruption("HLL state: register value out of range");
        d[i + j] = r;
      }
    }
    rest.remove_prefix(kPackedDenseBytes);
    h.Canonicalize();
  } else {
    return Status::Corruption("HLL state: unknown form " + std::to_string(form));
  }
  *out = std::move(h);
  *in = rest;
  return Status::OK();
}

void HyperLogLog::Canonicalize() {
  if (!is_dense() || NonZeroRegisters() > kMaxSparse) return;
  uint32_t e[kMaxSparse];
  size_t n = 0;
  const uint8_t* d = dense();
  for (uint32_t i = 0; i < kRegisters; ++i) {
    if (d[i] != 0) e[n++] = Entry(i, d[i]);
  }
  Free();
  AssignSparse(e, n);
}

}  // namespace lf
