// MockCluster: a test's handle on lf_kafka_mock_cluster (mock_cluster_main.cc),
// librdkafka's mock Kafka cluster in a child process. Start() waits for its
// bootstrap address; Command() sends one fault-injection command and waits
// for its answer; the destructor closes the child's stdin (it exits on EOF)
// and reaps it, killing it if it does not exit within a few seconds.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

namespace lf::test {

class MockCluster {
 public:
  struct Options {
    int brokers = 1;
    std::string topic = "events";
    int partitions = 8;
  };
  // nullptr with *error saying why when the helper does not start.
  static std::unique_ptr<MockCluster> Start(const Options& o, std::string* error);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:PORT[,...]"
  const std::string& bootstrap() const { return bootstrap_; }
  // kafka://BOOTSTRAP/TOPIC
  std::string Url(const std::string& topic) const { return "kafka://" + bootstrap_ + "/" + topic; }
  // Sends `command` (see mock_cluster_main.cc); "ok" or "error ..." (or
  // "error no answer" when the helper died).
  std::string Command(const std::string& command);

 private:
  MockCluster() = default;
  bool ReadLine(std::string* line, std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  std::string bootstrap_;
};

}  // namespace lf::test
