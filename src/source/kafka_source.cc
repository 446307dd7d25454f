#include "source/kafka_source.h"

#include <algorithm>
#include <string_view>

namespace lf {

void OnKafkaRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque);

// The rebalance callback (membership), served by rd_kafka_consumer_poll
// inside Poll and by rd_kafka_consumer_close in the destructor.
void OnKafkaRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  ++self->rebalances_;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->Gain(parts);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    self->Lose(parts);
  } else {
    // A failed rebalance: drop everything (librdkafka rejoins by itself).
    self->TransientError(std::string("rebalance failed: ") + rd_kafka_err2str(err));
    self->Lose(parts);
    (void)rk;
  }
}

namespace {

void DestroyMessage(void* m) { rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(m)); }

struct PartitionListDestroy {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};

// Client-level errors (a broker down, all brokers down, ...), served from
// rd_kafka_consumer_poll: counted in the source's health.
void OnClientError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<KafkaSource*>(opaque)->TransientErrorForCallback(
      std::string(reason) + " (" + rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")");
}

void Configure(rd_kafka_conf_t* conf, void* opaque) {
  rd_kafka_conf_set_error_cb(conf, OnClientError);
  rd_kafka_conf_set_opaque(conf, opaque);
}

void ConfigureMember(rd_kafka_conf_t* conf, void* opaque) {
  Configure(conf, opaque);
  rd_kafka_conf_set_rebalance_cb(conf, OnKafkaRebalance);
}

// Whether the client's assignors (`partition.assignment.strategy`, the
// user's setting last) use the cooperative rebalance protocol. librdkafka
// requires all of them to share one protocol, and cooperative-sticky is its
// only cooperative assignor. Decided from the configuration once, not with
// rd_kafka_rebalance_protocol in the rebalance callback: that one answers
// NULL once the consumer is closing, which is when the destructor's
// rd_kafka_consumer_close calls the callback.
bool UsesCooperativeProtocol(rd_kafka_t* rk) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(rk), "partition.assignment.strategy", value, &size) != RD_KAFKA_CONF_OK)
    return false;
  return std::string_view(value).find("cooperative") != std::string_view::npos;
}

}  // namespace

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(const KafkaSourceOptions& o) {
  std::unique_ptr<KafkaSource> s(new KafkaSource());
  s->url_ = o.url;
  s->membership_ = o.membership;
  KafkaSettings defaults = {
      {"group.id", o.group},  // required by librdkafka's consumer; partitions are assigned, never subscribed
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "true"},
      {"isolation.level", "read_committed"},
      {"fetch.wait.max.ms", "10"},  // freshness: the speed layer's micro-batches are tens of ms
      {"reconnect.backoff.ms", "50"},
      {"reconnect.backoff.max.ms", "1000"},
      {"client.id", "lambdaflow"},
  };
  const bool member = o.membership.enabled;
  if (member) {
    if (!o.membership.on_gain || !o.membership.on_lose)
      return Status::InvalidArgument("a Kafka consumer-group member needs both rebalance hooks");
    const auto session = std::max<int64_t>(o.membership.session_timeout.count(), 30);
    defaults.emplace_back("partition.assignment.strategy", "cooperative-sticky");
    defaults.emplace_back("session.timeout.ms", std::to_string(session));
    defaults.emplace_back("heartbeat.interval.ms", std::to_string(std::max<int64_t>(session / 3, 10)));
  }
  ASSIGN_OR_RETURN(s->rk_, NewKafkaClient(RD_KAFKA_CONSUMER, o.url.brokers, defaults, o.settings,
                                          member ? ConfigureMember : Configure, s.get()));
  rd_kafka_poll_set_consumer(s->rk_.get());
  if (member) s->cooperative_ = UsesCooperativeProtocol(s->rk_.get());
  ASSIGN_OR_RETURN(int n, FetchPartitionCount(s->rk_.get(), o.url.brokers, o.url.topic, o.connect_timeout));
  s->partitions_ = static_cast<uint32_t>(n);
  if (member) {
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDestroy> topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), o.url.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(s->rk_.get(), topics.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return KafkaError(err, "join consumer group '" + o.group + "' on " + s->Describe());
  }
  return s;
}

KafkaSource::~KafkaSource() {
  if (rk_) {
    // A member leaves its group in close, which revokes its partitions
    // through the rebalance callback.
    if (!membership_.enabled) (void)rd_kafka_assign(rk_.get(), nullptr);
    rd_kafka_consumer_close(rk_.get());
  }
}

void KafkaSource::TransientErrorForCallback(const std::string& text) { TransientError(text); }

void KafkaSource::TransientError(const std::string& text) {
  ++health_.transient_errors;
  health_.last_transient_error = text;
}

void KafkaSource::Gain(rd_kafka_topic_partition_list_t* parts) {
  std::vector<uint32_t> gained;
  for (int i = 0; i < parts->cnt; ++i)
    if (parts->elems[i].partition >= 0) gained.push_back(static_cast<uint32_t>(parts->elems[i].partition));
  std::sort(gained.begin(), gained.end());
  auto starts = membership_.on_gain(gained);
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDestroy> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(gained.size())));
  std::map<uint32_t, uint64_t> taken;
  if (!starts.ok()) {
    TransientError(Describe() + ": partitions gained but not taken: " + starts.status().ToString());
  } else {
    for (const PartitionStart& st : *starts) {
      if (!std::binary_search(gained.begin(), gained.end(), st.partition)) continue;
      rd_kafka_topic_partition_list_add(list.get(), url_.topic.c_str(), static_cast<int32_t>(st.partition))->offset =
          static_cast<int64_t>(st.offset);
      taken[st.partition] = st.offset;
    }
  }
  rd_kafka_error_t* error = nullptr;
  if (cooperative_) {
    error = rd_kafka_incremental_assign(rk_.get(), list.get());
  } else {
    // An eager assignor (the user's setting): the list is the whole assignment.
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) error = rd_kafka_error_new(err, "%s", rd_kafka_err2str(err));
    positions_.clear();
  }
  if (error != nullptr) {
    TransientError(Describe() + ": assigning gained partitions: " + rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return;
  }
  for (const auto& [p, at] : taken) positions_[p] = at;
}

void KafkaSource::Lose(rd_kafka_topic_partition_list_t* parts) {
  std::vector<uint32_t> revoked;
  for (int i = 0; i < parts->cnt; ++i)
    if (parts->elems[i].partition >= 0) revoked.push_back(static_cast<uint32_t>(parts->elems[i].partition));
  std::sort(revoked.begin(), revoked.end());
  const bool lost = rd_kafka_assignment_lost(rk_.get()) != 0;
  membership_.on_lose(revoked, lost);
  if (cooperative_) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_.get(), parts)) {
      TransientError(Describe() + ": unassigning revoked partitions: " + rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
  } else {
    (void)rd_kafka_assign(rk_.get(), nullptr);
  }
  for (uint32_t p : revoked) positions_.erase(p);
}

std::vector<uint32_t> KafkaSource::Assigned() const {
  std::vector<uint32_t> out;
  for (const auto& [p, at] : positions_) out.push_back(p);
  return out;
}

Status KafkaSource::Assign(const std::vector<PartitionStart>& starts) {
  if (membership_.enabled)
    return Status::InvalidArgument(Describe() + ": a consumer-group member's partitions are assigned by the group");
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDestroy> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(starts.size())));
  std::map<uint32_t, uint64_t> positions;
  for (const PartitionStart& s : starts) {
    if (s.partition >= partitions_) {
      return Status::InvalidArgument(Describe() + ": partition " + std::to_string(s.partition) +
                                     " does not exist (the topic has " + std::to_string(partitions_) + ")");
    }
    if (!positions.emplace(s.partition, s.offset).second) {
      return Status::InvalidArgument(Describe() + ": partition " + std::to_string(s.partition) + " assigned twice");
    }
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list.get(), url_.topic.c_str(), static_cast<int32_t>(s.partition));
    tp->offset = static_cast<int64_t>(s.offset);
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "assign partitions of " + Describe());
  positions_ = std::move(positions);
  return Status::OK();
}

Status KafkaSource::Poll(size_t max_records, std::chrono::milliseconds timeout, RecordBatch* out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t added = 0;
  while (added < max_records) {
    // Wait (up to the deadline) only while nothing was read: then drain
    // what is already there without waiting.
    int wait_ms = 0;
    if (added == 0) {
      wait_ms = static_cast<int>(std::max<int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), wait_ms);
    if (m == nullptr) {
      if (added > 0 || std::chrono::steady_clock::now() >= deadline) break;
      continue;
    }
    const uint32_t p = m->partition < 0 ? UINT32_MAX : static_cast<uint32_t>(m->partition);
    auto pos = positions_.find(p);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (pos == positions_.end() || m->offset < 0) {  // a partition no longer assigned
        rd_kafka_message_destroy(m);
        continue;
      }
      pos->second = static_cast<uint64_t>(m->offset) + 1;
      rd_kafka_timestamp_type_t ts_type;
      const int64_t ts = rd_kafka_message_timestamp(m, &ts_type);
      SourceRecord r{.partition = p,
                     .offset = static_cast<uint64_t>(m->offset),
                     .key = std::string_view(static_cast<const char*>(m->key), m->key_len),
                     .value = std::string_view(static_cast<const char*>(m->payload), m->len),
                     .timestamp_ms = ts};
      out->Add(r, std::shared_ptr<void>(m, DestroyMessage));
      ++added;
      continue;
    }
    const rd_kafka_resp_err_t err = m->err;
    const int64_t offset = m->offset;
    const std::string text = rd_kafka_message_errstr(m);
    rd_kafka_message_destroy(m);
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The fetch position at the end of the partition: past transaction markers.
      if (pos != positions_.end() && offset >= 0) pos->second = std::max(pos->second, static_cast<uint64_t>(offset));
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      if (pos != positions_.end()) return LostRange(p, pos->second);
      // The event did not say which partition: find the one whose position is gone.
      for (const auto& [part, at] : positions_) {
        auto b = Bounds(part, std::chrono::seconds(5));
        if (b.ok() && (at < b->log_start || at > b->high_watermark)) return LostRange(part, at);
      }
      return Status::OutOfRange(Describe() + ": a start offset is no longer in the topic (" + text + ")");
    }
    // Anything else (a broker down, a timeout): librdkafka retries by itself.
    TransientError(text + " (" + rd_kafka_err2name(err) + ")");
  }
  return Status::OK();
}

Result<std::vector<uint64_t>> KafkaSource::HighWatermarks(const std::vector<uint32_t>& partitions,
                                                          std::chrono::milliseconds timeout) {
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDestroy> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (uint32_t p : partitions)
    rd_kafka_topic_partition_list_add(list.get(), url_.topic.c_str(), static_cast<int32_t>(p))->offset =
        RD_KAFKA_OFFSET_END;  // as a timestamp: "latest"
  const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_.get(), list.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, Describe() + ": high watermarks");
  std::vector<uint64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR || tp.offset < 0)
      return KafkaError(tp.err, Describe() + ": high watermark of partition " + std::to_string(tp.partition));
    out.push_back(static_cast<uint64_t>(tp.offset));
  }
  return out;
}

Status KafkaSource::Pause(const std::vector<uint32_t>& partitions, bool pause) {
  if (partitions.empty()) return Status::OK();
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDestroy> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (uint32_t p : partitions)
    rd_kafka_topic_partition_list_add(list.get(), url_.topic.c_str(), static_cast<int32_t>(p));
  const rd_kafka_resp_err_t err =
      pause ? rd_kafka_pause_partitions(rk_.get(), list.get()) : rd_kafka_resume_partitions(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return KafkaError(err, std::string(pause ? "pause" : "resume") + " partitions of " + Describe());
  return Status::OK();
}

void KafkaSource::CommitAsync(uint32_t partition, uint64_t offset) {
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDestroy> list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), url_.topic.c_str(), static_cast<int32_t>(partition))->offset =
      static_cast<int64_t>(offset);
  (void)rd_kafka_commit(rk_.get(), list.get(), /*async=*/1);
}

Result<uint64_t> KafkaSource::Position(uint32_t partition) const {
  auto it = positions_.find(partition);
  if (it == positions_.end()) {
    return Status::InvalidArgument(Describe() + ": partition " + std::to_string(partition) + " is not assigned");
  }
  return it->second;
}

Result<PartitionBounds> KafkaSource::Bounds(uint32_t partition, std::chrono::milliseconds timeout) {
  int64_t lo = 0, hi = 0;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      rk_.get(), url_.topic.c_str(), static_cast<int32_t>(partition), &lo, &hi, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, Describe() + ": watermarks of partition " + std::to_string(partition));
  }
  return PartitionBounds{static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)};
}

Status KafkaSource::LostRange(uint32_t partition, uint64_t wanted) {
  const std::string where = Describe() + " partition " + std::to_string(partition);
  auto b = Bounds(partition, std::chrono::seconds(5));
  if (!b.ok()) {
    return Status::OutOfRange(where + ": offset " + std::to_string(wanted) +
                              " is no longer in the partition, and its bounds could not be read (" +
                              b.status().message() + ")");
  }
  if (wanted < b->log_start) {
    return Status::OutOfRange(where + ": offsets [" + std::to_string(wanted) + ", " + std::to_string(b->log_start) +
                              ") were deleted by the topic's retention before lambdaflow read them (" +
                              std::to_string(b->log_start - wanted) + " offsets lost; the partition now starts at " +
                              std::to_string(b->log_start) +
                              "). lambdaflow does not skip lost events silently: raise the topic's retention "
                              "(retention.ms, retention.bytes) so that sealing keeps up");
  }
  return Status::OutOfRange(where + ": lambdaflow's position " + std::to_string(wanted) +
                            " is beyond the partition's end " + std::to_string(b->high_watermark) +
                            ": the topic was deleted and re-created, or truncated, since lambdaflow read it");
}

}  // namespace lf
