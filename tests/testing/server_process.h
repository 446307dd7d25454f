// A lambdaflow server (`lambdaflow run`) as a child process of a test: started
// with fork/exec, its stdout piped (to read the "listening on" line), its
// stderr appended to a file; killed (SIGKILL) and reaped at destruction if it
// still runs, so that no test leaves a server behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lf::test {

class ServerProcess {
 public:
  // Runs `binary args...` (stdin /dev/null, stdout a pipe, stderr appended to
  // `stderr_path`) and waits up to `timeout` for the line
  // "... listening on http://HOST:PORT ...". On failure (exit, timeout, no
  // such line) kills it and returns nullptr with *error saying why, with the
  // server's stderr.
  static std::unique_ptr<ServerProcess> Start(const std::string& binary, const std::vector<std::string>& args,
                                              const std::filesystem::path& stderr_path,
                                              std::chrono::milliseconds timeout, std::string* error);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  bool running() const { return !reaped_; }

  // kill -9, then reaps the process.
  void Kill9();

  // SIGTERM, then waits up to `timeout` for the exit. Returns the exit status,
  // or -1 when it was ended by a signal or did not exit in time (then it is
  // killed with SIGKILL); *how says which.
  int Terminate(std::chrono::milliseconds timeout, std::string* how);

  // Everything the server wrote to stderr so far (the whole file).
  std::string StderrText() const;

 private:
  ServerProcess() = default;
  // Waits up to `timeout` for the exit; true when reaped (status in *status).
  bool WaitFor(std::chrono::milliseconds timeout, int* status);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdout_fd_ = -1;
  std::string host_;
  int port_ = 0;
  std::filesystem::path stderr_path_;
};

}  // namespace lf::test
