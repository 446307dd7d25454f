// The lexer of lambdaflow SQL: turns the text of a views file or a query into
// tokens with source locations. Keywords are not told apart from identifiers
// here (the parser decides by context, case-insensitively); comments and
// whitespace are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace lf::sql {

enum class TokenKind : uint8_t {
  kEnd,               // always the last token
  kIdentifier,        // an unquoted word: a name or a keyword
  kQuotedIdentifier,  // "name", with "" standing for one "
  kInteger,           // 42
  kDecimal,           // 4.2, .5, 1e-3
  kString,            // 'text', with '' standing for one '
  kLParen,
  kRParen,
  kComma,
  kSemicolon,
  kDot,
  kStar,
  kPlus,
  kMinus,
  kSlash,
  kPercent,
  kConcat,  // ||
  kEq,      // = or ==
  kNe,      // != or <>
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // the exact source slice (a view into the lexed text)
  // kIdentifier: the word as written; kString and kQuotedIdentifier: the
  // contents without quotes, doubled quotes collapsed; empty otherwise.
  std::string value;
  SourceLoc loc;
  size_t offset = 0;  // byte offset of `text` in the lexed text

  size_t end() const { return offset + text.size(); }
};

// Splits `text` into tokens ending with one kEnd token. Errors (unterminated
// string, quoted identifier or block comment; a character that starts no
// token; a malformed number) are InvalidArgument in the LocError format,
// naming `source_name`. A leading UTF-8 byte order mark is skipped.
// The tokens view into `text`, which must outlive them.
Result<std::vector<Token>> Tokenize(std::string_view text, std::string_view source_name);

// True if `tok` is the unquoted word `upper_keyword` in any letter case.
// `upper_keyword` must be written in upper case.
bool IsKeyword(const Token& tok, std::string_view upper_keyword);

// True if `tok` is an unquoted word the grammar reserves (SELECT, FROM, JOIN,
// AND, ...). Such words end one part of a statement, so they can be a name or
// an alias only when quoted. Type names, function names and words like
// TIMESTAMP, FILTER or FIRST are not reserved.
bool IsReservedWord(const Token& tok);

// How an error message names a token: 'FROM', ')', string 'abc', end of input.
std::string DescribeToken(const Token& tok);

}  // namespace lf::sql
