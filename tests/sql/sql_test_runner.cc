// Runs the data-driven SQL tests in tests/sql/*.test. A file is a sequence
// of blocks separated by blank lines; each block starts with a directive:
//
//   views            the following lines are the views file for what follows
//   events           the following lines are the NDJSON input (replaces)
//   query VIEW       the following lines are the expected TSV of VIEW
//   error            SQL lines, then a line "----", then the expected error
//                    message (the SQL is compiled alone as "views.sql")
//   rejects          expected rejects of the current events: "LINE REASON"
//
// Lines starting with '#' outside blocks are comments. Every query is
// evaluated twice: in one pass, and split into two halves whose states are
// combined, which must give the same result (the combine law).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingest/json_decoder.h"
#include "plan/result_format.h"
#include "plan/view_plan.h"
#include "sql/binder.h"

namespace lf {
namespace {

struct Block {
  std::string directive;
  std::string arg;
  std::vector<std::string> lines;
  int line_no;
};

std::vector<Block> ReadBlocks(const std::string& path) {
  std::ifstream in(path);
  std::vector<Block> blocks;
  std::string line;
  int n = 0;
  Block* cur = nullptr;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) {
      cur = nullptr;
      continue;
    }
    if (!cur) {
      if (line[0] == '#') continue;
      Block b;
      auto space = line.find(' ');
      b.directive = line.substr(0, space);
      b.arg = space == std::string::npos ? "" : line.substr(space + 1);
      b.line_no = n;
      blocks.push_back(std::move(b));
      cur = &blocks.back();
      continue;
    }
    cur->lines.push_back(line);
  }
  return blocks;
}

std::string Join(const std::vector<std::string>& lines, size_t from = 0, size_t to = std::string::npos) {
  std::string out;
  for (size_t i = from; i < std::min(to, lines.size()); ++i) out += lines[i] + "\n";
  return out;
}

// Decodes `events` and feeds rows [from, to) to `state`.
void Feed(const StreamSchema& schema, const std::vector<std::string>& events, size_t from, size_t to, ViewState* state,
          std::vector<Reject>* rejects) {
  JsonDecoder decoder(schema);
  Batch batch(schema.types());
  for (size_t i = from; i < to; ++i) {
    Reject reject;
    bool blank = false;
    if (!decoder.Decode(events[i], events[i].size(), i + 1, &batch, &reject, &blank)) {
      if (!blank && rejects) rejects->push_back(reject);
      continue;
    }
    if (batch.full()) {
      state->Consume(batch);
      batch.Clear();
    }
  }
  state->Consume(batch);
}

class SqlTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SqlTest, Run) {
  const std::string path = GetParam();
  std::unique_ptr<sql::Catalog> catalog;
  std::vector<std::string> events;
  for (const Block& b : ReadBlocks(path)) {
    SCOPED_TRACE(path + ":" + std::to_string(b.line_no) + ": " + b.directive + " " + b.arg);
    if (b.directive == "views") {
      auto c = sql::CompileViews(Join(b.lines), "views.sql");
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      catalog = std::make_unique<sql::Catalog>(std::move(c).value());
    } else if (b.directive == "events") {
      events = b.lines;
    } else if (b.directive == "error") {
      auto sep = std::find(b.lines.begin(), b.lines.end(), "----");
      ASSERT_NE(sep, b.lines.end()) << "error block needs a ---- line";
      size_t k = static_cast<size_t>(sep - b.lines.begin());
      auto c = sql::CompileViews(Join(b.lines, 0, k), "views.sql");
      ASSERT_FALSE(c.ok()) << "expected an error";
      EXPECT_EQ(c.status().message() + "\n", Join(b.lines, k + 1));
    } else if (b.directive == "query") {
      ASSERT_TRUE(catalog) << "query before views";
      const sql::BoundView* view = catalog->FindView(b.arg);
      ASSERT_NE(view, nullptr) << "unknown view " << b.arg;
      auto plan = ViewPlan::Compile(*view);
      ASSERT_TRUE(plan.ok()) << plan.status().ToString();
      const StreamSchema& schema = catalog->StreamOf(*view);
      auto one = (*plan)->NewState();
      Feed(schema, events, 0, events.size(), one.get(), nullptr);
      auto result = one->Finalize();
      std::string expected = Join(b.lines);
      if (b.lines.size() == 1 && b.lines[0].rfind("error: ", 0) == 0) {
        ASSERT_FALSE(result.ok());
        EXPECT_EQ("error: " + result.status().message() + "\n", expected);
        continue;
      }
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      std::string tsv;
      AppendTsv(*result, &tsv);
      EXPECT_EQ(tsv, expected);
      // The streamed TSV writer gives the same text.
      std::string streamed;
      AppendTsvHeader((*plan)->output_names(), &streamed);
      ASSERT_TRUE(one->FinalizeBatches([&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
                       AppendTsvRows(cols, rows, n, &streamed);
                       return Status::OK();
                     })
                      .ok());
      EXPECT_EQ(streamed, expected) << "streamed TSV differs";
      // The same through two partial states, combined.
      auto left = (*plan)->NewState();
      auto right = (*plan)->NewState();
      Feed(schema, events, 0, events.size() / 2, left.get(), nullptr);
      Feed(schema, events, events.size() / 2, events.size(), right.get(), nullptr);
      right->Combine(*left);
      auto combined = right->Finalize();
      ASSERT_TRUE(combined.ok());
      std::string tsv2;
      AppendTsv(*combined, &tsv2);
      EXPECT_EQ(tsv2, expected) << "combine(split) differs from one pass";
    } else if (b.directive == "rejects") {
      ASSERT_TRUE(catalog);
      std::vector<Reject> rejects;
      auto plan = ViewPlan::Compile(catalog->views.at(0));
      ASSERT_TRUE(plan.ok());
      auto state = (*plan)->NewState();
      Feed(catalog->StreamOf(catalog->views[0]), events, 0, events.size(), state.get(), &rejects);
      std::string got;
      for (const auto& r : rejects) got += std::to_string(r.line) + " " + RejectReasonName(r.reason) + "\n";
      EXPECT_EQ(got, Join(b.lines));
    } else {
      FAIL() << "unknown directive '" << b.directive << "'";
    }
  }
}

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(LF_SQL_TEST_DIR))
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, SqlTest, ::testing::ValuesIn(TestFiles()), [](const auto& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
});

}  // namespace
}  // namespace lf
