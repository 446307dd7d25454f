#include "testing/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "testing/child_process.h"
#include "testing/oracle_support.h"

namespace lf::test {

using Clock = std::chrono::steady_clock;

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& binary, const std::vector<std::string>& args,
                                                    const std::filesystem::path& stderr_path,
                                                    std::chrono::milliseconds timeout, std::string* error) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->stderr_path_ = stderr_path;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (err_fd < 0 || null_fd < 0) {
    *error = "cannot open " + stderr_path.string() + " or /dev/null";
    return nullptr;
  }
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = SpawnChild(argv, null_fd, out[1], err_fd, error);
  if (pid < 0) return nullptr;
  ::close(out[1]);
  ::close(err_fd);
  ::close(null_fd);
  p->pid_ = pid;
  p->stdout_fd_ = out[0];

  // The listening line.
  const std::string marker = "listening on http://";
  std::string text;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const size_t nl = text.find('\n');
    if (nl != std::string::npos) {
      const std::string line = text.substr(0, nl);
      const size_t at = line.find(marker);
      const size_t colon = at == std::string::npos ? std::string::npos : line.find(':', at + marker.size());
      if (colon != std::string::npos) {
        p->host_ = line.substr(at + marker.size(), colon - at - marker.size());
        p->port_ = std::atoi(line.c_str() + colon + 1);
      }
      if (p->port_ <= 0) *error = "unexpected first line on stdout: " + line;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      *error = "no listening line on stdout within " + std::to_string(timeout.count()) + " ms";
      break;
    }
    pollfd pfd{p->stdout_fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(p->stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "the server closed stdout (exited?) before its listening line; stdout: " + text;
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  if (p->port_ <= 0) {
    p->Kill9();
    *error += "\nstderr:\n" + p->StderrText();
    return nullptr;
  }
  return p;
}

ServerProcess::~ServerProcess() {
  Kill9();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

bool ServerProcess::WaitFor(std::chrono::milliseconds timeout, int* status) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const pid_t r = ::waitpid(pid_, status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      reaped_ = true;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void ServerProcess::Kill9() {
  if (reaped_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

int ServerProcess::Terminate(std::chrono::milliseconds timeout, std::string* how) {
  if (reaped_) {
    *how = "already ended";
    return -1;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  if (!WaitFor(timeout, &status)) {
    Kill9();
    *how = "did not exit within " + std::to_string(timeout.count()) + " ms of SIGTERM; killed";
    return -1;
  }
  if (WIFEXITED(status)) {
    *how = "exited with status " + std::to_string(WEXITSTATUS(status));
    return WEXITSTATUS(status);
  }
  *how = WIFSIGNALED(status) ? "ended by signal " + std::to_string(WTERMSIG(status)) : "ended";
  return -1;
}

std::string ServerProcess::StderrText() const { return ReadFile(stderr_path_); }

}  // namespace lf::test
