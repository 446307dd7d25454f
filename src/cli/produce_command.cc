// `lambdaflow produce`: writes seed events as NDJSON to stdout, like the
// paper's KinesisProducer, at full speed or at a given rate; or, with --to,
// POSTs them to a `lambdaflow run` server and reports the ack latency.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/event_sender.h"
#include "cli/kafka_produce.h"
#include "cli/kinesis_produce.h"
#include "cli/progress.h"
#include "common/status.h"
#include "ingest/seed_generator.h"
#include "source/kafka_url.h"
#include "source/kinesis_client.h"

namespace lf::cli {
namespace {

struct ProduceFlags {
  int64_t count = 10000;
  double rate = 0;
  uint64_t seed = 1;
  // --to mode
  std::string to;
  int64_t batch = 1000;
  int connections = 1;
  std::string report_json;
  std::string token;
  bool quiet = false;
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
  ProgressCounters counters;
  counters.total_events = static_cast<uint64_t>(flags.count);
  // Events flowing to a terminal leave no room for a progress line.
  StderrProgress progress("produce", "events", &counters, ProgressWanted(flags.quiet) && !::isatty(STDOUT_FILENO));

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
      const size_t n = buf.size();
      const WriteOutcome w = Flush(&buf);
      counters.AddBytes(n);
      counters.events = static_cast<uint64_t>(produced);
      if (w != WriteOutcome::kOk) return w == WriteOutcome::kFailed ? 1 : 0;
    }
  }
  if (!buf.empty() && Flush(&buf) == WriteOutcome::kFailed) return 1;
  return 0;
}

// ---- --to: POST to a server ----

// Set by SIGINT/SIGTERM: the connections stop after their requests in flight
// and the report is still printed. A second signal kills as usual.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "must be usable from a signal handler");

void OnInterrupt(int sig) {
  g_interrupted.store(true);
  std::signal(sig, SIG_DFL);
}

double EventsPerSecond(const SendReport& r) { return r.seconds > 0 ? r.sent / r.seconds : 0; }

std::string TextReport(const SendReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "produce: sent %lld events in %lld request%s over %d connection%s in %.2f s (%s events/s)%s; "
                "accepted %lld, rejected %lld",
                static_cast<long long>(r.sent), static_cast<long long>(r.requests), r.requests == 1 ? "" : "s",
                r.connections, r.connections == 1 ? "" : "s", r.seconds, GroupRounded(EventsPerSecond(r)).c_str(),
                r.interrupted ? ", interrupted" : "", static_cast<long long>(r.accepted),
                static_cast<long long>(r.rejected));
  std::string out = buf;
  if (r.retries) out += "; " + std::to_string(r.retries) + " retries (503 or lost answers)";
  if (r.latency_ms.empty()) return out + "\n";
  std::snprintf(buf, sizeof(buf), "; ack latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f\n", r.LatencyPercentile(0.5),
                r.LatencyPercentile(0.9), r.LatencyPercentile(0.99), r.latency_ms.back());
  return out + buf;
}

// The same figures for benchmark scripts; latencies are null without requests.
std::string JsonReport(const SendReport& r) {
  auto num = [](double v) {
    char b[64];
    std::snprintf(b, sizeof(b), "%.3f", v);
    return std::string(b);
  };
  auto latency = [&](double q) { return r.latency_ms.empty() ? std::string("null") : num(r.LatencyPercentile(q)); };
  return "{\"sent\":" + std::to_string(r.sent) + ",\"accepted\":" + std::to_string(r.accepted) +
         ",\"rejected\":" + std::to_string(r.rejected) + ",\"requests\":" + std::to_string(r.requests) +
         ",\"retries\":" + std::to_string(r.retries) + ",\"connections\":" + std::to_string(r.connections) +
         ",\"interrupted\":" + (r.interrupted ? "true" : "false") + ",\"seconds\":" + num(r.seconds) +
         ",\"events_per_s\":" + num(EventsPerSecond(r)) + ",\"latency_ms\":{\"p50\":" + latency(0.5) +
         ",\"p90\":" + latency(0.9) + ",\"p99\":" + latency(0.99) + ",\"max\":" + latency(1) + "}}\n";
}

int RunSend(const ProduceFlags& flags) {
  if (IsKafkaUrl(flags.to)) {
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    return RunKafkaProduce(KafkaProduceOptions{.url = flags.to,
                                               .count = flags.count,
                                               .rate = flags.rate,
                                               .seed = flags.seed,
                                               .report_json = flags.report_json,
                                               .interrupted = &g_interrupted});
  }
  if (IsKinesisUrl(flags.to)) {
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    return RunKinesisProduce(KinesisProduceOptions{.url = flags.to,
                                                   .count = flags.count,
                                                   .rate = flags.rate,
                                                   .seed = flags.seed,
                                                   .report_json = flags.report_json,
                                                   .interrupted = &g_interrupted});
  }
  auto server = ParseServerUrl(flags.to, "--to");
  if (!server.ok()) return ReportError(server.status());
  std::signal(SIGPIPE, SIG_IGN);  // a server that closes a connection is an error to report, not a kill
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  SendOptions o{.server = *server,
                .count = flags.count,
                .rate = flags.rate,
                .seed = flags.seed,
                .batch = flags.batch,
                .connections = flags.connections,
                .token = flags.token,
                .interrupted = &g_interrupted};
  ProgressCounters counters;
  counters.total_events = static_cast<uint64_t>(flags.count);
  StderrProgress progress("produce", "events", &counters, ProgressWanted(flags.quiet));
  o.progress = &counters;
  SendReport report;
  const Status st = SendEvents(o, &report);
  progress.Stop();
  if (!st.ok()) std::fprintf(stderr, "lambdaflow produce: %s\n", st.message().c_str());
  std::fputs(TextReport(report).c_str(), stderr);
  if (!flags.report_json.empty()) {
    if (Status w = WriteFile(flags.report_json, JsonReport(report)); !w.ok()) return ReportError(w);
  }
  // An interrupted run with a --count did not send what was asked.
  return st.ok() && !(report.interrupted && flags.count != 0) ? kExitOk : kExitFailure;
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
      "2014-11-01 19:35:41.158 UTC, +0..200 ms per event. The same seed gives the same events.\n"
      "With --to URL, POSTs them to URL/v1/events instead (a `lambdaflow run` server) and prints\n"
      "a report to stderr: events sent, accepted, rejected, rate and ack latency percentiles.\n"
      "With --to kafka://HOST:PORT[,HOST:PORT...]/TOPIC, publishes them to the Kafka topic with\n"
      "the idempotent producer, keyed by zipcode, and reports the deliveries the same way.\n"
      "With --to kinesis://STREAM, puts them into the Kinesis stream (PutRecords of at most 500\n"
      "records and 5 MiB, partition key = zipcode, failed entries sent again); AWS settings from\n"
      "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_KINESIS.");
  sub->add_option("--count", flags->count,
                  "Number of events to write; 0 = no limit (until the reader goes away, or Ctrl-C with --to)")
      ->check(kNonNegative)
      ->capture_default_str();
  sub->add_option("--rate", flags->rate,
                  "Events per second; 0 = as fast as possible. With --to, over all connections, and a batch "
                  "is sent when its last event is due (a smaller --batch paces more smoothly)")
      ->check(kNonNegative)
      ->capture_default_str();
  sub->add_option("--seed", flags->seed, "Seed of the pseudo-random stream")->capture_default_str();
  CLI::Option* to = sub->add_option(
      "--to", flags->to,
      "POST the events to URL/v1/events (e.g. http://127.0.0.1:8080) instead of writing them to stdout. "
      "Each connection is an idempotent producer (X-Producer-Id, X-Producer-Seq), so retries are exact: a "
      "batch answered 503 is sent again after its Retry-After, and one whose answer was lost (a timeout, a "
      "server restart) after 1 s, at most 30 tries each; the server appends a retried batch once. A server "
      "that never answered, or any other error answer, stops with exit code 1. Ctrl-C stops after the requests "
      "in flight and still prints the report (with --count 0, the way to end the run). "
      "kafka://HOST:PORT[,HOST:PORT...]/TOPIC publishes each event as one record keyed by its zipcode "
      "with Kafka's idempotent producer (no duplicates from retries); the report counts delivery reports. "
      "kinesis://STREAM puts each event as one record with its zipcode as partition key, in PutRecords "
      "requests of at most 500 records and 5 MiB, sending only the failed entries again.");
  to->type_name("URL");
  sub->add_option("--batch", flags->batch, "With --to: events per request (one NDJSON body)")
      ->check(CLI::PositiveNumber)
      ->needs(to)
      ->capture_default_str();
  sub->add_option("--connections", flags->connections,
                  "With --to: concurrent keep-alive connections, each a thread sending its own batches; the "
                  "events are the same --count events of --seed whatever their number (--rate is over all)")
      ->check(CLI::Range(1, 1024))
      ->needs(to)
      ->capture_default_str();
  sub->add_option("--report-json", flags->report_json,
                  "With --to: also write the report as one JSON object to FILE: sent, accepted, rejected, "
                  "requests, retries, connections, interrupted, seconds, events_per_s, latency_ms {p50,p90,p99,max}")
      ->type_name("FILE")
      ->needs(to);
  // From the environment too: a token on the command line shows in `ps`.
  sub->add_option("--token", flags->token,
                  "With --to: send 'Authorization: Bearer TOKEN' (for a server run with --token); "
                  "default: $LAMBDAFLOW_TOKEN")
      ->envname("LAMBDAFLOW_TOKEN")
      ->type_name("TOKEN");  // no needs(--to): the variable may be set for every command
  sub->add_flag("-q,--quiet", flags->quiet, kQuietHelp);
  sub->callback([flags, exit_code, sub] {
    if (IsKafkaUrl(flags->to) || IsKinesisUrl(flags->to)) {
      for (const char* http_only : {"--batch", "--connections"}) {
        if (sub->count(http_only) > 0) {
          *exit_code =
              ReportError(Status::InvalidArgument(std::string(http_only) + " applies to --to http://... only, not to " +
                                                  (IsKafkaUrl(flags->to) ? "kafka://" : "kinesis://")));
          return;
        }
      }
    }
    *exit_code = flags->to.empty() ? RunProduce(*flags) : RunSend(*flags);
  });
}

}  // namespace lf::cli
