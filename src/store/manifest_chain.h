// ManifestChain: a partition's manifest as a chain of write-once versions
// `manifest/p<P>/<N>` in an ObjectStore, with owner epochs that fence
// zombies. The protocol (specified in docs/formats/store.md):
//
// - Version N+1 is created with PutIfAbsent only after reading version N:
//   of two writers building on N, the first wins and the other learns it
//   (AlreadyExists) instead of overwriting. Nothing is renamed.
// - Every version carries the owner epoch it was written under; epochs
//   never decrease along the chain. A writer gains a partition by Claim: it
//   publishes the latest content again under epoch latest+1. A writer
//   whose epoch is lower than the latest version's is fenced: its Publish
//   fails with Fenced, whether it finds the newer epoch on its base or on
//   the version that took its slot.
// - Readers find the latest version without listing: start from the best
//   known version (the chain's own last one, else the hint object
//   `manifest/p<P>/latest`, else version 1) and probe N+1, N+2, N+4, ...
//   until NotFound, then bisect: versions that exist are contiguous. The hint is only a hint (stale or missing is
//   fine); List is used only when the hint points below versions removed by Prune.
// - A publish retried after a lost answer recognizes its own version by
//   the writer id and the nonce in it.
//
// Not thread-safe: one ManifestChain per writer (several processes, each
// with its own, share the store: that is the point).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/object_store.h"
#include "store/partition_manifest.h"

namespace lf {

struct ManifestChainOptions {
  // Written into every version; [A-Za-z0-9._:-]{1,128}.
  std::string writer_id;
  // Wall-clock milliseconds (created_ms, Prune's grace period); system clock when empty.
  std::function<int64_t()> now_ms;
  // Attempts of one PutIfAbsent that fails with a retryable error (IOError,
  // Unavailable) before Publish gives up.
  int put_attempts = 3;
};

// A writer id unique per process: "<host>:<pid>:<random 8 hex>" (the host
// name reduced to [A-Za-z0-9._-], at most 64 bytes).
std::string UniqueWriterId();

class ManifestChain {
 public:
  // `store` must outlive the chain.
  ManifestChain(ObjectStore* store, uint32_t partition, ManifestChainOptions options);

  // The latest version; nullopt when the chain is empty.
  Result<std::optional<PartitionManifest>> ReadLatest();

  // Takes ownership of the partition: publishes the latest content (or
  // `initial` when the chain is empty) as the next version under epoch
  // latest.epoch + 1 (1 for an empty chain), and returns it: the base of
  // this owner's next Publish. Fenced when another writer claimed the
  // same or a higher epoch first.
  Result<PartitionManifest> Claim(const PartitionContent& initial = {});

  // Publishes `next` as version base.version + 1 under `epoch` and returns
  // it. Errors: Fenced when the latest version's epoch is higher than
  // `epoch` (this writer lost the partition: stop writing for it);
  // AlreadyExists when a writer of an epoch not higher than ours took the
  // slot first (re-read with ReadLatest and rebase); InvalidArgument for
  // content that breaks the invariants.
  Result<PartitionManifest> Publish(const PartitionManifest& base, uint64_t epoch, PartitionContent next);

  // Garbage collection: deletes, oldest first, versions below
  // latest - keep_last + 1 that were created at least `grace_ms` ago, after
  // pointing the hint at the latest version. The versions left are always a
  // contiguous range ending at the latest. Returns how many were deleted.
  Result<uint64_t> Prune(uint64_t keep_last, int64_t grace_ms);

  uint32_t partition() const { return partition_; }

  // Requests made, for tests and metrics (List must stay off the hot path).
  struct Stats {
    uint64_t gets = 0;
    uint64_t puts = 0;
    uint64_t lists = 0;
    uint64_t hint_failures = 0;  // hint writes that failed (harmless: the hint may be stale)
  };
  const Stats& stats() const { return stats_; }

 private:
  // Gets and decodes version `v`: nullopt when absent.
  Result<std::optional<PartitionManifest>> GetVersion(uint64_t v);
  // A version known to exist (0: the chain is empty), from the cache, the
  // hint, version 1, or a List.
  Result<uint64_t> FindStart();
  // Writes `m` (create-if-absent, retried on retryable errors). OK when
  // created, or found already there with our nonce (a lost answer).
  Status PutVersion(const PartitionManifest& m);
  void WriteHint(uint64_t version);
  int64_t NowMs() const;

  ObjectStore* const store_;
  const uint32_t partition_;
  const ManifestChainOptions options_;
  uint64_t last_known_ = 0;  // the highest version this chain saw exist
  uint64_t nonce_state_;
  Stats stats_;
};

}  // namespace lf
