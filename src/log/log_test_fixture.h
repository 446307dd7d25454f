// The shared fixture of the log's tests: a log on the in-memory
// fault-injecting file system, opened and reopened, its segment files read
// and overwritten by name.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "common/testing/fault_file_system.h"
#include "log/log.h"

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const ::lf::Status _st = (expr);                          \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString(); \
  } while (0)

namespace lf {

// The path of the segment of `partition` that starts at offset `base`.
inline std::string SegPath(uint64_t base, int partition = 0) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.log", static_cast<unsigned long long>(base));
  return "/log/p" + std::to_string(partition) + "/" + name;
}

class LogFixture : public ::testing::Test {
 protected:
  // `seed` drives the file system's injected faults.
  explicit LogFixture(uint64_t seed) : fs_(seed) { opts_.fsync = FsyncPolicy::kAlways; }

  Status Open() {
    log_.reset();
    report_ = LogRecoveryReport();
    auto r = Log::Open(&fs_, "/log", opts_, &report_);
    if (!r.ok()) return r.status();
    log_ = std::move(r).value();
    return Status::OK();
  }
  void Reopen() {
    ASSERT_OK(log_->Close());
    ASSERT_OK(Open());
  }
  std::string Contents(const std::string& path) {
    auto r = fs_.ReadFile(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  void SetContents(const std::string& path, const std::string& data) {
    auto w = fs_.NewWritableFile(path);
    ASSERT_TRUE(w.ok());
    ASSERT_OK((*w)->Append(data));
    ASSERT_OK((*w)->Sync());
    ASSERT_OK((*w)->Close());
  }

  FaultFileSystem fs_;
  LogOptions opts_;
  std::unique_ptr<Log> log_;
  LogRecoveryReport report_;
};

}  // namespace lf
