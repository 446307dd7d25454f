#include "ingest/seed_generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <string>

#include "common/time.h"

namespace lf {
namespace {

std::string Render(SeedGeneratorOptions o, int n) {
  SeedGenerator gen(o);
  std::string out;
  for (int i = 0; i < n; ++i) gen.AppendEvent(&out);
  return out;
}

TEST(SeedGeneratorTest, SameSeedSameStream) {
  EXPECT_EQ(Render({.seed = 7}, 5000), Render({.seed = 7}, 5000));
  EXPECT_NE(Render({.seed = 7}, 100), Render({.seed = 8}, 100));
}

TEST(SeedGeneratorTest, CopyContinuesTheSameStream) {
  SeedGenerator a({.seed = 3});
  for (int i = 0; i < 10; ++i) a.Next();
  SeedGenerator b = a;
  std::string sa, sb;
  for (int i = 0; i < 100; ++i) {
    a.AppendEvent(&sa);
    b.AppendEvent(&sb);
  }
  EXPECT_EQ(sa, sb);
}

TEST(SeedGeneratorTest, FirstEventStartsAtThePapersTimestamp) {
  const std::string line = Render({}, 1);
  EXPECT_NE(line.find("\"timestamp\":\"2014-11-01 19:35:41.158\"}\n"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

// Pins the stream: changing the generator changes every demo output, stored
// expectation and benchmark input that names its events by (seed, count).
TEST(SeedGeneratorTest, StreamIsStable) {
  const std::string text = Render({.seed = 1}, 10000);
  EXPECT_EQ(
      text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
      "{\"zipcode\":99029,\"ProductName\":\"product10\",\"price\":58,\"timestamp\":\"2014-11-01 19:35:41.158\"}\n"
      "{\"zipcode\":99829,\"ProductName\":\"product1\",\"price\":39,\"timestamp\":\"2014-11-01 19:35:41.298\"}\n");
  EXPECT_EQ(
      text.substr(text.rfind('\n', text.size() - 2) + 1),
      "{\"zipcode\":99108,\"ProductName\":\"product11\",\"price\":75,\"timestamp\":\"2014-11-01 19:52:23.526\"}\n");
}

TEST(SeedGeneratorTest, LinesAreJsonWithTheFourFieldsInRange) {
  constexpr int kEvents = 20000;
  const std::string text = Render({.seed = 42}, kEvents);
  // The DOM API (rather than on-demand) keeps this test quick to compile
  // under the sanitizers.
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  ASSERT_EQ(parser.parse_many(text).get(stream), simdjson::SUCCESS);

  int n = 0;
  int fractional = 0;
  int64_t prev_ms = 0;
  std::set<int64_t> zips;
  std::map<std::string, int> products;
  for (auto doc : stream) {
    simdjson::dom::object obj;
    ASSERT_EQ(doc.get_object().get(obj), simdjson::SUCCESS);
    ASSERT_EQ(obj.size(), 4u);
    int64_t zipcode;
    ASSERT_EQ(obj["zipcode"].get_int64().get(zipcode), simdjson::SUCCESS);
    EXPECT_GE(zipcode, 90000);
    EXPECT_LE(zipcode, 99999);
    zips.insert(zipcode);

    std::string_view product;
    ASSERT_EQ(obj["ProductName"].get_string().get(product), simdjson::SUCCESS);
    ASSERT_EQ(product.substr(0, 7), "product");
    const int number = std::stoi(std::string(product.substr(7)));
    EXPECT_GE(number, 1);
    EXPECT_LE(number, SeedGenerator::kProducts);
    EXPECT_EQ(product, "product" + std::to_string(number));  // no leading zeros
    ++products[std::string(product)];

    simdjson::dom::element price_element;
    ASSERT_EQ(obj["price"].get(price_element), simdjson::SUCCESS);
    double price;
    ASSERT_EQ(price_element.get_double().get(price), simdjson::SUCCESS);
    EXPECT_GE(price, 1.0);
    EXPECT_LT(price, 101.0);
    EXPECT_EQ(price * 4, static_cast<int>(price * 4));  // quarters only
    if (price_element.is_int64()) {
      EXPECT_EQ(price, static_cast<int>(price));
    } else {
      ++fractional;
      EXPECT_NE(price, static_cast<int>(price));
    }

    std::string_view ts;
    ASSERT_EQ(obj["timestamp"].get_string().get(ts), simdjson::SUCCESS);
    ASSERT_EQ(ts.size(), 23u) << ts;
    auto ms = ParseTimestamp(ts);
    ASSERT_TRUE(ms.has_value()) << ts;
    if (n > 0) {
      EXPECT_GE(*ms, prev_ms);
      EXPECT_LE(*ms - prev_ms, SeedGenerator::kMaxDeltaMs);
    }
    prev_ms = *ms;
    ++n;
  }
  EXPECT_EQ(n, kEvents);
  // Skewed but wide: many zip codes, every product, product1 the most common.
  EXPECT_GT(zips.size(), 1000u);
  EXPECT_EQ(products.size(), static_cast<size_t>(SeedGenerator::kProducts));
  for (const auto& [name, c] : products) EXPECT_LE(c, products["product1"]) << name;
  EXPECT_GT(products["product1"], 5 * products["product50"]);
  // About one price in ten has a fraction; mean delta about 100 ms.
  EXPECT_GT(fractional, kEvents / 20);
  EXPECT_LT(fractional, kEvents / 5);
  const double mean_delta = static_cast<double>(prev_ms - 1414870541158) / (kEvents - 1);
  EXPECT_GT(mean_delta, 90);
  EXPECT_LT(mean_delta, 110);
}

TEST(SeedGeneratorTest, NextAndAppendEventAgree) {
  SeedGenerator a({.seed = 5});
  SeedGenerator b({.seed = 5});
  std::string via_next, via_append;
  for (int i = 0; i < 1000; ++i) {
    a.AppendJson(a.Next(), &via_next);
    b.AppendEvent(&via_append);
  }
  EXPECT_EQ(via_next, via_append);
}

TEST(SeedGeneratorTest, ZipCodesOfRanksAreDistinctAndInRange) {
  std::set<int32_t> seen;
  for (int r = 0; r < SeedGenerator::kZipCodes; ++r) {
    const int32_t z = SeedZipCodeOfRank(r);
    EXPECT_GE(z, 90000);
    EXPECT_LE(z, 99999);
    seen.insert(z);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(SeedGenerator::kZipCodes));
}

TEST(SeedGeneratorTest, RendersFractionalPricesAndSecondRollover) {
  SeedGenerator gen({});
  std::string out;
  gen.AppendJson({.zipcode = 95126, .product = 2, .price_quarters = 66, .timestamp_ms = 1414870541999}, &out);
  gen.AppendJson({.zipcode = 98029, .product = 40, .price_quarters = 4, .timestamp_ms = 1414870542000}, &out);
  gen.AppendJson({.zipcode = 90001, .product = 1, .price_quarters = 403, .timestamp_ms = 1414870542001}, &out);
  EXPECT_EQ(
      out,
      "{\"zipcode\":95126,\"ProductName\":\"product2\",\"price\":16.5,\"timestamp\":\"2014-11-01 19:35:41.999\"}\n"
      "{\"zipcode\":98029,\"ProductName\":\"product40\",\"price\":1,\"timestamp\":\"2014-11-01 19:35:42.000\"}\n"
      "{\"zipcode\":90001,\"ProductName\":\"product1\",\"price\":100.75,\"timestamp\":\"2014-11-01 "
      "19:35:42.001\"}\n");
}

}  // namespace
}  // namespace lf
