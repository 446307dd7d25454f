// Hand-written lexer of lambdaflow SQL; see lexer.h.
#include "sql/lexer.h"

#include <algorithm>
#include <cstdio>

namespace lf::sql {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence, marking the cut.
std::string Shorten(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max - 3;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out(s.substr(0, n));
  out += "...";
  return out;
}

// The length of the UTF-8 sequence starting at `s[0]` if it is well formed, else 0.
size_t Utf8Length(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || len > s.size()) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = scanned_ = line_start_ = first_ = 3;
    while (true) {
      RETURN_IF_ERROR(SkipSpaceAndComments());
      Token tok;
      tok.offset = pos_;
      tok.loc = Loc(pos_);
      if (pos_ >= text_.size()) {
        tok.kind = TokenKind::kEnd;
        tok.text = text_.substr(pos_, 0);
        tokens.push_back(std::move(tok));
        return tokens;
      }
      RETURN_IF_ERROR(Scan(tok));
      tok.text = text_.substr(tok.offset, pos_ - tok.offset);
      tokens.push_back(std::move(tok));
    }
  }

 private:
  char Peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  // Lines end at '\n' (so "\r\n" works too). Offsets come mostly in increasing order, so counting resumes
  // where the previous call stopped.
  SourceLoc Loc(size_t offset) {
    if (offset < scanned_) {
      scanned_ = line_start_ = first_;
      line_ = 1;
    }
    while (scanned_ < offset) {
      if (text_[scanned_] == '\n') {
        ++line_;
        line_start_ = scanned_ + 1;
      }
      ++scanned_;
    }
    return SourceLoc{line_, static_cast<int>(offset - line_start_) + 1};
  }

  Status Error(size_t offset, std::string_view message) {
    return Status::InvalidArgument(LocError(source_, Loc(offset), message));
  }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (IsSpace(c)) {
        ++pos_;
      } else if (c == '-' && Peek(1) == '-') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        const size_t start = pos_;
        const size_t close = text_.find("*/", pos_ + 2);
        if (close == std::string_view::npos)
          return Error(start, "unterminated block comment: '/*' without a closing '*/'");
        pos_ = close + 2;
      } else {
        break;
      }
    }
    return Status::OK();
  }

  Status Scan(Token& tok) {
    const char c = text_[pos_];
    if (IsIdentStart(c)) {
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      tok.kind = TokenKind::kIdentifier;
      tok.value = std::string(text_.substr(tok.offset, pos_ - tok.offset));
      return Status::OK();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return ScanNumber(tok);
    if (c == '\'') return ScanQuoted(tok, '\'', TokenKind::kString, "unterminated string literal: missing closing '");
    if (c == '"') {
      RETURN_IF_ERROR(
          ScanQuoted(tok, '"', TokenKind::kQuotedIdentifier, "unterminated quoted identifier: missing closing \""));
      if (tok.value.empty()) return Error(tok.offset, "zero-length quoted identifier \"\"");
      return Status::OK();
    }
    return ScanOperator(tok);
  }

  // digits [. digits] [e [+-] digits], or . digits [e ...]. A letter right
  // after a number (12abc, 1e) is an error rather than two tokens.
  Status ScanNumber(Token& tok) {
    bool decimal = false;
    while (IsDigit(Peek())) ++pos_;
    if (Peek() == '.') {
      decimal = true;
      ++pos_;
      while (IsDigit(Peek())) ++pos_;
    }
    if ((Peek() == 'e' || Peek() == 'E') &&
        (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
      decimal = true;
      pos_ += 2;
      while (IsDigit(Peek())) ++pos_;
    }
    if (IsIdentChar(Peek()) || Peek() == '.') {
      while (IsIdentChar(Peek()) || Peek() == '.') ++pos_;
      std::string msg = "malformed number '";
      msg += Shorten(text_.substr(tok.offset, pos_ - tok.offset), 40);
      msg += "'";
      return Error(tok.offset, msg);
    }
    tok.kind = decimal ? TokenKind::kDecimal : TokenKind::kInteger;
    return Status::OK();
  }

  Status ScanQuoted(Token& tok, char quote, TokenKind kind, std::string_view unterminated) {
    ++pos_;
    while (true) {
      const size_t close = text_.find(quote, pos_);
      if (close == std::string_view::npos) return Error(tok.offset, unterminated);
      tok.value.append(text_.substr(pos_, close - pos_));
      pos_ = close + 1;
      if (Peek() != quote) break;
      tok.value += quote;  // a doubled quote stands for one
      ++pos_;
    }
    tok.kind = kind;
    return Status::OK();
  }

  Status ScanOperator(Token& tok) {
    const char c = text_[pos_];
    const char next = Peek(1);
    auto one = [&](TokenKind k) {
      tok.kind = k;
      pos_ += 1;
      return Status::OK();
    };
    auto two = [&](TokenKind k) {
      tok.kind = k;
      pos_ += 2;
      return Status::OK();
    };
    switch (c) {
      case '(':
        return one(TokenKind::kLParen);
      case ')':
        return one(TokenKind::kRParen);
      case ',':
        return one(TokenKind::kComma);
      case ';':
        return one(TokenKind::kSemicolon);
      case '.':
        return one(TokenKind::kDot);
      case '*':
        return one(TokenKind::kStar);
      case '+':
        return one(TokenKind::kPlus);
      case '-':
        return one(TokenKind::kMinus);
      case '/':
        return one(TokenKind::kSlash);
      case '%':
        return one(TokenKind::kPercent);
      case '=':
        return next == '=' ? two(TokenKind::kEq) : one(TokenKind::kEq);
      case '<':
        if (next == '=') return two(TokenKind::kLe);
        if (next == '>') return two(TokenKind::kNe);
        return one(TokenKind::kLt);
      case '>':
        return next == '=' ? two(TokenKind::kGe) : one(TokenKind::kGt);
      case '!':
        if (next == '=') return two(TokenKind::kNe);
        return Error(pos_, "unexpected character '!'; use NOT for negation and != or <> for inequality");
      case '|':
        if (next == '|') return two(TokenKind::kConcat);
        return Error(pos_, "unexpected character '|'; use || to concatenate strings");
      case ':':
        if (next == ':') return Error(pos_, "unexpected '::'; write a cast as CAST(x AS type)");
        break;
      case '`':
        return Error(pos_, "unexpected character '`'; quote identifiers with double quotes, as in \"my column\"");
      default:
        break;
    }
    return UnexpectedCharacter();
  }

  Status UnexpectedCharacter() {
    const size_t len = Utf8Length(text_.substr(pos_));
    const auto byte = static_cast<unsigned char>(text_[pos_]);
    std::string msg = "unexpected character ";
    if (len == 1 && byte >= 0x20 && byte < 0x7F) {
      msg += '\'';
      msg += text_[pos_];
      msg += '\'';
    } else if (len > 1) {
      msg += '\'';
      msg += text_.substr(pos_, len);
      msg += '\'';
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02X", byte);
      msg += "byte ";
      msg += hex;
    }
    return Error(pos_, msg);
  }

  const std::string_view text_;
  const std::string_view source_;
  size_t pos_ = 0;
  // Location bookkeeping: everything before `scanned_` has been counted.
  size_t scanned_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
  size_t first_ = 0;  // past the byte order mark, if any
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view text, std::string_view source_name) {
  return Lexer(text, source_name).Run();
}

bool IsKeyword(const Token& tok, std::string_view upper_keyword) {
  if (tok.kind != TokenKind::kIdentifier || tok.text.size() != upper_keyword.size()) return false;
  return std::equal(tok.text.begin(), tok.text.end(), upper_keyword.begin(),
                    [](char a, char b) { return ToUpper(a) == b; });
}

bool IsReservedWord(const Token& tok) {
  static constexpr std::string_view kReserved[] = {
      "ALL",   "AND",   "AS",     "ASC",    "BETWEEN", "BY",      "CASE",  "CREATE", "CROSS",  "DESC",  "DISTINCT",
      "ELSE",  "END",   "EXCEPT", "FALSE",  "FROM",    "FULL",    "GROUP", "HAVING", "IN",     "INNER", "INTERSECT",
      "IS",    "JOIN",  "LEFT",   "LIKE",   "LIMIT",   "NATURAL", "NOT",   "NULL",   "OFFSET", "ON",    "OR",
      "ORDER", "OUTER", "RIGHT",  "SELECT", "THEN",    "TRUE",    "UNION", "USING",  "WHEN",   "WHERE", "WITH"};
  return tok.kind == TokenKind::kIdentifier && std::any_of(std::begin(kReserved), std::end(kReserved),
                                                           [&](std::string_view kw) { return IsKeyword(tok, kw); });
}

std::string DescribeToken(const Token& tok) {
  switch (tok.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kString:
      return "string " + Shorten(tok.text, 40);
    default:
      return "'" + Shorten(tok.text, 40) + "'";
  }
}

}  // namespace lf::sql
