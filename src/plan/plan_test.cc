#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>

#include "plan/expr_eval.h"
#include "plan/group_table.h"
#include "plan/result_format.h"
#include "plan/view_plan.h"
#include "sql/binder.h"

namespace lf {
namespace {

TEST(LikeMatch, Patterns) {
  EXPECT_TRUE(LikeMatch("product12", "product%"));
  EXPECT_TRUE(LikeMatch("product12", "%12"));
  EXPECT_TRUE(LikeMatch("product12", "%duct1_"));
  EXPECT_FALSE(LikeMatch("product12", "%duct1"));
  EXPECT_TRUE(LikeMatch("", "%"));
  EXPECT_FALSE(LikeMatch("", "_"));
  EXPECT_TRUE(LikeMatch("a%b", "a%b"));
  EXPECT_TRUE(LikeMatch("héllo", "h_llo"));  // '_' is one character, not one byte
  EXPECT_TRUE(LikeMatch("aaa", "%a%a%a%"));
  EXPECT_FALSE(LikeMatch("aa", "%a%a%a%"));
  EXPECT_FALSE(LikeMatch("Bob", "b%"));  // case-sensitive
}

TEST(GroupTable, ManyKeysGetStableDenseIds) {
  GroupTable table({TypeId::kBigInt, TypeId::kText});
  Batch batch({TypeId::kBigInt, TypeId::kText});
  std::vector<uint32_t> rows(Batch::kCapacity), gids(Batch::kCapacity);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint32_t>(i);
  std::vector<const Vector*> keys = {&batch.columns[0], &batch.columns[1]};
  const int kKeys = 50000;
  std::vector<std::string> names;
  for (int i = 0; i < kKeys; ++i) names.push_back("k" + std::to_string(i % 7));
  for (int pass = 0; pass < 2; ++pass) {
    for (int from = 0; from < kKeys; from += static_cast<int>(Batch::kCapacity)) {
      batch.Clear();
      batch.size = std::min<size_t>(Batch::kCapacity, static_cast<size_t>(kKeys - from));
      for (size_t k = 0; k < batch.size; ++k) {
        int i = from + static_cast<int>(k);
        if (i % 1000 == 0)
          batch.columns[0].SetNull(k);
        else
          batch.columns[0].SetInt(k, i);
        batch.columns[1].SetString(k, batch.arena.Copy(names[static_cast<size_t>(i)]));
      }
      table.FindOrInsert(keys, rows.data(), batch.size, gids.data());
      for (size_t k = 0; k < batch.size; ++k) {
        int i = from + static_cast<int>(k);
        // NULL keys with the same text collapse into one group each.
        if (i % 1000 != 0) {
          ASSERT_EQ(table.key_column(0).ints[gids[k]], i);
        } else {
          ASSERT_TRUE(table.key_column(0).IsNull(gids[k]));
        }
        ASSERT_EQ(table.key_column(1).strs[gids[k]], names[static_cast<size_t>(i)]);
      }
    }
  }
  // 50 NULL-key rows over 7 texts; every other row is its own group.
  std::set<std::string> null_texts;
  for (int i = 0; i < kKeys; i += 1000) null_texts.insert(names[static_cast<size_t>(i)]);
  EXPECT_EQ(table.size(), static_cast<size_t>(kKeys - kKeys / 1000) + null_texts.size());
}

// One text key: texts that share their length and first and last 8 bytes
// (the memo's print) but differ inside still get their own groups, in any
// order and whether or not equal texts share an address.
TEST(GroupTable, TextKeysThatLookAlikeStayApart) {
  GroupTable table({TypeId::kText});
  std::vector<std::string> texts = {"abcdefgh_X_12345678",
                                    "abcdefgh_Y_12345678",
                                    "abcdefgh12345678",
                                    "abcdefgi12345678",
                                    "short",
                                    "shorT",
                                    "",
                                    "a",
                                    "abcdefgh",
                                    "abcdefgh_"};
  std::mt19937 rng(5);
  Batch batch({TypeId::kText});
  std::vector<uint32_t> rows(Batch::kCapacity), gids(Batch::kCapacity);
  std::iota(rows.begin(), rows.end(), 0u);
  std::vector<const Vector*> keys = {&batch.columns[0]};
  std::vector<std::string_view> shared;  // one copy per text: equal texts at one address
  for (const auto& t : texts) shared.push_back(batch.arena.Copy(t));
  std::vector<int64_t> gid_of(texts.size(), -1);
  for (int round = 0; round < 20; ++round) {
    batch.size = Batch::kCapacity;
    std::vector<size_t> which(batch.size);
    for (size_t k = 0; k < batch.size; ++k) {
      which[k] = rng() % texts.size();
      if (rng() % 13 == 0) {
        batch.columns[0].SetNull(k);
        which[k] = texts.size();
      } else {
        batch.columns[0].SetString(k, rng() % 2 ? shared[which[k]] : batch.arena.Copy(texts[which[k]]));
      }
    }
    table.FindOrInsert(keys, rows.data(), batch.size, gids.data());
    for (size_t k = 0; k < batch.size; ++k) {
      if (which[k] == texts.size()) {
        ASSERT_TRUE(table.key_column(0).IsNull(gids[k]));
        continue;
      }
      ASSERT_EQ(table.key_column(0).strs[gids[k]], texts[which[k]]) << round << " " << k;
      if (gid_of[which[k]] < 0) gid_of[which[k]] = gids[k];
      ASSERT_EQ(gid_of[which[k]], gids[k]);
    }
  }
  EXPECT_EQ(table.size(), texts.size() + 1);
}

// Two integer keys drawn from small ranges (many repeats and hash-slot
// collisions) with NULLs in either: the table's group ids equal those of a
// std::unordered_map numbering tuples in order of first sight, whether or
// not the table was sized up front (Reserve), and Find agrees.
TEST(GroupTable, IntegerKeysMatchAReferenceMapWithAndWithoutReserve) {
  using Tuple = std::tuple<bool, int64_t, bool, int64_t>;  // (valid, value) per key
  struct TupleHash {
    size_t operator()(const Tuple& t) const {
      return std::hash<int64_t>()(std::get<1>(t) * 31 + std::get<3>(t)) ^ (std::get<0>(t) << 1) ^ std::get<2>(t);
    }
  };
  for (size_t reserve : {size_t{0}, size_t{100}, size_t{70000}}) {
    SCOPED_TRACE("reserve " + std::to_string(reserve));
    GroupTable table({TypeId::kInt, TypeId::kTimestamp});
    if (reserve) table.Reserve(reserve);
    std::unordered_map<Tuple, uint32_t, TupleHash> reference;
    std::mt19937_64 rng(11);
    Batch batch({TypeId::kInt, TypeId::kTimestamp});
    std::vector<uint32_t> rows(Batch::kCapacity), gids(Batch::kCapacity);
    std::iota(rows.begin(), rows.end(), 0u);
    std::vector<const Vector*> keys = {&batch.columns[0], &batch.columns[1]};
    for (int round = 0; round < 60; ++round) {
      batch.Clear();
      batch.size = Batch::kCapacity;
      std::vector<Tuple> tuples(batch.size);
      for (size_t k = 0; k < batch.size; ++k) {
        // Values 0 (also what a NULL is stored as) and negatives included.
        const bool va = rng() % 10 != 0, vb = rng() % 10 != 0;
        const int64_t a = va ? static_cast<int64_t>(rng() % 300) - 20 : 0;
        const int64_t b = vb ? static_cast<int64_t>(rng() % 200) * 3'600'000 : 0;
        if (va)
          batch.columns[0].SetInt(k, a);
        else
          batch.columns[0].SetNull(k);
        if (vb)
          batch.columns[1].SetInt(k, b);
        else
          batch.columns[1].SetNull(k);
        tuples[k] = {va, a, vb, b};
      }
      table.FindOrInsert(keys, rows.data(), batch.size, gids.data());
      for (size_t k = 0; k < batch.size; ++k) {
        auto [it, fresh] = reference.try_emplace(tuples[k], static_cast<uint32_t>(reference.size()));
        ASSERT_EQ(gids[k], it->second) << "round " << round << " row " << k << (fresh ? " (new)" : "");
        ASSERT_EQ(table.Find(keys, static_cast<uint32_t>(k)), static_cast<int64_t>(it->second));
      }
      ASSERT_EQ(table.size(), reference.size());
    }
    // A tuple never inserted is not found.
    batch.Clear();
    batch.size = 1;
    batch.columns[0].SetInt(0, 1'000'000);
    batch.columns[1].SetNull(0);
    EXPECT_EQ(table.Find(keys, 0), -1);
  }
}

// Random splits of random input: combining partial view states equals one
// pass, for a view with several keys and aggregates.
TEST(ViewState, CombineOfRandomSplitsEqualsOnePass) {
  auto catalog = sql::CompileViews(
      "CREATE STREAM s (k INT, t TEXT, x DOUBLE);"
      "CREATE VIEW v AS SELECT k % 13 AS g, t, COUNT(*) AS n, SUM(x) AS sx, MIN(t) AS mt, AVG(k) AS ak,"
      " APPROX_COUNT_DISTINCT(k) AS dk, COUNT(*) FILTER (WHERE x > 0) AS pos FROM s GROUP BY 1, 2;",
      "test.sql");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto plan = ViewPlan::Compile(catalog->views[0]);
  ASSERT_TRUE(plan.ok());
  std::mt19937_64 rng(7);
  const size_t kRows = 20000;
  auto fill = [&](Batch* b, size_t from, size_t to) {
    b->Clear();
    std::mt19937_64 r(from * 7919 + 1);
    for (size_t i = from; i < to; ++i) {
      size_t k = i - from;
      std::mt19937_64 row_rng(i);
      if (row_rng() % 10 == 0)
        b->columns[0].SetNull(k);
      else
        b->columns[0].SetInt(k, static_cast<int64_t>(row_rng() % 1000));
      b->columns[1].SetString(k, b->arena.Copy(std::string(1, static_cast<char>('a' + row_rng() % 5))));
      if (row_rng() % 7 == 0)
        b->columns[2].SetNull(k);
      else
        b->columns[2].SetDouble(k, static_cast<double>(static_cast<int64_t>(row_rng() % 2001) - 1000) / 8);
    }
    b->size = to - from;
  };
  Batch batch({TypeId::kInt, TypeId::kText, TypeId::kDouble});
  auto one = (*plan)->NewState();
  for (size_t from = 0; from < kRows; from += Batch::kCapacity) {
    fill(&batch, from, std::min(kRows, from + Batch::kCapacity));
    one->Consume(batch);
  }
  auto expected = one->Finalize();
  ASSERT_TRUE(expected.ok());
  std::string expected_tsv;
  AppendTsv(*expected, &expected_tsv);
  for (int trial = 0; trial < 5; ++trial) {
    // Cut points at random positions; each part into its own state.
    std::vector<size_t> cuts = {0, kRows};
    for (int c = 0; c < 4; ++c) cuts.push_back(rng() % kRows);
    std::sort(cuts.begin(), cuts.end());
    std::vector<std::unique_ptr<ViewState>> parts;
    for (size_t p = 0; p + 1 < cuts.size(); ++p) {
      parts.push_back((*plan)->NewState());
      for (size_t from = cuts[p]; from < cuts[p + 1]; from += Batch::kCapacity) {
        fill(&batch, from, std::min(cuts[p + 1], from + Batch::kCapacity));
        parts.back()->Consume(batch);
      }
    }
    std::shuffle(parts.begin(), parts.end(), rng);
    for (size_t p = 1; p < parts.size(); ++p) {
      // CountNewGroups says exactly how many groups the combine adds.
      const size_t before = parts[0]->num_groups();
      const size_t added = parts[0]->CountNewGroups(*parts[p]);
      parts[0]->Combine(*parts[p]);
      ASSERT_EQ(parts[0]->num_groups(), before + added) << "trial " << trial;
    }
    auto got = parts[0]->Finalize();
    ASSERT_TRUE(got.ok());
    std::string got_tsv;
    AppendTsv(*got, &got_tsv);
    ASSERT_EQ(got_tsv, expected_tsv) << "trial " << trial;
  }
  // A serialized state restores exactly, and damage is detected.
  std::string image;
  one->Serialize(&image);
  auto restored = (*plan)->NewState();
  ASSERT_TRUE(restored->Deserialize(image).ok());
  // Loading sizes the state once: no more memory than the state grown row by row.
  EXPECT_LE(restored->MemoryUsage(), one->MemoryUsage());
  EXPECT_EQ(restored->CountNewGroups(*one), 0u);
  EXPECT_EQ((*plan)->NewState()->CountNewGroups(*one), one->num_groups());
  auto again = restored->Finalize();
  ASSERT_TRUE(again.ok());
  std::string again_tsv;
  AppendTsv(*again, &again_tsv);
  EXPECT_EQ(again_tsv, expected_tsv);
  for (size_t pos : {size_t{3}, image.size() / 2, image.size() - 1}) {
    std::string bad = image;
    bad[pos] ^= 0x40;
    EXPECT_EQ((*plan)->NewState()->Deserialize(bad).code(), StatusCode::kCorruption) << pos;
  }
  EXPECT_EQ((*plan)->NewState()->Deserialize(image.substr(0, image.size() / 3)).code(), StatusCode::kCorruption);
}

// A clone is independent of its original: the same rows, unchanged when the
// original grows and after it is gone (text keys and text MIN own their
// bytes); merging into the clone then equals merging into the original.
TEST(ViewState, CloneIsAnIndependentCopy) {
  auto c = sql::CompileViews(
      "CREATE STREAM s (k TEXT, x INT, t TEXT NOT NULL);"
      "CREATE VIEW v AS SELECT k, x % 3 AS m, COUNT(*) AS n, SUM(x) AS total, MIN(t) AS first,"
      "  APPROX_COUNT_DISTINCT(t) AS d, AVG(x) AS a FROM s GROUP BY k, m;",
      "v.sql");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto plan = ViewPlan::Compile(c->views[0]);
  ASSERT_TRUE(plan.ok());
  auto fill = [&](ViewState* state, int from, int to) {
    Batch batch(c->streams[0].types());
    for (int i = from; i < to; ++i) {
      const size_t r = batch.size++;
      if (i % 11 == 0)
        batch.columns[0].SetNull(r);
      else
        batch.columns[0].SetString(r, batch.arena.Copy("key" + std::to_string(i % 37)));
      batch.columns[1].SetInt(r, i);
      batch.columns[2].SetString(r, batch.arena.Copy("t" + std::to_string(i % 101)));
      if (batch.full()) {
        state->Consume(batch);
        batch.Clear();
      }
    }
    state->Consume(batch);
  };
  auto original = (*plan)->NewState();
  fill(original.get(), 0, 5000);
  auto before = original->Finalize();
  ASSERT_TRUE(before.ok());
  auto clone = original->Clone();
  fill(original.get(), 5000, 9000);
  auto grown = original->Finalize();
  ASSERT_TRUE(grown.ok());
  original.reset();
  auto copy = clone->Finalize();
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->rows, before->rows);
  fill(clone.get(), 5000, 9000);
  auto merged = clone->Finalize();
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->rows, grown->rows);
}

// Regression: quantiles of one argument share one sketch, so the second
// aggregate has no state of its own; cloning such a state crashed.
TEST(ViewState, CloneOfSharedQuantileStates) {
  auto c = sql::CompileViews(
      "CREATE STREAM s (k TEXT, x INT, t TEXT NOT NULL);"
      "CREATE VIEW v AS SELECT k, APPROX_QUANTILE(x, 0.5) AS med, APPROX_QUANTILE(x, 0.9) AS p90 FROM s GROUP BY k;",
      "v.sql");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto plan = ViewPlan::Compile(c->views[0]);
  ASSERT_TRUE(plan.ok());
  auto state = (*plan)->NewState();
  Batch batch(c->streams[0].types());
  for (int i = 0; i < 100; ++i) {
    const size_t r = batch.size++;
    batch.columns[0].SetString(r, batch.arena.Copy("k" + std::to_string(i % 3)));
    batch.columns[1].SetInt(r, i);
    batch.columns[2].SetString(r, batch.arena.Copy("t"));
  }
  state->Consume(batch);
  auto want = state->Finalize();
  ASSERT_TRUE(want.ok());
  auto got = state->Clone()->Finalize();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->rows, want->rows);
  EXPECT_EQ((*plan)->NewState()->Clone()->num_groups(), 0u);
}

}  // namespace
}  // namespace lf

namespace lf {
namespace {

// A state finalized while it grows (as the serving layer does) sorts only
// its new groups and merges them in: every finalize must equal a fresh
// state's, for integer keys (the packed sort) and text keys (the general one).
TEST(ViewState, FinalizeWhileGrowingEqualsFreshFinalize) {
  auto catalog = sql::CompileViews(
      "CREATE STREAM s (a INT, t TEXT, v INT);"
      "CREATE VIEW ints AS SELECT a, v % 3 AS m, SUM(v) AS total FROM s GROUP BY a, m;"
      "CREATE VIEW texts AS SELECT t, COUNT(*) AS n FROM s GROUP BY t;",
      "v.sql");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  std::mt19937 rng(3);
  for (const auto& view : catalog->views) {
    auto plan = ViewPlan::Compile(view);
    ASSERT_TRUE(plan.ok());
    auto growing = (*plan)->NewState();
    auto fresh = (*plan)->NewState();
    for (int round = 0; round < 20; ++round) {
      Batch batch(catalog->streams[0].types());
      batch.size = 1 + rng() % 300;
      for (size_t k = 0; k < batch.size; ++k) {
        if (rng() % 17 == 0) {
          batch.columns[0].SetNull(k);
        } else {
          batch.columns[0].SetInt(k, static_cast<int64_t>(rng() % 2000) - 1000);
        }
        batch.columns[1].SetString(k, batch.arena.Copy("t" + std::to_string(rng() % 5000)));
        batch.columns[2].SetInt(k, rng() % 100);
      }
      growing->Consume(batch);
      fresh = (*plan)->NewState();
      fresh->Combine(*growing);
      auto a = growing->Finalize();
      auto b = fresh->Finalize();
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->rows, b->rows) << view.name << " round " << round;
    }
  }
}

// Views large enough for the two-thread sort and the parallel TSV: the rows
// come out in key order (checked against an ordered set), the TSV is the
// same bytes for any number of threads and equals the single-pass
// streaming of FinalizeBatches, and an overflow in the last range fails
// the whole view with the message of the sequential path.
TEST(ViewState, ParallelSortAndTsvEqualSequential) {
  auto catalog = sql::CompileViews(
      "CREATE STREAM s (a INT, t TEXT, v INT);"
      "CREATE VIEW ints AS SELECT a, v % 3 AS m, SUM(v) AS total FROM s GROUP BY a, m;"
      "CREATE VIEW texts AS SELECT t, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY t;",
      "v.sql");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  constexpr int kGroups = 140000;  // above both parallel thresholds
  std::mt19937 rng(11);
  std::vector<int> ids(kGroups);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (const auto& view : catalog->views) {
    auto plan = ViewPlan::Compile(view);
    ASSERT_TRUE(plan.ok());
    auto state = (*plan)->NewState();
    std::set<std::pair<int64_t, int64_t>> int_keys;  // (a or INT64_MIN for NULL, m)
    std::set<std::string> text_keys;
    for (size_t from = 0; from < ids.size(); from += Batch::kCapacity) {
      Batch batch(catalog->streams[0].types());
      batch.size = std::min(Batch::kCapacity, ids.size() - from);
      for (size_t k = 0; k < batch.size; ++k) {
        const int id = ids[from + k];
        const int64_t v = id % 7;
        if (id % 1001 == 0) {
          batch.columns[0].SetNull(k);
          int_keys.insert({INT64_MIN, v % 3});
        } else {
          batch.columns[0].SetInt(k, id / 2 - 30000);  // negative keys too
          int_keys.insert({id / 2 - 30000, v % 3});
        }
        const std::string t = "t" + std::to_string(id);
        text_keys.insert(t);
        batch.columns[1].SetString(k, batch.arena.Copy(t));
        batch.columns[2].SetInt(k, v);
      }
      state->Consume(batch);
    }
    auto result = state->Finalize();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    if (view.name == "ints") {
      ASSERT_EQ(result->rows.size(), int_keys.size());
      size_t i = 0;
      for (const auto& [a, m] : int_keys) {
        const auto& row = result->rows[i++];
        ASSERT_EQ(row[0].is_null, a == INT64_MIN) << i;
        if (a != INT64_MIN) {
          ASSERT_EQ(row[0].i, a) << i;
        }
        ASSERT_EQ(row[1].i, m) << i;
      }
    } else {
      ASSERT_EQ(result->rows.size(), text_keys.size());
      size_t i = 0;
      for (const auto& t : text_keys) ASSERT_EQ(result->rows[i++][0].s, t);
    }
    std::string sequential;
    AppendTsvHeader((*plan)->output_names(), &sequential);
    ASSERT_TRUE(state
                    ->FinalizeBatches([&](const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n) {
                      AppendTsvRows(cols, rows, n, &sequential);
                      return Status::OK();
                    })
                    .ok());
    for (size_t threads : {1, 2, 3}) {
      std::string tsv = "prefix\n";
      uint64_t rows = 0;
      ASSERT_TRUE(AppendViewTsv(**plan, *state, threads, &tsv, &rows).ok());
      EXPECT_EQ(rows, result->rows.size());
      EXPECT_TRUE(tsv == "prefix\n" + sequential) << view.name << ", " << threads << " threads";
    }
    // An integer SUM beyond BIGINT in the group that sorts last.
    Batch big(catalog->streams[0].types());
    big.size = 2;
    for (size_t k = 0; k < 2; ++k) {
      big.columns[0].SetInt(k, 1 << 30);
      big.columns[1].SetString(k, big.arena.Copy("zzz"));
      big.columns[2].SetInt(k, INT64_MAX - 3);  // v % 3 == 1 for both
    }
    state->Consume(big);
    Status expected =
        state->FinalizeBatches([](const std::vector<const Vector*>&, const uint32_t*, size_t) { return Status::OK(); });
    ASSERT_FALSE(expected.ok());
    for (size_t threads : {1, 2, 3}) {
      std::string tsv;
      Status st = AppendViewTsv(**plan, *state, threads, &tsv);
      EXPECT_EQ(st.ToString(), expected.ToString()) << threads << " threads";
    }
  }
}

// Two integer keys come out in key order (NULLs first in each) both when
// their ranges fit one word (the radix sort) and when they do not (the
// comparison sort): extreme values, NULLs in either key, negative keys.
TEST(ViewState, PackedAndComparisonSortsAgree) {
  auto catalog = sql::CompileViews(
      "CREATE STREAM s (a BIGINT, b BIGINT);"
      "CREATE VIEW v AS SELECT a, b, COUNT(*) AS n FROM s GROUP BY a, b;",
      "v.sql");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto plan = ViewPlan::Compile(catalog->views[0]);
  ASSERT_TRUE(plan.ok());
  constexpr int64_t kNull = INT64_MIN;  // stands for NULL in the expected set (sorts first)
  for (const bool wide : {false, true}) {
    std::mt19937_64 rng(wide ? 5 : 6);
    auto state = (*plan)->NewState();
    std::set<std::pair<int64_t, int64_t>> want;
    const std::vector<int64_t> extremes = {INT64_MIN + 1, INT64_MAX, -1, 0};
    auto pick = [&](int which) -> int64_t {
      if (rng() % 50 == 0) return kNull;
      if (wide && rng() % 10 == 0) return extremes[rng() % extremes.size()];
      return static_cast<int64_t>(rng() % 3000) - (which == 0 ? 1500 : 7);
    };
    for (int round = 0; round < 5; ++round) {
      Batch batch(catalog->streams[0].types());
      batch.size = Batch::kCapacity;
      for (size_t k = 0; k < batch.size; ++k) {
        const int64_t a = pick(0), b = pick(1);
        want.insert({a, b});
        if (a == kNull) {
          batch.columns[0].SetNull(k);
        } else {
          batch.columns[0].SetInt(k, a);
        }
        if (b == kNull) {
          batch.columns[1].SetNull(k);
        } else {
          batch.columns[1].SetInt(k, b);
        }
      }
      state->Consume(batch);
    }
    ASSERT_GE(want.size(), 4096u);  // above the radix sort's threshold
    auto result = state->Finalize();
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->rows.size(), want.size());
    size_t i = 0;
    for (const auto& [a, b] : want) {
      const auto& row = result->rows[i++];
      ASSERT_EQ(row[0].is_null, a == kNull) << i << (wide ? " wide" : " narrow");
      if (a != kNull) {
        ASSERT_EQ(row[0].i, a) << i;
      }
      ASSERT_EQ(row[1].is_null, b == kNull) << i << (wide ? " wide" : " narrow");
      if (b != kNull) {
        ASSERT_EQ(row[1].i, b) << i;
      }
    }
  }
}

// Several quantiles of one argument and FILTER share one sketch: updated
// once, written once in the state image, finalized once per quantile.
TEST(ViewPlanTest, QuantilesOfOneColumnShareOneState) {
  auto catalog = sql::CompileViews(
      "CREATE STREAM s (k TEXT, x DOUBLE);\n"
      "CREATE VIEW v AS SELECT k, APPROX_MEDIAN(x) AS m, APPROX_QUANTILE(x, 0.5) AS q50, APPROX_QUANTILE(x, 0.9) AS "
      "q90,\n"
      "  APPROX_QUANTILE(x, 0.99) AS q99, APPROX_QUANTILE(x, 0.9) FILTER (WHERE x > 10) AS f90, COUNT(*) AS n\n"
      "FROM s GROUP BY k;",
      "views.sql");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto plan = ViewPlan::Compile(catalog->views[0]);
  ASSERT_TRUE(plan.ok());
  // MEDIAN and 0.5 are one aggregate; 0.5, 0.9, 0.99 one state; the FILTER another; COUNT a third.
  EXPECT_EQ((*plan)->num_aggregates(), 5u);
  EXPECT_EQ((*plan)->num_states(), 3u);
  auto state = (*plan)->NewState();
  Batch batch({TypeId::kText, TypeId::kDouble});
  batch.size = 1000;
  for (size_t i = 0; i < batch.size; ++i) {
    batch.columns[0].SetString(i, i % 3 ? "a" : "b");
    batch.columns[1].SetDouble(i, static_cast<double>(i) / 10);
  }
  state->Consume(batch);
  std::string image;
  state->Serialize(&image);
  auto back = (*plan)->NewState();
  ASSERT_TRUE(back->Deserialize(image).ok());
  auto a = state->Finalize(), b = back->Finalize();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->rows.size(), 2u);
  EXPECT_TRUE(a->rows == b->rows);
  const auto& row = a->rows[0];  // group a: i % 3 != 0, x = i / 10 in [0.1, 99.9]
  EXPECT_TRUE(row[1] == row[2]);
  EXPECT_LT(row[2].d, row[3].d);
  EXPECT_LT(row[3].d, row[4].d);
  EXPECT_NEAR(row[4].d, 99.0, 99.0 * 0.01 + 0.1);
}

// A 200,000-item IN list binds, compiles and evaluates in linear time (a
// hash set of the items): a quadratic step anywhere would take minutes.
TEST(ExprEval, LongInListsAreLookedUpInAHashSet) {
  std::string ints, texts;
  for (int i = 0; i < 200000; ++i) {
    ints += (i ? ", " : "") + std::to_string(7 * i);
    texts += (i ? ", '" : "'") + std::to_string(7 * i) + "'";
  }
  auto catalog = sql::CompileViews(
      "CREATE STREAM s (x BIGINT);\n"
      "CREATE VIEW v AS SELECT COUNT(*) FILTER (WHERE x IN (" +
          ints +
          ")) AS a,\n"
          "  COUNT(*) FILTER (WHERE CAST(x AS TEXT) NOT IN (" +
          texts +
          ")) AS b,\n"
          "  COUNT(*) FILTER (WHERE CAST(x AS DOUBLE) IN (" +
          ints + ", 0.5)) AS c FROM s;",
      "views.sql");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto plan = ViewPlan::Compile(catalog->views[0]);
  ASSERT_TRUE(plan.ok());
  auto state = (*plan)->NewState();
  Batch batch({TypeId::kBigInt});
  int64_t expected = 0, next = -5000;
  for (int round = 0; round < 20; ++round) {
    batch.Clear();
    batch.size = Batch::kCapacity;
    for (size_t i = 0; i < batch.size; ++i, ++next) {
      batch.columns[0].SetInt(i, next);
      expected += next >= 0 && next % 7 == 0 && next / 7 < 200000;
    }
    state->Consume(batch);
  }
  auto r = state->Finalize();
  ASSERT_TRUE(r.ok());
  const int64_t rows = 20 * static_cast<int64_t>(Batch::kCapacity);
  EXPECT_EQ(r->rows[0][0].i, expected);
  EXPECT_EQ(r->rows[0][1].i, rows - expected);
  EXPECT_EQ(r->rows[0][2].i, expected);
}

}  // namespace
}  // namespace lf
