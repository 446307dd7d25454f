// `lambdaflow run`: the whole lambda architecture in one process — ingest
// over HTTP, the log, the archiver, the batch loop, the speed layer and the
// serving layer (README, "HTTP API") — configured by flags and/or a TOML file.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/example_views.h"
#include "cluster/group_worker.h"
#include "common/file_system.h"
#include "common/format.h"
#include "pipeline/kinesis_feeder.h"
#include "pipeline/pipeline.h"
#include "server/http_server.h"
#include "source/kafka_source.h"
#include "source/kafka_url.h"
#include "source/kinesis_client.h"

namespace lf::cli {
namespace {

struct RunSettings {
  std::string data = "./lambdaflow-data";
  std::string store;  // empty: the data directory
  std::string views;
  std::string listen = "127.0.0.1:8080";
  double seal_age = 10;
  uint64_t seal_events = 1'000'000;
  double batch_interval = 5;
  int64_t micro_batch_ms = 20;
  std::string fsync = "interval";
  int64_t fsync_interval_ms = 5;
  uint64_t max_body_bytes = 64 << 20;
  int64_t http_threads = 16;
  int64_t batch_threads = 0;
  std::string token;
  bool require_token_for_reads = false;
  int64_t max_unsealed_segments = 8;
  int64_t partitions = 0;    // 0: the data directory's count (1 for a new one)
  std::string partition_by;  // empty: round-robin per request
  int64_t query_timeout_ms = 10'000;
  uint64_t query_max_bytes = uint64_t{512} << 20;
  int64_t query_concurrency = 4;
  bool restart_log_at_sealed = false;  // a flag only: a one-time repair, never a setting of a file
  std::string source;                  // empty: the embedded log (POST /v1/events)
  std::string group;    // not empty: a member of this consumer group (else group "lambdaflow" gets the commits)
  KafkaSettings kafka;  // the [kafka] table of the config file
  uint64_t max_tail_bytes = uint64_t{256} << 20;
  int64_t group_session_ms = 10000;  // with --group: how long the group waits for a silent member
  std::string advertise;             // with --group: HOST:PORT other workers reach this one at (empty: --listen's)
  int64_t gather_timeout_ms = 1500;  // with --group: how long a query waits for another worker's partial
};

// One setting: its TOML key, its flag, and how a TOML value is stored.
struct Setting {
  std::string key;
  CLI::Option* option = nullptr;
  std::function<bool(const toml::node&)> apply;  // false: wrong type
  const char* expected = "";
};

template <typename T>
void AddSetting(CLI::App* cmd, std::vector<Setting>* settings, const std::string& key, T* target,
                const std::string& help) {
  std::string flag = "--" + key;
  for (char& c : flag)
    if (c == '_') c = '-';
  Setting s;
  s.key = key;
  if constexpr (std::is_same_v<T, bool>) {
    s.option = cmd->add_flag(flag, *target, help);
  } else {
    s.option = cmd->add_option(flag, *target, help)->capture_default_str();
  }
  if constexpr (std::is_same_v<T, bool>) {
    s.expected = "true or false";
    s.apply = [target](const toml::node& n) {
      auto v = n.value_exact<bool>();
      if (v) *target = *v;
      return v.has_value();
    };
  } else if constexpr (std::is_same_v<T, std::string>) {
    s.expected = "a string";
    s.apply = [target](const toml::node& n) {
      auto v = n.value_exact<std::string>();
      if (v) *target = *v;
      return v.has_value();
    };
  } else if constexpr (std::is_floating_point_v<T>) {
    s.expected = "a number";
    s.apply = [target](const toml::node& n) {
      auto v = n.value<double>();
      if (v) *target = static_cast<T>(*v);
      return v.has_value();
    };
  } else {
    s.expected = "an integer";
    s.apply = [target](const toml::node& n) {
      auto v = n.value_exact<int64_t>();
      if (v && *v >= 0) *target = static_cast<T>(*v);
      return v.has_value() && *v >= 0;
    };
  }
  settings->push_back(std::move(s));
}

// Reads the TOML file: every key must be a known setting; a setting also
// given as a flag keeps the flag's value.
Status ApplyConfig(const std::string& path, std::vector<Setting>& settings, KafkaSettings* kafka) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return Status::InvalidArgument(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                                   std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    Setting* s = nullptr;
    for (auto& candidate : settings)
      if (candidate.key == key.str()) s = &candidate;
    const auto& at = node.source().begin;
    const std::string where = path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": ";
    if (key.str() == "kafka") {
      // librdkafka properties, passed as they are after lambdaflow's defaults.
      const toml::table* t = node.as_table();
      if (!t)
        return Status::InvalidArgument(where +
                                       "'kafka' must be a table of librdkafka properties ([kafka] with "
                                       "\"session.timeout.ms\" = \"6000\" and the like)");
      for (const auto& [name, value] : *t) {
        auto v = value.value_exact<std::string>();
        const auto& vat = value.source().begin;
        if (!v)
          return Status::InvalidArgument(path + ":" + std::to_string(vat.line) + ":" + std::to_string(vat.column) +
                                         ": [kafka] \"" + std::string(name.str()) +
                                         "\" must be a string (librdkafka takes every property as text, e.g. "
                                         "\"6000\")");
        kafka->emplace_back(std::string(name.str()), *v);
      }
      continue;
    }
    if (!s) {
      std::string known;
      for (const auto& c : settings) known += (known.empty() ? "" : ", ") + c.key;
      known += ", [kafka]";
      return Status::InvalidArgument(where + "unknown setting '" + std::string(key.str()) + "' (settings: " + known +
                                     ")");
    }
    if (s->option->count() > 0) continue;  // the flag wins
    if (!s->apply(node)) return Status::InvalidArgument(where + "'" + s->key + "' must be " + s->expected);
  }
  return Status::OK();
}

Result<ServerOptions> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  ServerOptions o;
  int port = -1;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      port = std::stoi(listen.substr(colon + 1), &used);
      if (used != listen.size() - colon - 1) port = -1;
    } catch (...) {
      port = -1;
    }
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535)
    return Status::InvalidArgument("--listen must be HOST:PORT (e.g. 127.0.0.1:8080; port 0 = any free port), got '" +
                                   listen + "'");
  o.host = listen.substr(0, colon);
  o.port = port;
  return o;
}

// Every body fits one log batch record (kMaxBatchBytes, with its per-event
// framing), so that a request is all or nothing after a crash.
constexpr uint64_t kMaxBodyBytes = 128u << 20;

Result<PipelineOptions> ToPipelineOptions(const RunSettings& s) {
  PipelineOptions o;
  ASSIGN_OR_RETURN(o.dir.log.fsync, ParseFsyncPolicy(s.fsync));
  if (s.seal_events == 0) return Status::InvalidArgument("seal_events must be positive");
  if (!(s.seal_age >= 0)) return Status::InvalidArgument("seal_age must be >= 0 seconds");
  if (!(s.batch_interval >= 0)) return Status::InvalidArgument("batch_interval must be >= 0 seconds");
  if (s.micro_batch_ms < 1) return Status::InvalidArgument("micro_batch_ms must be >= 1");
  if (s.max_body_bytes > kMaxBodyBytes)
    return Status::InvalidArgument("max_body_bytes must be at most " + std::to_string(kMaxBodyBytes) +
                                   " (a request's events are one atomic record in the log)");
  o.dir.log.fsync_interval_ms = static_cast<int>(s.fsync_interval_ms);
  o.dir.log.restart_at_sealed = s.restart_log_at_sealed;
  o.dir.seal_events = s.seal_events;
  o.dir.store = s.store;
  o.dir.default_views_text = std::string(ExampleViewsText());
  o.seal_age = std::chrono::milliseconds(static_cast<int64_t>(s.seal_age * 1000));
  o.batch_interval = std::chrono::milliseconds(static_cast<int64_t>(s.batch_interval * 1000));
  o.micro_batch = std::chrono::milliseconds(s.micro_batch_ms);
  o.batch_threads = static_cast<int>(s.batch_threads);
  o.max_unsealed_buckets = static_cast<size_t>(s.max_unsealed_segments);
  if (s.partitions > 1024) return Status::InvalidArgument("partitions must be in [1, 1024]");
  o.dir.partitions = static_cast<int>(s.partitions);
  o.partition_by = s.partition_by;
  o.query_limits.timeout = std::chrono::milliseconds(s.query_timeout_ms);
  o.query_limits.max_bytes = s.query_max_bytes;
  o.query_limits.concurrency = static_cast<int>(s.query_concurrency);
  return o;
}

// Operator log lines on stderr, with a UTC time stamp.
void LogLine(const std::string& line) {
  static std::mutex mu;
  std::string stamp;
  AppendTimestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count(),
      &stamp);
  std::lock_guard lock(mu);
  std::fprintf(stderr, "%s lambdaflow run: %s\n", stamp.c_str(), line.c_str());
}

// glibc's allocator keeps freed memory of large, short-lived buffers (a
// segment being sealed, a state image being written) in its heaps, where
// fragmentation then inflates a long-running process: 10M events peaked at
// 626 MiB RSS with the defaults, 391 MiB with these settings (BENCHMARKS.md).
// Buffers from 256 KiB on are mapped and unmapped on their own; fewer arenas
// share the freed memory of the many HTTP threads.
void TuneAllocator() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 4);
#endif
}

int RunServer(const RunSettings& settings) {
  TuneAllocator();
  auto popts = ToPipelineOptions(settings);
  if (!popts.ok()) return ReportError(popts.status());
  auto sopts = ParseListen(settings.listen);
  if (!sopts.ok()) return ReportError(sopts.status());
  sopts->max_body_bytes = settings.max_body_bytes;
  sopts->threads = static_cast<int>(settings.http_threads);
  sopts->token = settings.token;
  sopts->require_token_for_reads = settings.require_token_for_reads;
  if (settings.require_token_for_reads && settings.token.empty())
    return ReportError(Status::InvalidArgument(
        "require_token_for_reads needs a token: set --token (or token in the config file), or drop the option"));
  popts->log = LogLine;
  popts->dir.operator_log = LogLine;

  // SIGINT/SIGTERM are taken by one thread with sigwait; every other thread
  // (started below, after the mask is set) has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // --source kinesis://STREAM: read into the embedded log by a feeder
  // (pipeline/kinesis_feeder.h), one partition per shard.
  std::optional<KinesisFeederOptions> kinesis;
  if (IsKinesisUrl(settings.source)) {
    auto stream = ParseKinesisUrl(settings.source, "--source");
    if (!stream.ok()) return ReportError(stream.status());
    if (!settings.partition_by.empty())
      return ReportError(Status::InvalidArgument(
          "partition_by applies to POST /v1/events; with --source kinesis:// each shard is a partition: drop "
          "partition_by"));
    auto aws = aws::AwsConfig::FromEnvironment();
    if (!aws.ok()) return ReportError(aws.status());
    kinesis = KinesisFeederOptions{.stream = *stream, .aws = *aws, .log = LogLine};
    popts->dir.source = "kinesis stream " + *stream;
    popts->http_ingest_refused = "this server reads its events from " + settings.source +
                                 ": put them into the stream (e.g. `lambdaflow produce --to " + settings.source +
                                 "`), not to POST /v1/events";
    // A new data directory gets room for every shard to split once.
    std::error_code ec;
    if (settings.partitions == 0 && !std::filesystem::exists(std::filesystem::path(settings.data) / "FORMAT", ec)) {
      KinesisClient client(*aws, *stream);
      auto shards = client.ListShards();
      if (!shards.ok()) return ReportError(shards.status());
      int open = 0;
      for (const auto& sh : *shards) open += sh.ending_sequence_number.empty();
      popts->dir.partitions = KinesisFeeder::DefaultPartitions(open);
    }
  } else if (!settings.source.empty()) {
    auto url = ParseKafkaUrl(settings.source, "--source");
    if (!url.ok()) return ReportError(url.status());
    if (!settings.partition_by.empty())
      return ReportError(Status::InvalidArgument(
          "partition_by applies to POST /v1/events; with --source the topic's producers choose the partitions "
          "(lambdaflow produce --to kafka:// keys by zipcode): drop partition_by"));
    KafkaSourceOptions kopts{.url = *url, .settings = settings.kafka, .group = settings.group};
    if (settings.group.empty()) {
      kopts.group = "lambdaflow";  // sealed offsets are committed to it, for lag tools only
    } else {
      // --group: a member of the consumer group (docs/formats/ownership.md).
      auto member = std::make_shared<GroupMembership>();
      kopts.membership.enabled = true;
      kopts.membership.session_timeout = std::chrono::milliseconds(settings.group_session_ms);
      kopts.membership.on_gain = [member](const std::vector<uint32_t>& gained) { return member->Gain(gained); };
      kopts.membership.on_lose = [member](const std::vector<uint32_t>& revoked, bool lost) {
        member->Lose(revoked, lost);
      };
      popts->member = member;
    }
    auto source = KafkaSource::Open(kopts);
    if (!source.ok()) return ReportError(source.status());
    popts->source = std::shared_ptr<LogSource>(std::move(source).value());
    popts->feed.max_tail_bytes = settings.max_tail_bytes;
    popts->dir.source = "kafka topic " + url->topic;
  }
  std::unique_ptr<FileSystem> fs = NewPosixFileSystem();
  auto pipeline = Pipeline::Start(fs.get(), settings.data, settings.views, *popts);
  if (!pipeline.ok()) return ReportError(pipeline.status());
  HttpServer server(pipeline->get(), *sopts);
  if (Status st = server.Bind(); !st.ok()) {
    (void)(*pipeline)->Stop();
    return ReportError(st);
  }
  // --group: this worker's record in the workers' directory, and the
  // gathering of queries from the other workers (cluster/group_worker.h).
  std::unique_ptr<GroupWorker> group;
  if (popts->member) {
    GroupWorkerOptions g;
    g.address = settings.advertise;
    if (g.address.empty()) {
      std::string host = sopts->host;
      if (host == "0.0.0.0" || host == "::" || host.empty()) {
        char name[256] = {};
        host = gethostname(name, sizeof(name) - 1) == 0 ? name : "localhost";
      }
      if (host.find(':') != std::string::npos) host = "[" + host + "]";
      g.address = host + ":" + std::to_string(server.port());
    }
    g.token = settings.token;
    g.fetch_timeout = std::chrono::milliseconds(settings.gather_timeout_ms);
    g.gather.directory_max_age_ms = std::max<int64_t>(10'000, 5 * g.heartbeat.count());
    g.log = LogLine;
    auto started = GroupWorker::Start(pipeline->get(), std::move(g));
    if (!started.ok()) {
      (void)(*pipeline)->Stop();
      return ReportError(started.status());
    }
    group = std::move(started).value();
    server.set_group(group.get());
  }
  std::unique_ptr<KinesisFeeder> feeder;
  if (kinesis) {
    auto started = KinesisFeeder::Start((*pipeline)->data_dir(), pipeline->get(), *kinesis);
    if (!started.ok()) {
      (void)(*pipeline)->Stop();
      return ReportError(started.status());
    }
    feeder = std::move(started).value();
  }
  std::printf("lambdaflow run: listening on http://%s:%d (data %s%s)\n", sopts->host.c_str(), server.port(),
              settings.data.c_str(), settings.source.empty() ? "" : (", source " + settings.source).c_str());
  std::fflush(stdout);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != 0) LogLine(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
    server.Stop();
  });
  Status served = server.Serve();
  // Serve returned: by a signal, or by a failure (then wake the waiter).
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (feeder) feeder->Stop();
  if (group) {
    if (Status st = group->Stop(); !st.ok())
      LogLine("group: this worker's directory record was not removed: " + st.ToString());
  }
  Status stopped = (*pipeline)->Stop();
  if (!served.ok()) return ReportError(served);
  if (!stopped.ok()) return ReportError(stopped);
  const Coverage c = (*pipeline)->served().coverage();
  std::string s;
  for (size_t p = 0; p < c.speed.size(); ++p) s += (p ? "," : "") + std::to_string(c.speed[p]);
  if (settings.source.empty() || kinesis) {
    LogLine("stopped cleanly; every acknowledged event is durable (log end " + s + ")");
  } else {
    LogLine("stopped cleanly; read " + settings.source + " up to S=" + s +
            " (the next start resumes from the sealed watermarks)");
  }
  return kExitOk;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, int* exit_code) {
  auto settings = std::make_shared<RunSettings>();
  auto config = std::make_shared<std::string>();
  auto list = std::make_shared<std::vector<Setting>>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run everything in one process: HTTP ingest, the log, the archiver, the batch loop, the speed layer and\n"
      "merged serving (see the README, section HTTP API). With no arguments: the example views on ./lambdaflow-data,\n"
      "listening on 127.0.0.1:8080. Every setting can also be given in a TOML file (--config), with the\n"
      "flag's name in snake_case (seal_age = 10); a flag given on the command line wins.");
  AddSetting(cmd, list.get(), "data", &settings->data, "The data directory (created if missing; resumed if present)");
  AddSetting(cmd, list.get(), "store", &settings->store,
             "The shared store, a directory or s3://BUCKET/PREFIX: master segments, manifest chains, batch versions "
             "(default: the data directory; --data keeps the log, lock, dead letters, views file and, for S3, a "
             "cache of segments)");
  AddSetting(cmd, list.get(), "views", &settings->views,
             "The views file (default: the one stored in the data directory, or the example views)");
  AddSetting(cmd, list.get(), "listen", &settings->listen, "HOST:PORT to serve HTTP on (port 0: any free port)");
  AddSetting(cmd, list.get(), "seal_age", &settings->seal_age,
             "Seconds after which the speed layer's open bucket is cut into a master segment even if not full");
  AddSetting(cmd, list.get(), "seal_events", &settings->seal_events, "Events per master segment (and speed bucket)");
  AddSetting(cmd, list.get(), "batch_interval", &settings->batch_interval,
             "Minimum seconds between the starts of two batch recomputes");
  AddSetting(cmd, list.get(), "micro_batch_ms", &settings->micro_batch_ms, "The speed layer's micro-batch interval");
  AddSetting(cmd, list.get(), "fsync", &settings->fsync, "Log fsync policy: always, interval (group commit) or none");
  AddSetting(cmd, list.get(), "fsync_interval_ms", &settings->fsync_interval_ms,
             "Group-commit period of the interval policy (ms)");
  AddSetting(cmd, list.get(), "max_body_bytes", &settings->max_body_bytes,
             "Largest accepted HTTP request body (bigger ones get 413)");
  AddSetting(cmd, list.get(), "http_threads", &settings->http_threads,
             "HTTP handler threads for ingest and queries (connections themselves hold no thread)");
  AddSetting(cmd, list.get(), "batch_threads", &settings->batch_threads,
             "Threads of a batch recompute (0: one per core)");
  AddSetting(cmd, list.get(), "max_unsealed_segments", &settings->max_unsealed_segments,
             "Backpressure: POST /v1/events answers 503 while more closed segments than this wait to be sealed");
  AddSetting(cmd, list.get(), "partitions", &settings->partitions,
             "Partitions of a new data directory's log (0: 1, or the count an existing directory was created "
             "with; a different count is an error)");
  AddSetting(cmd, list.get(), "partition_by", &settings->partition_by,
             "The column whose value picks an event's partition when POST /v1/events has no ?partition= "
             "(murmur2, like produce --to kafka://); empty: round-robin per request");
  AddSetting(cmd, list.get(), "query_timeout_ms", &settings->query_timeout_ms,
             "Time budget of a query or whole-view read (ms; 0: none); over it the answer is 504 query_timeout");
  AddSetting(cmd, list.get(), "query_max_bytes", &settings->query_max_bytes,
             "Memory budget of a query's rows and groups (bytes; 0: none); over it the answer is 400 "
             "resource_limit_exceeded");
  AddSetting(cmd, list.get(), "query_concurrency", &settings->query_concurrency,
             "Queries that run at once, on low-priority threads so that ingest keeps the CPU; more wait their turn "
             "(0: each on its HTTP thread)");
  AddSetting(cmd, list.get(), "token", &settings->token,
             "If set, POST /v1/events requires the header 'Authorization: Bearer <token>'");
  AddSetting(cmd, list.get(), "require_token_for_reads", &settings->require_token_for_reads,
             "With a token: every endpoint but /healthz requires it (views, queries, status, metrics, dashboard)");
  AddSetting(cmd, list.get(), "source", &settings->source,
             "kafka://HOST:PORT[,HOST:PORT...]/TOPIC: read the events from this Kafka topic instead of POST "
             "/v1/events (its partitions are the data directory's; librdkafka properties in the config file's "
             "[kafka] table); or kinesis://STREAM: read the Kinesis stream into the log, one partition per shard "
             "(AWS settings from the environment; a new data directory gets 2 partitions per open shard unless "
             "--partitions)");
  AddSetting(cmd, list.get(), "group", &settings->group,
             "With --source kafka://: join this consumer group; its workers (one store, each its own --data) "
             "split the topic's partitions, each sealing and computing those it owns (without it, every "
             "partition is read and the group 'lambdaflow' gets the sealed offsets, for lag tools only)");
  AddSetting(cmd, list.get(), "group_session_ms", &settings->group_session_ms,
             "With --group: how long the group waits for a silent member before its partitions move (ms)");
  AddSetting(cmd, list.get(), "advertise", &settings->advertise,
             "With --group: HOST:PORT the other workers reach this one's HTTP API at (default: the --listen host "
             "with the bound port; the host name when listening on every interface)");
  AddSetting(cmd, list.get(), "gather_timeout_ms", &settings->gather_timeout_ms,
             "With --group: how long a query waits for another worker's partial state before it answers that "
             "worker's partitions from their batch states (ms)");
  AddSetting(cmd, list.get(), "max_tail_bytes", &settings->max_tail_bytes,
             "With --source: bytes of read but unsealed records kept in memory per partition; over it the partition "
             "is paused at the source until sealing catches up (backpressure)");
  cmd->add_option("--config", *config, "A TOML file of settings (keys as above, in snake_case)");
  cmd->add_flag("--restart-log-at-sealed", settings->restart_log_at_sealed,
                "Only when the log ends below the sealed watermark (its segments were truncated or deleted) and "
                "there is no backup: move its segments aside and continue the log at the sealed watermark");
  cmd->callback([settings, config, list, exit_code] {
    if (!config->empty()) {
      if (Status st = ApplyConfig(*config, *list, &settings->kafka); !st.ok()) {
        *exit_code = ReportError(st);
        return;
      }
    }
    *exit_code = RunServer(*settings);
  });
}

}  // namespace lf::cli
