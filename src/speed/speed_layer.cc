#include "speed/speed_layer.h"

#include <algorithm>

#include "speed/log_record_reader.h"

namespace lf {

struct SpeedLayer::Bucket {
  int partition = 0;
  uint64_t from = 0, to = 0;  // [from, to): consumed so far
  bool closed = false;
  std::chrono::steady_clock::time_point opened;  // when its first record was consumed
  ViewStates states;                             // empty until the first record
};

namespace {

// Records per log read: bounds the buffer a micro-batch needs.
constexpr uint64_t kReadRecords = 16 * 1024;

}  // namespace

ViewStates NewViewStates(const std::vector<const ViewPlan*>& plans) {
  ViewStates states;
  states.reserve(plans.size());
  for (const ViewPlan* p : plans) states.push_back(p->NewState());
  return states;
}

SpeedLayer::SpeedLayer(std::vector<const ViewPlan*> plans, const StreamSchema& schema, int partitions,
                       SpeedOptions options, DecodedRows* decoded)
    : plans_(std::move(plans)),
      schema_(schema),
      options_(options),
      decoded_(decoded),
      decoder_(schema_, options_.decoder),
      batch_(schema_.types()),
      speed_(static_cast<size_t>(partitions), 0) {}

SpeedLayer::~SpeedLayer() = default;

Status SpeedLayer::Rebuild(const MasterStore& master, const std::vector<uint64_t>& batch) {
  if (batch.size() != speed_.size())
    return Status::Internal("speed layer: " + std::to_string(batch.size()) + " batch watermarks for " +
                            std::to_string(speed_.size()) + " partitions");
  buckets_.clear();
  speed_ = batch;
  const Manifest m = master.Snapshot();
  std::vector<const SegmentInfo*> segments;
  for (const auto& s : m.segments) segments.push_back(&s);
  std::sort(segments.begin(), segments.end(), [](const SegmentInfo* a, const SegmentInfo* b) {
    return a->partition != b->partition ? a->partition < b->partition : a->from < b->from;
  });
  for (const SegmentInfo* seg : segments) {
    const auto p = static_cast<size_t>(seg->partition);
    if (p >= speed_.size()) return Status::Internal("speed layer: master segment of unknown partition");
    if (seg->to <= batch[p]) continue;
    if (seg->from != speed_[p]) {
      return Status::Internal("speed layer: master segment " + seg->raw_name + " does not start at " +
                              std::to_string(speed_[p]) + " (the batch watermark is not a segment boundary)");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Bucket> b, SegmentBucket(master, *seg));
    speed_[p] = seg->to;
    buckets_.push_back(std::move(b));
  }
  for (size_t p = 0; p < speed_.size(); ++p) {
    if (speed_[p] != std::max(m.sealed[p], batch[p]))
      return Status::Internal("speed layer: partition " + std::to_string(p) + " rebuilt to " +
                              std::to_string(speed_[p]) + " but the master dataset is sealed to " +
                              std::to_string(m.sealed[p]));
  }
  return Status::OK();
}

Result<std::unique_ptr<SpeedLayer::Bucket>> SpeedLayer::SegmentBucket(const MasterStore& master,
                                                                      const SegmentInfo& seg) {
  auto b = std::make_unique<Bucket>();
  b->partition = seg.partition;
  b->from = seg.from;
  b->to = seg.to;
  b->closed = true;
  b->states = NewViewStates(plans_);
  SegmentScanStats stats;
  RETURN_IF_ERROR(master.ScanSegment(
      seg,
      [&](const Batch& rows) {
        for (size_t v = 0; v < plans_.size(); ++v) b->states[v]->Consume(rows);
        return Status::OK();
      },
      &stats));
  rejected_ += stats.rejected;
  return b;
}

void SpeedLayer::DropPartition(int partition, uint64_t position) {
  if (partition < 0 || static_cast<size_t>(partition) >= speed_.size()) return;
  std::erase_if(buckets_, [&](const std::unique_ptr<Bucket>& b) { return b->partition == partition; });
  speed_[static_cast<size_t>(partition)] = position;
}

Status SpeedLayer::RebuildPartition(const MasterStore& master, int partition, uint64_t batch) {
  if (partition < 0 || static_cast<size_t>(partition) >= speed_.size())
    return Status::Internal("speed layer: no partition " + std::to_string(partition));
  const auto p = static_cast<size_t>(partition);
  const Manifest m = master.Snapshot();
  std::vector<const SegmentInfo*> segments;
  for (const auto& s : m.segments)
    if (s.partition == partition && s.to > batch) segments.push_back(&s);
  std::sort(segments.begin(), segments.end(),
            [](const SegmentInfo* a, const SegmentInfo* b) { return a->from < b->from; });
  // Scanned first, so that a failure leaves the partition as it was.
  std::vector<std::unique_ptr<Bucket>> fresh;
  uint64_t at = batch;
  for (const SegmentInfo* seg : segments) {
    if (seg->from != at) {
      return Status::Internal("speed layer: master segment " + seg->raw_name + " does not start at " +
                              std::to_string(at) + " (the batch watermark is not a segment boundary)");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Bucket> b, SegmentBucket(master, *seg));
    at = seg->to;
    fresh.push_back(std::move(b));
  }
  if (at != std::max(m.sealed[p], batch))
    return Status::Internal("speed layer: partition " + std::to_string(partition) + " rebuilt to " +
                            std::to_string(at) + " but the master dataset is sealed to " + std::to_string(m.sealed[p]));
  std::erase_if(buckets_, [&](const std::unique_ptr<Bucket>& b) { return b->partition == partition; });
  for (auto& b : fresh) buckets_.push_back(std::move(b));
  speed_[p] = at;
  return Status::OK();
}

SpeedLayer::Bucket* SpeedLayer::OpenBucket(int partition) {
  for (auto it = buckets_.rbegin(); it != buckets_.rend(); ++it) {
    if ((*it)->partition != partition) continue;
    if (!(*it)->closed) return it->get();
    break;
  }
  auto b = std::make_unique<Bucket>();
  b->partition = partition;
  b->from = b->to = speed_[static_cast<size_t>(partition)];
  buckets_.push_back(std::move(b));
  return buckets_.back().get();
}

void SpeedLayer::Consume(const Batch& batch, ViewStates* part) {
  if (batch.size == 0) return;
  for (size_t v = 0; v < plans_.size(); ++v) (*part)[v]->Consume(batch);
}

Status SpeedLayer::ConsumeRecords(const RecordReader& reader, int partition, uint64_t from, uint64_t to, Bucket* bucket,
                                  ViewStates* delta) {
  if (bucket->from == bucket->to) bucket->opened = std::chrono::steady_clock::now();
  // The records are consumed once, into `part`, which then merges into the
  // bucket and the micro-batch's delta (merging groups is cheaper than
  // consuming rows twice).
  ViewStates part = NewViewStates(plans_);
  for (uint64_t pos = from; pos < to;) {
    std::optional<DecodedRows::Entry> e;
    if (decoded_) e = decoded_->Take(partition, pos, to);
    if (e) {
      for (const auto& rows : e->rows) Consume(*rows, &part);
      handed_over_ += e->to - e->from;
      pos = e->to;
    } else {
      RETURN_IF_ERROR(DecodeFromLog(reader, partition, pos, to, &part));
      pos = to;
    }
  }
  for (size_t v = 0; v < plans_.size(); ++v) (*delta)[v]->Combine(*part[v]);
  if (bucket->states.empty()) {
    bucket->states = std::move(part);
  } else {
    for (size_t v = 0; v < plans_.size(); ++v) bucket->states[v]->Combine(*part[v]);
  }
  bucket->to = to;
  return Status::OK();
}

Status SpeedLayer::DecodeFromLog(const RecordReader& reader, int partition, uint64_t from, uint64_t to,
                                 ViewStates* part) {
  std::vector<Reject> rejects;
  uint64_t records = 0;
  for (uint64_t start = from; start < to; start += kReadRecords) {
    const uint64_t end = std::min(to, start + kReadRecords);
    buffer_.clear();
    offsets_.clear();
    RETURN_IF_ERROR(reader.Read(partition, start, end, [&](uint64_t offset, std::string_view rec) {
      buffer_.append(rec);
      buffer_.push_back('\n');
      ++records;
      if (options_.on_reject) offsets_.push_back(offset);
      return Status::OK();
    }));
    const size_t size = buffer_.size();
    buffer_.append(kJsonPadding, '\0');
    size_t pos = 0;
    uint64_t lines = 0;
    batch_.Clear();
    while (pos < size) {
      pos += decoder_.DecodeMany(buffer_.data() + pos, size - pos, buffer_.size() - pos, start + lines, &batch_,
                                 &rejects, &lines);
      if (batch_.full()) {
        Consume(batch_, part);
        batch_.Clear();
      }
    }
    Consume(batch_, part);
    batch_.Clear();
    // Accepted events always decode; one that no longer does (the views file
    // changed the stream) is skipped by the batch layer too. Records of an
    // external log were never validated: their rejects are reported with
    // their offsets (the line numbers count from `start`, one per record).
    rejected_ += rejects.size();
    if (options_.on_reject)
      for (const Reject& r : rejects)
        if (r.line >= start && r.line - start < offsets_.size())
          options_.on_reject(partition, offsets_[r.line - start], r);
    rejects.clear();
  }
  decoded_events_ += records;
  return Status::OK();
}

Status SpeedLayer::Poll(const Log& log, ViewStates* delta, std::vector<OffsetRange>* closed) {
  return Poll(LogRecordReader(&log), delta, closed);
}

Status SpeedLayer::Poll(const RecordReader& reader, ViewStates* delta, std::vector<OffsetRange>* closed) {
  if (delta->empty()) *delta = NewViewStates(plans_);
  const auto now = std::chrono::steady_clock::now();
  for (int p = 0; p < static_cast<int>(speed_.size()); ++p) {
    uint64_t& s = speed_[static_cast<size_t>(p)];
    const uint64_t end = reader.Position(p);
    Bucket* open = OpenBucket(p);
    auto close = [&] {
      open->closed = true;
      closed->push_back(OffsetRange{p, open->from, open->to});
      open = OpenBucket(p);
    };
    while (s < end) {
      const uint64_t limit = std::min(end, open->from + options_.seal_events);
      RETURN_IF_ERROR(ConsumeRecords(reader, p, s, limit, open, delta));
      s = limit;
      if (open->to - open->from >= options_.seal_events) close();
    }
    if (options_.seal_age.count() > 0 && open->to > open->from && now - open->opened >= options_.seal_age) close();
  }
  return Status::OK();
}

Status SpeedLayer::DropBelow(const std::vector<uint64_t>& batch) {
  if (batch.size() != speed_.size()) return Status::Internal("speed layer: watermark of the wrong size");
  for (size_t p = 0; p < speed_.size(); ++p) {
    if (batch[p] > speed_[p])
      return Status::Internal("speed layer: batch watermark " + std::to_string(batch[p]) + " of partition " +
                              std::to_string(p) + " is beyond the speed watermark " + std::to_string(speed_[p]));
  }
  for (const auto& b : buckets_) {
    const uint64_t w = batch[static_cast<size_t>(b->partition)];
    if (b->from < w && (w < b->to || !b->closed))
      return Status::Internal("speed layer: batch watermark " + std::to_string(w) + " of partition " +
                              std::to_string(b->partition) + " falls inside the bucket [" + std::to_string(b->from) +
                              ", " + std::to_string(b->to) + ")");
  }
  std::erase_if(buckets_, [&](const std::unique_ptr<Bucket>& b) {
    return b->to <= batch[static_cast<size_t>(b->partition)] && b->closed;
  });
  return Status::OK();
}

void SpeedLayer::CombineInto(ViewStates* states) const {
  // Size each view once for the groups the buckets add (buckets of
  // different times hold mostly different groups): growing by doubling
  // would leave up to half of a large served state's arrays unused.
  for (size_t v = 0; v < plans_.size(); ++v) {
    size_t groups = (*states)[v]->num_groups();
    for (const auto& b : buckets_)
      if (!b->states.empty()) groups += (*states)[v]->CountNewGroups(*b->states[v]);
    (*states)[v]->Reserve(groups);
  }
  for (const auto& b : buckets_) {
    if (b->states.empty()) continue;
    for (size_t v = 0; v < plans_.size(); ++v) (*states)[v]->Combine(*b->states[v]);
  }
}

void SpeedLayer::CombinePartitionInto(int partition, ViewStates* states) const {
  for (const auto& b : buckets_) {
    if (b->partition != partition || b->states.empty()) continue;
    for (size_t v = 0; v < plans_.size(); ++v) (*states)[v]->Combine(*b->states[v]);
  }
}

void SpeedLayer::CombinePartitionInto(int partition, size_t view, ViewState* state) const {
  for (const auto& b : buckets_) {
    if (b->partition != partition || b->states.empty()) continue;
    state->Combine(*b->states[view]);
  }
}

std::vector<uint64_t> SpeedLayer::low_watermark() const {
  std::vector<uint64_t> low = speed_;
  for (auto it = buckets_.rbegin(); it != buckets_.rend(); ++it)
    low[static_cast<size_t>((*it)->partition)] = (*it)->from;
  return low;
}

size_t SpeedLayer::MemoryUsage() const {
  size_t bytes = buffer_.capacity();
  for (const auto& b : buckets_)
    for (const auto& s : b->states) bytes += s->MemoryUsage();
  return bytes;
}

}  // namespace lf
