// Freshness of `lambdaflow run --source kafka://...` (see bench/kafka_bench.sh):
//
//   kafka_load --brokers HOST:PORT --topic T --port P [--rate 100000] [--seconds 10] [--view V]
//
// Produces seed events (keyed by zipcode, librdkafka's idempotent producer,
// linger 5 ms) at a fixed rate in slices of 10 ms, while one keep-alive
// connection polls GET /v1/views/V?format=tsv for the speed watermark S (one
// offset per partition). A record is visible once an answer reports
// S[p] > its offset (known from its delivery report); its freshness is the
// time from handing it to the producer to the receipt of that answer, so
// it includes the producer's batching and the broker's acknowledgement.
// Prints one JSON object.
#include <httplib.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/seed_generator.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string brokers, topic = "events", view = "revenue_by_product";
  int port = 8080;
  double rate = 100000, seconds = 10;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

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

struct Delivered {
  uint64_t offset;
  size_t index;  // into the send times
};

std::mutex g_mu;
std::vector<std::vector<Delivered>> g_delivered;  // per partition, in offset order
size_t g_failed = 0;

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  std::lock_guard lock(g_mu);
  if (reinterpret_cast<uintptr_t>(m->_private) == UINTPTR_MAX) return;  // the warm-up record
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || m->partition < 0) {
    ++g_failed;
    return;
  }
  if (static_cast<size_t>(m->partition) >= g_delivered.size())
    g_delivered.resize(static_cast<size_t>(m->partition) + 1);
  g_delivered[static_cast<size_t>(m->partition)].push_back(
      {static_cast<uint64_t>(m->offset), reinterpret_cast<uintptr_t>(m->_private)});
}

std::vector<uint64_t> ParseList(const std::string& text) {
  std::vector<uint64_t> v;
  const char* p = text.c_str();
  while (*p) {
    char* end = nullptr;
    v.push_back(std::strtoull(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p) break;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--brokers")
      a.brokers = v;
    else if (k == "--topic")
      a.topic = v;
    else if (k == "--view")
      a.view = v;
    else if (k == "--port")
      a.port = std::atoi(v.c_str());
    else if (k == "--rate")
      a.rate = std::atof(v.c_str());
    else if (k == "--seconds")
      a.seconds = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "usage: kafka_load --brokers HOST:PORT --topic T --port P [--rate R] [--seconds S]\n");
      return 2;
    }
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", a.brokers},
                                                                             {"enable.idempotence", "true"},
                                                                             {"linger.ms", "5"},
                                                                             {"compression.codec", "lz4"},
                                                                             {"partitioner", "murmur2_random"}}) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "kafka_load: %s\n", err);
      return 1;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "kafka_load: %s\n", err);
    return 1;
  }
  const size_t total = static_cast<size_t>(a.rate * a.seconds);
  std::vector<Clock::time_point> sent_at(total);
  std::vector<std::pair<Clock::time_point, std::vector<uint64_t>>> polls;
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    httplib::Client c("127.0.0.1", a.port);
    c.set_keep_alive(true);
    c.set_tcp_nodelay(true);
    const std::string path = "/v1/views/" + a.view + "?format=tsv";
    while (!stop.load()) {
      auto res = c.Get(path);
      if (!res || res->status != 200) {
        std::fprintf(stderr, "kafka_load: GET %s failed\n", path.c_str());
        std::exit(1);
      }
      polls.emplace_back(Clock::now(), ParseList(res->get_header_value("X-Lambdaflow-Speed-Watermark")));
    }
  });
  // Warm-up: the producer's id and the topic's metadata are fetched before
  // the measured load (else the first second of records waits for them).
  const std::string warm = "{}";
  rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(a.topic.c_str()),
                    RD_KAFKA_V_VALUE(const_cast<char*>(warm.data()), warm.size()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(UINTPTR_MAX)),
                    RD_KAFKA_V_END);
  rd_kafka_flush(rk, 30000);
  lf::SeedGenerator gen(lf::SeedGeneratorOptions{.seed = 21});
  const auto start = Clock::now();
  const size_t per_slice = std::max<size_t>(1, static_cast<size_t>(a.rate / 100));
  std::string value;
  size_t i = 0;
  for (size_t slice = 0; i < total; ++slice) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * slice));
    for (size_t n = 0; n < per_slice && i < total; ++n, ++i) {
      const lf::SeedEvent e = gen.Next();
      value.clear();
      gen.AppendJson(e, &value);
      value.pop_back();  // the newline
      const std::string key = std::to_string(e.zipcode);
      sent_at[i] = Clock::now();
      while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(a.topic.c_str()),
                               RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                               RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(i))),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 1);
    }
    rd_kafka_poll(rk, 0);
  }
  const double send_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_flush(rk, 30000);
  // Let the polls see the last records.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  poller.join();
  rd_kafka_destroy(rk);

  std::vector<double> fresh;
  size_t unseen = 0;
  for (size_t p = 0; p < g_delivered.size(); ++p) {
    auto& d = g_delivered[p];
    std::sort(d.begin(), d.end(), [](const Delivered& x, const Delivered& y) { return x.offset < y.offset; });
    size_t q = 0;
    for (const Delivered& r : d) {
      while (q < polls.size() && (p >= polls[q].second.size() || polls[q].second[p] <= r.offset)) ++q;
      if (q == polls.size()) {
        ++unseen;
        continue;
      }
      fresh.push_back(Ms(polls[q].first - sent_at[r.index]));
    }
  }
  std::printf(
      "{\"mode\":\"kafka_freshness\",\"target_rate\":%.0f,\"achieved_rate\":%.0f,\"events\":%zu,\"failed\":%zu,"
      "\"unseen\":%zu,\"polls\":%zu,%s}\n",
      a.rate, static_cast<double>(total) / send_seconds, total, g_failed, unseen, polls.size(),
      Percentiles(fresh).c_str());
  return 0;
}
