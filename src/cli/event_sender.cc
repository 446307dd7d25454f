#include "cli/event_sender.h"

#include <httplib.h>
#include <simdjson.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "ingest/seed_generator.h"

namespace lf::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Generous: a batch is acknowledged once durable, and a server busy with a
// batch run may take a while. A timeout leaves the batch's fate unknown.
constexpr time_t kConnectTimeoutS = 5;
constexpr time_t kReadWriteTimeoutS = 60;

void Configure(httplib::Client* client) {
  // httplib writes the headers and the body separately: with Nagle's
  // algorithm the body waits for the server's delayed ACK, which adds
  // ~40 ms to every request and would be all the latency we measure.
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(kConnectTimeoutS);
  client->set_read_timeout(kReadWriteTimeoutS);
  client->set_write_timeout(kReadWriteTimeoutS);
}

// httplib's error names ("Connection", "Read") say little to a user.
std::string TransportError(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect (is the server running?)";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer (connection closed or read timed out)";
    case httplib::Error::Write:
      return "sending the request failed";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
      return "TLS connection failed";
    default:
      return "request failed (" + httplib::to_string(e) + ")";
  }
}

HttpAnswer ToAnswer(const httplib::Response& r) {
  HttpAnswer a;
  a.status = r.status;
  a.body = r.body;
  a.headers.assign(r.headers.begin(), r.headers.end());
  return a;
}

bool Is2xx(int status) { return status >= 200 && status < 300; }

}  // namespace

Result<ServerUrl> ParseServerUrl(std::string_view url, std::string_view flag) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(flag) + " '" + std::string(url) + "': " + std::string(why) +
                                   "; expected http://HOST:PORT");
  };
  std::string_view rest = url;
  std::string scheme = "http";
  if (const size_t p = rest.find("://"); p != std::string_view::npos) {
    scheme = std::string(rest.substr(0, p));
    rest.remove_prefix(p + 3);
  }
  if (scheme != "http" && scheme != "https") return bad("unsupported scheme '" + scheme + "'");
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (authority.empty()) return bad("no host");
  // httplib takes any digits as the port; 0 or 99999 would only fail later as "cannot connect".
  if (const size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    int p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) return bad("bad port");
  }
  if (prefix.find_first_of("?#") != std::string_view::npos) return bad("a query or fragment is not allowed");
  ServerUrl s{scheme + "://" + std::string(authority), std::string(prefix)};
  if (!httplib::Client(s.origin).is_valid()) return bad("not a valid host and port");
  return s;
}

std::string HttpAnswer::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

Result<HttpAnswer> HttpGet(const ServerUrl& server, const std::string& target) {
  httplib::Client client(server.origin);
  Configure(&client);
  auto res = client.Get(server.prefix + target);
  if (!res) return Status::IOError("GET " + server.Url(target) + ": " + TransportError(res.error()));
  return ToAnswer(*res);
}

Result<HttpAnswer> HttpPost(const ServerUrl& server, const std::string& target, const std::string& body,
                            const std::string& content_type) {
  httplib::Client client(server.origin);
  Configure(&client);
  auto res = client.Post(server.prefix + target, body, content_type);
  if (!res) return Status::IOError("POST " + server.Url(target) + ": " + TransportError(res.error()));
  return ToAnswer(*res);
}

ServerError ParseServerError(int status, std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  std::string_view code, detail;
  if (!parser.parse(body.data(), body.size()).get(obj) && !obj["detail"].get(detail)) {
    if (obj["error"].get(code)) code = {};
    return {std::string(code), std::string(detail)};
  }
  constexpr size_t kMaxShown = 200;
  std::string shown(body.substr(0, kMaxShown));
  std::replace(shown.begin(), shown.end(), '\n', ' ');
  if (body.size() > kMaxShown) shown += "...";
  return {"", "the server answered " + std::to_string(status) + (shown.empty() ? " with no body" : ": " + shown)};
}

double SendReport::LatencyPercentile(double q) const {
  if (latency_ms.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(latency_ms.size())));
  return latency_ms[std::clamp<size_t>(rank, 1, latency_ms.size()) - 1];
}

namespace {

// Hands out consecutive batches of one seed stream to the connections, so
// that the events sent are the same whatever their number. Thread-safe.
// Generating is ~100 ns an event: a lock held for one batch costs far less
// than the request that carries it.
class BatchSource {
 public:
  explicit BatchSource(const SendOptions& o) : gen_(SeedGeneratorOptions{.seed = o.seed}), o_(o) {}

  // Replaces *body with the next batch; returns its event count (0 at the
  // end) and sets *first to the stream index of its first event.
  int64_t Next(std::string* body, int64_t* first) {
    std::lock_guard lock(mu_);
    const int64_t n = o_.count == 0 ? o_.batch : std::min(o_.batch, o_.count - next_);
    body->clear();
    for (int64_t i = 0; i < n; ++i) gen_.AppendEvent(body);
    *first = next_;
    next_ += n;
    return n;
  }

 private:
  std::mutex mu_;
  SeedGenerator gen_;
  int64_t next_ = 0;
  const SendOptions& o_;
};

// What the connections share: the stop signal and the first error.
class RunState {
 public:
  explicit RunState(const std::atomic<bool>* interrupted) : interrupted_(interrupted) {}

  bool Stopped() const { return failed_.load() || Interrupted(); }
  bool Interrupted() const { return interrupted_ && interrupted_->load(); }

  void Fail(Status st) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(st);
    failed_ = true;
  }
  Status error() {
    std::lock_guard lock(mu_);
    return error_;
  }

  // Seed events are valid, so a rejection means the server's stream does
  // not match them: say so once, with the first reason, not per batch.
  void NoteRejection(const simdjson::dom::array& rejected) {
    if (rejection_noted_.exchange(true)) return;
    std::string_view reason, detail;
    int64_t line = 0;
    auto first = rejected.at(0);
    if (first["reason"].get(reason)) reason = "?";
    if (first["detail"].get(detail)) detail = {};
    if (first["line"].get(line)) line = 0;
    std::fprintf(stderr, "lambdaflow produce: the server rejected events (first: line %lld of a batch, %.*s: %.*s)\n",
                 static_cast<long long>(line), static_cast<int>(reason.size()), reason.data(),
                 static_cast<int>(detail.size()), detail.data());
  }

  // Sleeps until `t`; false when the run stopped meanwhile. Sleeps in
  // slices so that Ctrl-C is not kept waiting by a slow --rate.
  bool SleepUntil(Clock::time_point t) const {
    constexpr auto kSlice = std::chrono::milliseconds(100);
    while (!Stopped()) {
      const auto now = Clock::now();
      if (now >= t) return true;
      std::this_thread::sleep_for(std::min<Clock::duration>(t - now, kSlice));
    }
    return false;
  }

 private:
  const std::atomic<bool>* interrupted_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> rejection_noted_{false};
  std::mutex mu_;
  Status error_;
};

// One keep-alive connection sending batches until the source runs dry or
// the run stops. Owns its client, parser and counters (no sharing).
//
// Every connection is an idempotent producer (README, "POST /v1/events"):
// its batches carry X-Producer-Id (one id per connection and run) and
// X-Producer-Seq (0, 1, 2, ...), so that a batch retried after a 503, a lost
// answer or a server restart is appended exactly once.
class Connection {
 public:
  Connection(const SendOptions& o, BatchSource* source, RunState* run, Clock::time_point start, std::string producer_id)
      : o_(o),
        source_(source),
        run_(run),
        start_(start),
        client_(o.server.origin),
        producer_id_(std::move(producer_id)) {
    Configure(&client_);
    client_.set_keep_alive(true);
    if (!o.token.empty()) client_.set_bearer_token_auth(o.token);
  }

  void Run() {
    std::string body;
    int64_t first = 0;
    while (!run_->Stopped()) {
      const int64_t n = source_->Next(&body, &first);
      if (n == 0) return;
      // Event i is due at start + i / rate; a batch leaves when its last
      // event is due.
      if (o_.rate > 0 && !run_->SleepUntil(start_ + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>((first + n - 1) / o_.rate))))
        return;
      if (Status st = Post(body, n); !st.ok()) return run_->Fail(std::move(st));
    }
  }

  const SendReport& stats() const { return stats_; }

 private:
  Status Post(const std::string& body, int64_t n) {
    const std::string path = o_.server.prefix + "/v1/events";
    const httplib::Headers headers = {{"X-Producer-Id", producer_id_}, {"X-Producer-Seq", std::to_string(seq_)}};
    for (int attempt = 1;; ++attempt) {
      const auto t0 = Clock::now();
      auto res = client_.Post(path, headers, body, "application/x-ndjson");
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!res) {
        // The server answered before (so it exists): it may be restarting.
        // The same seq again is exact, whether or not the batch was appended.
        if (answered_ && attempt < kMaxSendTries) {
          ++stats_.retries;
          if (!run_->SleepUntil(Clock::now() + std::chrono::seconds(1))) return Status::OK();
          continue;
        }
        return Status::IOError("POST " + o_.server.Url("/v1/events") + ": " + TransportError(res.error()) +
                               (answered_ ? " (gave up after " + std::to_string(kMaxSendTries) + " tries)" : ""));
      }
      answered_ = true;
      if (Is2xx(res->status)) {
        ++seq_;
        return CountAnswer(res->body, n, ms);
      }
      if (res->status == 503 && attempt < kMaxSendTries) {
        ++stats_.retries;
        if (!run_->SleepUntil(Clock::now() + RetryAfter(*res))) return Status::OK();
        continue;
      }
      const ServerError e = ParseServerError(res->status, res->body);
      std::string msg = "POST " + o_.server.Url("/v1/events") + " answered " + std::to_string(res->status);
      if (!e.code.empty()) msg += " " + e.code;
      msg += ": " + e.detail;
      if (res->status == 503) msg += " (gave up after " + std::to_string(kMaxSendTries) + " tries)";
      if (res->status == 413) msg += " (lower --batch)";
      if (res->status == 401) msg += " (pass --token or set LAMBDAFLOW_TOKEN)";
      return res->status < 500 ? Status::InvalidArgument(msg) : Status::IOError(msg);
    }
  }

  static std::chrono::seconds RetryAfter(const httplib::Response& r) {
    // Seconds only; an HTTP-date (allowed, but not what our server sends)
    // falls back to 1 s.
    const std::string v = r.get_header_value("Retry-After");
    char* end = nullptr;
    const long s = std::strtol(v.c_str(), &end, 10);
    return std::chrono::seconds(!v.empty() && *end == '\0' && s >= 0 ? s : 1);
  }

  Status CountAnswer(const std::string& answer, int64_t n, double ms) {
    simdjson::dom::element doc;
    int64_t accepted = 0;
    simdjson::dom::array rejected;
    if (parser_.parse(answer).get(doc) || doc["accepted"].get(accepted) || doc["rejected"].get(rejected))
      return Status::Corruption(
          "POST " + o_.server.Url("/v1/events") +
          ": the answer is not {\"accepted\": n, \"rejected\": [...]}: " + ParseServerError(200, answer).detail);
    if (rejected.size() > 0) run_->NoteRejection(rejected);
    stats_.sent += n;
    if (o_.progress) o_.progress->AddEvents(static_cast<uint64_t>(n));
    stats_.accepted += accepted;
    stats_.rejected += static_cast<int64_t>(rejected.size());
    stats_.requests += 1;
    stats_.latency_ms.push_back(ms);
    return Status::OK();
  }

  const SendOptions& o_;
  BatchSource* const source_;
  RunState* const run_;
  const Clock::time_point start_;
  httplib::Client client_;
  const std::string producer_id_;
  uint64_t seq_ = 0;       // of the next batch
  bool answered_ = false;  // the server answered a request of this connection
  simdjson::dom::parser parser_;
  SendReport stats_;
};

void Merge(const SendReport& from, SendReport* into) {
  into->sent += from.sent;
  into->accepted += from.accepted;
  into->rejected += from.rejected;
  into->requests += from.requests;
  into->retries += from.retries;
  into->latency_ms.insert(into->latency_ms.end(), from.latency_ms.begin(), from.latency_ms.end());
}

}  // namespace

Status SendEvents(const SendOptions& o, SendReport* report) {
  BatchSource source(o);
  RunState run(o.interrupted);
  const auto start = Clock::now();
  // One producer id per connection and run: distinct across runs and hosts
  // with overwhelming probability (64 random bits).
  std::random_device rd;
  char run_id[32];
  std::snprintf(run_id, sizeof run_id, "%08x%08x", rd(), rd());
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < o.connections; ++i) {
    conns.push_back(std::make_unique<Connection>(o, &source, &run, start,
                                                 "produce-" + std::string(run_id) + "-" + std::to_string(i)));
  }
  std::vector<std::thread> threads;
  for (auto& c : conns) threads.emplace_back([&c] { c->Run(); });
  for (auto& t : threads) t.join();

  *report = SendReport();
  report->connections = o.connections;
  report->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report->interrupted = run.Interrupted();
  for (const auto& c : conns) Merge(c->stats(), report);
  std::sort(report->latency_ms.begin(), report->latency_ms.end());
  return run.error();
}

}  // namespace lf::cli
