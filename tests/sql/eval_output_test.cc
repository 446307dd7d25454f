// `lambdaflow eval` output over several views, run as the binary: the TSV
// separators between views, and a view that fails (an integer SUM beyond
// BIGINT) reported with its name and group while the others are written.
#include <gtest/gtest.h>

#include "testing/oracle_support.h"

namespace lf {
namespace {

using test::ReadFile;
using test::RunShell;
using test::ShellQuote;
using test::TempDir;
using test::WriteFile;

struct EvalRun {
  int exit_code;
  std::string out, err;
};

EvalRun Eval(const TempDir& dir, const std::string& views, const std::string& events, const std::string& flags) {
  WriteFile(dir.path() / "views.sql", views);
  WriteFile(dir.path() / "events.ndjson", events);
  const std::string cmd = ShellQuote(LAMBDAFLOW_BIN) + " eval --views " + ShellQuote(dir.path() / "views.sql") + " " +
                          flags + " " + ShellQuote(dir.path() / "events.ndjson") + " >" +
                          ShellQuote(dir.path() / "out") + " 2>" + ShellQuote(dir.path() / "err");
  EvalRun r;
  r.exit_code = RunShell(cmd);
  r.out = ReadFile(dir.path() / "out");
  r.err = ReadFile(dir.path() / "err");
  return r;
}

const char* kViews =
    "CREATE STREAM s (k TEXT, x BIGINT);\n"
    "CREATE VIEW a AS SELECT COUNT(*) AS n FROM s;\n"
    "CREATE VIEW b AS SELECT k, SUM(x) AS total FROM s GROUP BY k;\n"
    "CREATE VIEW c AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;\n";

TEST(EvalOutput, TsvViewsSeparatedByBlankLineBeforeTheirName) {
  TempDir dir("lf-eval-output");
  EvalRun r = Eval(dir, kViews, "{\"k\":\"p\",\"x\":1}\n{\"k\":\"q\",\"x\":2}\n", "--format tsv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "# view: a\nn\n2\n"
            "\n# view: b\nk\ttotal\np\t1\nq\t2\n"
            "\n# view: c\nk\tn\np\t1\nq\t1\n");
}

TEST(EvalOutput, FailedViewIsReportedAndTheOthersWritten) {
  TempDir dir("lf-eval-output");
  const std::string events = "{\"k\":\"p\",\"x\":9223372036854775807}\n{\"k\":\"p\",\"x\":1}\n{\"k\":\"q\",\"x\":5}\n";
  for (const std::string format : {"tsv", "table", "json"}) {
    SCOPED_TRACE(format);
    EvalRun r = Eval(dir, kViews, events, "--format " + format);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("lambdaflow: view 'b' group (p): integer overflow in SUM"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("use SUM(CAST(x AS DOUBLE))"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("total"), std::string::npos) << "view b must not be written:\n" << r.out;
    if (format == "tsv") {
      EXPECT_EQ(r.out, "# view: a\nn\n3\n\n# view: c\nk\tn\np\t2\nq\t1\n");
    } else {
      EXPECT_NE(r.out.find("q"), std::string::npos) << "views a and c must be written:\n" << r.out;
    }
  }
  // With --out, the other views' files are written and b's is not.
  EvalRun r = Eval(dir, kViews, events, "--out " + ShellQuote(dir.path() / "views"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(dir.path() / "views" / "a.tsv"), "n\n3\n");
  EXPECT_EQ(ReadFile(dir.path() / "views" / "c.tsv"), "k\tn\np\t2\nq\t1\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "views" / "b.tsv"));
}

}  // namespace
}  // namespace lf
