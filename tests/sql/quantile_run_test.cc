// APPROX_QUANTILE across the layers: `lambdaflow run` is fed a growing
// prefix of events while the archiver seals small segments and the batch
// loop swaps versions in, and once killed with SIGKILL and restarted; after
// each part, the served answer (batch ⊕ speed, from whatever batch version
// is in force) must equal, byte for byte, `lambdaflow eval` over the same
// prefix. The quantile sketch merges by
// adding bucket counts, so the split between batch runs, the speed layer's
// buckets and threads cannot change an answer.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <set>
#include <thread>

#include "testing/oracle_support.h"
#include "testing/server_process.h"

namespace lf {
namespace {

namespace fs = std::filesystem;
using test::ReadFile;
using test::RunShell;
using test::ShellQuote;
using test::TempDir;
using test::WriteFile;

const char* kViews =
    "CREATE STREAM events (zipcode INT, ProductName TEXT, price DOUBLE, timestamp TIMESTAMP);\n"
    "CREATE VIEW quantiles AS SELECT ProductName, APPROX_MEDIAN(price) AS median,\n"
    "  APPROX_QUANTILE(price, 0.99) AS p99, APPROX_QUANTILE(price, 0.01) AS p1,\n"
    "  APPROX_QUANTILE(zipcode, 0.9) FILTER (WHERE price > 50) AS zip_p90, COUNT(*) AS n\n"
    "FROM events GROUP BY ProductName;\n"
    "CREATE VIEW overall AS SELECT APPROX_QUANTILE(price, 0.5) AS p50, APPROX_QUANTILE(price, 0.999) AS p999,\n"
    "  APPROX_MEDIAN(CAST(timestamp AS BIGINT) % 1000) AS ms_median FROM events;\n";

struct Served {
  std::string tsv;
  std::string batch_watermark, speed_watermark;
};

// The view's answer once it covers exactly `events` events.
Served AskCovering(httplib::Client& client, const std::string& view, size_t events) {
  Served s;
  for (int attempt = 0; attempt < 500; ++attempt) {
    auto res = client.Get("/v1/views/" + view + "?format=tsv");
    if (res && res->status == 200) {
      s.speed_watermark = res->get_header_value("X-Lambdaflow-Speed-Watermark");
      s.batch_watermark = res->get_header_value("X-Lambdaflow-Batch-Watermark");
      if (s.speed_watermark == std::to_string(events)) {
        s.tsv = res->body;
        return s;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << view << " never covered " << events << " events (speed watermark " << s.speed_watermark << ")";
  return s;
}

TEST(QuantileRun, ServedAnswersAcrossBatchSwapsEqualEvalOverThePrefix) {
  TempDir dir("lf-quantile-run");
  WriteFile(dir.path() / "views.sql", kViews);
  const fs::path all = dir.path() / "all.ndjson";
  ASSERT_EQ(RunShell(ShellQuote(LAMBDAFLOW_BIN) + " produce --count 24000 --seed 5 >" + ShellQuote(all)), 0);
  const std::vector<std::string> lines = test::Split(ReadFile(all), '\n');

  std::string error;
  auto start = [&] {
    return test::ServerProcess::Start(LAMBDAFLOW_BIN,
                                      {"run", "--data", (dir.path() / "data").string(), "--views",
                                       (dir.path() / "views.sql").string(), "--listen", "127.0.0.1:0", "--seal-events",
                                       "1700", "--seal-age", "1", "--batch-interval", "0.2", "--micro-batch-ms", "10"},
                                      dir.path() / "server.err", std::chrono::milliseconds(10000), &error);
  };
  auto server = start();
  ASSERT_NE(server, nullptr) << error;
  auto client = std::make_unique<httplib::Client>(server->host(), server->port());
  client->set_read_timeout(20, 0);

  // Parts of uneven sizes, so that segment ends fall inside them.
  const size_t parts[] = {2500, 900, 4100, 3000, 5200, 1300, 7000};
  size_t sent = 0;
  std::set<std::string> batch_watermarks;
  bool merged = false;  // an answer that took part from a batch version and part from the speed layer
  for (size_t p = 0; p < std::size(parts); ++p) {
    const size_t part = parts[p];
    if (p == 4) {
      // A restart (kill -9): the states are rebuilt from the batch version,
      // the master dataset and the log, split differently again.
      server->Kill9();
      server = start();
      ASSERT_NE(server, nullptr) << error;
      client = std::make_unique<httplib::Client>(server->host(), server->port());
      client->set_read_timeout(20, 0);
    }
    std::string body;
    for (size_t i = sent; i < sent + part; ++i) body += lines[i] + "\n";
    auto res = client->Post("/v1/events", body, "application/x-ndjson");
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    sent += part;
    // The prefix, evaluated alone.
    const fs::path prefix = dir.path() / "prefix.ndjson";
    std::string text;
    for (size_t i = 0; i < sent; ++i) text += lines[i] + "\n";
    WriteFile(prefix, text);
    const fs::path out = dir.path() / "eval";
    ASSERT_EQ(RunShell(ShellQuote(LAMBDAFLOW_BIN) + " eval --views " + ShellQuote(dir.path() / "views.sql") +
                       " --out " + ShellQuote(out) + " --threads 3 " + ShellQuote(prefix) + " 2>/dev/null"),
              0);
    for (const std::string view : {"quantiles", "overall"}) {
      SCOPED_TRACE(view + " after " + std::to_string(sent) + " events");
      Served s = AskCovering(*client, view, sent);
      EXPECT_EQ(s.tsv, ReadFile(out / (view + ".tsv")));
      batch_watermarks.insert(s.batch_watermark);
      const long w = std::atol(s.batch_watermark.c_str());
      merged |= w > 0 && static_cast<size_t>(w) < sent;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the batch loop run
  }
  // The answers came from several batch versions, and some were merges.
  EXPECT_GE(batch_watermarks.size(), 3u);
  EXPECT_TRUE(merged);
  std::string how;
  EXPECT_EQ(server->Terminate(std::chrono::milliseconds(10000), &how), 0) << how;
}

}  // namespace
}  // namespace lf
