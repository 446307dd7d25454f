// NodeHelper: a node script of tests/aws (an emulator) run as a child of
// the test (testing/child_process.h), which prints {"port": P, ...} on its
// first line once it listens. Killed, and its data directory removed, on
// destruction.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace lf::test {

class NodeHelper {
 public:
  // Runs `node [node_flags] tests/aws/<script> [args]` (args may use
  // "{dir}", replaced by a fresh temporary directory). nullptr with *skip
  // set when node is not installed, or *error when the helper does not
  // start (the npm packages missing: run scripts/install-deps.sh).
  static std::unique_ptr<NodeHelper> Start(const std::vector<std::string>& node_flags, const std::string& script,
                                           std::vector<std::string> args, const std::string& npm_package,
                                           std::string* skip, std::string* error);
  ~NodeHelper();
  NodeHelper(const NodeHelper&) = delete;
  NodeHelper& operator=(const NodeHelper&) = delete;

  int port() const { return port_; }

 private:
  NodeHelper() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

}  // namespace lf::test
