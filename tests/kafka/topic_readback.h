// Reading a topic back for the oracle: every record of a topic (with a
// plain librdkafka consumer, from each partition's log start to its high
// watermark) and the seed events among them as an SQLite table, so that
// answers of `lambdaflow run --source kafka://...` are checked against
// exactly the records the topic holds.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "testing/oracle_support.h"

namespace lf::test {

struct Rec {
  int partition = 0;
  uint64_t offset = 0;
  std::string value;
};

// Every record of `topic` now (from each partition's log start to its high
// watermark), with a plain librdkafka consumer; *ends gets the high
// watermarks.
inline std::vector<Rec> ReadTopic(const std::string& bootstrap, const std::string& topic, int partitions,
                                  std::vector<uint64_t>* ends) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", "readback", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  EXPECT_NE(rk, nullptr) << err;
  if (rk == nullptr) return {};
  rd_kafka_poll_set_consumer(rk);
  ends->assign(static_cast<size_t>(partitions), 0);
  std::vector<uint64_t> next(static_cast<size_t>(partitions), 0);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    // Retried: a test may have injected errors into ListOffsets requests.
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int tries = 0; tries < 20; ++tries) {
      e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2name(e);
    (*ends)[static_cast<size_t>(p)] = static_cast<uint64_t>(hi);
    next[static_cast<size_t>(p)] = static_cast<uint64_t>(lo);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = lo;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<Rec> out;
  auto done = [&] {
    for (int p = 0; p < partitions; ++p)
      if (next[static_cast<size_t>(p)] < (*ends)[static_cast<size_t>(p)]) return false;
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        m->offset < static_cast<int64_t>((*ends)[static_cast<size_t>(m->partition)])) {
      out.push_back(
          {m->partition, static_cast<uint64_t>(m->offset), std::string(static_cast<const char*>(m->payload), m->len)});
      next[static_cast<size_t>(m->partition)] = static_cast<uint64_t>(m->offset) + 1;
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_TRUE(done()) << "the topic could not be read back";
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

// The records as the table events(p, off, zipcode, ProductName, price, timestamp).
inline void LoadEvents(Db& db, const std::vector<Rec>& recs) {
  db.Exec(
      "CREATE TABLE events (p INTEGER, off INTEGER, zipcode INTEGER, ProductName TEXT NOT NULL, price REAL, "
      "timestamp INTEGER NOT NULL)");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", -1, &st, nullptr), SQLITE_OK);
  db.Exec("BEGIN");
  simdjson::dom::parser parser;
  for (const Rec& r : recs) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(r.value).get(doc), simdjson::SUCCESS) << r.value;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, r.partition);
    sqlite3_bind_int64(st, 2, static_cast<int64_t>(r.offset));
    int64_t zip;
    double price;
    std::string_view name, ts_text;
    doc["zipcode"].get(zip) == simdjson::SUCCESS ? sqlite3_bind_int64(st, 3, zip) : sqlite3_bind_null(st, 3);
    ASSERT_EQ(doc["ProductName"].get(name), simdjson::SUCCESS) << r.value;
    sqlite3_bind_text(st, 4, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    doc["price"].get(price) == simdjson::SUCCESS ? sqlite3_bind_double(st, 5, price) : sqlite3_bind_null(st, 5);
    ASSERT_EQ(doc["timestamp"].get(ts_text), simdjson::SUCCESS) << r.value;
    auto ts = ParseTimestamp(ts_text);
    ASSERT_TRUE(ts.has_value()) << r.value;
    sqlite3_bind_int64(st, 6, *ts);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db.get());
  }
  db.Exec("COMMIT");
  sqlite3_finalize(st);
}

}  // namespace lf::test
