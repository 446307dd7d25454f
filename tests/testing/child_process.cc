#include "testing/child_process.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

namespace lf::test {

pid_t SpawnChild(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, int stderr_fd, std::string* error) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (the test process has threads).
  std::vector<std::string> args = argv;
  std::vector<char*> ptrs;
  for (auto& a : args) ptrs.push_back(a.data());
  ptrs.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = "fork failed";
    return -1;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    if (stderr_fd >= 0) ::dup2(stderr_fd, 2);
    ::execv(ptrs[0], ptrs.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace lf::test
