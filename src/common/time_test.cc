#include "common/time.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

constexpr int64_t kSeedTs = 1414870541158;  // 2014-11-01 19:35:41.158 UTC

TEST(ParseTimestamp, SeedForm) { EXPECT_EQ(ParseTimestamp("2014-11-01 19:35:41.158"), kSeedTs); }

TEST(ParseTimestamp, IsoForms) {
  EXPECT_EQ(ParseTimestamp("2014-11-01T19:35:41.158Z"), kSeedTs);
  EXPECT_EQ(ParseTimestamp("2014-11-01T21:35:41.158+02:00"), kSeedTs);
  EXPECT_EQ(ParseTimestamp("2014-11-01T18:35:41.158-0100"), kSeedTs);
  EXPECT_EQ(ParseTimestamp("2014-11-01T19:35:41.158123456Z"), kSeedTs);
  EXPECT_EQ(ParseTimestamp("2014-11-01T19:35:41Z"), kSeedTs - 158);
  EXPECT_EQ(ParseTimestamp("2014-11-01 19:35"), kSeedTs - 41158);
  EXPECT_EQ(ParseTimestamp("1970-01-01"), 0);
  EXPECT_EQ(ParseTimestamp("1969-12-31 23:59:59.999"), -1);
}

TEST(ParseTimestamp, RejectsBadForms) {
  for (const char* s :
       {"", "2014", "2014-13-01", "2014-02-29", "2014-11-01 24:00:00", "2014-11-01 19:60", "2014-11-01X19:35",
        "2014-11-01 19:35:41.", "2014-11-01 19:35:41Zjunk", "hello", "2014-11-01T19:35:41+25:00"}) {
    EXPECT_FALSE(ParseTimestamp(s).has_value()) << s;
  }
  EXPECT_TRUE(ParseTimestamp("2016-02-29").has_value());
}

TEST(TruncateTimestamp, Units) {
  int64_t ts = *ParseTimestamp("2014-11-05 19:35:41.158");  // a Wednesday
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kSecond, ts), *ParseTimestamp("2014-11-05 19:35:41"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kMinute, ts), *ParseTimestamp("2014-11-05 19:35"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kHour, ts), *ParseTimestamp("2014-11-05 19:00"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kDay, ts), *ParseTimestamp("2014-11-05"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kWeek, ts), *ParseTimestamp("2014-11-03"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kMonth, ts), *ParseTimestamp("2014-11-01"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kQuarter, ts), *ParseTimestamp("2014-10-01"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kYear, ts), *ParseTimestamp("2014-01-01"));
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kHour, -1), -3600000);
}

TEST(ExtractField, Fields) {
  int64_t ts = *ParseTimestamp("2014-11-05 19:35:41.158");
  EXPECT_EQ(ExtractField(TimeField::kYear, ts), 2014);
  EXPECT_EQ(ExtractField(TimeField::kMonth, ts), 11);
  EXPECT_EQ(ExtractField(TimeField::kDay, ts), 5);
  EXPECT_EQ(ExtractField(TimeField::kHour, ts), 19);
  EXPECT_EQ(ExtractField(TimeField::kMinute, ts), 35);
  EXPECT_EQ(ExtractField(TimeField::kSecond, ts), 41);
  EXPECT_EQ(ExtractField(TimeField::kDayOfWeek, ts), 3);
  EXPECT_EQ(ExtractField(TimeField::kDayOfYear, ts), 309);
  EXPECT_EQ(ExtractField(TimeField::kQuarter, ts), 4);
  EXPECT_EQ(ExtractField(TimeField::kWeek, ts), 45);
  EXPECT_EQ(ExtractField(TimeField::kEpoch, ts), 1415216141);
}

}  // namespace
// The supported range: both ends parse, print and round-trip; one
// millisecond beyond does not parse; every calendar function stays in range
// at the edges (no overflow: the UBSan build checks too).
TEST(TimestampRange, EdgesParseAndCalendarFunctionsStayInRange) {
  EXPECT_EQ(ParseTimestamp("0001-01-01"), kMinTimestampMs);
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59.999Z"), kMaxTimestampMs);
  EXPECT_EQ(ParseTimestamp("0000-12-31 23:59:59.999"), std::nullopt);
  EXPECT_EQ(ParseTimestampUnchecked("0000-12-31 23:59:59.999"), kMinTimestampMs - 1);
  EXPECT_EQ(ParseTimestamp("0001-01-01T00:00:00+00:01"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59.999-00:01"), std::nullopt);
  EXPECT_TRUE(InTimestampRange(kMinTimestampMs) && InTimestampRange(kMaxTimestampMs));
  EXPECT_FALSE(InTimestampRange(kMinTimestampMs - 1) || InTimestampRange(kMaxTimestampMs + 1));
  for (int64_t ms : {kMinTimestampMs, kMinTimestampMs + 1, kMaxTimestampMs, kMaxTimestampMs - 1, int64_t{0}}) {
    for (TimeUnit u : {TimeUnit::kMillisecond, TimeUnit::kSecond, TimeUnit::kMinute, TimeUnit::kHour, TimeUnit::kDay,
                       TimeUnit::kWeek, TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear}) {
      const int64_t t = TruncateTimestamp(u, ms);
      EXPECT_TRUE(InTimestampRange(t)) << ms << " " << TimeUnitName(u) << " -> " << t;
      EXPECT_LE(t, ms);
    }
    const int64_t year = ExtractField(TimeField::kYear, ms);
    EXPECT_TRUE(year >= 1 && year <= 9999) << ms;
    const int64_t week = ExtractField(TimeField::kWeek, ms);
    EXPECT_TRUE(week >= 1 && week <= 53) << ms;
  }
  EXPECT_EQ(TruncateTimestamp(TimeUnit::kWeek, kMinTimestampMs), kMinTimestampMs);  // 0001-01-01 is a Monday
}

}  // namespace lf
