#include "server/render.h"

#include <chrono>

#include "common/format.h"
#include "plan/result_format.h"
#include "sql/bound_expr.h"

namespace lf {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ErrorJson(std::string_view code, std::string_view detail) {
  std::string out = "{\"error\":";
  AppendJsonString(code, &out);
  out += ",\"detail\":";
  AppendJsonString(detail, &out);
  out += "}\n";
  return out;
}

std::string JoinWatermark(const std::vector<uint64_t>& w) {
  std::string s;
  for (size_t p = 0; p < w.size(); ++p) {
    if (p) s.push_back(',');
    s += std::to_string(w[p]);
  }
  return s;
}

void AppendCoverageFields(const Coverage& c, int64_t now_ms, std::string* out) {
  *out += "\"watermarks\":{\"batch\":[" + JoinWatermark(c.batch) + "],\"speed\":[" + JoinWatermark(c.speed) + "]}";
  if (c.batch_version) {
    *out += ",\"batch_version\":" + std::to_string(*c.batch_version);
    *out += ",\"batch_age_ms\":" + std::to_string(std::max<int64_t>(0, now_ms - c.batch_created_ms));
  } else {
    *out += ",\"batch_version\":null,\"batch_age_ms\":null";
  }
  *out += ",\"freshness_ms\":" + std::to_string(std::max<int64_t>(0, now_ms - c.caught_up_ms));
}

void AppendAnswerJson(const ViewResult& r, const Coverage& c, int64_t now_ms, std::string* out) {
  AppendJson(r, out);
  while (!out->empty() && out->back() != '}') out->pop_back();  // reopen the object
  out->pop_back();
  out->push_back(',');
  AppendCoverageFields(c, now_ms, out);
  *out += "}\n";
}

std::vector<std::string> KeyColumns(const ViewPlan& plan) {
  const sql::BoundView& v = plan.view();
  std::vector<std::string> keys(v.keys.size());
  for (const auto& o : v.outputs) {
    if (o.expr->kind == sql::BoundKind::kColumn && o.expr->column >= 0 &&
        static_cast<size_t>(o.expr->column) < keys.size() && keys[static_cast<size_t>(o.expr->column)].empty())
      keys[static_cast<size_t>(o.expr->column)] = o.name;
  }
  return keys;
}

std::string ViewsJson(const Pipeline& p) {
  const ServedViews& sv = p.served();
  std::string out = "{\"views\":[";
  for (size_t v = 0; v < sv.num_views(); ++v) {
    const ViewPlan& plan = sv.plan(v);
    if (v) out.push_back(',');
    out += "{\"name\":";
    AppendJsonString(plan.name(), &out);
    out += ",\"columns\":[";
    const auto names = plan.output_names();
    const auto types = plan.output_types();
    for (size_t c = 0; c < names.size(); ++c) {
      if (c) out.push_back(',');
      out += "{\"name\":";
      AppendJsonString(names[c], &out);
      out += ",\"type\":\"";
      out += TypeName(types[c]);
      out += "\"}";
    }
    out += "],\"key_columns\":[";
    bool first = true;
    for (const auto& k : KeyColumns(plan)) {
      if (k.empty()) continue;
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(k, &out);
    }
    out += "],\"groups\":" + std::to_string(sv.num_groups(v)) + "}";
  }
  out += "],";
  AppendCoverageFields(sv.coverage(), NowMs(), &out);
  out += "}\n";
  return out;
}

// With an external source: per partition the position read, the high
// watermark, the lag (high watermark - S), pause and retention loss.
static void AppendSourceJson(const PipelineStats& s, const Coverage& c, std::string* out) {
  *out += ",\"source\":{\"url\":";
  AppendJsonString(s.source, out);
  *out += ",\"partitions\":[";
  for (size_t p = 0; p < s.source_partitions.size(); ++p) {
    const SourcePartitionState& sp = s.source_partitions[p];
    const uint64_t speed = p < c.speed.size() ? c.speed[p] : 0;
    // A group member reads only what it owns: another's partition has no lag here.
    const bool owned = s.owned.empty() || s.owned[p];
    if (p) out->push_back(',');
    *out += "{\"partition\":" + std::to_string(p) + ",\"position\":" + std::to_string(sp.position) +
            ",\"high_watermark\":" + std::to_string(sp.high_watermark) +
            ",\"log_start\":" + std::to_string(sp.log_start) +
            ",\"lag\":" + (owned ? std::to_string(sp.high_watermark > speed ? sp.high_watermark - speed : 0) : "null") +
            (s.owned.empty() ? ""
             : owned         ? ",\"owned\":true"
                             : ",\"owned\":false") +
            ",\"paused\":" + (sp.paused ? "true" : "false") + ",\"lost\":";
    if (sp.lost) {
      *out += "{\"from\":" + std::to_string(sp.lost_from) + ",\"to\":" + std::to_string(sp.lost_to) + ",\"message\":";
      AppendJsonString(sp.lost_message, out);
      *out += "}";
    } else {
      *out += "null";
    }
    *out += "}";
  }
  *out += "],\"transient_errors\":" + std::to_string(s.source_transient_errors) + ",\"last_transient_error\":";
  if (s.source_last_transient_error.empty()) {
    *out += "null";
  } else {
    AppendJsonString(s.source_last_transient_error, out);
  }
  *out += "}";
}

std::string StatusJson(const Pipeline& p, double uptime_s) {
  const PipelineStats s = p.stats();
  const Coverage c = p.served().coverage();
  std::string out = "{\"data\":";
  AppendJsonString(p.data_path(), &out);
  out += ",\"log_end\":[" + JoinWatermark(s.log_end) + "],\"sealed\":[" + JoinWatermark(s.sealed) + "],";
  AppendCoverageFields(c, NowMs(), &out);
  out += ",\"segments_sealed\":" + std::to_string(s.segments_sealed);
  out += ",\"speed\":{\"buckets\":" + std::to_string(s.speed_buckets) +
         ",\"memory_bytes\":" + std::to_string(s.speed_memory) +
         ",\"micro_batches\":" + std::to_string(s.micro_batches) +
         ",\"events_handed_over\":" + std::to_string(s.speed_events_handed_over) +
         ",\"events_decoded\":" + std::to_string(s.speed_events_decoded) + "}";
  out += ",\"served_memory_bytes\":" + std::to_string(s.served_memory);
  out +=
      ",\"events\":{\"accepted\":" + std::to_string(s.accepted) + ",\"rejected\":" + std::to_string(s.rejected) + "}";
  out += ",\"batch_runs\":" + std::to_string(s.batch_runs) + ",\"batch_failures\":" + std::to_string(s.batch_failures);
  if (!s.source.empty()) AppendSourceJson(s, c, &out);
  if (!s.owned.empty())
    out += ",\"rebalances\":{\"gained\":" + std::to_string(s.partitions_gained) +
           ",\"revoked\":" + std::to_string(s.partitions_revoked) + ",\"lost\":" + std::to_string(s.partitions_lost) +
           "}";
  out += ",\"last_error\":";
  if (s.last_error.empty()) {
    out += "null";
  } else {
    AppendJsonString(s.last_error, &out);
  }
  out += ",\"uptime_s\":";
  AppendDouble(uptime_s, &out);
  out += "}\n";
  return out;
}

void AppendMetric(std::string* out, const char* name, const char* type, const char* help, const std::string& samples) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + samples;
}

void AppendHistogramSamples(std::string* out, const std::string& name, const std::string& labels,
                            const Histogram::Snapshot& h) {
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= h.bounds.size(); ++i) {
    *out += name + "_bucket{" + labels + sep + "le=\"";
    if (i < h.bounds.size()) {
      AppendDouble(h.bounds[i], out);
    } else {
      *out += "+Inf";
    }
    *out += "\"} " + std::to_string(h.buckets[i]) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += name + "_sum" + braces + " ";
  AppendDouble(h.sum, out);
  *out += "\n" + name + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

namespace {

std::string PerPartition(const char* name, const std::vector<uint64_t>& w) {
  std::string s;
  for (size_t p = 0; p < w.size(); ++p)
    s += std::string(name) + "{partition=\"" + std::to_string(p) + "\"} " + std::to_string(w[p]) + "\n";
  return s;
}

std::string HistogramSamples(const char* name, const Histogram::Snapshot& h) {
  std::string s;
  AppendHistogramSamples(&s, name, "", h);
  return s;
}

}  // namespace

// Names follow Prometheus' conventions (promtool check metrics is clean):
// base units (seconds, bytes), `_total` for counters.
std::string MetricsText(const Pipeline& p, const std::string& http_metrics) {
  const PipelineStats s = p.stats();
  const Coverage c = p.served().coverage();
  const int64_t now = NowMs();
  std::string out;
  auto one = [](const char* name, uint64_t v) { return std::string(name) + " " + std::to_string(v) + "\n"; };
  auto Metric = [&out](const char* name, const char* type, const char* help, const std::string& samples) {
    AppendMetric(&out, name, type, help, samples);
  };
  Metric("lambdaflow_events_accepted_total", "counter", "Events accepted and durable in the log.",
         one("lambdaflow_events_accepted_total", s.accepted));
  Metric("lambdaflow_events_rejected_total", "counter", "Lines rejected to the dead-letter store.",
         one("lambdaflow_events_rejected_total", s.rejected));
  Metric("lambdaflow_batch_runs_total", "counter", "Batch recomputes published.",
         one("lambdaflow_batch_runs_total", s.batch_runs));
  Metric("lambdaflow_batch_failures_total", "counter", "Batch recomputes that failed.",
         one("lambdaflow_batch_failures_total", s.batch_failures));
  Metric("lambdaflow_segments_sealed_total", "counter", "Master segments sealed by the archiver.",
         one("lambdaflow_segments_sealed_total", s.segments_sealed));
  Metric("lambdaflow_micro_batches_total", "counter", "Speed-layer micro-batches run.",
         one("lambdaflow_micro_batches_total", s.micro_batches));
  Metric("lambdaflow_log_end", "gauge", "One past the last acknowledged log offset.",
         PerPartition("lambdaflow_log_end", s.log_end));
  Metric("lambdaflow_sealed_watermark", "gauge", "Offsets below are sealed into the master dataset.",
         PerPartition("lambdaflow_sealed_watermark", s.sealed));
  Metric("lambdaflow_batch_watermark", "gauge", "W of the served batch version.",
         PerPartition("lambdaflow_batch_watermark", c.batch));
  Metric("lambdaflow_speed_watermark", "gauge", "S: offsets below are in the served views.",
         PerPartition("lambdaflow_speed_watermark", c.speed));
  std::string freshness = "lambdaflow_freshness_seconds ";
  AppendDouble(static_cast<double>(std::max<int64_t>(0, now - c.caught_up_ms)) / 1000.0, &freshness);
  Metric("lambdaflow_freshness_seconds", "gauge", "Seconds since the speed layer last caught up with the log.",
         freshness + "\n");
  if (!s.source.empty()) {
    std::vector<uint64_t> hw, lag, lost, paused;
    for (size_t i = 0; i < s.source_partitions.size(); ++i) {
      const SourcePartitionState& sp = s.source_partitions[i];
      const uint64_t speed = i < c.speed.size() ? c.speed[i] : 0;
      const bool owned = s.owned.empty() || s.owned[i];  // another worker's partition: no lag here
      hw.push_back(sp.high_watermark);
      lag.push_back(owned && sp.high_watermark > speed ? sp.high_watermark - speed : 0);
      lost.push_back(sp.lost ? sp.lost_to - sp.lost_from : 0);
      paused.push_back(sp.paused ? 1 : 0);
    }
    Metric("lambdaflow_source_high_watermark", "gauge", "The source partition's high watermark, as last asked.",
           PerPartition("lambdaflow_source_high_watermark", hw));
    Metric("lambdaflow_source_lag", "gauge", "Offsets of the source partition not yet in the served views.",
           PerPartition("lambdaflow_source_lag", lag));
    Metric("lambdaflow_source_lost_offsets", "gauge",
           "Offsets the source's retention deleted before they were sealed (the partition is not read).",
           PerPartition("lambdaflow_source_lost_offsets", lost));
    Metric("lambdaflow_source_paused", "gauge", "1 while the partition is paused (its unsealed tail is over budget).",
           PerPartition("lambdaflow_source_paused", paused));
    if (!s.owned.empty()) {
      std::vector<uint64_t> owned(s.owned.begin(), s.owned.end());
      Metric("lambdaflow_partition_owned", "gauge", "1 while this worker of a group (run --group) owns the partition.",
             PerPartition("lambdaflow_partition_owned", owned));
      Metric("lambdaflow_rebalanced_partitions_total", "counter",
             "Partitions this worker of a group gained, had revoked, or lost at rebalances.",
             "lambdaflow_rebalanced_partitions_total{kind=\"gained\"} " + std::to_string(s.partitions_gained) +
                 "\nlambdaflow_rebalanced_partitions_total{kind=\"revoked\"} " + std::to_string(s.partitions_revoked) +
                 "\nlambdaflow_rebalanced_partitions_total{kind=\"lost\"} " + std::to_string(s.partitions_lost) + "\n");
    }
    Metric("lambdaflow_source_transient_errors_total", "counter",
           "Transient source errors (brokers down, timeouts), retried by the source.",
           one("lambdaflow_source_transient_errors_total", s.source_transient_errors));
  }
  Metric("lambdaflow_speed_buckets", "gauge", "Open and closed speed-layer buckets.",
         one("lambdaflow_speed_buckets", s.speed_buckets));
  Metric("lambdaflow_speed_memory_bytes", "gauge", "Memory of the speed-layer buckets.",
         one("lambdaflow_speed_memory_bytes", s.speed_memory));
  Metric("lambdaflow_served_memory_bytes", "gauge", "Memory of the served (merged) view states.",
         one("lambdaflow_served_memory_bytes", s.served_memory));
  Metric("lambdaflow_micro_batch_duration_seconds", "histogram",
         "Duration of a speed-layer micro-batch (consume, merge, swap).",
         HistogramSamples("lambdaflow_micro_batch_duration_seconds", p.micro_batch_seconds().Read()));
  Metric("lambdaflow_batch_run_duration_seconds", "histogram", "Duration of a batch recompute of every view.",
         HistogramSamples("lambdaflow_batch_run_duration_seconds", p.batch_run_seconds().Read()));
  out += http_metrics;
  return out;
}

}  // namespace lf
