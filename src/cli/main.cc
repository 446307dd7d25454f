// lambdaflow: the one command of the engine. Subcommands live in
// *_command.cc beside this file.
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/version.h"

int main(int argc, char** argv) {
  CLI::App app{"lambdaflow: exact, fresh views over a stream of JSON events (Lambda Architecture)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", lf::cli::VersionLine());
  int exit_code = 0;
  lf::cli::RegisterCheckCommand(app, &exit_code);
  lf::cli::RegisterEvalCommand(app, &exit_code);
  lf::cli::RegisterProduceCommand(app, &exit_code);
  lf::cli::RegisterDataCommands(app, &exit_code);
  lf::cli::RegisterRunCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every flag error is a usage error (2).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
