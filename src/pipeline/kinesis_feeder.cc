#include "pipeline/kinesis_feeder.h"

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "log/producer_table.h"
#include "source/kinesis_client.h"
#include "source/kinesis_shard_reader.h"

namespace lf {
namespace {

constexpr const char* kStateHeader = "lambdaflow kinesis state 1";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One shard as the state file records it.
struct ShardState {
  int partition = 0;
  bool finished = false;
  uint64_t n = 0;        // appends made (the log producer's last seq)
  std::string seq_n;     // the sequence number of append n's last record ("" before any)
  std::string seq_next;  // of append n+1's, recorded before it is made ("" when none is pending)
};

std::string Dash(const std::string& s) { return s.empty() ? "-" : s; }
std::string Undash(const std::string& s) { return s == "-" ? "" : s; }

}  // namespace

struct KinesisFeeder::Impl {
  DataDir* dir = nullptr;
  Pipeline* pipeline = nullptr;
  KinesisFeederOptions options;
  std::unique_ptr<KinesisClient> client;
  std::string state_path;
  std::map<std::string, ShardState> shards;  // by shard id; only the thread touches it after Start
  std::map<std::string, std::unique_ptr<KinesisShardReader>> readers;
  std::atomic<bool> stop{false};
  std::thread thread;
  mutable std::mutex error_mu;
  std::string last_error;
  KinesisFeeder* owner = nullptr;

  void Log(const std::string& line) {
    if (options.log) options.log("kinesis: " + line);
  }
  void Error(const std::string& e) {
    {
      std::lock_guard<std::mutex> l(error_mu);
      if (last_error == e) return;
      last_error = e;
    }
    Log(e);
  }

  static std::string ProducerId(const std::string& shard) { return "kinesis:" + shard; }

  Status Load() {
    ASSIGN_OR_RETURN(bool exists, dir->fs()->Exists(state_path));
    if (!exists) return Status::OK();
    ASSIGN_OR_RETURN(std::string text, dir->fs()->ReadFile(state_path));
    std::istringstream in(text);
    std::string line;
    auto bad = [&](const std::string& why) {
      return Status::Corruption(state_path + ": " + why +
                                "; restore it from a backup, or read the stream into a new data directory");
    };
    if (!std::getline(in, line) || line != kStateHeader) return bad("not a Kinesis state file");
    if (!std::getline(in, line) || line != "stream " + options.stream)
      return bad("it is of another stream than " + options.stream);
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string word, id, finished, seq_n, seq_next;
      ShardState s;
      if (!(f >> word >> id >> s.partition >> finished >> s.n >> seq_n >> seq_next) || word != "shard" ||
          s.partition < 0 || s.partition >= dir->partitions())
        return bad("damaged line '" + line + "'");
      s.finished = finished == "1";
      s.seq_n = Undash(seq_n);
      s.seq_next = Undash(seq_next);
      // The log says which of the two appends was the last one made.
      const auto last = dir->log()->FindProducer(s.partition, ProducerId(id));
      const uint64_t in_log = last ? last->seq : 0;
      if (in_log == s.n + 1 && !s.seq_next.empty()) {
        s.n += 1;
        s.seq_n = s.seq_next;
      } else if (in_log != s.n) {
        return bad("shard " + id + ": the log's last append is " + std::to_string(in_log) + ", the state file's " +
                   std::to_string(s.n));
      }
      s.seq_next.clear();
      shards[id] = s;
    }
    return Status::OK();
  }

  Status Save() {
    std::string out = std::string(kStateHeader) + "\nstream " + options.stream + "\n";
    for (const auto& [id, s] : shards) {
      out += "shard " + id + " " + std::to_string(s.partition) + " " + (s.finished ? "1" : "0") + " " +
             std::to_string(s.n) + " " + Dash(s.seq_n) + " " + Dash(s.seq_next) + "\n";
    }
    return dir->fs()->WriteFileAtomic(state_path, out);
  }

  // The partition for a new shard, or -1 when none is free.
  int ChoosePartition(const KinesisShard& shard) const {
    std::set<int> busy, used;
    for (const auto& [id, s] : shards) {
      used.insert(s.partition);
      if (!s.finished) busy.insert(s.partition);
    }
    for (const std::string& parent : {shard.parent_shard_id, shard.adjacent_parent_shard_id}) {
      auto it = shards.find(parent);
      if (!parent.empty() && it != shards.end() && !busy.count(it->second.partition)) return it->second.partition;
    }
    for (int p = 0; p < dir->partitions(); ++p)
      if (!used.count(p)) return p;
    for (int p = 0; p < dir->partitions(); ++p)
      if (!busy.count(p)) return p;
    return -1;
  }

  Status Refresh() {
    ASSIGN_OR_RETURN(std::vector<KinesisShard> listed, client->ListShards());
    std::set<std::string> finished;
    for (const auto& [id, s] : shards)
      if (s.finished) finished.insert(id);
    for (const std::string& id : ReadableShards(listed, finished)) {
      if (readers.count(id)) continue;
      auto it = shards.find(id);
      if (it == shards.end()) {
        const KinesisShard* shard = nullptr;
        for (const auto& s : listed)
          if (s.shard_id == id) shard = &s;
        const int p = ChoosePartition(*shard);
        if (p < 0) {
          Error("shard " + id + " is not read: every one of the data directory's " + std::to_string(dir->partitions()) +
                " partitions holds an unfinished shard; read the stream into a new data directory with more "
                "--partitions");
          continue;
        }
        if (ProducerId(id).size() > kMaxProducerIdBytes)
          return Status::InvalidArgument("shard id '" + id + "' is too long");
        ShardState s;
        s.partition = p;
        it = shards.emplace(id, s).first;
        RETURN_IF_ERROR(Save());
        Log("shard " + id + " is read into log partition " + std::to_string(p));
      }
      KinesisShardReaderOptions ropts;
      ropts.min_interval_ms = options.min_poll_interval_ms;
      readers[id] =
          std::make_unique<KinesisShardReader>(KinesisShardApi::Of(client.get()), id, it->second.seq_n, ropts);
    }
    return Status::OK();
  }

  // Appends one poll's records of `id`; false when stopping.
  Status Append(const std::string& id, const std::vector<KinesisRecord>& records) {
    ShardState& s = shards[id];
    std::string body;
    for (const auto& r : records) {
      for (char c : r.data) body.push_back(c == '\n' || c == '\r' ? ' ' : c);
      body.push_back('\n');
    }
    s.seq_next = records.back().sequence_number;
    RETURN_IF_ERROR(Save());
    const ProducerBatch producer{ProducerId(id), s.n + 1};
    const std::string input = "kinesis://" + options.stream + " shard " + id + " sequence number ";
    auto rejects_input = [&](uint64_t line) {
      return input + (line >= 1 && line <= records.size() ? records[line - 1].sequence_number : "?");
    };
    while (true) {
      auto report = pipeline->AcceptFromFeeder(body, producer, s.partition, rejects_input);
      if (report.ok()) {
        s.n += 1;
        s.seq_n = s.seq_next;
        s.seq_next.clear();
        owner->appended_ += report->accepted;
        owner->rejected_ += report->rejects.size();
        return Status::OK();
      }
      if (stop.load()) return Status::OK();
      // Backpressure (the archiver is behind) or a transient log error:
      // the same append again (a duplicate is answered, not appended).
      Error("appending shard " + id + ": " + report.status().ToString() + " (retrying)");
      std::this_thread::sleep_for(
          std::chrono::milliseconds(report.status().code() == StatusCode::kUnavailable ? 100 : 1000));
    }
  }

  void Run() {
    int64_t next_list = 0;
    while (!stop.load()) {
      if (NowMs() >= next_list) {
        Status st = Refresh();
        if (!st.ok()) Error("listing the shards of " + client->Describe() + ": " + st.ToString());
        next_list = NowMs() + (readers.empty() ? 1000 : options.list_interval_ms);
      }
      bool worked = false;
      for (auto it = readers.begin(); it != readers.end() && !stop.load();) {
        auto polled = it->second->Poll();
        if (!polled.ok()) {
          Error("reading shard " + it->first + ": " + polled.status().ToString());
          ++it;
          continue;
        }
        if (!polled->empty()) {
          worked = true;
          Status st = Append(it->first, *polled);
          if (!st.ok()) {
            Error("shard " + it->first + ": " + st.ToString());
            // The state file could not be written: stop reading this shard
            // until the next listing (its records are read again then).
            it = readers.erase(it);
            continue;
          }
        }
        if (it->second->finished() && !stop.load()) {
          shards[it->first].finished = true;
          Status st = Save();
          if (!st.ok()) Error("saving the state: " + st.ToString());
          Log("shard " + it->first + " is finished (closed and read to its end)");
          it = readers.erase(it);
          next_list = 0;  // its children may be read now
          continue;
        }
        ++it;
      }
      if (!worked) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
};

KinesisFeeder::KinesisFeeder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<KinesisFeeder>> KinesisFeeder::Start(DataDir* dir, Pipeline* pipeline,
                                                            KinesisFeederOptions options) {
  if (!dir->log()) return Status::Internal("the Kinesis feeder needs the embedded log");
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->pipeline = pipeline;
  impl->options = std::move(options);
  impl->client = std::make_unique<KinesisClient>(impl->options.aws, impl->options.stream);
  const std::string folder = JoinPath(dir->path(), "kinesis");
  RETURN_IF_ERROR(dir->fs()->CreateDirs(folder));
  impl->state_path = JoinPath(folder, "STATE");
  RETURN_IF_ERROR(impl->Load());
  std::unique_ptr<KinesisFeeder> f(new KinesisFeeder(std::move(impl)));
  f->impl_->owner = f.get();
  Impl* raw = f->impl_.get();
  raw->thread = std::thread([raw] { raw->Run(); });
  return f;
}

void KinesisFeeder::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stop = true;
  impl_->thread.join();
}

KinesisFeeder::~KinesisFeeder() { Stop(); }

std::string KinesisFeeder::last_error() const {
  std::lock_guard<std::mutex> l(impl_->error_mu);
  return impl_->last_error;
}

}  // namespace lf
