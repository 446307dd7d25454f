// HyperLogLog: sparse/dense transitions, merge, Ertl's estimator, encoding.
#include "agg/hyperloglog.h"

#include <array>
#include <cmath>
#include <limits>

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
std::vector<uint32_t>::iterator LowerBound(std::vector<uint32_t>& v, uint32_t key) {
  if (v.empty()) return v.end();
  const uint32_t* base = v.data();
  size_t len = v.size();
  while (len > 1) {
    const size_t half = len / 2;
    base += static_cast<size_t>(base[half - 1] < key) * half;
    len -= half;
  }
  return v.begin() + ((base - v.data()) + (*base < key));
}

}  // namespace

void HyperLogLog::AddSparse(uint32_t index, uint8_t rho) {
  const uint32_t key = Entry(index, 0);
  auto it = LowerBound(sparse_, key);
  if (it != sparse_.end() && IndexOf(*it) == index) {
    if (RhoOf(*it) < rho) *it = Entry(index, rho);
    return;
  }
  if (sparse_.size() < kMaxSparse) {
    sparse_.insert(it, Entry(index, rho));
    return;
  }
  // The new register would make the list larger than a quarter of the dense array.
  ToDense(sparse_);
  dense_[index] = rho;
}

void HyperLogLog::ToDense(const std::vector<uint32_t>& entries) {
  std::vector<uint8_t> dense(kRegisters, 0);
  for (uint32_t e : entries) dense[IndexOf(e)] = RhoOf(e);
  dense_ = std::move(dense);
  std::vector<uint32_t>().swap(sparse_);
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  if (&other == this) return;
  if (!other.dense_.empty()) {
    if (dense_.empty()) ToDense(sparse_);
    uint8_t* a = dense_.data();
    const uint8_t* b = other.dense_.data();
    for (uint32_t i = 0; i < kRegisters; ++i) a[i] = std::max(a[i], b[i]);
    return;
  }
  if (other.sparse_.empty()) return;
  if (!dense_.empty()) {
    for (uint32_t e : other.sparse_) {
      uint8_t& r = dense_[IndexOf(e)];
      r = std::max(r, RhoOf(e));
    }
    return;
  }
  // Sparse + sparse: merge the sorted lists, keeping the larger value per register.
  std::vector<uint32_t> merged;
  merged.reserve(sparse_.size() + other.sparse_.size());
  auto a = sparse_.begin();
  auto b = other.sparse_.begin();
  while (a != sparse_.end() || b != other.sparse_.end()) {
    if (b == other.sparse_.end() || (a != sparse_.end() && IndexOf(*a) < IndexOf(*b))) {
      merged.push_back(*a++);
    } else if (a == sparse_.end() || IndexOf(*b) < IndexOf(*a)) {
      merged.push_back(*b++);
    } else {
      merged.push_back(std::max(*a++, *b++));  // same index: the larger entry has the larger value
    }
  }
  if (merged.size() > kMaxSparse) {
    ToDense(merged);
  } else {
    merged.shrink_to_fit();
    sparse_ = std::move(merged);
  }
}

size_t HyperLogLog::NonZeroRegisters() const {
  if (dense_.empty()) return sparse_.size();
  size_t n = 0;
  for (uint8_t r : dense_) n += r != 0;
  return n;
}

uint8_t HyperLogLog::Register(uint32_t index) const {
  if (!dense_.empty()) return dense_[index];
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), Entry(index, 0));
  return it != sparse_.end() && IndexOf(*it) == index ? RhoOf(*it) : 0;
}

uint64_t HyperLogLog::Estimate() const {
  if (empty()) return 0;
  // Histogram of register values: c[k] = number of registers equal to k.
  std::array<uint32_t, kMaxRho + 1> c{};
  if (dense_.empty()) {
    c[0] = kRegisters - static_cast<uint32_t>(sparse_.size());
    for (uint32_t e : sparse_) ++c[RhoOf(e)];
  } else {
    for (uint8_t r : dense_) ++c[r];
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
  if (dense_.empty()) {
    PutU8(out, kSparseForm);
    PutU16(out, static_cast<uint16_t>(sparse_.size()));
    for (uint32_t e : sparse_) {
      PutU16(out, static_cast<uint16_t>(IndexOf(e)));
      PutU8(out, RhoOf(e));
    }
    return;
  }
  PutU8(out, kDenseForm);
  // Four 6-bit registers in three bytes, the first register in the low bits.
  std::string packed(kPackedDenseBytes, '\0');
  for (uint32_t i = 0, o = 0; i < kRegisters; i += 4, o += 3) {
    const uint32_t w = dense_[i] | (dense_[i + 1] << 6) | (dense_[i + 2] << 12) | (uint32_t{dense_[i + 3]} << 18);
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
    h.sparse_.reserve(n);
    for (uint16_t k = 0; k < n; ++k) {
      uint16_t index = 0;
      uint8_t rho = 0;
      (void)GetU16(&rest, &index);
      (void)GetU8(&rest, &rho);
      if (index >= kRegisters || rho == 0 || rho > kMaxRho) {
        return Status::Corruption("HLL state: sparse entry out of range");
      }
      if (!h.sparse_.empty() && IndexOf(h.sparse_.back()) >= index) {
        return Status::Corruption("HLL state: sparse entries not strictly increasing");
      }
      h.sparse_.push_back(Entry(index, rho));
    }
  } else if (form == kDenseForm) {
    if (rest.size() < kPackedDenseBytes) return Status::Corruption("HLL state: truncated dense registers");
    h.dense_.assign(kRegisters, 0);
    auto b = reinterpret_cast<const unsigned char*>(rest.data());
    for (uint32_t i = 0, o = 0; i < kRegisters; i += 4, o += 3) {
      const uint32_t w = b[o] | (b[o + 1] << 8) | (uint32_t{b[o + 2]} << 16);
      for (uint32_t j = 0; j < 4; ++j) {
        const auto r = static_cast<uint8_t>((w >> (6 * j)) & 0x3f);
        if (r > kMaxRho) return Status::Corruption("HLL state: register value out of range");
        h.dense_[i + j] = r;
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
  if (dense_.empty() || NonZeroRegisters() > kMaxSparse) return;
  std::vector<uint32_t> entries;
  for (uint32_t i = 0; i < kRegisters; ++i) {
    if (dense_[i] != 0) entries.push_back(Entry(i, dense_[i]));
  }
  sparse_ = std::move(entries);
  std::vector<uint8_t>().swap(dense_);
}

}  // namespace lf
