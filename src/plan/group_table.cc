#include "plan/group_table.h"

#include <xxhash.h>

#include <cstring>

namespace lf {
namespace {

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

constexpr uint64_t kNullHash = 0x9ae16a3b2f90404fULL;

inline uint64_t DoubleBits(double d) {
  d = CanonicalDouble(d);  // -0.0 and 0.0 are one group, so are all NaNs
  uint64_t b;
  std::memcpy(&b, &d, sizeof(b));
  return b;
}

inline uint64_t Combine(uint64_t seed, uint64_t h) { return Mix(seed * 31 + h); }

// hashes[k] = hash of row rows[k] of `v` (first column) or combined into it.
// The type switch is outside the row loops.
void HashColumn(const Vector& v, const uint32_t* rows, size_t count, uint64_t* hashes, bool first) {
  const uint8_t* valid = v.valid.data();
  switch (PhysicalOf(v.type)) {
    case PhysicalType::kInt64: {
      const int64_t* data = v.ints.data();
      for (size_t k = 0; k < count; ++k) {
        uint32_t r = rows[k];
        uint64_t h = valid[r] ? Mix(static_cast<uint64_t>(data[r])) : kNullHash;
        hashes[k] = first ? h : Combine(hashes[k], h);
      }
      break;
    }
    case PhysicalType::kDouble: {
      const double* data = v.dbls.data();
      for (size_t k = 0; k < count; ++k) {
        uint32_t r = rows[k];
        uint64_t h = valid[r] ? Mix(DoubleBits(data[r])) : kNullHash;
        hashes[k] = first ? h : Combine(hashes[k], h);
      }
      break;
    }
    case PhysicalType::kString: {
      const std::string_view* data = v.strs.data();
      for (size_t k = 0; k < count; ++k) {
        uint32_t r = rows[k];
        uint64_t h = valid[r] ? XXH3_64bits(data[r].data(), data[r].size()) : kNullHash;
        hashes[k] = first ? h : Combine(hashes[k], h);
      }
      break;
    }
  }
}

// HashColumn of a then b in one pass: the same hashes, half the loads and
// stores (two integer keys, e.g. an id and a time bucket, are common).
void HashTwoInts(const Vector& a, const Vector& b, const uint32_t* rows, size_t count, uint64_t* hashes) {
  const uint8_t* va = a.valid.data();
  const uint8_t* vb = b.valid.data();
  const int64_t* da = a.ints.data();
  const int64_t* db = b.ints.data();
  for (size_t k = 0; k < count; ++k) {
    const uint32_t r = rows[k];
    const uint64_t ha = va[r] ? Mix(static_cast<uint64_t>(da[r])) : kNullHash;
    const uint64_t hb = vb[r] ? Mix(static_cast<uint64_t>(db[r])) : kNullHash;
    hashes[k] = Combine(ha, hb);
  }
}

}  // namespace

GroupTable::GroupTable(std::vector<TypeId> key_types) {
  for (TypeId t : key_types) keys_.emplace_back(t, 0);
  slots_.assign(1024, 0);
  mask_ = slots_.size() - 1;
  if (keys_.empty()) size_ = 1;
}

bool GroupTable::KeysEqual(uint32_t gid, const std::vector<const Vector*>& keys, uint32_t row) const {
  for (size_t c = 0; c < keys_.size(); ++c) {
    const Vector& stored = keys_[c];
    const Vector& in = *keys[c];
    if (stored.valid[gid] != in.valid[row]) return false;
    if (!in.valid[row]) continue;
    switch (PhysicalOf(stored.type)) {
      case PhysicalType::kInt64:
        if (stored.ints[gid] != in.ints[row]) return false;
        break;
      case PhysicalType::kDouble:
        if (DoubleBits(stored.dbls[gid]) != DoubleBits(in.dbls[row])) return false;
        break;
      case PhysicalType::kString:
        if (stored.strs[gid] != in.strs[row]) return false;
        break;
    }
  }
  return true;
}

uint32_t GroupTable::Insert(const std::vector<const Vector*>& keys, uint32_t row) {
  // Key columns grow by a quarter, not by doubling: a large served state
  // that gains a few groups after a swap would otherwise carry up to twice
  // the key bytes it holds.
  if (!keys_.empty() && size_ == keys_[0].valid.capacity()) ReserveKeys(size_ + size_ / 4 + 64);
  for (size_t c = 0; c < keys_.size(); ++c) {
    Vector& stored = keys_[c];
    const Vector& in = *keys[c];
    stored.valid.push_back(in.valid[row]);
    switch (PhysicalOf(stored.type)) {
      case PhysicalType::kInt64:
        stored.ints.push_back(in.valid[row] ? in.ints[row] : 0);
        break;
      case PhysicalType::kDouble:
        // The canonical value, so that the key does not depend on which
        // member of its class came first (-0.0 or 0.0, which NaN).
        stored.dbls.push_back(in.valid[row] ? CanonicalDouble(in.dbls[row]) : 0);
        break;
      case PhysicalType::kString:
        stored.strs.push_back(in.valid[row] ? arena_.Copy(in.strs[row]) : std::string_view());
        break;
    }
  }
  return static_cast<uint32_t>(size_++);
}

void GroupTable::Grow() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, 0);
  mask_ = slots_.size() - 1;
  // Rehash from the stored keys: slots keep only a tag of the hash.
  std::vector<const Vector*> cols;
  for (const auto& k : keys_) cols.push_back(&k);
  std::vector<uint32_t> rows(size_);
  for (size_t g = 0; g < size_; ++g) rows[g] = static_cast<uint32_t>(g);
  std::vector<uint64_t> hashes(size_);
  for (size_t c = 0; c < keys_.size(); ++c) HashColumn(keys_[c], rows.data(), size_, hashes.data(), c == 0);
  for (size_t g = 0; g < size_; ++g) {
    size_t idx = hashes[g] & mask_;
    while (slots_[idx] != 0) idx = (idx + 1) & mask_;
    slots_[idx] = (hashes[g] >> 32 << 32) | (g + 1);
  }
}

template <typename Eq>
void GroupTable::Probe(const std::vector<const Vector*>& keys, const uint32_t* rows, size_t count, uint32_t* gids,
                       Eq eq) {
  // The slot of the row kPrefetch ahead is fetched while this one probes:
  // a table larger than the cache costs a miss per row otherwise.
  constexpr size_t kPrefetch = 8;
  for (size_t k = 0; k < count; ++k) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    if (k + kPrefetch < count) __builtin_prefetch(&slots_[hashes_[k + kPrefetch] & mask_]);
    const uint64_t h = hashes_[k];
    const uint64_t tag = h >> 32 << 32;
    const uint32_t row = rows[k];
    size_t idx = h & mask_;
    while (true) {
      const uint64_t s = slots_[idx];
      if (s == 0) {
        uint32_t gid = Insert(keys, row);
        slots_[idx] = tag | (gid + 1);
        gids[k] = gid;
        break;
      }
      if ((s & 0xffffffff00000000ULL) == tag) {
        const uint32_t gid = static_cast<uint32_t>(s) - 1;
        if (eq(gid, row)) {
          gids[k] = gid;
          break;
        }
      }
      idx = (idx + 1) & mask_;
    }
  }
}

namespace {

// A text's length and its first and last 8 bytes: for texts of up to 16
// bytes these are all of its bytes, so equal prints mean equal texts.
struct TextPrint {
  uint64_t a = 0, b = 0, size = 0;
  explicit TextPrint(std::string_view v) : size(v.size()) {
    if (v.size() >= 8) {
      std::memcpy(&a, v.data(), 8);
      std::memcpy(&b, v.data() + v.size() - 8, 8);
    } else {
      std::memcpy(&a, v.data(), v.size());
    }
  }
  TextPrint() = default;
  bool operator==(const TextPrint& o) const { return a == o.a && b == o.b && size == o.size; }
  uint64_t Hash() const { return (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL) ^ size; }
};

}  // namespace

void GroupTable::FindOrInsertText(const std::vector<const Vector*>& keys, const uint32_t* rows, size_t count,
                                  uint32_t* gids) {
  // Text keys of few distinct values (product names, countries) repeat
  // from row to row; two small memos of recent groups skip hashing and
  // probing for repeats. Dictionary-encoded columns (master-segment
  // sidecars) hand out equal values at one address: the first memo is
  // keyed by the address. Texts decoded row by row (eval) have addresses
  // of their own: the second memo is keyed by a print of the bytes, which
  // decides equality for texts of up to 16 bytes; longer ones are
  // compared byte by byte. Both live for one call only, while the input
  // cannot change.
  struct AddressMemo {
    const char* data = nullptr;
    size_t size = 0;
    uint32_t gid = 0;
  };
  struct PrintMemo {
    TextPrint print;
    uint32_t gid = 0;
    bool used = false;
  };
  AddressMemo by_address[64];
  constexpr int kPrintBits = 7;
  PrintMemo by_print[1 << kPrintBits];
  const Vector& in = *keys[0];
  if (hashes_.size() < 1) hashes_.resize(1);
  for (size_t k = 0; k < count; ++k) {
    const uint32_t row = rows[k];
    const std::string_view v = in.strs[row];
    AddressMemo* am = nullptr;
    PrintMemo* pm = nullptr;
    TextPrint print;
    if (in.valid[row] && v.data() != nullptr) {
      am = &by_address[((reinterpret_cast<uintptr_t>(v.data()) >> 3) ^ v.size()) & 63];
      if (am->data == v.data() && am->size == v.size()) {
        gids[k] = am->gid;
        continue;
      }
      print = TextPrint(v);
      pm = &by_print[print.Hash() >> (64 - kPrintBits)];
      if (pm->used && pm->print == print &&
          (v.size() <= 16 || std::memcmp(keys_[0].strs[pm->gid].data(), v.data(), v.size()) == 0)) {
        gids[k] = pm->gid;
        *am = AddressMemo{v.data(), v.size(), pm->gid};
        continue;
      }
    }
    HashColumn(in, &row, 1, hashes_.data(), true);
    Probe(keys, &row, 1, &gids[k], [&](uint32_t gid, uint32_t r) {
      const Vector& st = keys_[0];
      return st.valid[gid] == in.valid[r] && (!in.valid[r] || st.strs[gid] == in.strs[r]);
    });
    if (am) {
      *am = AddressMemo{v.data(), v.size(), gids[k]};
      *pm = PrintMemo{print, gids[k], true};
    }
  }
}

void GroupTable::FindOrInsert(const std::vector<const Vector*>& keys, const uint32_t* rows, size_t count,
                              uint32_t* gids) {
  if (keys_.empty()) {
    std::memset(gids, 0, count * sizeof(uint32_t));
    return;
  }
  if (keys_.size() == 1 && PhysicalOf(keys_[0].type) == PhysicalType::kString) {
    FindOrInsertText(keys, rows, count, gids);
    return;
  }
  if (hashes_.size() < count) hashes_.resize(count);
  if (keys_.size() == 2 && PhysicalOf(keys_[0].type) == PhysicalType::kInt64 &&
      PhysicalOf(keys_[1].type) == PhysicalType::kInt64) {
    HashTwoInts(*keys[0], *keys[1], rows, count, hashes_.data());
  } else {
    for (size_t c = 0; c < keys_.size(); ++c) HashColumn(*keys[c], rows, count, hashes_.data(), c == 0);
  }
  // Inlined comparisons for the common key shapes; KeysEqual for the rest.
  // The stored vectors may reallocate on insert, so they are read through
  // keys_ on every comparison.
  if (keys_.size() <= 2 && PhysicalOf(keys_[0].type) == PhysicalType::kInt64 &&
      PhysicalOf(keys_.back().type) == PhysicalType::kInt64) {
    const Vector& a = *keys[0];
    const Vector& b = *keys.back();
    Probe(keys, rows, count, gids, [&](uint32_t gid, uint32_t row) {
      const Vector& sa = keys_[0];
      const Vector& sb = keys_.back();
      return sa.valid[gid] == a.valid[row] && (!a.valid[row] || sa.ints[gid] == a.ints[row]) &&
             sb.valid[gid] == b.valid[row] && (!b.valid[row] || sb.ints[gid] == b.ints[row]);
    });
  } else {
    Probe(keys, rows, count, gids, [&](uint32_t gid, uint32_t row) { return KeysEqual(gid, keys, row); });
  }
}

int64_t GroupTable::Find(const std::vector<const Vector*>& keys, uint32_t row) const {
  if (keys_.empty()) return 0;
  uint64_t h = 0;
  for (size_t c = 0; c < keys_.size(); ++c) HashColumn(*keys[c], &row, 1, &h, c == 0);
  const uint64_t tag = h >> 32 << 32;
  for (size_t idx = h & mask_;; idx = (idx + 1) & mask_) {
    const uint64_t s = slots_[idx];
    if (s == 0) return -1;
    if ((s & 0xffffffff00000000ULL) == tag && KeysEqual(static_cast<uint32_t>(s) - 1, keys, row))
      return static_cast<uint32_t>(s) - 1;
  }
}

void GroupTable::CopyFrom(const GroupTable& other) {
  keys_ = other.keys_;
  for (Vector& k : keys_) {
    if (PhysicalOf(k.type) != PhysicalType::kString) continue;
    for (size_t g = 0; g < other.size_; ++g) k.strs[g] = arena_.Copy(k.strs[g]);  // off the other's arena
  }
  slots_ = other.slots_;
  mask_ = other.mask_;
  size_ = other.size_;
}

void GroupTable::Reserve(size_t groups) {
  while ((groups + 1) * 2 > slots_.size()) Grow();
  ReserveKeys(groups);
}

void GroupTable::ReserveKeys(size_t groups) {
  for (Vector& k : keys_) {
    k.valid.reserve(groups);
    switch (PhysicalOf(k.type)) {
      case PhysicalType::kInt64:
        k.ints.reserve(groups);
        break;
      case PhysicalType::kDouble:
        k.dbls.reserve(groups);
        break;
      case PhysicalType::kString:
        k.strs.reserve(groups);
        break;
    }
  }
}

size_t GroupTable::MemoryUsage() const {
  size_t bytes = slots_.capacity() * sizeof(uint64_t) + arena_.bytes_reserved();
  for (const auto& k : keys_)
    bytes += k.valid.capacity() + k.ints.capacity() * 8 + k.dbls.capacity() * 8 + k.strs.capacity() * 16;
  return bytes;
}

}  // namespace lf
