// `lambdaflow produce`: writes seed events as NDJSON to stdout, like the
// paper's KinesisProducer, at full speed or at a given rate.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "cli/command.h"
#include "common/status.h"
#include "ingest/seed_generator.h"

namespace lf::cli {
namespace {

struct ProduceFlags {
  int64_t count = 10000;
  double rate = 0;
  uint64_t seed = 1;
};

// Output is written in chunks of about this size: few system calls, and a
// chunk still fits comfortably in caches.
constexpr size_t kFlushBytes = size_t{1} << 20;

// Writes all of `data` to `fd`. Returns 0 or the errno of the failed write.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

enum class WriteOutcome { kOk, kReaderGone, kFailed };

// Writes and clears `buf`. A reader that went away (EPIPE) ends production
// quietly; any other failure is reported on stderr.
WriteOutcome Flush(std::string* buf) {
  const int err = WriteAll(STDOUT_FILENO, *buf);
  buf->clear();
  if (err == 0) return WriteOutcome::kOk;
  if (err == EPIPE) return WriteOutcome::kReaderGone;
  std::fprintf(stderr, "lambdaflow produce: %s\n", Status::FromErrno(err, "write to stdout").ToString().c_str());
  return WriteOutcome::kFailed;
}

int RunProduce(const ProduceFlags& flags) {
  // A consumer that stops reading (`| head`) is normal for a producer: get
  // EPIPE from write() instead of being killed by SIGPIPE, and stop.
  std::signal(SIGPIPE, SIG_IGN);

  SeedGenerator gen(SeedGeneratorOptions{.seed = flags.seed});
  std::string buf;
  buf.reserve(kFlushBytes + SeedGenerator::kMaxLineBytes);
  const bool unlimited = flags.count == 0;
  const auto start = std::chrono::steady_clock::now();
  constexpr int64_t kBatch = 4096;
  int64_t produced = 0;

  while (unlimited || produced < flags.count) {
    int64_t batch_end = unlimited ? produced + kBatch : std::min(flags.count, produced + kBatch);
    if (flags.rate > 0) {
      // Event i is due at start + i / rate: emit everything due by now, then
      // sleep until the next one is due.
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto due = static_cast<int64_t>(elapsed * flags.rate) + 1;
      if (due <= produced) {
        std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(produced / flags.rate)));
        continue;
      }
      batch_end = std::min(batch_end, due);
    }
    for (; produced < batch_end; ++produced) gen.AppendEvent(&buf);
    if (buf.size() >= kFlushBytes || flags.rate > 0) {
      const WriteOutcome w = Flush(&buf);
      if (w != WriteOutcome::kOk) return w == WriteOutcome::kFailed ? 1 : 0;
    }
  }
  if (!buf.empty() && Flush(&buf) == WriteOutcome::kFailed) return 1;
  return 0;
}

// CLI::NonNegativeNumber names DBL_MAX in full in its message; this says it plainly.
const CLI::Validator kNonNegative(
    [](std::string& v) -> std::string {
      double d;
      if (!CLI::detail::lexical_cast(v, d) || !(d >= 0)) return "must be a number >= 0, got " + v;
      return {};
    },
    "NONNEGATIVE");

}  // namespace

void RegisterProduceCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ProduceFlags>();
  CLI::App* sub = app.add_subcommand(
      "produce",
      "Write seed events as NDJSON to stdout, like the paper's KinesisProducer:\n"
      "  {\"zipcode\":95126,\"ProductName\":\"product2\",\"price\":16,\"timestamp\":\"2014-11-01 19:35:41.158\"}\n"
      "zipcode: 2000 zip codes in 90000..99999 (Zipf-like); ProductName: product1..product50\n"
      "(product1 most popular); price: 1..100, one in ten with .25/.5/.75; timestamp: from\n"
      "2014-11-01 19:35:41.158 UTC, +0..200 ms per event. The same seed gives the same events.");
  sub->add_option("--count", flags->count, "Number of events to write; 0 = no limit (until the reader goes away)")
      ->check(kNonNegative)
      ->capture_default_str();
  sub->add_option("--rate", flags->rate, "Events per second; 0 = as fast as possible")
      ->check(kNonNegative)
      ->capture_default_str();
  sub->add_option("--seed", flags->seed, "Seed of the pseudo-random stream")->capture_default_str();
  sub->callback([flags, exit_code] { *exit_code = RunProduce(*flags); });
}

}  // namespace lf::cli
