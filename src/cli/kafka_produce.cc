#include "cli/kafka_produce.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>

#include "cli/cli_util.h"
#include "cli/progress.h"
#include "ingest/seed_generator.h"
#include "source/kafka_producer.h"
#include "source/kafka_url.h"

namespace lf::cli {

namespace {

struct KafkaReport {
  std::string url;
  int partitions = 0;
  int64_t sent = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
  bool interrupted = false;
  double seconds = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

double Rate(const KafkaReport& r) { return r.seconds > 0 ? static_cast<double>(r.delivered) / r.seconds : 0; }

std::string TextReport(const KafkaReport& r) {
  char buf[640];
  std::snprintf(buf, sizeof(buf),
                "produce: sent %lld events to %s (%d partition%s) in %.2f s (%s events/s)%s; delivered %lld, "
                "failed %lld",
                static_cast<long long>(r.sent), r.url.c_str(), r.partitions, r.partitions == 1 ? "" : "s", r.seconds,
                GroupRounded(Rate(r)).c_str(), r.interrupted ? ", interrupted" : "",
                static_cast<long long>(r.delivered), static_cast<long long>(r.failed));
  std::string out = buf;
  if (r.delivered == 0) return out + "\n";
  std::snprintf(buf, sizeof(buf), "; delivery latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f\n", r.p50, r.p90, r.p99,
                r.max);
  return out + buf;
}

std::string JsonReport(const KafkaReport& r) {
  auto num = [](double v) {
    char b[64];
    std::snprintf(b, sizeof(b), "%.3f", v);
    return std::string(b);
  };
  const bool lat = r.delivered > 0;
  return "{\"sent\":" + std::to_string(r.sent) + ",\"delivered\":" + std::to_string(r.delivered) +
         ",\"failed\":" + std::to_string(r.failed) + ",\"partitions\":" + std::to_string(r.partitions) +
         ",\"interrupted\":" + (r.interrupted ? "true" : "false") + ",\"seconds\":" + num(r.seconds) +
         ",\"events_per_s\":" + num(Rate(r)) + ",\"latency_ms\":{\"p50\":" + (lat ? num(r.p50) : "null") +
         ",\"p90\":" + (lat ? num(r.p90) : "null") + ",\"p99\":" + (lat ? num(r.p99) : "null") +
         ",\"max\":" + (lat ? num(r.max) : "null") + "}}\n";
}

}  // namespace

int RunKafkaProduce(const KafkaProduceOptions& o) {
  auto url = ParseKafkaUrl(o.url, "--to");
  if (!url.ok()) return ReportError(url.status());
  KafkaProducerOptions po;
  po.url = *url;
  auto producer = KafkaProducer::Open(po);
  if (!producer.ok()) return ReportError(producer.status());
  KafkaProducer& p = **producer;

  KafkaReport report;
  report.url = o.url;
  report.partitions = p.partitions();
  SeedGenerator gen(SeedGeneratorOptions{.seed = o.seed});
  std::string line;
  const auto start = std::chrono::steady_clock::now();
  Status st;
  for (int64_t i = 0; o.count == 0 || i < o.count; ++i) {
    if (o.interrupted != nullptr && o.interrupted->load()) {
      report.interrupted = true;
      break;
    }
    if (o.rate > 0) {  // event i is due at start + i / rate
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                std::chrono::duration<double>(static_cast<double>(i) / o.rate)));
    }
    const SeedEvent e = gen.Next();
    line.clear();
    gen.AppendJson(e, &line);
    if (!line.empty() && line.back() == '\n') line.pop_back();  // one record is one event, no separator
    st = p.Produce(std::to_string(e.zipcode), line);
    if (!st.ok()) break;
    ++report.sent;
  }
  // Whatever happened, wait for what is in flight (bounded) so the report counts it.
  Status flushed = p.Flush(std::chrono::seconds(30));
  if (st.ok()) st = flushed;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.delivered = p.delivered();
  report.failed = p.failed();
  report.p50 = p.LatencyMs(0.5);
  report.p90 = p.LatencyMs(0.9);
  report.p99 = p.LatencyMs(0.99);
  report.max = p.LatencyMs(1.0);
  if (!st.ok()) std::fprintf(stderr, "lambdaflow produce: %s\n", st.message().c_str());
  std::fputs(TextReport(report).c_str(), stderr);
  if (!o.report_json.empty()) {
    if (Status w = WriteFile(o.report_json, JsonReport(report)); !w.ok()) return ReportError(w);
  }
  return st.ok() && !(report.interrupted && o.count != 0) ? kExitOk : kExitFailure;
}

}  // namespace lf::cli
