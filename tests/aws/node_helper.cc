#include "aws/node_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "testing/child_process.h"

#ifndef LF_NODE
#error "LF_NODE must name the node binary (empty when there is none)"
#endif
#ifndef LF_AWS_TEST_DIR
#error "LF_AWS_TEST_DIR must name tests/aws"
#endif

namespace lf::test {

std::unique_ptr<NodeHelper> NodeHelper::Start(const std::vector<std::string>& node_flags, const std::string& script,
                                              std::vector<std::string> args, const std::string& npm_package,
                                              std::string* skip, std::string* error) {
  const std::string node = LF_NODE;
  if (node.empty() || !std::filesystem::exists(node)) {
    *skip =
        "node is not installed: the AWS emulator tests need node, s3rver and kinesalite "
        "(scripts/install-deps.sh)";
    return nullptr;
  }
  const std::string dir = LF_AWS_TEST_DIR;
  if (!std::filesystem::exists(dir + "/node_modules/" + npm_package)) {
    *error = npm_package + " is not installed in " + dir + "/node_modules: run scripts/install-deps.sh";
    return nullptr;
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<NodeHelper> h(new NodeHelper());
  std::string tmpl = (std::filesystem::temp_directory_path() / "lf_aws_XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  h->dir_ = tmpl;
  for (std::string& a : args) {
    if (a == "{dir}") a = tmpl;
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  std::vector<std::string> argv{node};
  argv.insert(argv.end(), node_flags.begin(), node_flags.end());
  argv.push_back(dir + "/" + script);
  argv.insert(argv.end(), args.begin(), args.end());
  h->pid_ = SpawnChild(argv, -1, out[1], -1, error);
  ::close(out[1]);
  if (h->pid_ < 0) {
    ::close(out[0]);
    return nullptr;
  }
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
    *error = script + " did not print its port (got '" + line + "')";
    return nullptr;
  }
  h->port_ = std::atoi(line.c_str() + at + 7);
  return h;
}

NodeHelper::~NodeHelper() {
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

}  // namespace lf::test
