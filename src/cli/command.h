// Each subcommand of `lambdaflow` registers itself on the CLI11 app; the
// callback it installs returns the process exit code through `*exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace lf::cli {

void RegisterCheckCommand(CLI::App& app, int* exit_code);
void RegisterEvalCommand(CLI::App& app, int* exit_code);
void RegisterProduceCommand(CLI::App& app, int* exit_code);
// ingest, batch, query, status, rejects (data_commands.cc).
void RegisterDataCommands(CLI::App& app, int* exit_code);
void RegisterRunCommand(CLI::App& app, int* exit_code);

}  // namespace lf::cli
