#include "kafka/mock_cluster.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "testing/child_process.h"

#ifndef LF_KAFKA_MOCK_CLUSTER_BIN
#error "LF_KAFKA_MOCK_CLUSTER_BIN must name the helper binary"
#endif

namespace lf::test {

using Clock = std::chrono::steady_clock;

std::unique_ptr<MockCluster> MockCluster::Start(const Options& o, std::string* error) {
  ::signal(SIGPIPE, SIG_IGN);  // a helper that died is an answer-less command, not a killed test
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  const pid_t pid = SpawnChild({LF_KAFKA_MOCK_CLUSTER_BIN, "--brokers", std::to_string(o.brokers), "--topic", o.topic,
                                "--partitions", std::to_string(o.partitions)},
                               in[0], out[1], -1, error);
  if (pid < 0) return nullptr;
  ::close(in[0]);
  ::close(out[1]);
  std::unique_ptr<MockCluster> c(new MockCluster());
  c->pid_ = pid;
  c->to_child_ = in[1];
  c->from_child_ = out[0];
  std::string line;
  if (!c->ReadLine(&line, std::chrono::seconds(30)) || line.rfind("bootstrap ", 0) != 0) {
    *error = "lf_kafka_mock_cluster did not print its bootstrap address (got '" + line + "')";
    return nullptr;
  }
  c->bootstrap_ = line.substr(10);
  return c;
}

MockCluster::~MockCluster() {
  if (to_child_ >= 0) ::close(to_child_);
  if (pid_ > 0) {
    int status = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (from_child_ >= 0) ::close(from_child_);
}

bool MockCluster::ReadLine(std::string* line, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      *line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{from_child_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(from_child_, buf, sizeof(buf));
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string MockCluster::Command(const std::string& command) {
  const std::string line = command + "\n";
  if (::write(to_child_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return "error no answer";
  std::string answer;
  if (!ReadLine(&answer, std::chrono::seconds(10))) return "error no answer";
  return answer;
}

}  // namespace lf::test
