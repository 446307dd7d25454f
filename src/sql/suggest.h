// "Did you mean": the closest of some candidate names to a misspelt one,
// for error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lf::sql {

// " (did you mean 'price'?)" when some candidate is within a case-insensitive
// edit distance of about a third of the name's length; "" otherwise.
std::string Suggest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace lf::sql
