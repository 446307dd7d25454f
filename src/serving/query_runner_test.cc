#include "serving/query_runner.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

namespace lf {
namespace {

int ThreadNice() {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
}

TEST(QueryRunner, RunsEveryCallersWorkOnLowPriorityThreads) {
  QueryRunner runner(2, 10);
  const int caller = ThreadNice();
  std::atomic<int> ran{0}, lower{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 6; ++c) {
    callers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        int mine = 0;
        runner.Run([&] {
          mine = 1;
          lower += ThreadNice() > caller;
        });
        ASSERT_EQ(mine, 1);  // Run returns once the work has run
        ++ran;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ran.load(), 300);
  if (caller < 10) {               // the runner's threads take nice 10: lower only when the caller runs above it
    EXPECT_EQ(lower.load(), 300);  // a thread can always lower its priority
  }
}

}  // namespace
}  // namespace lf
