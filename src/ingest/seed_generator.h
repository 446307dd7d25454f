// Synthetic seed events shaped like the paper's KinesisProducer output, one
// NDJSON line per event:
//
//   {"zipcode":95126,"ProductName":"product2","price":16,"timestamp":"2014-11-01 19:35:41.158"}
//
// The stream is a pure function of the seed, so demos, tests and benchmarks
// can name their input by (seed, count). Distributions, chosen to look like
// retail sales and to give views many but uneven groups:
//
// - zipcode: one of kZipCodes = 2000 distinct integers in [90000, 99999],
//   drawn Zipf-Mandelbrot with weight 1 / (rank + 10): the busiest zip gets
//   about 1.7% of events, the quietest about 0.01%. Which integer has which
//   rank is fixed (the same 2000 zip codes for every seed).
// - ProductName: "product1".."product50", weight 1 / (rank + 2) with
//   product1 the most popular (about 11%) and product50 the least (about 0.6%).
// - price: uniform integer 1..100 for 90% of events, written without a
//   fraction ("price":16); the other 10% add .25, .5 or .75 ("price":16.5).
//   Quarters are exact binary fractions, so SUM(price) over any subset is
//   exact in a double whatever the summation order, which lets tests compare
//   sums with an independent engine for equality.
// - timestamp: starts at `start_ms` (default 2014-11-01 19:35:41.158 UTC, the
//   paper's first event) and advances by a uniform 0..200 ms per event
//   (mean 100 ms): 10,000 events span about 17 minutes, 10 million events
//   about 11.6 days (~280 hours, so zipcode x hour views have many groups).
//   Timestamps never decrease; equal consecutive timestamps happen.
//
// Randomness is xoshiro256** seeded through splitmix64. The sampling uses
// only integer arithmetic and IEEE-exact double divisions and comparisons,
// so the stream is identical on every platform and compiler.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/schema.h"

namespace lf {

// The stream of the events SeedGenerator writes, as the paper declares it:
// zipcode INT, ProductName TEXT, price DOUBLE, timestamp TIMESTAMP (all
// nullable), named "events".
StreamSchema SeedStreamSchema();

struct SeedGeneratorOptions {
  uint64_t seed = 1;
  int64_t start_ms = 1414870541158;  // 2014-11-01 19:35:41.158 UTC
};

// One generated event, before rendering.
struct SeedEvent {
  int32_t zipcode = 0;
  int32_t product = 0;         // 1..kProducts; the name is "product<product>"
  int32_t price_quarters = 0;  // price * 4; the price is exact in a double
  int64_t timestamp_ms = 0;

  double price() const { return price_quarters / 4.0; }
};

// Produces the seed stream. Not thread-safe: use one generator per thread
// (with different seeds for different streams). Copyable: a copy continues
// the same stream independently.
class SeedGenerator {
 public:
  static constexpr int kZipCodes = 2000;
  static constexpr int kProducts = 50;
  static constexpr int kMaxDeltaMs = 200;
  // An upper bound on the length of one rendered line, including '\n'.
  static constexpr size_t kMaxLineBytes = 160;

  explicit SeedGenerator(SeedGeneratorOptions o);

  // The next event of the stream.
  SeedEvent Next();
  // Renders the next event as one JSON line, including the trailing '\n',
  // appended to *out.
  void AppendEvent(std::string* out);
  // Renders `e` as one JSON line with '\n', appended to *out.
  void AppendJson(const SeedEvent& e, std::string* out);

 private:
  // A discrete distribution over 0..n-1 sampled by inverse CDF with a guide
  // table (Chen & Asau), so a draw costs O(1) expected.
  class Discrete {
   public:
    explicit Discrete(const std::vector<double>& weights);
    int Sample(uint64_t bits) const;

   private:
    static constexpr int kGuideBits = 12;
    std::vector<double> cdf_;      // cdf_[i] = P(X <= i); cdf_.back() == 1
    std::vector<uint32_t> guide_;  // first i with cdf_[i] >= bucket start
  };

  uint64_t NextBits();
  // Uniform integer in [0, n) from the high 32 bits of a draw (bias < n / 2^32).
  uint32_t Uniform(uint32_t n) { return static_cast<uint32_t>(((NextBits() >> 32) * n) >> 32); }

  std::array<uint64_t, 4> state_;
  int64_t next_ms_;
  Discrete zips_;
  Discrete products_;
  // Cache of "YYYY-MM-DD HH:MM:" for the minute of the last rendered
  // timestamp; consecutive events mostly share it.
  int64_t cached_minute_ = INT64_MIN;
  std::string minute_prefix_;
};

// The zip code of a popularity rank in [0, kZipCodes): a fixed bijection of
// ranks onto distinct integers in [90000, 99999].
int32_t SeedZipCodeOfRank(int rank);

}  // namespace lf
