// `lambdaflow check VIEWS.sql`: validates a views file and prints what it
// declares.
#include <cstdio>
#include <string>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "sql/binder.h"

namespace lf::cli {

void RegisterCheckCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("check", "Validate a views file and print its streams and views with their columns");
  auto path = std::make_shared<std::string>();
  cmd->add_option("views", *path, "The views file (CREATE STREAM / CREATE VIEW statements)")->required();
  cmd->callback([path, exit_code] {
    auto catalog = sql::LoadViewsFile(*path);
    if (!catalog.ok()) {
      *exit_code = ReportError(catalog.status());
      return;
    }
    std::string out;
    for (const auto& s : catalog->streams) {
      out += "stream " + s.name + "\n";
      for (const auto& c : s.columns)
        out += "  " + c.name + " " + TypeName(c.type) + (c.not_null ? " NOT NULL" : "") + "\n";
    }
    for (const auto& v : catalog->views) {
      out += "view " + v.name + " (from " + catalog->StreamOf(v).name + ", " +
             (v.keys.empty() ? std::string("one row") : "grouped by " + std::to_string(v.keys.size()) + " key(s)") +
             ")\n";
      for (const auto& o : v.outputs) out += "  " + o.name + " " + TypeName(o.type) + "\n";
    }
    out += "OK: " + std::to_string(catalog->streams.size()) + " stream(s), " + std::to_string(catalog->views.size()) +
           " view(s)\n";
    std::fputs(out.c_str(), stdout);
    *exit_code = 0;
  });
}

}  // namespace lf::cli
