// lf_kafka_mock_cluster: hosts librdkafka's mock Kafka cluster in its own
// process, so that tests connect real clients (and real `lambdaflow`
// processes) to it over loopback. The mock speaks the Kafka protocol
// (produce, idempotent and transactional producers, fetch, consumer groups).
//
//   lf_kafka_mock_cluster [--brokers N] [--topic NAME] [--partitions P]
//
// Creates the cluster and the topic, prints one line
//
//   bootstrap 127.0.0.1:PORT[,127.0.0.1:PORT...]
//
// on stdout, then reads commands on stdin, one per line, and answers each
// with one line, "ok" or "error <why>":
//
//   topic NAME PARTITIONS            create another topic
//   down BROKER|all                  disconnect a broker and refuse connections
//   up BROKER|all                    accept connections again
//   errors API COUNT ERROR...        the next COUNT requests of API fail, with
//                                    the ERRORs in turn (the last one repeats)
//   clear API                        forget the pushed errors of API
//   rtt BROKER|all MS                delay every answer by MS
//   leader TOPIC PARTITION BROKER    move a partition's leadership
//
// API is a Kafka request name (Produce, Fetch, ListOffsets, Metadata,
// OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,
// LeaveGroup, SyncGroup, InitProducerId) or its number; ERROR is a
// librdkafka error name without RD_KAFKA_RESP_ERR_ (e.g.
// NOT_LEADER_FOR_PARTITION, _TRANSPORT to drop the connection) or a number.
// End of input (the test closed the pipe or died) destroys the cluster and
// exits 0.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool ParseInt(const std::string& s, long long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtoll(s.c_str(), &end, 10);
  return end != nullptr && *end == '\0';
}

int ApiKey(const std::string& name) {
  static const std::pair<const char*, int> kApis[] = {
      {"Produce", 0},         {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
      {"OffsetCommit", 8},    {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},      {"LeaveGroup", 13}, {"SyncGroup", 14},       {"ApiVersions", 18},
      {"InitProducerId", 22},
  };
  for (const auto& [n, k] : kApis) {
    if (name == n) return k;
  }
  long long v = 0;
  return ParseInt(name, &v) && v >= 0 && v < 100 ? static_cast<int>(v) : -1;
}

bool ErrorCode(const std::string& name, rd_kafka_resp_err_t* out) {
  long long v = 0;
  if (ParseInt(name, &v)) {
    *out = static_cast<rd_kafka_resp_err_t>(v);
    return true;
  }
  const rd_kafka_err_desc* descs = nullptr;
  size_t n = 0;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; ++i) {
    if (descs[i].name != nullptr && name == descs[i].name) {
      *out = descs[i].code;
      return true;
    }
  }
  return false;
}

bool Broker(const std::string& s, int32_t* out) {
  if (s == "all") {
    *out = -1;
    return true;
  }
  long long v = 0;
  if (!ParseInt(s, &v) || v < 1) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

std::string Check(rd_kafka_resp_err_t err) { return err ? std::string("error ") + rd_kafka_err2str(err) : "ok"; }

std::string Execute(rd_kafka_mock_cluster_t* mc, const std::vector<std::string>& w) {
  if (w.empty()) return "error empty command";
  const std::string& cmd = w[0];
  int32_t broker = 0;
  long long n = 0, m = 0;
  if (cmd == "topic" && w.size() == 3 && ParseInt(w[2], &n) && n > 0) {
    return Check(rd_kafka_mock_topic_create(mc, w[1].c_str(), static_cast<int>(n), 1));
  }
  if ((cmd == "down" || cmd == "up") && w.size() == 2 && Broker(w[1], &broker)) {
    return Check(cmd == "down" ? rd_kafka_mock_broker_set_down(mc, broker) : rd_kafka_mock_broker_set_up(mc, broker));
  }
  if (cmd == "errors" && w.size() >= 4 && ParseInt(w[2], &n) && n > 0) {
    const int api = ApiKey(w[1]);
    if (api < 0) return "error unknown API " + w[1];
    std::vector<rd_kafka_resp_err_t> errs;
    for (long long i = 0; i < n; ++i) {
      const size_t at = std::min<size_t>(3 + static_cast<size_t>(i), w.size() - 1);
      rd_kafka_resp_err_t e;
      if (!ErrorCode(w[at], &e)) return "error unknown error code " + w[at];
      errs.push_back(e);
    }
    rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(api), errs.size(), errs.data());
    return "ok";
  }
  if (cmd == "clear" && w.size() == 2) {
    const int api = ApiKey(w[1]);
    if (api < 0) return "error unknown API " + w[1];
    rd_kafka_mock_clear_request_errors(mc, static_cast<int16_t>(api));
    return "ok";
  }
  if (cmd == "rtt" && w.size() == 3 && Broker(w[1], &broker) && ParseInt(w[2], &n) && n >= 0) {
    return Check(rd_kafka_mock_broker_set_rtt(mc, broker, static_cast<int>(n)));
  }
  if (cmd == "leader" && w.size() == 4 && ParseInt(w[2], &n) && ParseInt(w[3], &m)) {
    return Check(
        rd_kafka_mock_partition_set_leader(mc, w[1].c_str(), static_cast<int32_t>(n), static_cast<int32_t>(m)));
  }
  return "error bad command (see lf_kafka_mock_cluster's header comment): " + cmd;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::string topic = "events";
  int partitions = 8;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 < argc && a == "--brokers") {
      brokers = std::atoi(argv[++i]);
    } else if (i + 1 < argc && a == "--topic") {
      topic = argv[++i];
    } else if (i + 1 < argc && a == "--partitions") {
      partitions = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: lf_kafka_mock_cluster [--brokers N] [--topic NAME] [--partitions P]\n");
      return 2;
    }
  }
  // The cluster needs a handle of its own for its bookkeeping; this one
  // never connects anywhere.
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "lf_kafka_mock_cluster: %s\n", err);
    return 1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "lf_kafka_mock_cluster: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (mc == nullptr) {
    std::fprintf(stderr, "lf_kafka_mock_cluster: cannot create the mock cluster\n");
    return 1;
  }
  if (rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, 1)) {
    std::fprintf(stderr, "lf_kafka_mock_cluster: create topic %s: %s\n", topic.c_str(), rd_kafka_err2str(e));
    return 1;
  }
  std::printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) continue;
    std::printf("%s\n", Execute(mc, words).c_str());
    std::fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
