// `GET /metrics` of a live `lambdaflow run` passes `promtool check metrics`
// (Prometheus' linter) with no warning, and has the latency histograms.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "hostile/raw_client.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test {
namespace {

using std::chrono::milliseconds;

TEST(Metrics, PassPromtoolWithHistograms) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus; scripts/install-deps.sh installs it)";
  TempDir dir("lf-metrics");
  std::string error;
  auto s = ServerProcess::Start(LAMBDAFLOW_BIN,
                                {"run", "--data", (dir.path() / "data").string(), "--listen", "127.0.0.1:0",
                                 "--seal-events", "100", "--batch-interval", "0"},
                                dir.path() / "server.err", milliseconds(20000), &error);
  ASSERT_NE(s, nullptr) << error;
  // Traffic on several routes, a sealed segment and a batch run, so that
  // every family has samples.
  std::string body;
  for (int i = 0; i < 150; ++i)
    body += R"({"zipcode":95126,"ProductName":"product2","price":16,"timestamp":"2014-11-01 19:35:41.158"})"
            "\n";
  ASSERT_EQ(RawPost(s->port(), "/v1/events", body, milliseconds(5000))->status, 200);
  ASSERT_EQ(RawGet(s->port(), "/v1/views/revenue_by_product", milliseconds(5000))->status, 200);
  ASSERT_EQ(RawGet(s->port(), "/nope", milliseconds(5000))->status, 404);
  std::string text;
  for (int i = 0; i < 300; ++i) {  // until a batch run is recorded
    auto a = RawGet(s->port(), "/metrics", milliseconds(5000));
    ASSERT_TRUE(a.has_value());
    ASSERT_EQ(a->status, 200);
    text = a->body;
    if (text.find("lambdaflow_batch_run_duration_seconds_count 0") == std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  for (const char* family :
       {"lambdaflow_http_request_duration_seconds_bucket{route=\"/v1/events\",le=\"+Inf\"} 1",
        "lambdaflow_http_requests_total{route=\"other\",status=\"404\"} 1",
        "lambdaflow_micro_batch_duration_seconds_sum", "lambdaflow_batch_run_duration_seconds_bucket{le=\"60\"}",
        "lambdaflow_freshness_seconds "})
    EXPECT_NE(text.find(family), std::string::npos) << family << " missing in:\n" << text;
  EXPECT_EQ(text.find("lambdaflow_batch_run_duration_seconds_count 0"), std::string::npos) << "no batch run recorded";
  const auto file = dir.path() / "metrics.txt";
  const auto out = dir.path() / "promtool.out";
  WriteFile(file, text);
  const int rc = std::system(("promtool check metrics < " + file.string() + " > " + out.string() + " 2>&1").c_str());
  EXPECT_EQ(rc, 0) << ReadFile(out);
  EXPECT_EQ(ReadFile(out), "") << "promtool warns";
}

}  // namespace
}  // namespace lf::test
