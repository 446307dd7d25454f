// The pipeline over an external source (`run --source kafka://...`): what
// differs from the embedded log. Events are not copied into a second log:
// the source thread (source/source_feed.h) keeps the unsealed tail in
// memory, the speed layer reads it from S[p], the archiver seals the closed
// ranges from it, and a restart resumes every partition from lambdaflow's
// own manifest and speed state (never from the source's committed offsets).
#include "common/format.h"
#include "common/record_buffer.h"
#include "pipeline/pipeline.h"

namespace lf {

Status Pipeline::PrepareSource() {
  LogSource& source = *options_.source;
  const auto n = static_cast<uint32_t>(dir_->partitions());
  if (source.partition_count() != n)
    return Status::InvalidArgument(
        source.Describe() + " has " + std::to_string(source.partition_count()) +
        " partitions, but the data directory '" + dir_->path() + "' has " + std::to_string(n) +
        " (fixed when it was created): a data directory's partitions are the topic's partitions. A topic that "
        "gained partitions needs a new data directory for now");
  if (!dir_->source_created()) return Status::OK();
  // A new directory starts every partition at the topic's log start: what
  // retention deleted before lambdaflow was first pointed at the topic was
  // never lambdaflow's. (Afterwards a start below the log start is a loss.)
  for (uint32_t p = 0; p < n; ++p) {
    ASSIGN_OR_RETURN(PartitionBounds b, source.Bounds(p, std::chrono::seconds(10)));
    if (b.log_start == 0) continue;
    RETURN_IF_ERROR(dir_->master()->SetFirstOffset(static_cast<int>(p), b.log_start));
    LogLine("new data directory for " + source.Describe() + ": partition " + std::to_string(p) + " starts at offset " +
            std::to_string(b.log_start) + " (the topic's log start)");
  }
  return Status::OK();
}

Status Pipeline::StartSource() {
  SourceFeedOptions fo = options_.feed;
  if (!fo.log) fo.log = options_.log;
  // A member: the group assigns from the first Poll on (pipeline_ownership.cc);
  // a rebalance served before feed_ is set waits for it on speed_mu_.
  MutexLock speed_lock(&speed_mu_);
  if (options_.member) {
    fo.assign_all = false;
    MutexLock lock(&options_.member->mu);
    options_.member->on_gain = [this](const std::vector<uint32_t>& gained) { return OnGain(gained); };
    options_.member->on_lose = [this](const std::vector<uint32_t>& revoked, bool lost) { OnLose(revoked, lost); };
  }
  ASSIGN_OR_RETURN(feed_, SourceFeed::Start(options_.source, speed_->watermark(), fo));
  reader_ = &feed_->tail();
  LogLine("reading " + feed_->Describe() + " from S=" + [&] {
    std::string s;
    for (size_t p = 0; p < speed_->watermark().size(); ++p)
      s += (p ? "," : "") + std::to_string(speed_->watermark()[p]);
    return s;
  }() + " (lambdaflow's own watermarks; the group's committed offsets are never read)");
  return Status::OK();
}

Status Pipeline::SealFromSource(const OffsetRange& r) {
  // Records are copied out of the tail (it keeps growing meanwhile).
  RecordBuffer records;
  RETURN_IF_ERROR(feed_->tail().Read(r.partition, r.from, r.to, [&](uint64_t, std::string_view rec) {
    records.Add(rec);
    return Status::OK();
  }));
  RETURN_IF_ERROR(dir_->master()->Seal(r.partition, r.from, r.to, records.views()));
  feed_->Sealed(r.partition, r.to);
  // The range's dead letters, once: after the seal (a failed seal is
  // retried), each naming the topic, the partition and the offset (its
  // "line" is the offset).
  std::vector<std::pair<uint64_t, Reject>> letters;
  {
    MutexLock lock(&held_rejects_mu_);
    auto it = held_rejects_.lower_bound({r.partition, r.from});
    while (it != held_rejects_.end() && it->first.first == r.partition && it->first.second < r.to) {
      letters.emplace_back(it->first.second, std::move(it->second));
      it = held_rejects_.erase(it);
    }
  }
  MutexLock lock(&rejects_mu_);
  for (auto& [offset, reject] : letters) {
    reject.line = offset;
    const std::string input =
        options_.source->Describe() + " partition " + std::to_string(r.partition) + " offset " + std::to_string(offset);
    if (Status st = dir_->AppendRejects(input, {reject}); !st.ok()) LogLine("dead letters: " + st.ToString());
    ++rejected_;
  }
  return Status::OK();
}

void Pipeline::HoldReject(int partition, uint64_t offset, const Reject& reject) {
  MutexLock lock(&held_rejects_mu_);
  held_rejects_[{partition, offset}] = reject;
}

}  // namespace lf
