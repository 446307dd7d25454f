// Starting a helper program as a child process of a test (a server, the
// Kafka mock cluster): fork/exec with chosen standard streams, tied to the
// test's life so that no helper outlives a killed test.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace lf::test {

// Runs `argv` (argv[0] the binary's path) with `stdin_fd`, `stdout_fd` and
// `stderr_fd` as its standard streams (-1: the test's own). The child gets
// SIGKILL when the forking thread ends (PR_SET_PDEATHSIG), e.g. when ctest
// kills the test at its timeout: start helpers from the test's main thread.
// Returns the pid, or -1 with *error saying why.
pid_t SpawnChild(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, int stderr_fd, std::string* error);

}  // namespace lf::test
