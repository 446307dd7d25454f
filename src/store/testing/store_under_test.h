// The stores the store contract tests run against: each test binary
// instantiates the contract suites (object_store_contract.cc,
// manifest_chain_contract.cc) with its factories — the local directory
// store on POSIX and on the fault-injecting file system (store_test), S3
// through an emulator (tests/aws).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/manifest_chain.h"
#include "store/object_store.h"

namespace lf::test {

// A store, and whatever keeps it alive (a temp directory, an emulator).
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual ObjectStore* store() = 0;
};

struct StoreFactory {
  std::string name;  // a test-name suffix: [A-Za-z0-9]
  // A fresh, empty store; null with *skip saying why the test cannot run here.
  std::function<std::unique_ptr<StoreUnderTest>(std::string* skip)> make;
};

inline void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }
inline std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; }

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    std::string skip;
    under_test_ = GetParam().make(&skip);
    if (!under_test_) {
      ASSERT_FALSE(skip.empty()) << "the store factory " << GetParam().name << " gave neither a store nor a reason";
      GTEST_SKIP() << skip;
    }
    store_ = under_test_->store();
  }
  void TearDown() override { under_test_.reset(); }

  std::unique_ptr<StoreUnderTest> under_test_;
  ObjectStore* store_ = nullptr;
};

// The object store contract (object_store.h) on any store.
class ObjectStoreContractTest : public StoreContractTest {};
// The manifest chain's publishing and fencing protocol on any store.
class ManifestChainContractTest : public StoreContractTest {
 protected:
  ManifestChain Chain(const std::string& writer, uint32_t partition = 0) {
    return ManifestChain(store_, partition, {.writer_id = writer, .now_ms = [this] { return now_ms_; }});
  }
  // The content after sealing [sealed, to) as one more segment.
  static PartitionContent Sealed(PartitionContent c, uint64_t to) {
    c.segments.push_back({c.sealed, to, to - c.sealed, "segments/p0/" + std::to_string(c.sealed), 10, to});
    c.sealed = to;
    return c;
  }
  int64_t now_ms_ = 1000;
};

}  // namespace lf::test
