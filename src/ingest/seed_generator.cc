#include "ingest/seed_generator.h"

#include <charconv>
#include <cstring>

#include "common/format.h"

namespace lf {
namespace {

constexpr int kZipBase = 90000;
constexpr int kZipSpan = 10000;
// Odd and not a multiple of 5, so rank -> (rank * kZipStride + kZipOffset) mod
// 10000 is a bijection: popular zip codes are scattered over the range.
constexpr int kZipStride = 4973;
constexpr int kZipOffset = 5126;

constexpr double kZipShift = 10.0;     // Zipf-Mandelbrot q for zip codes
constexpr double kProductShift = 2.0;  // ... and for products

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::vector<double> ZipfMandelbrotWeights(int n, double q) {
  std::vector<double> w(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) w[static_cast<size_t>(k)] = 1.0 / (k + 1 + q);
  return w;
}

inline char* AppendInt(char* p, int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

inline char* AppendLiteral(char* p, const char* s, size_t n) {
  std::memcpy(p, s, n);
  return p + n;
}

}  // namespace

int32_t SeedZipCodeOfRank(int rank) {
  return kZipBase + static_cast<int32_t>((static_cast<int64_t>(rank) * kZipStride + kZipOffset) % kZipSpan);
}

SeedGenerator::Discrete::Discrete(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  cdf_.resize(weights.size());
  double acc = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    acc += weights[i];
    cdf_[i] = acc / total;
  }
  cdf_.back() = 1.0;  // so that every u in [0, 1) falls somewhere
  const size_t buckets = size_t{1} << kGuideBits;
  guide_.resize(buckets);
  uint32_t i = 0;
  for (size_t b = 0; b < buckets; ++b) {
    const double lo = static_cast<double>(b) / static_cast<double>(buckets);
    while (cdf_[i] <= lo) ++i;
    guide_[b] = i;
  }
}

int SeedGenerator::Discrete::Sample(uint64_t bits) const {
  // u in [0, 1) with 53 random bits; its bucket is the top kGuideBits bits,
  // and every index before guide_[bucket] has cdf <= bucket start <= u.
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;
  uint32_t i = guide_[bits >> (64 - kGuideBits)];
  while (cdf_[i] <= u) ++i;
  return static_cast<int>(i);
}

SeedGenerator::SeedGenerator(SeedGeneratorOptions o)
    : next_ms_(o.start_ms),
      zips_(ZipfMandelbrotWeights(kZipCodes, kZipShift)),
      products_(ZipfMandelbrotWeights(kProducts, kProductShift)) {
  uint64_t x = o.seed;
  for (auto& s : state_) s = SplitMix64(&x);
}

uint64_t SeedGenerator::NextBits() {
  // xoshiro256** (Blackman & Vigna).
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

SeedEvent SeedGenerator::Next() {
  SeedEvent e;
  e.zipcode = SeedZipCodeOfRank(zips_.Sample(NextBits()));
  e.product = products_.Sample(NextBits()) + 1;
  e.price_quarters = static_cast<int32_t>(1 + Uniform(100)) * 4;
  if (Uniform(10) == 0) e.price_quarters += static_cast<int32_t>(1 + Uniform(3));
  e.timestamp_ms = next_ms_;
  next_ms_ += Uniform(kMaxDeltaMs + 1);
  return e;
}

void SeedGenerator::AppendEvent(std::string* out) { AppendJson(Next(), out); }

void SeedGenerator::AppendJson(const SeedEvent& e, std::string* out) {
  const int64_t minute = e.timestamp_ms >= 0 ? e.timestamp_ms / 60000 : (e.timestamp_ms - 59999) / 60000;
  if (minute != cached_minute_) {
    minute_prefix_.clear();
    AppendTimestamp(minute * 60000, &minute_prefix_);
    minute_prefix_.resize(minute_prefix_.size() - 6);  // keep "YYYY-MM-DD HH:MM:"
    cached_minute_ = minute;
  }
  const int second = static_cast<int>(e.timestamp_ms - minute * 60000) / 1000;
  const int millis = static_cast<int>(e.timestamp_ms - minute * 60000) % 1000;

  // Rendered into a stack buffer and appended once: cheaper than growing
  // `out` piecewise or zero-filling a resize.
  char line[kMaxLineBytes];
  char* p = line;
  static constexpr char kZip[] = "{\"zipcode\":";
  static constexpr char kProduct[] = ",\"ProductName\":\"product";
  static constexpr char kPrice[] = "\",\"price\":";
  static constexpr char kTimestamp[] = ",\"timestamp\":\"";
  p = AppendLiteral(p, kZip, sizeof(kZip) - 1);
  p = AppendInt(p, e.zipcode);
  p = AppendLiteral(p, kProduct, sizeof(kProduct) - 1);
  p = AppendInt(p, e.product);
  p = AppendLiteral(p, kPrice, sizeof(kPrice) - 1);
  p = AppendInt(p, e.price_quarters / 4);
  switch (e.price_quarters % 4) {
    case 1:
      p = AppendLiteral(p, ".25", 3);
      break;
    case 2:
      p = AppendLiteral(p, ".5", 2);
      break;
    case 3:
      p = AppendLiteral(p, ".75", 3);
      break;
    default:
      break;
  }
  p = AppendLiteral(p, kTimestamp, sizeof(kTimestamp) - 1);
  p = AppendLiteral(p, minute_prefix_.data(), minute_prefix_.size());
  *p++ = static_cast<char>('0' + second / 10);
  *p++ = static_cast<char>('0' + second % 10);
  *p++ = '.';
  *p++ = static_cast<char>('0' + millis / 100);
  *p++ = static_cast<char>('0' + millis / 10 % 10);
  *p++ = static_cast<char>('0' + millis % 10);
  *p++ = '"';
  *p++ = '}';
  *p++ = '\n';
  out->append(line, static_cast<size_t>(p - line));
}

StreamSchema SeedStreamSchema() {
  StreamSchema s;
  s.name = "events";
  s.columns = {{"zipcode", TypeId::kInt, false},
               {"ProductName", TypeId::kText, false},
               {"price", TypeId::kDouble, false},
               {"timestamp", TypeId::kTimestamp, false}};
  return s;
}

}  // namespace lf
