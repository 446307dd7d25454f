// `lambdaflow eval`: evaluates views over NDJSON inputs in one parallel pass
// and prints or writes the results. The same plans later run in the batch
// and speed layers.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "common/format.h"
#include "plan/parallel_eval.h"
#include "plan/result_format.h"
#include "sql/binder.h"

namespace lf::cli {
namespace {

struct EvalArgs {
  std::string views;
  std::vector<std::string> view_names;
  std::string stream;
  std::string format;
  std::string out_dir;
  std::string rejects;
  std::vector<std::string> inputs;
  int threads = 0;
  size_t max_line_bytes = 1 << 20;
  bool quiet = false;
};

// Streams rejected lines to a file as JSON objects, one per line.
class RejectFile {
 public:
  static Result<std::unique_ptr<RejectFile>> Open(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return Status::FromErrno(errno, "cannot create rejects file '" + path + "'");
    return std::unique_ptr<RejectFile>(new RejectFile(path, f));
  }
  ~RejectFile() {
    if (f_) std::fclose(f_);
  }
  void Write(const std::string& input, const Reject& r) {
    line_.clear();
    AppendRejectJsonLine(r, input, -1, &line_);
    if (ok_ && std::fwrite(line_.data(), 1, line_.size(), f_) != line_.size()) {
      ok_ = false;
      errno_ = errno;
    }
  }
  Status Close() {
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (!ok_) return Status::FromErrno(errno_, "cannot write rejects file '" + path_ + "'");
    if (rc != 0) return Status::FromErrno(errno, "cannot write rejects file '" + path_ + "'");
    return Status::OK();
  }

 private:
  RejectFile(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  std::string path_;
  std::FILE* f_;
  std::string line_;
  bool ok_ = true;
  int errno_ = 0;
};

Status RunEval(const EvalArgs& args) {
  ASSIGN_OR_RETURN(sql::Catalog catalog, sql::LoadViewsFile(args.views));
  if (catalog.streams.empty()) return Status::InvalidArgument(args.views + ": declares no stream (CREATE STREAM)");
  // The stream the input holds: --stream, or the only one declared.
  int stream = -1;
  if (!args.stream.empty()) {
    for (size_t i = 0; i < catalog.streams.size(); ++i)
      if (sql::IdentifierMatches(catalog.streams[i].name, args.stream, false)) stream = static_cast<int>(i);
    if (stream < 0) return Status::InvalidArgument("unknown stream '" + args.stream + "' in " + args.views);
  } else if (catalog.streams.size() == 1) {
    stream = 0;
  } else {
    return Status::InvalidArgument(args.views + " declares several streams; choose one with --stream NAME");
  }
  std::vector<const sql::BoundView*> selected;
  if (args.view_names.empty()) {
    for (const auto& v : catalog.views)
      if (v.stream == stream) selected.push_back(&v);
  } else {
    for (const auto& name : args.view_names) {
      const sql::BoundView* v = catalog.FindView(name);
      if (!v) return Status::InvalidArgument("unknown view '" + name + "' in " + args.views);
      if (v->stream != stream)
        return Status::InvalidArgument("view '" + name + "' reads another stream than '" +
                                       catalog.streams[static_cast<size_t>(stream)].name + "'");
      selected.push_back(v);
    }
  }
  if (selected.empty()) return Status::InvalidArgument(args.views + ": no view to evaluate");
  ResultFormat format = ResultFormat::kTable;
  if (!args.format.empty()) {
    ASSIGN_OR_RETURN(format, ParseResultFormat(args.format));
  } else if (!args.out_dir.empty()) {
    format = ResultFormat::kTsv;
  }
  if (!args.out_dir.empty()) {
    struct stat st;
    if (::stat(args.out_dir.c_str(), &st) != 0 && ::mkdir(args.out_dir.c_str(), 0755) != 0)
      return Status::FromErrno(errno, "cannot create output directory '" + args.out_dir + "'");
  }

  std::vector<std::unique_ptr<ViewPlan>> plans;
  std::vector<const ViewPlan*> plan_ptrs;
  for (const auto* v : selected) {
    ASSIGN_OR_RETURN(auto plan, ViewPlan::Compile(*v));
    plan_ptrs.push_back(plan.get());
    plans.push_back(std::move(plan));
  }

  std::unique_ptr<RejectFile> rejects;
  if (!args.rejects.empty()) {
    ASSIGN_OR_RETURN(rejects, RejectFile::Open(args.rejects));
  }
  RejectHandler on_reject;
  if (rejects) on_reject = [&](const std::string& input, const Reject& r) { rejects->Write(input, r); };

  EvalOptions options;
  options.threads = args.threads;
  options.decoder.max_line_bytes = args.max_line_bytes;
  std::vector<std::string> inputs = args.inputs.empty() ? std::vector<std::string>{"-"} : args.inputs;
  EvalStats stats;
  ProgressCounters counters;
  counters.total_bytes = KnownInputBytes(inputs);
  options.progress = &counters;
  StderrProgress progress("eval", "events", &counters, ProgressWanted(args.quiet));
  auto evaluated =
      EvaluateInputs(plan_ptrs, catalog.streams[static_cast<size_t>(stream)], inputs, options, on_reject, &stats);
  progress.Stop();
  ASSIGN_OR_RETURN(auto states, std::move(evaluated));
  if (rejects) RETURN_IF_ERROR(rejects->Close());

  // A view that fails to finalize (an integer SUM beyond BIGINT) is
  // reported; the other views are still written, and the exit status says
  // that one failed.
  std::string printed;
  std::vector<Status> failed;
  size_t written = 0;
  for (size_t i = 0; i < states.size(); ++i) {
    ViewResult result;
    std::string text;
    Status st;
    if (format == ResultFormat::kTsv) {
      // Streamed from the state's column vectors (no per-value objects),
      // large views by all worker threads at once.
      result.name = plans[i]->name();
      st = AppendViewTsv(*plans[i], *states[i], static_cast<size_t>(std::max(0, args.threads)), &text);
    } else {
      auto r = states[i]->Finalize();
      if (r.ok()) {
        result = std::move(r).value();
        AppendResult(result, format, &text);
      } else {
        st = r.status();
      }
    }
    if (!st.ok()) {
      failed.push_back(st);
      continue;
    }
    if (!args.out_dir.empty()) {
      const char* ext = format == ResultFormat::kJson ? ".json" : format == ResultFormat::kTsv ? ".tsv" : ".txt";
      RETURN_IF_ERROR(WriteFile(args.out_dir + "/" + result.name + ext, text));
    } else {
      // Views are separated by a blank line, before the next view's
      // "# view: NAME" line.
      if (written > 0 && format != ResultFormat::kJson) printed += "\n";
      if (format == ResultFormat::kTsv && states.size() > 1) printed += "# view: " + result.name + "\n";
      printed += text;
    }
    ++written;
  }
  if (args.out_dir.empty()) RETURN_IF_ERROR(WriteStdout(printed));

  std::string summary = "lambdaflow eval: " + std::to_string(stats.lines) + " lines, " +
                        std::to_string(stats.accepted) + " accepted, " + std::to_string(stats.rejected) + " rejected";
  const std::string reasons = RejectReasonCounts(stats.rejected_by_reason);
  if (!reasons.empty()) summary += " (" + reasons + ")";
  char rate[160];
  double secs = stats.seconds > 0 ? stats.seconds : 1e-9;
  std::snprintf(rate, sizeof(rate), "; %zu view(s) in %.3f s (%.2f M events/s, %.0f MB/s)\n", states.size(),
                stats.seconds, static_cast<double>(stats.lines) / secs / 1e6,
                static_cast<double>(stats.bytes) / secs / 1e6);
  summary += rate;
  std::fputs(summary.c_str(), stderr);
  if (failed.empty()) return Status::OK();
  for (size_t k = 0; k + 1 < failed.size(); ++k) ReportError(failed[k]);
  if (failed.size() == 1) return failed[0];
  return Status(failed.back().code(), failed.back().message() + " (" + std::to_string(failed.size()) +
                                          " views failed, " + std::to_string(written) + " written)");
}

}  // namespace

void RegisterEvalCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("eval", "Evaluate views over NDJSON events in one parallel pass");
  auto args = std::make_shared<EvalArgs>();
  cmd->add_option("--views", args->views, "The views file (CREATE STREAM / CREATE VIEW)")->required();
  cmd->add_option("--view", args->view_names, "Evaluate only this view (repeatable); default: every view");
  cmd->add_option("--stream", args->stream, "The stream the input holds, if the views file declares several");
  cmd->add_option("--format", args->format, "Output format: tsv, json or table (default: table; tsv with --out)");
  cmd->add_option("--out", args->out_dir, "Write each view to DIR/<view>.tsv (or .json) instead of printing");
  cmd->add_option("--rejects", args->rejects,
                  "Write each rejected line as a JSON object {input, line, reason, detail, raw} to FILE");
  cmd->add_option("--threads", args->threads, "Worker threads (default: one per core)");
  cmd->add_option("--max-line-bytes", args->max_line_bytes, "Reject lines longer than this (default 1 MiB)");
  cmd->add_option("inputs", args->inputs, "NDJSON files (.zst decompressed); '-' or none reads standard input");
  cmd->add_flag("-q,--quiet", args->quiet, kQuietHelp);
  cmd->callback([args, exit_code] {
    Status st = RunEval(*args);
    *exit_code = st.ok() ? kExitOk : ReportError(st);
  });
}

}  // namespace lf::cli
