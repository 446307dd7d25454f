#include "cli/kinesis_produce.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>

#include "aws/aws_config.h"
#include "cli/cli_util.h"
#include "cli/progress.h"
#include "ingest/seed_generator.h"
#include "source/kinesis_client.h"
#include "source/kinesis_producer.h"

namespace lf::cli {

namespace {

struct KinesisReport {
  std::string url;
  int shards = 0;
  int64_t sent = 0;
  uint64_t delivered = 0, failed = 0, requests = 0, resent = 0;
  bool interrupted = false;
  double seconds = 0;
};

double Rate(const KinesisReport& r) { return r.seconds > 0 ? static_cast<double>(r.delivered) / r.seconds : 0; }

std::string TextReport(const KinesisReport& r) {
  char buf[640];
  std::snprintf(buf, sizeof(buf),
                "produce: sent %lld events to %s (%d open shard%s) in %.2f s (%s events/s) in %llu PutRecords "
                "request%s%s; delivered %llu, failed %llu, resent %llu\n",
                static_cast<long long>(r.sent), r.url.c_str(), r.shards, r.shards == 1 ? "" : "s", r.seconds,
                GroupRounded(Rate(r)).c_str(), static_cast<unsigned long long>(r.requests), r.requests == 1 ? "" : "s",
                r.interrupted ? ", interrupted" : "", static_cast<unsigned long long>(r.delivered),
                static_cast<unsigned long long>(r.failed), static_cast<unsigned long long>(r.resent));
  return buf;
}

std::string JsonReport(const KinesisReport& r) {
  char num[64];
  std::snprintf(num, sizeof(num), "%.3f", r.seconds);
  std::string seconds = num;
  std::snprintf(num, sizeof(num), "%.3f", Rate(r));
  return "{\"sent\":" + std::to_string(r.sent) + ",\"delivered\":" + std::to_string(r.delivered) +
         ",\"failed\":" + std::to_string(r.failed) + ",\"requests\":" + std::to_string(r.requests) +
         ",\"resent\":" + std::to_string(r.resent) + ",\"shards\":" + std::to_string(r.shards) +
         ",\"interrupted\":" + (r.interrupted ? "true" : "false") + ",\"seconds\":" + seconds +
         ",\"events_per_s\":" + num + "}\n";
}

}  // namespace

int RunKinesisProduce(const KinesisProduceOptions& o) {
  auto stream = ParseKinesisUrl(o.url, "--to");
  if (!stream.ok()) return ReportError(stream.status());
  auto config = aws::AwsConfig::FromEnvironment();
  if (!config.ok()) return ReportError(config.status());
  KinesisClient client(*config, *stream);
  // The stream must exist: say so now rather than after the first batch.
  auto shards = client.ListShards();
  if (!shards.ok()) return ReportError(shards.status());

  KinesisReport report;
  report.url = o.url;
  for (const KinesisShard& s : *shards) report.shards += s.ending_sequence_number.empty() ? 1 : 0;
  KinesisProducer producer([&](const std::vector<KinesisPutEntry>& b) { return client.PutRecords(b); });
  SeedGenerator gen(SeedGeneratorOptions{.seed = o.seed});
  std::string line;
  const auto start = std::chrono::steady_clock::now();
  Status st;
  for (int64_t i = 0; o.count == 0 || i < o.count; ++i) {
    if (o.interrupted != nullptr && o.interrupted->load()) {
      report.interrupted = true;
      break;
    }
    if (o.rate > 0) {  // event i is due at start + i / rate: what is queued goes before waiting
      const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / o.rate));
      if (due > std::chrono::steady_clock::now()) {
        st = producer.Flush();
        if (!st.ok()) break;
        std::this_thread::sleep_until(due);
      }
    }
    const SeedEvent e = gen.Next();
    line.clear();
    gen.AppendJson(e, &line);
    if (!line.empty() && line.back() == '\n') line.pop_back();  // one record is one event
    st = producer.Add({std::to_string(e.zipcode), line});
    if (!st.ok()) break;
    ++report.sent;
  }
  if (st.ok()) st = producer.Flush();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.delivered = producer.delivered();
  report.failed = producer.failed();
  report.requests = producer.requests();
  report.resent = producer.resent();
  if (!st.ok()) std::fprintf(stderr, "lambdaflow produce: %s\n", st.message().c_str());
  std::fputs(TextReport(report).c_str(), stderr);
  if (!o.report_json.empty()) {
    if (Status w = WriteFile(o.report_json, JsonReport(report)); !w.ok()) return ReportError(w);
  }
  return st.ok() && report.failed == 0 && !(report.interrupted && o.count != 0) ? kExitOk : kExitFailure;
}

}  // namespace lf::cli
