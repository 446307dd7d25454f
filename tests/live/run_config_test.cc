// `lambdaflow run` settings: a TOML file, flags that win over it, the
// defaults with no arguments, and clear errors for a bad file.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "common/murmur2.h"
#include "testing/oracle_support.h"
#include "testing/server_process.h"

#ifndef LAMBDAFLOW_BIN
#error "LAMBDAFLOW_BIN must name the lambdaflow binary"
#endif

namespace lf::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// A body of `n` seed-shaped events.
std::string Events(int n) {
  std::string body;
  for (int i = 0; i < n; ++i)
    body += R"({"zipcode":95126,"ProductName":"product2","price":16,"timestamp":"2014-11-01 19:35:41.158"})"
            "\n";
  return body;
}

int PostStatus(const ServerProcess& s, const std::string& body) {
  httplib::Client c(s.host(), s.port());
  auto res = c.Post("/v1/events", body, "application/x-ndjson");
  return res ? res->status : 0;
}

// Runs `lambdaflow run ARGS` to completion; returns its exit status and
// stderr.
int RunToExit(const std::string& args, std::string* err, const fs::path& dir) {
  const fs::path out = dir / "stderr.txt";
  const int rc = std::system((std::string(LAMBDAFLOW_BIN) + " run " + args + " >/dev/null 2>" + out.string()).c_str());
  *err = ReadFile(out);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(RunConfig, TomlSettingsAndFlagsThatWin) {
  TempDir dir("lf-config");
  const fs::path config = dir.path() / "lambdaflow.toml";
  WriteFile(config, "# a small body limit\ndata = \"" + (dir.path() / "data").string() +
                        "\"\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 1000\nseal_age = 0.5\n");
  std::string error;
  {
    auto s = ServerProcess::Start(LAMBDAFLOW_BIN, {"run", "--config", config.string()}, dir.path() / "a.err",
                                  milliseconds(10000), &error);
    ASSERT_NE(s, nullptr) << error;
    EXPECT_EQ(PostStatus(*s, Events(5)), 200);                // 5 x ~95 bytes
    EXPECT_EQ(PostStatus(*s, Events(20)), 413);               // over the file's 1000 bytes
    EXPECT_TRUE(fs::exists(dir.path() / "data" / "FORMAT"));  // the file's data directory
    std::string how;
    EXPECT_EQ(s->Terminate(milliseconds(10000), &how), 0) << how;
  }
  {
    // The flag wins over the file; the data directory is resumed.
    auto s = ServerProcess::Start(LAMBDAFLOW_BIN, {"run", "--config", config.string(), "--max-body-bytes", "100000"},
                                  dir.path() / "b.err", milliseconds(10000), &error);
    ASSERT_NE(s, nullptr) << error;
    EXPECT_EQ(PostStatus(*s, Events(20)), 200);
    httplib::Client c(s->host(), s->port());
    // The built-in example views; the speed layer makes the events visible
    // within a micro-batch or so.
    std::string s_watermark;
    for (int i = 0; i < 200 && s_watermark != "25"; ++i) {
      auto res = c.Get("/v1/views/revenue_by_product?format=tsv");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200);
      s_watermark = res->get_header_value("X-Lambdaflow-Speed-Watermark");
      if (s_watermark != "25") std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_EQ(s_watermark, "25");
    std::string how;
    EXPECT_EQ(s->Terminate(milliseconds(10000), &how), 0) << how;
  }
}

// A query's memory budget from the TOML file: over it, a whole-view read
// and a query are answered 400 resource_limit_exceeded (as Druid answers a
// query over a resource limit); a top-k within it is answered.
TEST(RunConfig, QueryBudgetsAnswerWithTheirErrors) {
  TempDir dir("lf-config-budget");
  const fs::path config = dir.path() / "lambdaflow.toml";
  WriteFile(config, "data = \"" + (dir.path() / "data").string() +
                        "\"\nlisten = \"127.0.0.1:0\"\nquery_max_bytes = 2000\nquery_timeout_ms = 60000\n");
  std::string error;
  auto s = ServerProcess::Start(LAMBDAFLOW_BIN, {"run", "--config", config.string()}, dir.path() / "a.err",
                                milliseconds(10000), &error);
  ASSERT_NE(s, nullptr) << error;
  std::string body;
  for (int i = 0; i < 50; ++i)
    body += R"({"zipcode":95126,"ProductName":"product)" + std::to_string(i) +
            R"(","price":16,"timestamp":"2014-11-01 19:35:41.158"})" + "\n";
  ASSERT_EQ(PostStatus(*s, body), 200);
  httplib::Client c(s->host(), s->port());
  int status = 0;
  std::string answer;
  for (int i = 0; i < 200; ++i) {  // until the speed layer has the 50 groups
    auto res = c.Get("/v1/views/revenue_by_product");
    ASSERT_TRUE(res);
    status = res->status;
    answer = res->body;
    if (status != 200) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(status, 400) << answer;
  EXPECT_NE(answer.find("resource_limit_exceeded"), std::string::npos) << answer;
  EXPECT_NE(answer.find("query_max_bytes"), std::string::npos) << answer;
  auto q = c.Post("/v1/query", "SELECT * FROM revenue_by_product", "text/plain");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->status, 400) << q->body;
  EXPECT_NE(q->body.find("resource_limit_exceeded"), std::string::npos) << q->body;
  auto top = c.Post("/v1/query", "SELECT * FROM revenue_by_product ORDER BY orders DESC LIMIT 2", "text/plain");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->status, 200) << top->body;
  std::string how;
  EXPECT_EQ(s->Terminate(milliseconds(10000), &how), 0) << how;
}

TEST(RunConfig, BadFilesAreClearErrors) {
  TempDir dir("lf-config-bad");
  std::string err;
  WriteFile(dir.path() / "unknown.toml", "sael_age = 1\n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "unknown.toml").string(), &err, dir.path()), 2);
  EXPECT_NE(err.find("unknown setting 'sael_age'"), std::string::npos) << err;
  WriteFile(dir.path() / "type.toml", "seal_age = \"ten\"\n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "type.toml").string(), &err, dir.path()), 2);
  EXPECT_NE(err.find("type.toml:1:"), std::string::npos) << err;
  EXPECT_NE(err.find("'seal_age' must be a number"), std::string::npos) << err;
  WriteFile(dir.path() / "syntax.toml", "seal_age = \n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "syntax.toml").string(), &err, dir.path()), 2);
  EXPECT_NE(err.find("syntax.toml:1:"), std::string::npos) << err;
  EXPECT_EQ(RunToExit("--listen nonsense", &err, dir.path()), 2);
  EXPECT_NE(err.find("HOST:PORT"), std::string::npos) << err;
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "missing.toml").string(), &err, dir.path()), 2);
  EXPECT_NE(err.find("missing.toml"), std::string::npos) << err;
}

TEST(RunConfig, KafkaSettingsAreCheckedBeforeAnyBrokerIsAsked) {
  TempDir dir("lf-config-kafka");
  std::string err;
  const std::string data = " --data " + (dir.path() / "data").string();
  WriteFile(dir.path() / "number.toml",
            "source = \"kafka://127.0.0.1:1/events\"\n[kafka]\n\"fetch.wait.max.ms\" = 10\n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "number.toml").string() + data, &err, dir.path()), 2);
  EXPECT_NE(err.find("number.toml:3:"), std::string::npos) << err;
  EXPECT_NE(err.find("[kafka] \"fetch.wait.max.ms\" must be a string"), std::string::npos) << err;
  WriteFile(dir.path() / "table.toml", "kafka = \"yes\"\n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "table.toml").string() + data, &err, dir.path()), 2);
  EXPECT_NE(err.find("'kafka' must be a table of librdkafka properties"), std::string::npos) << err;
  WriteFile(dir.path() / "property.toml",
            "source = \"kafka://127.0.0.1:1/events\"\n[kafka]\n\"no.such.property\" = \"1\"\n");
  EXPECT_NE(RunToExit("--config " + (dir.path() / "property.toml").string() + data, &err, dir.path()), 0);
  EXPECT_NE(err.find("no.such.property"), std::string::npos) << err;
  EXPECT_NE(RunToExit("--source kafka:/x" + data, &err, dir.path()), 0);
  EXPECT_NE(err.find("--source kafka:/x: not a kafka:// URL"), std::string::npos) << err;
  EXPECT_NE(RunToExit("--source kafka://127.0.0.1:1/events --partition-by zipcode" + data, &err, dir.path()), 0);
  EXPECT_NE(err.find("partition_by applies to POST /v1/events"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir.path() / "data")) << "nothing is created before the source is checked";
}

TEST(RunConfig, RequireTokenForReadsIsABooleanThatNeedsAToken) {
  TempDir dir("lf-config-token");
  std::string err;
  WriteFile(dir.path() / "word.toml", "require_token_for_reads = \"yes\"\n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "word.toml").string(), &err, dir.path()), 2);
  EXPECT_NE(err.find("'require_token_for_reads' must be true or false"), std::string::npos) << err;
  WriteFile(dir.path() / "alone.toml", "data = \"" + (dir.path() / "data").string() +
                                           "\"\nlisten = \"127.0.0.1:0\"\nrequire_token_for_reads = true\n");
  EXPECT_EQ(RunToExit("--config " + (dir.path() / "alone.toml").string(), &err, dir.path()), 2);
  EXPECT_NE(err.find("require_token_for_reads needs a token"), std::string::npos) << err;
  // With a token from the file: reads need it.
  WriteFile(dir.path() / "both.toml", "data = \"" + (dir.path() / "data").string() +
                                          "\"\nlisten = \"127.0.0.1:0\"\nrequire_token_for_reads = true\n"
                                          "token = \"t0k\"\n");
  std::string error;
  auto s = ServerProcess::Start(LAMBDAFLOW_BIN, {"run", "--config", (dir.path() / "both.toml").string()},
                                dir.path() / "both.err", milliseconds(10000), &error);
  ASSERT_NE(s, nullptr) << error;
  httplib::Client c(s->host(), s->port());
  auto denied = c.Get("/v1/views");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  auto allowed = c.Get("/v1/views", httplib::Headers{{"Authorization", "Bearer t0k"}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  std::string how;
  EXPECT_EQ(s->Terminate(milliseconds(10000), &how), 0) << how;
}

// --partitions and partition_by: recorded at creation, kept on restart, a
// different count refused naming both; ?partition=P and the key's murmur2.
TEST(RunConfig, PartitionsAreFixedAtCreation) {
  TempDir dir("lf-config-partitions");
  const fs::path data = dir.path() / "data";
  const fs::path config = dir.path() / "p.toml";
  WriteFile(config,
            "data = \"" + data.string() + "\"\nlisten = \"127.0.0.1:0\"\npartitions = 3\npartition_by = \"zipcode\"\n");
  std::string error;
  {
    auto s = ServerProcess::Start(LAMBDAFLOW_BIN, {"run", "--config", config.string()}, dir.path() / "a.err",
                                  milliseconds(10000), &error);
    ASSERT_NE(s, nullptr) << error;
    httplib::Client c(s->host(), s->port());
    auto res = c.Post("/v1/events?partition=2", Events(4), "application/x-ndjson");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_NE(res->body.find("\"offsets\":{\"partition\":2,\"from\":0,\"to\":4}"), std::string::npos) << res->body;
    // By key: zipcode 95126 is one partition, murmur2("95126") % 3.
    const int p = KeyPartition("95126", 3);
    res = c.Post("/v1/events", Events(3), "application/x-ndjson");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    const uint64_t from = p == 2 ? 4 : 0;
    EXPECT_NE(res->body.find("\"ranges\":[{\"partition\":" + std::to_string(p) + ",\"from\":" + std::to_string(from) +
                             ",\"to\":" + std::to_string(from + 3) + "}]"),
              std::string::npos)
        << res->body;
    res = c.Post("/v1/events?partition=3", Events(1), "application/x-ndjson");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_NE(res->body.find("0 to 2"), std::string::npos) << res->body;
    res = c.Post("/v1/events?partition=x", Events(1), "application/x-ndjson");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    auto status = c.Get("/v1/status");
    ASSERT_TRUE(status);
    std::string want_end = p == 2 ? "[0,0,7]" : "[" + std::string(p == 0 ? "3,0,4" : "0,3,4") + "]";
    EXPECT_NE(status->body.find("\"log_end\":" + want_end), std::string::npos) << status->body;
    std::string how;
    EXPECT_EQ(s->Terminate(milliseconds(10000), &how), 0) << how;
  }
  std::string err;
  EXPECT_EQ(RunToExit("--data " + data.string() + " --listen 127.0.0.1:0 --partitions 2", &err, dir.path()), 2);
  EXPECT_NE(err.find("has 3 partitions"), std::string::npos) << err;
  EXPECT_NE(err.find("--partitions 2"), std::string::npos) << err;
  EXPECT_EQ(RunToExit("--data " + (dir.path() / "other").string() + " --listen 127.0.0.1:0 --partition-by nosuch", &err,
                      dir.path()),
            2);
  EXPECT_NE(err.find("no column 'nosuch'"), std::string::npos) << err;
  // Without --partitions the directory's count is kept.
  auto s = ServerProcess::Start(LAMBDAFLOW_BIN, {"run", "--data", data.string(), "--listen", "127.0.0.1:0"},
                                dir.path() / "b.err", milliseconds(10000), &error);
  ASSERT_NE(s, nullptr) << error;
  httplib::Client c(s->host(), s->port());
  auto res = c.Post("/v1/events?partition=2", Events(1), "application/x-ndjson");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  std::string how;
  EXPECT_EQ(s->Terminate(milliseconds(10000), &how), 0) << how;
}

}  // namespace
}  // namespace lf::test
