// The commands over a data directory: ingest, batch, query, status, rejects.
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batch/batch_layer.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/event_sender.h"
#include "cli/progress.h"
#include "common/format.h"
#include "common/time.h"
#include "engine/data_dir.h"
#include "engine/ingestor.h"
#include "ingest/input_reader.h"
#include "plan/result_format.h"
#include "serving/query.h"

namespace lf::cli {
namespace {

constexpr const char* kDefaultData = "./lambdaflow-data";

struct StoreFlags {
  std::string data = kDefaultData;
  std::string store;  // empty: the data directory
  std::string fsync = "interval";
  int fsync_interval_ms = 5;
  uint64_t seal_events = 1'000'000;
  int partitions = 0;  // the directory's count (1 for a new one)
  bool restart_log_at_sealed = false;
};

void AddStoreFlags(CLI::App* cmd, StoreFlags* f, bool writer) {
  cmd->add_option("--data", f->data, "The data directory (default ./lambdaflow-data)");
  cmd->add_option("--store", f->store,
                  "The shared store, a directory or s3://BUCKET/PREFIX (master segments, manifests, batch versions), "
                  "if `run` was given one (default: the data directory)");
  if (!writer) return;
  cmd->add_option("--fsync", f->fsync, "Log fsync policy: always, interval (group commit, default) or none");
  cmd->add_option("--fsync-interval-ms", f->fsync_interval_ms, "Group-commit period of the interval policy (ms)");
  cmd->add_option("--seal-events", f->seal_events, "Events per sealed master segment (default 1000000)");
  cmd->add_flag("--restart-log-at-sealed", f->restart_log_at_sealed,
                "Only when the log ends below the sealed watermark (its segments were truncated or deleted) and "
                "there is no backup: move its segments aside and continue the log at the sealed watermark");
}

Result<DataDirOptions> ToOptions(const StoreFlags& f) {
  DataDirOptions o;
  ASSIGN_OR_RETURN(o.log.fsync, ParseFsyncPolicy(f.fsync));
  if (f.fsync_interval_ms < 0) return Status::InvalidArgument("--fsync-interval-ms must be >= 0");
  if (f.seal_events == 0) return Status::InvalidArgument("--seal-events must be positive");
  o.log.fsync_interval_ms = f.fsync_interval_ms;
  o.partitions = f.partitions;
  o.log.restart_at_sealed = f.restart_log_at_sealed;
  o.seal_events = f.seal_events;
  o.store = f.store;
  return o;
}

DataDirOptions ReadOnlyOptions(const StoreFlags& f) {
  DataDirOptions o;
  o.store = f.store;
  return o;
}

std::string Watermarks(const std::vector<uint64_t>& w) {
  std::string s = "[";
  for (size_t i = 0; i < w.size(); ++i) s += (i ? "," : "") + std::to_string(w[i]);
  return s + "]";
}

// ---- ingest ----

// Seals full master segments on its own thread, so that compressing and
// writing a segment does not stall appends. Errors surface in Finish().
class BackgroundSealer {
 public:
  // Seals every full segment, and also a partial one once the log has held
  // unsealed events for `seal_age` (0: never by age).
  BackgroundSealer(DataDir* dir, std::chrono::milliseconds seal_age)
      : dir_(dir), seal_age_(seal_age), thread_([this] { Loop(); }) {}
  ~BackgroundSealer() { (void)Finish(); }

  void Poke() { cv_.notify_one(); }

  Status Finish() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    // A seal in progress is finished at stop; none is started after it:
    // what is left is sealed by the next batch run (or ingest).
    auto last_seal = std::chrono::steady_clock::now();
    while (true) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) return;
      lock.unlock();
      const auto now = std::chrono::steady_clock::now();
      const bool by_age = seal_age_.count() > 0 && now - last_seal >= seal_age_;
      auto sealed = dir_->Seal(/*all=*/by_age);
      Status st = sealed.status();
      if (by_age || (sealed.ok() && *sealed > 0)) last_seal = now;
      lock.lock();
      if (!st.ok() && status_.ok()) status_ = st;
      if (!status_.ok()) return;
    }
  }

  DataDir* const dir_;
  const std::chrono::milliseconds seal_age_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  Status status_;
  std::thread thread_;
};

struct IngestArgs {
  StoreFlags store;
  int threads = 0;
  double seal_age = 10;
  std::string views;
  std::vector<std::string> inputs;
  bool progress = false;
  bool quiet = false;
};

Status RunIngest(const IngestArgs& a) {
  auto fs = NewPosixFileSystem();
  ASSIGN_OR_RETURN(DataDirOptions options, ToOptions(a.store));
  ASSIGN_OR_RETURN(auto dir, DataDir::Open(fs.get(), a.store.data, a.views, false, options));
  for (const auto& note : dir->log_recovery().notes)
    std::fprintf(stderr, "lambdaflow ingest: log recovery: %s\n", note.c_str());
  const auto start = std::chrono::steady_clock::now();
  // Whole segments are sealed by a background thread while ingest goes on.
  BackgroundSealer sealer(dir.get(), std::chrono::milliseconds(static_cast<int64_t>(a.seal_age * 1000)));
  const uint64_t first = dir->log()->end_offset(0);
  std::vector<std::string> inputs = a.inputs.empty() ? std::vector<std::string>{"-"} : a.inputs;
  ProgressCounters counters;
  counters.total_bytes = KnownInputBytes(inputs);
  StderrProgress progress("ingest", "events", &counters, ProgressWanted(a.quiet));
  Ingestor ingestor(dir.get(), a.threads, &counters);
  IngestStats stats;
  for (const auto& input : inputs) {
    RETURN_IF_ERROR(ingestor.IngestInput(
        input,
        [&] {
          if (a.progress) {
            std::printf("acked %llu\n", static_cast<unsigned long long>(dir->log()->end_offset(0)));
            std::fflush(stdout);
          }
          sealer.Poke();
        },
        &stats));
  }
  const uint64_t accepted = stats.accepted, rejected = stats.rejected, bytes = stats.bytes;
  // Everything appended is acknowledged only once durable.
  const uint64_t appended = first + accepted;
  RETURN_IF_ERROR(dir->log()->WaitDurable(0, appended));
  RETURN_IF_ERROR(sealer.Finish());
  progress.Stop();
  if (a.progress) std::printf("acked %llu\n", static_cast<unsigned long long>(dir->log()->end_offset(0)));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string summary = "lambdaflow ingest: " + std::to_string(accepted) + " accepted (offsets [" +
                        std::to_string(first) + ", " + std::to_string(dir->log()->end_offset(0)) + ")), " +
                        std::to_string(rejected) + " rejected";
  const std::string reasons = RejectReasonCounts(stats.rejected_by_reason);
  if (!reasons.empty()) summary += " (" + reasons + "; see `lambdaflow rejects --data " + a.store.data + "`)";
  char rate[128];
  std::snprintf(rate, sizeof(rate), " in %.3f s (%.2f M events/s, %.0f MB/s)\n", secs,
                static_cast<double>(accepted + rejected) / std::max(secs, 1e-9) / 1e6,
                static_cast<double>(bytes) / std::max(secs, 1e-9) / 1e6);
  summary += rate;
  std::fputs(summary.c_str(), stderr);
  return Status::OK();
}

// ---- batch ----

struct BatchArgs {
  StoreFlags store;
  std::string views;
  bool full = false;
  bool tsv = false;
  bool no_seal = false;
  int threads = 0;
  bool quiet = false;
};

Status RunBatch(const BatchArgs& a) {
  auto fs = NewPosixFileSystem();
  ASSIGN_OR_RETURN(DataDirOptions options, ToOptions(a.store));
  ASSIGN_OR_RETURN(auto dir, DataDir::Open(fs.get(), a.store.data, a.views, false, options));
  uint64_t sealed = 0;
  if (!a.no_seal) {
    ASSIGN_OR_RETURN(sealed, dir->Seal(true));
  }
  BatchLayer layer(dir->catalog(), dir->stream(), dir->views_text(), dir->master());
  BatchRunOptions ro;
  ro.full = a.full;
  ro.tsv = a.tsv;
  ro.threads = a.threads;
  ProgressCounters counters;
  ro.progress = &counters;
  StderrProgress progress("batch", "rows", &counters, ProgressWanted(a.quiet));
  auto run = layer.RunOnce(ro);
  progress.Stop();
  ASSIGN_OR_RETURN(BatchRunReport r, std::move(run));
  // Older manifest versions and unnamed objects, after their grace period.
  auto gc = dir->versions().CollectGarbage();
  if (!gc.ok()) std::fprintf(stderr, "lambdaflow batch: garbage collection: %s\n", gc.status().ToString().c_str());
  std::string timings;
  for (const auto& [phase, secs] : r.version.timings) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %s %.3f s", phase.c_str(), secs);
    timings += buf;
  }
  std::fprintf(stderr,
               "lambdaflow batch: sealed %llu event(s); version %llu, watermark %s, %zu view(s); %llu segment(s) "
               "scanned, %llu reused, %llu rows; pieces: %llu written, %llu reused, %llu merged%s; %.3f s (%s)\n",
               static_cast<unsigned long long>(sealed), static_cast<unsigned long long>(r.version.number),
               Watermarks(r.version.watermark).c_str(), r.version.views.size(),
               static_cast<unsigned long long>(r.segments_scanned), static_cast<unsigned long long>(r.segments_reused),
               static_cast<unsigned long long>(r.rows_scanned), static_cast<unsigned long long>(r.pieces_written),
               static_cast<unsigned long long>(r.pieces_reused), static_cast<unsigned long long>(r.pieces_merged),
               r.version.views.empty() || !r.version.views[0].has_tsv ? "" : "; TSVs written", r.seconds,
               timings.c_str() + 1);
  return Status::OK();
}

// ---- query ----

struct QueryArgs {
  StoreFlags store;
  std::string what;
  std::string format = "table";
  std::string server;  // with --server: ask a running `lambdaflow run` instead of --data
};

// A bare name is the whole view; anything else is SQL.
bool IsBareViewName(const std::string& what) {
  return !what.empty() && what.find_first_of(" \t\n(") == std::string::npos;
}

// The batch part of every partition (each from the version its own chain
// names), with its views finalized on demand.
class ServedVersion {
 public:
  static Result<std::unique_ptr<ServedVersion>> Load(DataDir* dir) {
    auto v = std::make_unique<ServedVersion>();
    v->dir_ = dir;
    ASSIGN_OR_RETURN(v->by_partition_, dir->versions().CurrentByPartition());
    for (const auto& pv : v->by_partition_) {
      if (!pv) continue;
      if (v->version_.number < pv->number) v->version_ = *pv;
    }
    if (v->version_.number == 0)
      return Status::NotFound("no batch version in '" + dir->path() + "' yet; run `lambdaflow batch --data " +
                              dir->path() + "`");
    // What the answer covers: each partition's W from its own version.
    const Manifest m = dir->master()->Snapshot();
    v->version_.watermark = m.first;
    for (size_t p = 0; p < v->by_partition_.size() && p < m.first.size(); ++p)
      if (v->by_partition_[p]) v->version_.watermark[p] = v->by_partition_[p]->watermark[p];
    for (const auto& view : dir->catalog().views) {
      ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(view));
      v->plans_.push_back(std::move(plan));
    }
    return v;
  }

  const BatchVersion& version() const { return version_; }

  // The stored TSV of a view when every partition's chain names one version
  // that wrote it, or "" (then the view is computed from the pieces).
  Result<std::string> ReadTsv(std::string_view name) {
    for (const auto& pv : by_partition_)
      if (!pv || pv->key != by_partition_[0]->key) return std::string();
    for (const auto& plan : plans_) {
      if (!sql::IdentifierMatches(plan->name(), name, false)) continue;
      const VersionView* vv = by_partition_[0]->FindView(plan->name());
      if (!vv || vv->plan_fingerprint != plan->fingerprint() || !vv->has_tsv) return std::string();
      return dir_->versions().ReadViewFile(*by_partition_[0], *vv, false);
    }
    return std::string();
  }

  Result<const ViewResult*> Get(std::string_view name) {
    for (auto& r : results_)
      if (sql::IdentifierMatches(r->name, name, false)) return r.get();
    for (const auto& plan : plans_) {
      if (!sql::IdentifierMatches(plan->name(), name, false)) continue;
      ASSIGN_OR_RETURN(auto pieces, DatasetPieces(by_partition_, plan->name(), plan->fingerprint()));
      ASSIGN_OR_RETURN(auto state, dir_->versions().ReadPieces(*plan, pieces));
      ASSIGN_OR_RETURN(ViewResult result, state->Finalize());
      results_.push_back(std::make_unique<ViewResult>(std::move(result)));
      return results_.back().get();
    }
    return nullptr;
  }

 private:
  DataDir* dir_ = nullptr;
  std::vector<std::optional<BatchVersion>> by_partition_;
  BatchVersion version_;  // the newest named, with every partition's own W
  std::vector<std::unique_ptr<ViewPlan>> plans_;
  std::vector<std::unique_ptr<ViewResult>> results_;
};

void PrintWatermark(const BatchVersion& v) {
  const double age = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count() -
                                         v.created_ms) /
                     1000.0;
  std::fprintf(stderr, "batch version %llu, watermark %s, age %.1f s\n", static_cast<unsigned long long>(v.number),
               Watermarks(v.watermark).c_str(), age);
}

// ---- query --server ----

// What a server's answer covers (README, "HTTP API": "Answers carry their
// watermarks"); empty strings and negative numbers for what it did not say.
struct ServerWatermarks {
  std::string version, batch, speed;
  double age_ms = -1, freshness_ms = -1;
};

// The counterpart of PrintWatermark, plus the speed layer's part.
void PrintServerWatermarks(const ServerWatermarks& w) {
  std::string line = w.version.empty() ? "no batch version yet" : "batch version " + w.version;
  if (!w.batch.empty()) line += ", watermark " + w.batch;
  char age[32] = "";
  if (w.age_ms >= 0) std::snprintf(age, sizeof(age), ", age %.1f s", w.age_ms / 1000.0);
  line += age;
  if (!w.speed.empty()) line += "; speed watermark " + w.speed;
  char freshness[32] = "";
  if (w.freshness_ms >= 0) std::snprintf(freshness, sizeof(freshness), ", freshness %.0f ms", w.freshness_ms);
  line += freshness;
  std::fprintf(stderr, "%s\n", line.c_str());
}

// TSV answers carry them in headers: "120,340" per partition.
ServerWatermarks WatermarksFromHeaders(const HttpAnswer& a) {
  auto list = [](std::string v) { return v.empty() ? v : "[" + v + "]"; };
  ServerWatermarks w;
  w.version = a.Header("X-Lambdaflow-Batch-Version");
  // "null" or "none" without a batch version.
  if (w.version.find_first_not_of("0123456789") != std::string::npos) w.version.clear();
  w.batch = list(a.Header("X-Lambdaflow-Batch-Watermark"));
  w.speed = list(a.Header("X-Lambdaflow-Speed-Watermark"));
  return w;
}

ServerWatermarks WatermarksFromJson(simdjson::dom::element doc) {
  auto list = [&](const char* key) {
    simdjson::dom::array arr;
    if (doc["watermarks"][key].get(arr)) return std::string();
    std::vector<uint64_t> w;
    for (simdjson::dom::element e : arr) {
      uint64_t v = 0;
      if (!e.get(v)) w.push_back(v);
    }
    return Watermarks(w);
  };
  ServerWatermarks w;
  w.batch = list("batch");
  w.speed = list("speed");
  uint64_t version = 0;
  if (!doc["batch_version"].get(version)) w.version = std::to_string(version);
  if (doc["batch_age_ms"].get(w.age_ms)) w.age_ms = -1;  // null without a batch version
  if (doc["freshness_ms"].get(w.freshness_ms)) w.freshness_ms = -1;
  return w;
}

// One JSON cell as the Value the table formatter expects for `type`.
// Timestamps and non-finite doubles arrive as strings; anything unexpected
// is shown as its JSON text rather than refused.
Value CellValue(simdjson::dom::element cell, TypeId type) {
  using simdjson::dom::element_type;
  switch (cell.type()) {
    case element_type::NULL_VALUE:
      return Value::Null(type);
    case element_type::BOOL:
      return Value::Bool(cell.get_bool().value_unsafe());
    case element_type::INT64: {
      const int64_t i = cell.get_int64().value_unsafe();
      return type == TypeId::kDouble ? Value::Double(static_cast<double>(i)) : Value::Int(i, type);
    }
    case element_type::DOUBLE:
      return Value::Double(cell.get_double().value_unsafe());
    case element_type::STRING: {
      const std::string_view s = cell.get_string().value_unsafe();
      if (type == TypeId::kTimestamp)
        if (auto ms = ParseTimestamp(s)) return Value::Timestamp(*ms);
      if (type == TypeId::kDouble) {
        if (s == "NaN") return Value::Double(std::nan(""));
        if (s == "Infinity") return Value::Double(HUGE_VAL);
        if (s == "-Infinity") return Value::Double(-HUGE_VAL);
      }
      return Value::Text(std::string(s));
    }
    default:
      return Value::Text(simdjson::minify(cell));
  }
}

TypeId TypeFromName(std::string_view name) {
  for (TypeId t : {TypeId::kBoolean, TypeId::kInt, TypeId::kBigInt, TypeId::kDouble, TypeId::kText, TypeId::kTimestamp})
    if (name == TypeName(t)) return t;
  return TypeId::kText;
}

// The answer's rows as a ViewResult, for the table format. Accepts the
// columns as names with a parallel "types" array (the API's shape) or as
// {"name", "type"} objects (the shape of `--format json` without a server).
Result<ViewResult> ResultFromJson(simdjson::dom::element doc) {
  ViewResult r;
  std::string_view view;
  if (!doc["view"].get(view)) r.name = std::string(view);
  simdjson::dom::array columns, types, rows;
  if (doc["columns"].get(columns) || doc["rows"].get(rows))
    return Status::IOError("the server's answer has no \"columns\" and \"rows\"");
  const bool has_types = !doc["types"].get(types);
  for (simdjson::dom::element c : columns) {
    std::string_view name, type;
    if (c.get(name) && (c["name"].get(name) || c["type"].get(type)))
      return Status::IOError("the server's answer has a column that is neither a name nor {name, type}");
    r.column_names.emplace_back(name);
    r.column_types.push_back(TypeFromName(type));
  }
  for (size_t i = 0; has_types && i < std::min(types.size(), r.column_types.size()); ++i) {
    std::string_view type;
    if (!types.at(i).get(type)) r.column_types[i] = TypeFromName(type);
  }
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get(cells)) return Status::IOError("the server's answer has a row that is not an array");
    std::vector<Value> values;
    for (simdjson::dom::element cell : cells) {
      if (values.size() == r.column_types.size()) break;
      values.push_back(CellValue(cell, r.column_types[values.size()]));
    }
    values.resize(r.column_types.size(), Value::Null());
    r.rows.push_back(std::move(values));
  }
  return r;
}

// A path segment with everything but unreserved characters percent-encoded,
// so that any (quoted) view name reaches the server intact.
std::string PathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// `query --server`: a bare view name is GET /v1/views/NAME, SQL is POST
// /v1/query. The server answers in JSON or TSV; the table format is built
// here from the JSON. A 4xx answer is the user's mistake (exit 2), a 5xx or
// an unreachable server a failure (exit 1).
Status RunServerQuery(const QueryArgs& a, ResultFormat format) {
  ASSIGN_OR_RETURN(ServerUrl server, ParseServerUrl(a.server, "--server"));
  const std::string wire = format == ResultFormat::kTsv ? "tsv" : "json";
  std::string sql_body = "{\"sql\":";
  AppendJsonString(a.what, &sql_body);
  sql_body += "}";
  ASSIGN_OR_RETURN(HttpAnswer answer, IsBareViewName(a.what)
                                          ? HttpGet(server, "/v1/views/" + PathSegment(a.what) + "?format=" + wire)
                                          : HttpPost(server, "/v1/query?format=" + wire, sql_body, "application/json"));
  if (answer.status < 200 || answer.status >= 300) {
    const ServerError e = ParseServerError(answer.status, answer.body);
    return answer.status < 500 ? Status::InvalidArgument(e.detail) : Status::IOError(e.detail);
  }
  if (format == ResultFormat::kTsv) {
    RETURN_IF_ERROR(WriteStdout(answer.body));
    PrintServerWatermarks(WatermarksFromHeaders(answer));
    return Status::OK();
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(answer.body).get(doc))
    return Status::IOError("the server's answer is not JSON: " + std::string(simdjson::error_message(err)));
  if (format == ResultFormat::kJson) {
    if (!answer.body.empty() && answer.body.back() != '\n') answer.body.push_back('\n');
    RETURN_IF_ERROR(WriteStdout(answer.body));
  } else {
    ASSIGN_OR_RETURN(ViewResult result, ResultFromJson(doc));
    std::string out;
    AppendTable(result, &out);
    RETURN_IF_ERROR(WriteStdout(out));
  }
  PrintServerWatermarks(WatermarksFromJson(doc));
  return Status::OK();
}

Status RunQueryCommand(const QueryArgs& a) {
  ASSIGN_OR_RETURN(ResultFormat format, ParseResultFormat(a.format));
  if (!a.server.empty()) return RunServerQuery(a, format);
  auto fs = NewPosixFileSystem();
  ASSIGN_OR_RETURN(auto dir, DataDir::Open(fs.get(), a.store.data, "", true, ReadOnlyOptions(a.store)));
  ASSIGN_OR_RETURN(auto served, ServedVersion::Load(dir.get()));
  std::string sql = a.what;
  const bool bare = IsBareViewName(sql);
  if (bare && format == ResultFormat::kTsv) {
    // The batch run wrote exactly this TSV: serve the file (checked
    // against the version manifest) instead of rebuilding it.
    ASSIGN_OR_RETURN(std::string tsv, served->ReadTsv(a.what));
    if (!tsv.empty()) {
      RETURN_IF_ERROR(WriteStdout(tsv));
      PrintWatermark(served->version());
      return Status::OK();
    }
  }
  if (bare) sql = "SELECT * FROM \"" + a.what + "\"";
  Status lookup_error;
  auto result = RunQuery(sql, "query", [&](std::string_view name) -> const ViewResult* {
    auto r = served->Get(name);
    if (!r.ok()) {
      lookup_error = r.status();
      return nullptr;
    }
    return *r;
  });
  RETURN_IF_ERROR(lookup_error);
  if (!result.ok()) return result.status();
  std::string out;
  AppendResult(*result, format, &out);
  RETURN_IF_ERROR(WriteStdout(out));
  PrintWatermark(served->version());
  return Status::OK();
}

// ---- status ----

struct StatusArgs {
  StoreFlags store;
  std::string format = "text";
};

Status RunStatus(const StatusArgs& a) {
  auto fs = NewPosixFileSystem();
  ASSIGN_OR_RETURN(bool exists, fs->Exists(JoinPath(a.store.data, "FORMAT")));
  if (!exists) return Status::NotFound("'" + a.store.data + "' is not a lambdaflow data directory");
  ASSIGN_OR_RETURN(bool has_views, fs->Exists(JoinPath(a.store.data, "views.sql")));
  if (!has_views) {
    // Created, but nothing ingested yet (views are stored before any event).
    return WriteStdout(a.format == "json"
                           ? "{\"data\":\"" + a.store.data +
                                 "\",\"log_end\":[0],\"sealed\":[0],\"segments\":0,\"batch_watermark\":null,"
                                 "\"batch_version\":null,\"batch_age_ms\":null,\"views\":[]}\n"
                           : "data directory  " + a.store.data + "\nnothing ingested yet\n");
  }
  // The log end needs the log, which only the writer may open; when another
  // process holds the directory, it is reported as unknown.
  // A directory that reads an external source (run --source) has no log:
  // reading it is all status needs.
  DataDirOptions ro;
  ro.store = a.store.store;
  ro.read_only_store = true;  // status reads the manifests, never claims them
  ASSIGN_OR_RETURN(std::unique_ptr<DataDir> probe, DataDir::Open(fs.get(), a.store.data, "", true, ro));
  const std::string source = probe->source();
  auto writer = source.empty() ? DataDir::Open(fs.get(), a.store.data, "", false, ro) : std::move(probe);
  std::unique_ptr<DataDir> dir;
  bool busy = false;
  if (writer.ok()) {
    dir = std::move(*writer);
  } else if (writer.status().message().find("in use by another lambdaflow process") == std::string::npos) {
    return writer.status();  // damaged, not busy: say what and where
  } else {
    busy = true;
    ASSIGN_OR_RETURN(dir, DataDir::Open(fs.get(), a.store.data, "", true, ro));
  }
  const Manifest m = dir->master()->Snapshot();
  std::vector<uint64_t> log_end;
  if (dir->log())
    for (int p = 0; p < dir->log()->partitions(); ++p) log_end.push_back(dir->log()->end_offset(p));
  ASSIGN_OR_RETURN(auto by_partition, dir->versions().CurrentByPartition());
  // "The" version is the newest any chain names; each partition's W is from
  // the version its own chain names (several workers publish for theirs).
  std::optional<BatchVersion> current;
  for (const auto& v : by_partition)
    if (v && (!current || v->number > current->number)) current = *v;
  if (current) {
    current->watermark = m.first;
    for (size_t p = 0; p < by_partition.size() && p < m.first.size(); ++p)
      if (by_partition[p]) current->watermark[p] = by_partition[p]->watermark[p];
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string out;
  if (a.format == "json") {
    out += "{\"data\":";
    AppendJsonString(a.store.data, &out);
    out += ",\"log_end\":" + (busy || !source.empty() ? std::string("null") : Watermarks(log_end));
    if (!source.empty()) {
      out += ",\"source\":";
      AppendJsonString(source, &out);
    }
    out += ",\"sealed\":" + Watermarks(m.sealed) + ",\"segments\":" + std::to_string(m.segments.size());
    if (current) {
      out += ",\"batch_watermark\":" + Watermarks(current->watermark) +
             ",\"batch_version\":" + std::to_string(current->number) +
             ",\"batch_age_ms\":" + std::to_string(now - current->created_ms);
    } else {
      out += ",\"batch_watermark\":null,\"batch_version\":null,\"batch_age_ms\":null";
    }
    out += ",\"views\":[";
    for (size_t i = 0; i < dir->catalog().views.size(); ++i) {
      if (i) out += ",";
      AppendJsonString(dir->catalog().views[i].name, &out);
    }
    out += "]}\n";
  } else if (a.format == "text") {
    out += "data directory  " + a.store.data + "\n";
    if (!source.empty()) {
      out += "source          the " + source + " (its high watermarks: GET /v1/status of `lambdaflow run`)\n";
    } else {
      out +=
          "log end         " + (busy ? std::string("unknown (in use by another process)") : Watermarks(log_end)) + "\n";
    }
    out += "sealed          " + Watermarks(m.sealed) + " in " + std::to_string(m.segments.size()) + " segment(s)\n";
    if (current) {
      char age[64];
      std::snprintf(age, sizeof(age), "%.1f s", static_cast<double>(now - current->created_ms) / 1000.0);
      out += "batch version   " + std::to_string(current->number) + ", watermark " + Watermarks(current->watermark) +
             ", age " + age + "\n";
    } else {
      out += "batch version   none yet (run `lambdaflow batch`)\n";
    }
    out += "views          ";
    for (const auto& v : dir->catalog().views) out += " " + v.name;
    out += "\n";
  } else {
    return Status::InvalidArgument("unknown --format '" + a.format + "': use text or json");
  }
  return WriteStdout(out);
}

// ---- rejects ----

struct RejectsArgs {
  StoreFlags store;
};

Status RunRejects(const RejectsArgs& a) {
  auto fs = NewPosixFileSystem();
  ASSIGN_OR_RETURN(auto dir, DataDir::Open(fs.get(), a.store.data, "", true, ReadOnlyOptions(a.store)));
  ASSIGN_OR_RETURN(bool exists, fs->Exists(dir->rejects_path()));
  if (!exists) return WriteStdout("");
  ASSIGN_OR_RETURN(std::string data, fs->ReadFile(dir->rejects_path()));
  return WriteStdout(data);
}

template <typename Args, typename Fn>
void Install(CLI::App* cmd, std::shared_ptr<Args> args, int* exit_code, Fn fn) {
  cmd->callback([args, exit_code, fn] {
    Status st = fn(*args);
    *exit_code = st.ok() ? kExitOk : ReportError(st);
  });
}

}  // namespace

void RegisterDataCommands(CLI::App& app, int* exit_code) {
  {
    auto a = std::make_shared<IngestArgs>();
    auto* cmd = app.add_subcommand("ingest", "Validate NDJSON events and append them durably to the data directory");
    AddStoreFlags(cmd, &a->store, true);
    cmd->add_option("--views", a->views, "The views file (stored in the data directory on first use)");
    cmd->add_option("--threads", a->threads, "Validation threads (default: one per core)");
    cmd->add_option("--seal-age", a->seal_age,
                    "Seal a partial segment once events waited this many seconds unsealed (default 10; 0: never)");
    cmd->add_flag("--progress", a->progress, "Print `acked N` after each durable append (N = log end offset)");
    cmd->add_option("inputs", a->inputs, "NDJSON files (.zst decompressed); '-' or none reads standard input");
    cmd->add_flag("-q,--quiet", a->quiet, kQuietHelp);
    Install(cmd, a, exit_code, RunIngest);
  }
  {
    auto a = std::make_shared<BatchArgs>();
    auto* cmd = app.add_subcommand("batch", "Seal the log and recompute every view from the master dataset");
    AddStoreFlags(cmd, &a->store, true);
    cmd->add_option("--views", a->views, "Use (and store) this views file instead of the stored one");
    cmd->add_flag("--full", a->full, "Ignore cached states: recompute from the segments (and write every view's TSV)");
    cmd->add_flag("--tsv", a->tsv, "Also write every view's TSV into the version (as --full does)");
    cmd->add_flag("--no-seal", a->no_seal, "Do not seal the log's tail first");
    cmd->add_option("--threads", a->threads, "Worker threads (default: one per core)");
    cmd->add_flag("-q,--quiet", a->quiet, kQuietHelp);
    Install(cmd, a, exit_code, RunBatch);
  }
  {
    auto a = std::make_shared<QueryArgs>();
    auto* cmd = app.add_subcommand("query",
                                   "Answer a view or a SELECT over views from the latest batch version, or with "
                                   "--server from a running `lambdaflow run` (batch + speed layer)");
    AddStoreFlags(cmd, &a->store, false);
    cmd->add_option("what", a->what, "A view name, or \"SELECT ... FROM view [WHERE] [ORDER BY] [LIMIT n]\"")
        ->required();
    cmd->add_option("--format", a->format,
                    "tsv, json or table (default). With --server, json is the server's answer as is "
                    "(with its watermarks)");
    cmd->add_option("--server", a->server,
                    "Ask the server at URL (e.g. http://127.0.0.1:8080) instead of reading --data: a view name "
                    "is GET URL/v1/views/NAME, SQL is POST URL/v1/query. Exit 2 for a 4xx answer, 1 for a 5xx "
                    "or an unreachable server")
        ->type_name("URL")
        ->excludes(cmd->get_option("--data"));
    Install(cmd, a, exit_code, RunQueryCommand);
  }
  {
    auto a = std::make_shared<StatusArgs>();
    auto* cmd = app.add_subcommand("status", "Show the log end, the sealed watermark and the latest batch version");
    AddStoreFlags(cmd, &a->store, false);
    cmd->add_option("--format", a->format, "text (default) or json");
    Install(cmd, a, exit_code, RunStatus);
  }
  {
    auto a = std::make_shared<RejectsArgs>();
    auto* cmd = app.add_subcommand("rejects", "List the rejected lines kept in the data directory (JSON lines)");
    AddStoreFlags(cmd, &a->store, false);
    Install(cmd, a, exit_code, RunRejects);
  }
}

}  // namespace lf::cli
