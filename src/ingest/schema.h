// The declared shape of a stream (CREATE STREAM): typed, nullable columns
// that JSON events are decoded into, in declaration order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"

namespace lf {

struct ColumnSchema {
  std::string name;  // as written in the CREATE STREAM (quotes removed)
  TypeId type = TypeId::kText;
  bool not_null = false;
};

struct StreamSchema {
  std::string name;
  std::vector<ColumnSchema> columns;

  std::vector<TypeId> types() const {
    std::vector<TypeId> t;
    for (const auto& c : columns) t.push_back(c.type);
    return t;
  }
};

}  // namespace lf
