#include "batch/batch_layer.h"

#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "plan/result_format.h"

namespace lf {
namespace {

// Views expected to hold fewer groups than this grow as they go.
constexpr uint64_t kReserveMinGroups = 1u << 16;

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Tier(uint64_t span, uint64_t base) {
  int t = 0;
  for (uint64_t limit = std::max<uint64_t>(base, 1); span > limit && t < 40; limit *= 4) ++t;
  return t;
}

// The segments of partition p that tile [from, to) exactly, or nullopt.
std::optional<std::vector<VersionSegment>> Tiling(const std::vector<VersionSegment>& of_p, uint64_t from, uint64_t to) {
  std::vector<VersionSegment> out;
  uint64_t at = from;
  for (const auto& s : of_p) {
    if (s.to <= from || s.from >= to) continue;
    if (s.from != at) return std::nullopt;
    out.push_back(s);
    at = s.to;
  }
  if (at != to || out.empty()) return std::nullopt;
  return out;
}

}  // namespace

BatchLayer::BatchLayer(const sql::Catalog& catalog, int stream, std::string_view views_text, MasterStore* master)
    : versions_(master),
      catalog_(catalog),
      stream_(stream),
      views_hash_(XXH3_64bits(views_text.data(), views_text.size())),
      master_(master) {}

std::vector<std::pair<size_t, size_t>> BatchLayer::CompactionRuns(const std::vector<uint64_t>& spans, size_t fanout,
                                                                  uint64_t base) {
  struct Item {
    size_t first, last;
    uint64_t span;
  };
  std::vector<Item> items;
  for (size_t k = 0; k < spans.size(); ++k) items.push_back({k, k + 1, spans[k]});
  fanout = std::max<size_t>(fanout, 1);
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t a = 0; a < items.size() && !merged;) {
      size_t b = a + 1;
      const int t = Tier(items[a].span, base);
      while (b < items.size() && Tier(items[b].span, base) == t) ++b;
      if (b - a > fanout) {
        Item m{items[a].first, items[b - 1].last, 0};
        for (size_t k = a; k < b; ++k) m.span += items[k].span;
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(a + 1), items.begin() + static_cast<std::ptrdiff_t>(b));
        items[a] = m;
        merged = true;
      }
      a = b;
    }
  }
  std::vector<std::pair<size_t, size_t>> out;
  for (const auto& it : items)
    if (it.last - it.first > 1) out.emplace_back(it.first, it.last);
  return out;
}

Result<BatchRunReport> BatchLayer::RunOnce(const BatchRunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  BatchRunReport report;
  Manifest manifest = master_->Snapshot();
  const size_t nparts = manifest.sealed.size();
  std::vector<bool> in(nparts, options.partitions.empty());
  for (int p : options.partitions) {
    if (p < 0 || static_cast<size_t>(p) >= nparts)
      return Status::InvalidArgument("batch run over partition " + std::to_string(p) + " of a master dataset of " +
                                     std::to_string(nparts));
    in[static_cast<size_t>(p)] = true;
  }
  bool every = true;
  for (bool b : in) every = every && b;
  if (!every) {
    std::erase_if(manifest.segments, [&](const SegmentInfo& s) { return !in[static_cast<size_t>(s.partition)]; });
    for (size_t p = 0; p < nparts; ++p)
      if (!in[p]) manifest.sealed[p] = manifest.first[p];
  }
  std::vector<VersionSegment> segments;
  std::vector<std::vector<VersionSegment>> segs_of(nparts);
  for (const auto& s : manifest.segments) {
    segments.push_back({s.partition, s.from, s.to, s.raw_hash});
    segs_of[static_cast<size_t>(s.partition)].push_back(segments.back());
  }

  std::vector<std::unique_ptr<ViewPlan>> plans;
  for (const auto& v : catalog_.views) {
    if (v.stream != stream_) continue;
    ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(v));
    plans.push_back(std::move(plan));
  }
  const size_t nviews = plans.size();

  // The versions the partitions' chains name: where each partition's pieces
  // come from. One that cannot be read only means no reuse.
  std::vector<std::optional<BatchVersion>> previous(nparts);
  std::vector<std::optional<BatchVersion>> named(nparts);  // also under `full`: for sizing
  uint64_t highest = 0;
  {
    std::unordered_map<std::string, std::optional<BatchVersion>> read;
    const std::vector<BatchRef> refs = master_->BatchRefs();
    for (size_t p = 0; p < nparts && p < refs.size(); ++p) {
      if (refs[p].key.empty()) continue;
      auto it = read.find(refs[p].key);
      if (it == read.end()) {
        auto v = versions_.Read(refs[p].key);
        it = read.emplace(refs[p].key, v.ok() ? std::optional<BatchVersion>(std::move(*v)) : std::nullopt).first;
      }
      if (it->second) highest = std::max(highest, it->second->number);
      named[p] = it->second;
      if (!options.full) previous[p] = it->second;
    }
  }
  bool any_previous = false;
  for (size_t p = 0; p < nparts; ++p) any_previous = any_previous || (in[p] && previous[p]);

  // Per (view, partition): the pieces reused and where scanning starts.
  auto at = [&](size_t i, size_t p) { return i * nparts + p; };
  std::vector<std::vector<VersionPiece>> pieces(nviews * nparts);
  std::vector<uint64_t> scan_from(nviews * nparts);
  for (size_t p = 0; p < nparts; ++p) {
    for (size_t i = 0; i < nviews; ++i) scan_from[at(i, p)] = manifest.first[p];
    if (!in[p] || !previous[p]) continue;
    const BatchVersion& v = *previous[p];
    if (v.schema_fingerprint != master_->schema_fingerprint()) continue;
    std::vector<VersionSegment> old_of_p;
    for (const auto& s : v.segments)
      if (s.partition == static_cast<int>(p)) old_of_p.push_back(s);
    for (size_t i = 0; i < nviews; ++i) {
      const int vi = v.ViewIndex(plans[i]->name());
      if (vi < 0 || v.views[static_cast<size_t>(vi)].plan_fingerprint != plans[i]->fingerprint()) continue;
      uint64_t cursor = manifest.first[p];
      for (const VersionPiece* piece : v.PiecesOf(static_cast<size_t>(vi), static_cast<int>(p))) {
        if (piece->from != cursor || piece->to > manifest.sealed[p]) break;
        auto now = Tiling(segs_of[p], piece->from, piece->to);
        auto then = Tiling(old_of_p, piece->from, piece->to);
        if (!now || !then || *now != *then) break;
        if (options.verify && !versions_.ReadPiece(*piece).ok()) break;
        VersionPiece kept = *piece;
        kept.view = i;
        pieces[at(i, p)].push_back(std::move(kept));
        cursor = piece->to;
      }
      scan_from[at(i, p)] = cursor;
      report.pieces_reused += pieces[at(i, p)].size();
    }
  }
  const double load_secs = Since(start);

  // Size hints: the groups a (view, partition) had in the version its chain
  // names, spread over the segments that version covered of it. A state
  // sized for the groups it will hold skips the rehashes and copies of
  // growing by doubling.
  auto groups_hint = [&](size_t i, size_t p, size_t nsegments) -> size_t {
    if (!named[p]) return 0;
    const BatchVersion& v = *named[p];
    const int vi = v.ViewIndex(plans[i]->name());
    if (vi < 0 || v.views[static_cast<size_t>(vi)].plan_fingerprint != plans[i]->fingerprint()) return 0;
    uint64_t groups = 0, covered = 0;
    for (const VersionPiece* piece : v.PiecesOf(static_cast<size_t>(vi), static_cast<int>(p)))
      groups = std::max(groups, piece->groups);
    for (const auto& seg : v.segments) covered += seg.partition == static_cast<int>(p) ? 1 : 0;
    if (covered == 0) return 0;
    const uint64_t hint = std::min<uint64_t>(groups, groups * nsegments / covered);
    return hint >= kReserveMinGroups ? static_cast<size_t>(hint) : 0;
  };

  // Scan the segments some view still needs, in parallel; partial states
  // per thread, view and partition.
  const auto scan_start = std::chrono::steady_clock::now();
  std::vector<size_t> to_scan;
  for (size_t s = 0; s < segments.size(); ++s) {
    const size_t p = static_cast<size_t>(segments[s].partition);
    bool needed = false;
    for (size_t i = 0; i < nviews; ++i) needed = needed || segments[s].from >= scan_from[at(i, p)];
    if (needed) to_scan.push_back(s);
  }
  std::vector<size_t> scan_of(nparts, 0);  // segments to scan per partition
  for (size_t k : to_scan) ++scan_of[static_cast<size_t>(segments[k].partition)];
  report.segments_scanned = to_scan.size();
  report.segments_reused = segments.size() - to_scan.size();
  const size_t nthreads_total =
      options.threads > 0 ? static_cast<size_t>(options.threads) : std::max(1u, std::thread::hardware_concurrency());
  const size_t nthreads = std::max<size_t>(1, std::min(nthreads_total, to_scan.size()));
  if (options.progress) {
    uint64_t total = 0;
    for (size_t s : to_scan) total += manifest.segments[s].to - manifest.segments[s].from;
    options.progress->total_events = total;
  }
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> rows{0};
  std::mutex err_mu;
  Status error;
  std::vector<std::vector<std::unique_ptr<ViewState>>> partial(nthreads);
  auto worker = [&](size_t t) {
    partial[t].resize(nviews * nparts);
    for (size_t k = next++; k < to_scan.size(); k = next++) {
      const size_t s = to_scan[k];
      const SegmentInfo& seg = manifest.segments[s];
      const size_t p = static_cast<size_t>(seg.partition);
      std::vector<ViewState*> targets(nviews, nullptr);
      for (size_t i = 0; i < nviews; ++i) {
        if (seg.from < scan_from[at(i, p)]) continue;
        auto& st = partial[t][at(i, p)];
        if (!st) {
          st = plans[i]->NewState();
          if (const size_t hint = groups_hint(i, p, (scan_of[p] + nthreads - 1) / nthreads)) st->Reserve(hint);
        }
        targets[i] = st.get();
      }
      // A full run also proves the raw events intact: the sidecars it scans
      // are derived from them, and damage must never go unnoticed.
      Status st = options.full ? master_->VerifyRawChecksum(seg) : Status::OK();
      if (st.ok())
        st = master_->ScanSegment(seg, [&](const Batch& batch) {
          for (ViewState* target : targets)
            if (target) target->Consume(batch);
          rows += batch.size;
          if (options.progress) options.progress->AddEvents(batch.size);
          return Status::OK();
        });
      if (!st.ok()) {
        std::lock_guard lock(err_mu);
        if (error.ok()) error = st;
        next = to_scan.size();
      }
    }
  };
  if (!to_scan.empty()) {
    std::vector<std::thread> threads;
    for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(worker, t);
    worker(0);
    for (auto& th : threads) th.join();
  }
  RETURN_IF_ERROR(error);
  // Per (view, partition) with new segments: the threads' states combined.
  // A state that starts from nothing takes the first thread's as it is.
  std::vector<std::unique_ptr<ViewState>> fresh(nviews * nparts);
  for (size_t k = 0; k < nviews * nparts; ++k)
    for (size_t t = 0; t < nthreads && !to_scan.empty(); ++t) {
      auto& part = partial[t][k];
      if (!part) continue;
      if (!fresh[k]) {
        fresh[k] = std::move(part);
        if (nthreads > 1)
          if (const size_t hint = groups_hint(k / nparts, k % nparts, scan_of[k % nparts])) fresh[k]->Reserve(hint);
      } else {
        fresh[k]->Combine(*part);
      }
    }
  partial.clear();
  report.rows_scanned = rows;
  const double scan_secs = Since(scan_start);

  // The version: reused pieces, one new piece per (view, partition) with new
  // segments, pieces merged by compaction; TSVs when asked.
  const auto write_start = std::chrono::steady_clock::now();
  BatchVersion version;
  version.format = 2;
  version.number = highest + 1;
  version.key = VersionStore::NewVersionKey(version.number);
  version.created_ms = NowMs();
  version.views_hash = views_hash_;
  version.schema_fingerprint = master_->schema_fingerprint();
  version.full = options.full;
  version.watermark = manifest.sealed;
  version.segments = segments;
  const bool write_tsv = every && (options.full || options.tsv || !any_previous);
  double compact_secs = 0;
  for (size_t i = 0; i < nviews; ++i) {
    VersionView view;
    view.name = plans[i]->name();
    view.plan_fingerprint = plans[i]->fingerprint();
    std::unique_ptr<ViewState> total;  // for the TSV
    for (size_t p = 0; p < nparts; ++p) {
      if (!in[p]) continue;
      std::vector<VersionPiece>& list = pieces[at(i, p)];
      // The new piece, kept in memory until compaction decided.
      std::unique_ptr<ViewState>& state = fresh[at(i, p)];
      std::vector<std::unique_ptr<ViewState>> in_memory(list.size());
      if (scan_from[at(i, p)] < manifest.sealed[p]) {
        if (!state) state = plans[i]->NewState();  // segments without rows
        VersionPiece piece;
        piece.view = i;
        piece.partition = static_cast<int>(p);
        piece.from = scan_from[at(i, p)];
        piece.to = manifest.sealed[p];
        list.push_back(std::move(piece));
        in_memory.push_back(std::move(state));
      }
      // Compaction: merge adjacent runs of pieces of one tier. The run's new
      // piece is left out (it joins a merge in a later run), so that a
      // merged piece covers only ranges a reader of the previous version
      // already holds: `run` swaps a version in by reading its new pieces
      // alone.
      const auto compact_start = std::chrono::steady_clock::now();
      std::vector<uint64_t> spans;
      for (size_t k = 0; k < list.size(); ++k)
        if (!in_memory[k]) spans.push_back(list[k].to - list[k].from);
      const auto runs = CompactionRuns(spans, options.compact_fanout, options.compact_base);
      for (auto r = runs.rbegin(); r != runs.rend(); ++r) {
        auto merged = plans[i]->NewState();
        for (size_t k = r->first; k < r->second; ++k) {
          if (in_memory[k]) {
            merged->Combine(*in_memory[k]);
            continue;
          }
          ASSIGN_OR_RETURN(std::string image, versions_.ReadPiece(list[k]));
          Status st = merged->Deserialize(image);
          if (!st.ok()) return Status::Corruption(list[k].key + ": " + st.message());
          if (k < r->second) ++report.pieces_merged;
        }
        VersionPiece m;
        m.view = i;
        m.partition = static_cast<int>(p);
        m.from = list[r->first].from;
        m.to = list[r->second - 1].to;
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(r->first + 1),
                   list.begin() + static_cast<std::ptrdiff_t>(r->second));
        in_memory.erase(in_memory.begin() + static_cast<std::ptrdiff_t>(r->first + 1),
                        in_memory.begin() + static_cast<std::ptrdiff_t>(r->second));
        list[r->first] = std::move(m);
        in_memory[r->first] = std::move(merged);
      }
      if (!runs.empty()) compact_secs += Since(compact_start);
      // Write the pieces held in memory (new or merged).
      for (size_t k = 0; k < list.size(); ++k) {
        if (!in_memory[k]) continue;
        VersionPiece& piece = list[k];
        std::string image;
        in_memory[k]->Serialize(&image);
        const std::string name = PieceFileName(view.name, piece.partition, piece.from, piece.to);
        piece.key = version.key + "/" + name;
        piece.groups = in_memory[k]->num_groups();
        piece.bytes = image.size();
        piece.hash = XXH3_64bits(image.data(), image.size());
        // Written now, one piece at a time: neither the images nor (without
        // a TSV to format) the states wait for the whole version.
        RETURN_IF_ERROR(versions_.PutFile(version, name, image));
        if (!write_tsv) in_memory[k].reset();
        ++report.pieces_written;
      }
      if (write_tsv) {
        for (size_t k = 0; k < list.size(); ++k) {
          if (!in_memory[k]) {
            ASSIGN_OR_RETURN(std::string image, versions_.ReadPiece(list[k]));
            in_memory[k] = plans[i]->NewState();
            RETURN_IF_ERROR(in_memory[k]->Deserialize(image));
          }
          if (!total) {
            total = std::move(in_memory[k]);
          } else {
            total->Combine(*in_memory[k]);
          }
        }
      }
      for (auto& piece : list) version.pieces.push_back(std::move(piece));
    }
    if (write_tsv) {
      if (!total) total = plans[i]->NewState();
      // Large views are finalized and formatted by several threads.
      std::string tsv;
      RETURN_IF_ERROR(AppendViewTsv(*plans[i], *total, nthreads_total, &tsv, &view.rows));
      view.has_tsv = true;
      view.tsv_bytes = tsv.size();
      view.tsv_hash = XXH3_64bits(tsv.data(), tsv.size());
      total.reset();
      RETURN_IF_ERROR(versions_.PutFile(version, TsvFileName(view.name), tsv));
    }
    version.views.push_back(std::move(view));
  }
  fresh.clear();
  version.timings = {{"load", load_secs}, {"scan", scan_secs}, {"write", Since(write_start)}};
  if (compact_secs > 0) version.timings.emplace_back("compact", compact_secs);
  RETURN_IF_ERROR(versions_.Publish(version, {}, options.partitions));
  report.version = std::move(version);
  report.seconds = Since(start);
  return report;
}

}  // namespace lf
