// The recursive-descent parser of lambdaflow SQL: views files (CREATE STREAM,
// CREATE VIEW) and queries over views (one SELECT). It checks syntax only;
// names, types and what a view may contain are the binder's business.
//
// Every error is an InvalidArgument whose message has the LocError form
// "views.sql:3:15: expected ')' but found 'FROM'". Constructs lambdaflow does
// not support (joins, subqueries, UNION, WITH) are refused here with a
// message that says why.
//
// Shapes worth knowing when reading the tree:
//  - Expr::text is the expression's exact source slice (parentheses included
//    when written), Expr::loc where it starts.
//  - A qualified column `s.col` keeps only `col` in Expr::name (text keeps
//    "s.col"); `*` and `s.*` in a select list are kStar.
//  - A minus sign written directly before a number is folded into the
//    literal, so -9223372036854775808 is a valid BIGINT.
//  - EXTRACT(field FROM x) is kFunction "extract" with args {Text literal of
//    the field name in lower case, x}; TIMESTAMP 'text' is CAST('text' AS
//    TIMESTAMP).
//  - A table alias after FROM (`FROM events e`) is accepted and dropped.
//  - Trees are at most 1000 levels high and parentheses nest at most 256
//    deep, so that later recursive passes cannot exhaust the stack.
#pragma once

#include <string_view>

#include "common/status.h"
#include "sql/ast.h"

namespace lf::sql {

// Parses a views file: any number of CREATE STREAM and CREATE VIEW statements
// separated by ';' (the last ';' is optional). An empty file is an empty Script.
Result<Script> ParseScript(std::string_view text, std::string_view source_name);

// Parses one SELECT statement, a query over views:
// SELECT ... FROM view [WHERE] [GROUP BY] [HAVING] [ORDER BY] [LIMIT n], with
// an optional trailing ';'.
Result<SelectStmt> ParseQuery(std::string_view text, std::string_view source_name);

}  // namespace lf::sql
