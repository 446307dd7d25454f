// The manifest chain protocol (see the header and docs/formats/store.md).
#include "store/manifest_chain.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>

namespace lf {

namespace {

bool Retryable(const Status& st) { return st.code() == StatusCode::kIOError || st.code() == StatusCode::kUnavailable; }

// splitmix64: nonces from a random seed, distinct per attempt.
uint64_t NextNonce(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Describe(const PartitionManifest& m) {
  return "version " + std::to_string(m.version) + " by writer " + m.writer + " at epoch " + std::to_string(m.epoch);
}

}  // namespace

std::string UniqueWriterId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  std::string h;
  for (const char* c = host; *c && h.size() < 64; ++c) {
    const bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                    *c == '_' || *c == '-';
    h.push_back(ok ? *c : '_');
  }
  if (h.empty()) h = "host";
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof(buf), ":%d:%08x", static_cast<int>(::getpid()), static_cast<unsigned>(rd()));
  return h + buf;
}

ManifestChain::ManifestChain(ObjectStore* store, uint32_t partition, ManifestChainOptions options)
    : store_(store), partition_(partition), options_(std::move(options)) {
  std::random_device rd;
  nonce_state_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

int64_t ManifestChain::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::optional<PartitionManifest>> ManifestChain::GetVersion(uint64_t v) {
  const std::string key = ManifestVersionKey(partition_, v);
  ++stats_.gets;
  auto data = store_->Get(key);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) return std::optional<PartitionManifest>();
    return data.status();
  }
  ASSIGN_OR_RETURN(PartitionManifest m, DecodePartitionManifest(*data, key + " in " + store_->Describe()));
  if (m.partition != partition_ || m.version != v) {
    return Status::Corruption("partition manifest " + key + " in " + store_->Describe() + " says partition " +
                              std::to_string(m.partition) + " version " + std::to_string(m.version));
  }
  return std::optional<PartitionManifest>(std::move(m));
}

Result<uint64_t> ManifestChain::FindStart() {
  auto exists = [&](uint64_t v) -> Result<bool> {
    ++stats_.gets;
    return store_->Exists(ManifestVersionKey(partition_, v));
  };
  // 1. The last version this chain saw.
  if (last_known_ > 0) {
    ASSIGN_OR_RETURN(bool there, exists(last_known_));
    if (there) return last_known_;
  }
  // 2. The hint.
  ++stats_.gets;
  auto hint = store_->Get(ManifestHintKey(partition_));
  if (hint.ok()) {
    uint64_t h = 0;
    std::string_view text = *hint;
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    const auto r = std::from_chars(text.data(), text.data() + text.size(), h);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size() && h > 0) {
      ASSIGN_OR_RETURN(bool there, exists(h));
      if (there) return h;
    }
  } else if (hint.status().code() != StatusCode::kNotFound) {
    return hint.status();
  }
  // 3. The first version (a chain never pruned).
  {
    ASSIGN_OR_RETURN(bool there, exists(1));
    if (there) return uint64_t{1};
  }
  // No candidate exists: an empty chain, or a hint older than what Prune
  // removed. Only here does a reader list.
  ++stats_.lists;
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(ManifestPrefix(partition_)));
  uint64_t best = 0;
  const size_t prefix = ManifestPrefix(partition_).size();
  for (const std::string& key : keys) {
    uint64_t v = 0;
    const char* begin = key.data() + prefix;
    const char* end = key.data() + key.size();
    const auto r = std::from_chars(begin, end, v);
    if (r.ec == std::errc() && r.ptr == end && end - begin == 20) best = std::max(best, v);
  }
  return best;
}

Result<std::optional<PartitionManifest>> ManifestChain::ReadLatest() {
  ASSIGN_OR_RETURN(uint64_t start, FindStart());
  if (start == 0) return std::optional<PartitionManifest>();
  ASSIGN_OR_RETURN(std::optional<PartitionManifest> latest, GetVersion(start));
  if (!latest) {
    // Pruned between FindStart and now: start over once from scratch.
    last_known_ = 0;
    ASSIGN_OR_RETURN(start, FindStart());
    if (start == 0) return std::optional<PartitionManifest>();
    ASSIGN_OR_RETURN(latest, GetVersion(start));
    if (!latest)
      return Status::Unavailable("partition " + std::to_string(partition_) + ": manifest version " +
                                 std::to_string(start) + " vanished while being read; retry");
  }
  // Probe forward. Versions that exist form one contiguous range, so after
  // a first step (usually the only one: a reader is rarely far behind) the
  // end is found by doubling steps and then bisecting: O(log d) requests
  // for a start d versions behind.
  auto exists = [&](uint64_t v) -> Result<bool> {
    ++stats_.gets;
    return store_->Exists(ManifestVersionKey(partition_, v));
  };
  ASSIGN_OR_RETURN(bool more, exists(latest->version + 1));
  if (more) {
    uint64_t lo = latest->version + 1;  // exists
    uint64_t step = 1;
    uint64_t hi = 0;  // does not exist
    while (true) {
      ASSIGN_OR_RETURN(bool there, exists(lo + step));
      if (!there) {
        hi = lo + step;
        break;
      }
      lo += step;
      step *= 2;
    }
    while (hi - lo > 1) {
      const uint64_t mid = lo + (hi - lo) / 2;
      ASSIGN_OR_RETURN(bool there, exists(mid));
      (there ? lo : hi) = mid;
    }
    ASSIGN_OR_RETURN(std::optional<PartitionManifest> last, GetVersion(lo));
    if (!last) {
      return Status::Unavailable("partition " + std::to_string(partition_) + ": manifest version " +
                                 std::to_string(lo) + " vanished while being read; retry");
    }
    if (last->epoch < latest->epoch) {
      return Status::Corruption("partition " + std::to_string(partition_) + " manifest: " + Describe(*last) +
                                " has a lower epoch than " + Describe(*latest) + " (epochs never decrease)");
    }
    latest = std::move(last);
  }
  last_known_ = latest->version;
  return latest;
}

Status ManifestChain::PutVersion(const PartitionManifest& m) {
  const std::string key = ManifestVersionKey(partition_, m.version);
  const std::string data = EncodePartitionManifest(m);
  Status st;
  for (int attempt = 0; attempt < std::max(1, options_.put_attempts); ++attempt) {
    ++stats_.puts;
    st = store_->PutIfAbsent(key, data);
    if (st.ok()) return st;
    if (st.code() == StatusCode::kAlreadyExists) {
      // Ours, if an earlier attempt succeeded but its answer was lost.
      if (attempt == 0) return st;
      ASSIGN_OR_RETURN(std::optional<PartitionManifest> there, GetVersion(m.version));
      if (there && there->writer == m.writer && there->nonce == m.nonce) return Status::OK();
      return st;
    }
    if (!Retryable(st)) return st;
  }
  return st;
}

void ManifestChain::WriteHint(uint64_t version) {
  if (!store_->Replace(ManifestHintKey(partition_), std::to_string(version) + "\n").ok()) ++stats_.hint_failures;
}

Result<PartitionManifest> ManifestChain::Claim(const PartitionContent& initial) {
  RETURN_IF_ERROR(initial.Validate());
  // Bounded: each round loses only to a version published meanwhile by the
  // old owner (a lower epoch); a claim of an equal or higher epoch fences.
  constexpr int kRounds = 16;
  for (int round = 0; round < kRounds; ++round) {
    ASSIGN_OR_RETURN(std::optional<PartitionManifest> latest, ReadLatest());
    PartitionManifest m;
    m.partition = partition_;
    m.version = latest ? latest->version + 1 : 1;
    m.previous = m.version - 1;
    m.epoch = latest ? latest->epoch + 1 : 1;
    m.writer = options_.writer_id;
    m.nonce = NextNonce(&nonce_state_);
    m.created_ms = NowMs();
    m.content = latest ? latest->content : initial;
    Status st = PutVersion(m);
    if (st.code() == StatusCode::kAlreadyExists) {
      ASSIGN_OR_RETURN(std::optional<PartitionManifest> now, ReadLatest());
      if (now && now->epoch >= m.epoch) {
        return Status::Fenced("partition " + std::to_string(partition_) + ": claiming epoch " +
                              std::to_string(m.epoch) + " lost to " + Describe(*now) +
                              ", written first; this writer does not own the partition");
      }
      continue;  // the old owner published meanwhile: claim on top of it
    }
    RETURN_IF_ERROR(st);
    last_known_ = m.version;
    WriteHint(m.version);
    return m;
  }
  return Status::Unavailable("partition " + std::to_string(partition_) + ": the manifest chain kept moving during " +
                             std::to_string(kRounds) + " claim attempts; retry");
}

Result<PartitionManifest> ManifestChain::Publish(const PartitionManifest& base, uint64_t epoch, PartitionContent next) {
  if (base.partition != partition_) {
    return Status::InvalidArgument("publish for partition " + std::to_string(partition_) +
                                   " on a version of partition " + std::to_string(base.partition));
  }
  RETURN_IF_ERROR(next.Validate());
  if (epoch < base.epoch) {
    return Status::Fenced("partition " + std::to_string(partition_) + ": publishing at epoch " + std::to_string(epoch) +
                          " on " + Describe(base) +
                          ": a newer owner has the partition; this writer must stop writing for it");
  }
  PartitionManifest m;
  m.partition = partition_;
  m.version = base.version + 1;
  m.previous = base.version;
  m.epoch = epoch;
  m.writer = options_.writer_id;
  m.nonce = NextNonce(&nonce_state_);
  m.created_ms = NowMs();
  m.content = std::move(next);
  Status st = PutVersion(m);
  if (st.code() == StatusCode::kAlreadyExists) {
    ASSIGN_OR_RETURN(std::optional<PartitionManifest> latest, ReadLatest());
    if (latest && latest->epoch > epoch) {
      return Status::Fenced("partition " + std::to_string(partition_) + ": version " + std::to_string(m.version) +
                            " at epoch " + std::to_string(epoch) + " refused: the latest is " + Describe(*latest) +
                            "; this writer lost the partition and must stop writing for it");
    }
    const std::string by = latest ? Describe(*latest) : std::string("another writer");
    return Status::AlreadyExists("partition " + std::to_string(partition_) + ": version " + std::to_string(m.version) +
                                 " was taken first (latest: " + by + "); re-read the chain and rebase");
  }
  RETURN_IF_ERROR(st);
  // A writer paused past Prune's grace period could find its slot free
  // again (pruned): its base is then gone too. Its version is below the
  // floor and invisible; refuse it the way a zombie is refused.
  if (base.version > 0) {
    ++stats_.gets;
    ASSIGN_OR_RETURN(bool base_exists, store_->Exists(ManifestVersionKey(partition_, base.version)));
    if (!base_exists) {
      return Status::Fenced("partition " + std::to_string(partition_) + ": version " + std::to_string(base.version) +
                            " was pruned while this writer built on it; this writer is too far behind and must "
                            "re-read the chain");
    }
  }
  last_known_ = m.version;
  WriteHint(m.version);
  return m;
}

Result<uint64_t> ManifestChain::Prune(uint64_t keep_last, int64_t grace_ms) {
  ASSIGN_OR_RETURN(std::optional<PartitionManifest> latest, ReadLatest());
  if (!latest) return uint64_t{0};
  keep_last = std::max<uint64_t>(keep_last, 1);
  if (latest->version <= keep_last) return uint64_t{0};
  const uint64_t below = latest->version - keep_last + 1;  // delete versions < below
  // Readers with an older hint would fall below the floor: move it first.
  WriteHint(latest->version);
  ++stats_.lists;
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(ManifestPrefix(partition_)));
  const int64_t now = NowMs();
  uint64_t deleted = 0;
  for (const std::string& key : keys) {  // sorted: zero-padded numbers ascend
    const size_t prefix = ManifestPrefix(partition_).size();
    if (key.size() != prefix + 20) continue;
    uint64_t v = 0;
    std::from_chars(key.data() + prefix, key.data() + key.size(), v);
    if (v == 0 || v >= below) break;
    ASSIGN_OR_RETURN(std::optional<PartitionManifest> m, GetVersion(v));
    if (!m) continue;
    if (now - m->created_ms < grace_ms) break;  // oldest first: the rest are younger
    RETURN_IF_ERROR(store_->Delete(key));
    ++deleted;
  }
  return deleted;
}

}  // namespace lf
