// The shared store's bulk path: one big object (a sealed segment's size)
// written through the streaming ObjectWriter, read back whole, and read in
// ranges, on the local directory store or on S3 (an S3-compatible endpoint
// from AWS's environment variables). Prints one line per step: seconds,
// MiB/s, requests sent (S3 only). Used by bench/store_bench.sh.
//
//   store_bench (--local DIR | --s3 s3://BUCKET/PREFIX) [--mib N] [--runs R] [--range-mib M]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "aws/aws_config.h"
#include "common/file_system.h"
#include "store/local_object_store.h"
#include "store/s3_object_store.h"

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int Fail(const lf::Status& st) {
  std::fprintf(stderr, "store_bench: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string local, s3;
  int mib = 64, runs = 3, range_mib = 8;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--local")
      local = next();
    else if (a == "--s3")
      s3 = next();
    else if (a == "--mib")
      mib = std::atoi(next().c_str());
    else if (a == "--runs")
      runs = std::atoi(next().c_str());
    else if (a == "--range-mib")
      range_mib = std::atoi(next().c_str());
    else {
      std::fprintf(stderr,
                   "usage: store_bench (--local DIR | --s3 s3://BUCKET/PREFIX) [--mib N] [--runs R] [--range-mib M]\n");
      return 2;
    }
  }
  std::unique_ptr<lf::FileSystem> fs = lf::NewPosixFileSystem();
  std::unique_ptr<lf::ObjectStore> store;
  lf::S3ObjectStore* s3_store = nullptr;
  if (!local.empty()) {
    auto s = lf::LocalObjectStore::Open(fs.get(), local);
    if (!s.ok()) return Fail(s.status());
    store = std::move(*s);
  } else {
    auto config = lf::aws::AwsConfig::FromEnvironment();
    if (!config.ok()) return Fail(config.status());
    auto s = lf::S3ObjectStore::Open(*config, s3);
    if (!s.ok()) return Fail(s.status());
    s3_store = s->get();
    store = std::move(*s);
  }
  const uint64_t bytes = static_cast<uint64_t>(mib) << 20;
  std::string chunk(1 << 20, '\0');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto requests = [&] { return s3_store ? static_cast<long long>(s3_store->requests()) : -1LL; };
  auto report = [&](const char* step, int run, double s, long long reqs) {
    std::printf("%s run %d: %.3f s, %.1f MiB/s", step, run, s, mib / s);
    if (reqs >= 0) std::printf(", %lld requests", reqs);
    std::printf("\n");
  };
  for (int run = 0; run < runs; ++run) {
    const std::string key = "bench/segment-" + std::to_string(run) + "-" + std::to_string(::getpid());
    long long r0 = requests();
    auto t = Clock::now();
    auto w = store->NewObject(key);
    if (!w.ok()) return Fail(w.status());
    for (uint64_t done = 0; done < bytes; done += chunk.size()) {
      if (auto st = (*w)->Append(chunk); !st.ok()) return Fail(st);
    }
    if (auto st = (*w)->Commit(); !st.ok()) return Fail(st);
    report("put", run, Since(t), r0 >= 0 ? requests() - r0 : -1);

    r0 = requests();
    t = Clock::now();
    auto all = store->Get(key);
    if (!all.ok()) return Fail(all.status());
    if (all->size() != bytes) return Fail(lf::Status::Corruption("read back a different size"));
    report("get", run, Since(t), r0 >= 0 ? requests() - r0 : -1);

    r0 = requests();
    t = Clock::now();
    const uint64_t range = static_cast<uint64_t>(range_mib) << 20;
    for (uint64_t off = 0; off < bytes; off += range) {
      auto part = store->GetRange(key, off, range);
      if (!part.ok()) return Fail(part.status());
      if (std::memcmp(part->data(), all->data() + off, part->size()) != 0) {
        return Fail(lf::Status::Corruption("a range differs from the whole"));
      }
    }
    report("ranged get", run, Since(t), r0 >= 0 ? requests() - r0 : -1);
    if (auto st = store->Delete(key); !st.ok()) return Fail(st);
  }
  return 0;
}
