// Load generator for the serving benchmarks of `lambdaflow run` (see
// bench/serving_bench.sh). Two modes, each printing one JSON object:
//
//   serve_load freshness --port P [--rate 100000] [--seconds 10] [--batch 1000] [--view V]
//                        [--heavy N]
//     Sends seed events at a fixed rate in batches over one keep-alive
//     connection, while a second connection polls GET /v1/views/V for the
//     speed watermark S. A batch is visible once an answer reports
//     S >= the batch's last offset + 1; its freshness is the time from the
//     start of its send to the receipt of that answer. With --heavy N, N
//     more connections run heavy queries over by_zip_product back to back
//     meanwhile, taking turns: a 120,000-item IN list, and every row sorted
//     by revenue.
//
//   serve_load query --port P [--keys 100000] [--seconds 5] [--clients 2] [--ingest-rate 0]
//                    [--kinds lookup,top10]
//     Loads one event per key of a view grouped by (zipcode, ProductName)
//     (2000 x 50 = 100,000 keys) if it is empty, then runs key lookups and
//     top-10 queries back to back on --clients keep-alive connections, each
//     kind for --seconds; with --ingest-rate R it sends R events/s meanwhile.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingest/seed_generator.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode;
  int port = 8080;
  double rate = 100000;
  double seconds = 10;
  int batch = 1000;
  std::string view = "revenue_by_product";
  int keys = 100000;
  int clients = 2;
  double ingest_rate = 0;
  std::string kinds = "lookup,top10";
  int heavy = 0;
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: serve_load freshness|query --port P [options]\n");
    std::exit(2);
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port")
      a.port = std::atoi(v);
    else if (k == "--rate")
      a.rate = std::atof(v);
    else if (k == "--seconds")
      a.seconds = std::atof(v);
    else if (k == "--batch")
      a.batch = std::atoi(v);
    else if (k == "--view")
      a.view = v;
    else if (k == "--keys")
      a.keys = std::atoi(v);
    else if (k == "--clients")
      a.clients = std::atoi(v);
    else if (k == "--ingest-rate")
      a.ingest_rate = std::atof(v);
    else if (k == "--kinds")
      a.kinds = v;
    else if (k == "--heavy")
      a.heavy = std::atoi(v);
    else {
      std::fprintf(stderr, "serve_load: unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// "p50":..,"p99":.. of `v` (sorted in place), in ms.
std::string Percentiles(std::vector<double>& v) {
  if (v.empty()) return "\"n\":0";
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "\"n\":%zu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f", v.size(),
                at(0.5), at(0.9), at(0.99), at(0.999), v.back());
  return buf;
}

// The first number after `"speed":[` in an answer.
uint64_t SpeedWatermark(const std::string& body) {
  const size_t at = body.find("\"speed\":[");
  if (at == std::string::npos) return 0;
  return std::strtoull(body.c_str() + at + 9, nullptr, 10);
}

// The `"to":N` of a POST /v1/events answer.
uint64_t OffsetTo(const std::string& body) {
  const size_t at = body.find("\"to\":");
  if (at == std::string::npos) return 0;
  return std::strtoull(body.c_str() + at + 5, nullptr, 10);
}

std::unique_ptr<httplib::Client> Connect(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_keep_alive(true);
  c->set_read_timeout(30, 0);
  c->set_tcp_nodelay(true);
  return c;
}

// Sends events at `rate` per second in batches of `batch` until `stop`;
// calls on_ack(send start, to) per batch. `keys` > 0: events cycle through
// that many (zipcode, product) keys instead of the seed distribution.
template <typename OnAck>
void SendAtRate(int port, double rate, int batch, int keys, uint64_t seed, const std::atomic<bool>& stop,
                OnAck on_ack) {
  auto client = Connect(port);
  lf::SeedGenerator gen(lf::SeedGeneratorOptions{.seed = seed});
  std::mt19937_64 rng(seed);
  const auto start = Clock::now();
  std::string body;
  for (uint64_t n = 0; !stop.load(); ++n) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(n * batch) / rate));
    std::this_thread::sleep_until(due);
    body.clear();
    for (int i = 0; i < batch; ++i) {
      lf::SeedEvent e = gen.Next();
      if (keys > 0) {
        const uint64_t k = rng() % static_cast<uint64_t>(keys);
        e.zipcode = 90000 + static_cast<int32_t>(k % 2000);
        e.product = static_cast<int32_t>(k / 2000 % 50) + 1;
      }
      gen.AppendJson(e, &body);
    }
    const auto sent = Clock::now();
    auto res = client->Post("/v1/events", body, "application/x-ndjson");
    if (!res || res->status != 200) {
      std::fprintf(stderr, "serve_load: POST failed (%s)\n", res ? std::to_string(res->status).c_str() : "no answer");
      std::exit(1);
    }
    on_ack(sent, OffsetTo(res->body));
  }
}

int Freshness(const Args& a) {
  struct Sent {
    Clock::time_point at;
    uint64_t to;
  };
  std::mutex mu;
  std::vector<Sent> sent;
  std::vector<std::pair<Clock::time_point, uint64_t>> polls;  // answer received, S
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    SendAtRate(a.port, a.rate, a.batch, 0, 11, stop, [&](Clock::time_point at, uint64_t to) {
      std::lock_guard lock(mu);
      sent.push_back({at, to});
    });
  });
  std::thread poller([&] {
    auto client = Connect(a.port);
    const std::string path = "/v1/views/" + a.view;
    while (!stop.load()) {
      auto res = client->Get(path);
      if (!res || res->status != 200) {
        std::fprintf(stderr, "serve_load: GET %s failed\n", path.c_str());
        std::exit(1);
      }
      polls.emplace_back(Clock::now(), SpeedWatermark(res->body));
    }
  });
  // Heavy queries: their answers' statuses and latencies.
  std::mutex heavy_mu;
  std::vector<double> heavy_ms;
  int heavy_ok = 0, heavy_timeout = 0, heavy_other = 0;
  std::vector<std::thread> heavy;
  std::string in_list = "SELECT * FROM by_zip_product WHERE zipcode IN (";
  for (int i = 0; i < 120000; ++i) in_list += (i ? "," : "") + std::to_string(200000 + i);
  in_list += ")";
  const std::string sort_all = "SELECT * FROM by_zip_product ORDER BY revenue DESC";
  for (int t = 0; t < a.heavy; ++t) {
    heavy.emplace_back([&, t] {
      auto client = Connect(a.port);
      client->set_read_timeout(120, 0);
      for (int n = t; !stop.load(); ++n) {
        const auto t0 = Clock::now();
        auto res = client->Post("/v1/query", n % 2 == 0 ? in_list : sort_all, "text/plain");
        const double ms = Ms(Clock::now() - t0);
        std::lock_guard lock(heavy_mu);
        heavy_ms.push_back(ms);
        if (res && res->status == 200)
          ++heavy_ok;
        else if (res && res->status == 504)
          ++heavy_timeout;
        else
          ++heavy_other;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  stop = true;
  sender.join();
  poller.join();
  for (auto& t : heavy) t.join();
  // Batches whose visibility the polling saw (skip the last ones sent).
  std::vector<double> fresh;
  size_t p = 0;
  for (const Sent& s : sent) {
    while (p < polls.size() && polls[p].second < s.to) ++p;
    if (p == polls.size()) break;
    fresh.push_back(Ms(polls[p].first - s.at));
  }
  const double events = static_cast<double>(sent.size()) * a.batch;
  std::printf(
      "{\"mode\":\"freshness\",\"target_rate\":%.0f,\"achieved_rate\":%.0f,\"batches\":%zu,\"polls\":%zu,%s,"
      "\"heavy\":{\"connections\":%d,\"ok\":%d,\"timeout\":%d,\"other\":%d,%s}}\n",
      a.rate, events / a.seconds, sent.size(), polls.size(), Percentiles(fresh).c_str(), a.heavy, heavy_ok,
      heavy_timeout, heavy_other, Percentiles(heavy_ms).c_str());
  return 0;
}

// Runs `query(client, rng)` on a.clients connections for a.seconds; returns
// the JSON figures.
// A minimal keep-alive HTTP/1.1 GET client for the query load: like wrk, it
// spends as little CPU as it can, so that the server (which shares this
// machine's cores) is what is measured. Expects Content-Length answers.
class RawGetClient {
 public:
  explicit RawGetClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("serve_load: connect");
      std::exit(1);
    }
  }
  ~RawGetClient() { ::close(fd_); }

  // Sends GET `path`; returns the status (0 on a broken connection).
  int Get(const std::string& path) {
    request_ = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd_, request_.data(), request_.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request_.size())) return 0;
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return 0;
    const size_t cl = buf_.find("Content-Length: ");
    if (cl == std::string::npos || cl > header_end) return 0;
    const size_t total = header_end + 4 + std::strtoull(buf_.c_str() + cl + 16, nullptr, 10);
    while (buf_.size() < total)
      if (!Fill()) return 0;
    const int status = std::atoi(buf_.c_str() + 9);  // "HTTP/1.1 200"
    buf_.erase(0, total);
    return status;
  }

 private:
  bool Fill() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string request_, buf_;
};

template <typename Query>
std::string RunQueries(const Args& a, const char* name, Query query) {
  std::mutex mu;
  std::vector<double> all;
  std::vector<std::thread> threads;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  for (int t = 0; t < a.clients; ++t) {
    threads.emplace_back([&, t] {
      RawGetClient client(a.port);
      std::mt19937_64 rng(100 + t);
      std::vector<double> mine;
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        const int status = client.Get(query(rng));
        if (status != 200) {
          std::fprintf(stderr, "serve_load: query failed (status %d)\n", status);
          std::exit(1);
        }
        mine.push_back(Ms(Clock::now() - t0));
      }
      std::lock_guard lock(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  char head[160];
  std::snprintf(head, sizeof(head), "\"%s\":{\"qps\":%.0f,", name, static_cast<double>(all.size()) / a.seconds);
  return head + Percentiles(all) + "}";
}

int Query(const Args& a) {
  const std::string view = "by_zip_product";
  {
    // Load every key once (if the view is still empty).
    auto client = Connect(a.port);
    auto res = client->Get("/v1/views");
    if (!res || res->status != 200) return std::fprintf(stderr, "serve_load: server not reachable\n"), 1;
    const size_t at = res->body.find("\"name\":\"" + view + "\"");
    if (at == std::string::npos)
      return std::fprintf(stderr, "serve_load: the server has no view %s\n", view.c_str()), 1;
    const size_t groups_at = res->body.find("\"groups\":", at);
    if (std::strtoull(res->body.c_str() + groups_at + 9, nullptr, 10) < static_cast<uint64_t>(a.keys)) {
      lf::SeedGenerator gen(lf::SeedGeneratorOptions{.seed = 5});
      std::string body;
      for (int k = 0; k < a.keys; ++k) {
        lf::SeedEvent e = gen.Next();
        e.zipcode = 90000 + k % 2000;
        e.product = k / 2000 % 50 + 1;
        gen.AppendJson(e, &body);
        if (body.size() > (1 << 20) || k + 1 == a.keys) {
          auto r = client->Post("/v1/events", body, "application/x-ndjson");
          if (!r || r->status != 200) return std::fprintf(stderr, "serve_load: loading failed\n"), 1;
          body.clear();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  std::atomic<bool> stop{false};
  std::thread ingest;
  std::atomic<uint64_t> ingested{0};
  if (a.ingest_rate > 0) {
    ingest = std::thread([&] {
      SendAtRate(a.port, a.ingest_rate, std::max(1, static_cast<int>(a.ingest_rate / 100)), a.keys, 23, stop,
                 [&](Clock::time_point, uint64_t) { ingested += static_cast<uint64_t>(a.ingest_rate / 100); });
    });
  }
  const auto t0 = Clock::now();
  const bool want_lookups = a.kinds.find("lookup") != std::string::npos;
  const bool want_top = a.kinds.find("top10") != std::string::npos;
  std::string lookups = !want_lookups ? "\"key_lookup\":null" : RunQueries(a, "key_lookup", [&](std::mt19937_64& rng) {
    const uint64_t k = rng() % static_cast<uint64_t>(a.keys);
    return "/v1/views/" + view + "?zipcode=" + std::to_string(90000 + k % 2000) + "&ProductName=product" +
           std::to_string(k / 2000 % 50 + 1);
  });
  std::string top = !want_top ? "\"top10\":null" : RunQueries(a, "top10", [&](std::mt19937_64&) {
    return "/v1/views/" + view + "?order_by=revenue%20desc&limit=10";
  });
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  if (ingest.joinable()) ingest.join();
  std::printf(
      "{\"mode\":\"query\",\"keys\":%d,\"clients\":%d,\"ingest_rate_target\":%.0f,\"ingest_rate\":%.0f,%s,%s}\n",
      a.keys, a.clients, a.ingest_rate, static_cast<double>(ingested.load()) / elapsed, lookups.c_str(), top.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  if (a.mode == "freshness") return Freshness(a);
  if (a.mode == "query") return Query(a);
  std::fprintf(stderr, "serve_load: unknown mode %s\n", a.mode.c_str());
  return 2;
}
