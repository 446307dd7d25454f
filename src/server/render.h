// JSON and text renderings of the server's answers (README, "HTTP API").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/histogram.h"
#include "pipeline/pipeline.h"
#include "serving/served_views.h"

namespace lf {

int64_t NowMs();

// {"error": code, "detail": detail}
std::string ErrorJson(std::string_view code, std::string_view detail);

// `"watermarks":{...},"batch_version":..,"batch_age_ms":..,"freshness_ms":..`
// (no braces), as of `now_ms`.
void AppendCoverageFields(const Coverage& c, int64_t now_ms, std::string* out);

// The answer as JSON: the rows of `lambdaflow query --format json` plus the
// coverage fields.
void AppendAnswerJson(const ViewResult& r, const Coverage& c, int64_t now_ms, std::string* out);

// "1,2" for a watermark vector.
std::string JoinWatermark(const std::vector<uint64_t>& w);

// The names of the view's output columns that are its group keys, in key
// order; empty strings for keys that are not output as a plain column.
std::vector<std::string> KeyColumns(const ViewPlan& plan);

// GET /v1/views, /v1/status and /metrics bodies. `http_metrics`: the
// server's own metrics families (requests, latencies), appended as they are.
std::string ViewsJson(const Pipeline& p);
std::string StatusJson(const Pipeline& p, double uptime_s);
std::string MetricsText(const Pipeline& p, const std::string& http_metrics);

// One metric family in the Prometheus text format: HELP, TYPE, samples.
void AppendMetric(std::string* out, const char* name, const char* type, const char* help, const std::string& samples);
// The samples of one histogram: `name_bucket{labels,le="..."}` per bound and
// +Inf, `name_sum`, `name_count`; `labels` may be empty.
void AppendHistogramSamples(std::string* out, const std::string& name, const std::string& labels,
                            const Histogram::Snapshot& h);

}  // namespace lf
