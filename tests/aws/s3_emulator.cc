#include "aws/s3_emulator.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "aws/http_client.h"
#include "testing/child_process.h"

#ifndef LF_NODE
#error "LF_NODE must name the node binary (empty when there is none)"
#endif
#ifndef LF_AWS_TEST_DIR
#error "LF_AWS_TEST_DIR must name tests/aws"
#endif

namespace lf::test {

std::unique_ptr<S3Emulator> S3Emulator::Start(bool bare, std::string* skip, std::string* error) {
  const std::string node = LF_NODE;
  if (node.empty() || !std::filesystem::exists(node)) {
    *skip = "node is not installed: the S3 emulator tests need node and s3rver (scripts/install-deps.sh)";
    return nullptr;
  }
  const std::string dir = LF_AWS_TEST_DIR;
  if (!std::filesystem::exists(dir + "/node_modules/s3rver")) {
    *error = "s3rver is not installed in " + dir + "/node_modules: run scripts/install-deps.sh";
    return nullptr;
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<S3Emulator> e(new S3Emulator());
  std::string tmpl = (std::filesystem::temp_directory_path() / "lf_s3_XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  e->dir_ = tmpl;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  // s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps
  // in its legacy provider.
  std::vector<std::string> argv{node, "--openssl-legacy-provider", dir + "/s3_emulator.mjs", "--dir", tmpl, "--bucket", kBucket};
  if (bare) argv.push_back("--bare");
  e->pid_ = SpawnChild(argv, -1, out[1], -1, error);
  ::close(out[1]);
  if (e->pid_ < 0) {
    ::close(out[0]);
    return nullptr;
  }
  // Wait for {"port": P, ...}.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  const size_t at = line.find("\"port\":");
  if (at == std::string::npos) {
    *error = "the S3 emulator did not print its port (got '" + line + "')";
    return nullptr;
  }
  e->port_ = std::atoi(line.c_str() + at + 7);
  return e;
}

S3Emulator::~S3Emulator() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

aws::AwsConfig S3Emulator::Config() const {
  aws::AwsConfig c;
  c.credentials = {"S3RVER", "S3RVER", ""};
  c.region = "us-east-1";
  c.s3_endpoint = aws::Endpoint{"http", "127.0.0.1:" + std::to_string(port_), ""};
  return c;
}

std::string S3Emulator::Control(const std::string& method, const std::string& path_and_query) {
  aws::HttpClient http;
  auto r = http.Perform({method, "http://127.0.0.1:" + std::to_string(port_) + path_and_query, {}, {}});
  if (!r.ok() || r->status != 200) return "";
  return r->body;
}

bool S3Emulator::FailNext(int count, int status, const std::string& method) {
  return !Control("POST", "/_shim/fault?kind=status&status=" + std::to_string(status) + "&count=" +
                              std::to_string(count) + (method.empty() ? "" : "&method=" + method))
              .empty();
}

bool S3Emulator::LoseNextAnswers(int count, const std::string& method) {
  return !Control("POST", "/_shim/fault?kind=lose&count=" + std::to_string(count) +
                              (method.empty() ? "" : "&method=" + method))
              .empty();
}

bool S3Emulator::DelayNextAnswers(int count, int ms, const std::string& method) {
  return !Control("POST", "/_shim/fault?kind=delay&ms=" + std::to_string(ms) + "&count=" + std::to_string(count) +
                              (method.empty() ? "" : "&method=" + method))
              .empty();
}

std::string S3Emulator::Stats() { return Control("GET", "/_shim/stats"); }

}  // namespace lf::test
