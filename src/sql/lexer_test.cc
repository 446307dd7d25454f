// Tests of the SQL lexer: token kinds, contents, locations and lexical errors.
#include "sql/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lf::sql {
namespace {

std::vector<Token> Lex(std::string_view text) {
  auto r = Tokenize(text, "views.sql");
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    return {};
  }
  return std::move(r).value();
}

std::string LexError(std::string_view text) {
  auto r = Tokenize(text, "views.sql");
  return r.ok() ? "<ok>" : r.status().message();
}

std::vector<TokenKind> Kinds(std::string_view text) {
  std::vector<TokenKind> kinds;
  for (const Token& t : Lex(text)) kinds.push_back(t.kind);
  return kinds;
}

using K = TokenKind;

TEST(Lexer, EmptyInputIsOneEndToken) {
  EXPECT_EQ(Kinds(""), std::vector<K>{K::kEnd});
  EXPECT_EQ(Kinds("  \n\t -- only a comment\n /* and another */ "), std::vector<K>{K::kEnd});
}

TEST(Lexer, Operators) {
  EXPECT_EQ(Kinds("( ) , ; . * + - / % || = == != <> < <= > >="),
            (std::vector<K>{K::kLParen, K::kRParen, K::kComma,   K::kSemicolon, K::kDot, K::kStar, K::kPlus,
                            K::kMinus,  K::kSlash,  K::kPercent, K::kConcat,    K::kEq,  K::kEq,   K::kNe,
                            K::kNe,     K::kLt,     K::kLe,      K::kGt,        K::kGe,  K::kEnd}));
  // Maximal munch without spaces.
  EXPECT_EQ(Kinds("a<=b<>c>=d"), (std::vector<K>{K::kIdentifier, K::kLe, K::kIdentifier, K::kNe, K::kIdentifier, K::kGe,
                                                 K::kIdentifier, K::kEnd}));
}

TEST(Lexer, Numbers) {
  auto toks = Lex("42 4.2 .5 5. 1e3 1.5E-3 2e+7");
  ASSERT_EQ(toks.size(), 8u);
  EXPECT_EQ(toks[0].kind, K::kInteger);
  for (int i = 1; i < 7; ++i) EXPECT_EQ(toks[i].kind, K::kDecimal) << toks[i].text;
  EXPECT_EQ(toks[5].text, "1.5E-3");
}

TEST(Lexer, MalformedNumbers) {
  EXPECT_EQ(LexError("SELECT 12abc"), "views.sql:1:8: malformed number '12abc'");
  EXPECT_EQ(LexError("SELECT 1e"), "views.sql:1:8: malformed number '1e'");
  EXPECT_EQ(LexError("SELECT 1.2.3"), "views.sql:1:8: malformed number '1.2.3'");
}

TEST(Lexer, StringsAndQuotedIdentifiers) {
  auto toks = Lex("'it''s' '' \"My \"\"Col\"\"\" plain_Name1");
  ASSERT_EQ(toks.size(), 5u);
  EXPECT_EQ(toks[0].kind, K::kString);
  EXPECT_EQ(toks[0].value, "it's");
  EXPECT_EQ(toks[0].text, "'it''s'");
  EXPECT_EQ(toks[1].kind, K::kString);
  EXPECT_EQ(toks[1].value, "");
  EXPECT_EQ(toks[2].kind, K::kQuotedIdentifier);
  EXPECT_EQ(toks[2].value, "My \"Col\"");
  EXPECT_EQ(toks[3].kind, K::kIdentifier);
  EXPECT_EQ(toks[3].value, "plain_Name1");
}

TEST(Lexer, StringMaySpanLines) {
  auto toks = Lex("'a\nb' x");
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[0].value, "a\nb");
  EXPECT_EQ(toks[1].loc.line, 2);
  EXPECT_EQ(toks[1].loc.column, 4);
}

TEST(Lexer, LocationsAreOneBasedBytesAndHandleCrLf) {
  auto toks = Lex("ab  cd\r\n  ef\n\n\tgh -- c\n/* x\ny */ ij");
  ASSERT_EQ(toks.size(), 6u);
  EXPECT_EQ(toks[0].loc.line, 1);
  EXPECT_EQ(toks[0].loc.column, 1);
  EXPECT_EQ(toks[1].loc.column, 5);
  EXPECT_EQ(toks[2].loc.line, 2);
  EXPECT_EQ(toks[2].loc.column, 3);
  EXPECT_EQ(toks[3].loc.line, 4);
  EXPECT_EQ(toks[3].loc.column, 2);
  EXPECT_EQ(toks[4].loc.line, 6);
  EXPECT_EQ(toks[4].loc.column, 6);
  EXPECT_EQ(toks[4].offset, std::string_view("ab  cd\r\n  ef\n\n\tgh -- c\n/* x\ny */ ").size());
}

TEST(Lexer, ColumnsCountBytesNotCharacters) {
  auto toks = Lex("'é' x");
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[1].loc.column, 6);
}

TEST(Lexer, ByteOrderMarkIsSkipped) {
  auto toks = Lex("\xEF\xBB\xBFSELECT");
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(toks[0].text, "SELECT");
  EXPECT_EQ(toks[0].loc.column, 1);
}

TEST(Lexer, CommentsEndTokens) {
  EXPECT_EQ(Kinds("a--b\nc/*d*/e"), (std::vector<K>{K::kIdentifier, K::kIdentifier, K::kIdentifier, K::kEnd}));
  EXPECT_EQ(Kinds("a - -1"), (std::vector<K>{K::kIdentifier, K::kMinus, K::kMinus, K::kInteger, K::kEnd}));
  EXPECT_EQ(Kinds("a -- trailing comment without newline"), (std::vector<K>{K::kIdentifier, K::kEnd}));
}

TEST(Lexer, Errors) {
  EXPECT_EQ(LexError("SELECT 'abc"), "views.sql:1:8: unterminated string literal: missing closing '");
  EXPECT_EQ(LexError("SELECT 'it''s"), "views.sql:1:8: unterminated string literal: missing closing '");
  EXPECT_EQ(LexError("SELECT \"abc"), "views.sql:1:8: unterminated quoted identifier: missing closing \"");
  EXPECT_EQ(LexError("SELECT \"\" FROM t"), "views.sql:1:8: zero-length quoted identifier \"\"");
  EXPECT_EQ(LexError("a\n  /* never closed\n*"),
            "views.sql:2:3: unterminated block comment: '/*' without a closing '*/'");
  EXPECT_EQ(LexError("SELECT a @ b"), "views.sql:1:10: unexpected character '@'");
  EXPECT_EQ(LexError("SELECT a\r\n  # b"), "views.sql:2:3: unexpected character '#'");
  EXPECT_EQ(LexError("x ?"), "views.sql:1:3: unexpected character '?'");
  EXPECT_EQ(LexError("x \x01"), "views.sql:1:3: unexpected character byte 0x01");
  EXPECT_EQ(LexError("x \xFF"), "views.sql:1:3: unexpected character byte 0xFF");
  EXPECT_EQ(LexError("x \xE2\x82\xAC"), "views.sql:1:3: unexpected character '\xE2\x82\xAC'");
  EXPECT_EQ(LexError("NOT !a"),
            "views.sql:1:5: unexpected character '!'; use NOT for negation and != or <> for inequality");
  EXPECT_EQ(LexError("a | b"), "views.sql:1:3: unexpected character '|'; use || to concatenate strings");
  EXPECT_EQ(LexError("a::int"), "views.sql:1:2: unexpected '::'; write a cast as CAST(x AS type)");
  EXPECT_EQ(LexError("a `b`"),
            "views.sql:1:3: unexpected character '`'; quote identifiers with double quotes, as in \"my column\"");
}

TEST(Lexer, KeywordsMatchAnyCaseButNotQuoted) {
  auto toks = Lex("select SeLeCt \"SELECT\" selects");
  EXPECT_TRUE(IsKeyword(toks[0], "SELECT"));
  EXPECT_TRUE(IsKeyword(toks[1], "SELECT"));
  EXPECT_FALSE(IsKeyword(toks[2], "SELECT"));
  EXPECT_FALSE(IsKeyword(toks[3], "SELECT"));
}

TEST(Lexer, DescribeToken) {
  auto toks = Lex("FROM ) 'abc' \"Q\" 12");
  EXPECT_EQ(DescribeToken(toks[0]), "'FROM'");
  EXPECT_EQ(DescribeToken(toks[1]), "')'");
  EXPECT_EQ(DescribeToken(toks[2]), "string 'abc'");
  EXPECT_EQ(DescribeToken(toks[3]), "'\"Q\"'");
  EXPECT_EQ(DescribeToken(toks[4]), "'12'");
  EXPECT_EQ(DescribeToken(toks[5]), "end of input");
  const std::string long_text = "'" + std::string(100, 'x') + "'";
  auto long_str = Lex(long_text);
  EXPECT_EQ(DescribeToken(long_str[0]), "string '" + std::string(36, 'x') + "...");
}

}  // namespace
}  // namespace lf::sql
