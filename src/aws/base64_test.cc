// Base64 against RFC 4648's test vectors, binary round trips, bad input.
#include "aws/base64.h"

#include <gtest/gtest.h>

namespace lf::aws {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto back = Base64Decode(encoded, "test");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64Test, BinaryRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n < all.size(); n += 37) {
    auto back = Base64Decode(Base64Encode(all.substr(0, n)), "test");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, all.substr(0, n));
  }
}

TEST(Base64Test, BadInputIsCorruption) {
  EXPECT_EQ(Base64Decode("abc", "record 7").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(Base64Decode("a*==", "record 7").status().code(), StatusCode::kCorruption);
  EXPECT_NE(Base64Decode("abc", "record 7").status().message().find("record 7"), std::string::npos);
}

}  // namespace
}  // namespace lf::aws
