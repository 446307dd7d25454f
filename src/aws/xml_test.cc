// The XML reader on S3's answers (as documented for ListObjectsV2 and
// errors) and on damaged documents.
#include "aws/xml.h"

#include <gtest/gtest.h>

namespace lf::aws {
namespace {

TEST(XmlTest, ListObjectsV2Answer) {
  const char* doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>p/a&amp;b</Key><Size>10</Size></Contents>
  <Contents><Key>p/c</Key><Size>3</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";
  auto root = ParseXml(doc, "listing");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ((*root)->name, "ListBucketResult");
  EXPECT_EQ((*root)->ChildText("IsTruncated"), "true");
  auto contents = (*root)->Children("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->ChildText("Key"), "p/a&b");
  EXPECT_EQ(contents[1]->ChildText("Size"), "3");
  EXPECT_EQ((*root)->ChildText("NextContinuationToken"), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_EQ((*root)->Child("Missing"), nullptr);
  EXPECT_EQ((*root)->ChildText("Missing"), "");
}

TEST(XmlTest, PrefixedNamesMatchByLocalName) {
  auto root = ParseXml(R"(<s3:Error xmlns:s3="x"><s3:Code>SlowDown</s3:Code></s3:Error>)", "error");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ((*root)->name, "Error");
  EXPECT_EQ((*root)->ChildText("Code"), "SlowDown");
}

TEST(XmlTest, MalformedDocumentsAreCorruption) {
  for (const char* bad : {"", "<a>", "<a></b>", "not xml", "<a><b></a>"}) {
    auto r = ParseXml(bad, "answer of GET /b");
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
    EXPECT_NE(r.status().message().find("answer of GET /b"), std::string::npos);
  }
}

}  // namespace
}  // namespace lf::aws
