#include "plan/result_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

#include "common/format.h"

namespace lf {

Result<ResultFormat> ParseResultFormat(std::string_view s) {
  if (s == "tsv") return ResultFormat::kTsv;
  if (s == "json") return ResultFormat::kJson;
  if (s == "table") return ResultFormat::kTable;
  return Status::InvalidArgument("unknown format '" + std::string(s) + "': use tsv, json or table");
}

void AppendTsvValue(const Value& v, std::string* out) {
  if (v.is_null) {
    out->append("\\N");
    return;
  }
  switch (v.type) {
    case TypeId::kText:
      AppendTsvEscaped(v.s, out);
      break;
    case TypeId::kDouble:
      AppendDouble(v.d, out);
      break;
    case TypeId::kTimestamp:
      AppendTimestamp(v.i, out);
      break;
    case TypeId::kBoolean:
      out->append(v.i ? "true" : "false");
      break;
    default:
      out->append(std::to_string(v.i));
      break;
  }
}

void AppendJsonValue(const Value& v, std::string* out) {
  if (v.is_null) {
    out->append("null");
    return;
  }
  switch (v.type) {
    case TypeId::kText:
      AppendJsonString(v.s, out);
      break;
    case TypeId::kDouble:
      if (std::isfinite(v.d))
        AppendDouble(v.d, out);
      else
        out->append("null");
      break;
    case TypeId::kTimestamp:
      out->push_back('"');
      AppendTimestamp(v.i, out);
      out->push_back('"');
      break;
    case TypeId::kBoolean:
      out->append(v.i ? "true" : "false");
      break;
    default:
      out->append(std::to_string(v.i));
      break;
  }
}

void AppendTsv(const ViewResult& r, std::string* out) {
  for (size_t c = 0; c < r.column_names.size(); ++c) {
    if (c) out->push_back('\t');
    AppendTsvEscaped(r.column_names[c], out);
  }
  out->push_back('\n');
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out->push_back('\t');
      AppendTsvValue(row[c], out);
    }
    out->push_back('\n');
  }
}

void AppendTsvHeader(const std::vector<std::string>& names, std::string* out) {
  for (size_t c = 0; c < names.size(); ++c) {
    if (c) out->push_back('\t');
    AppendTsvEscaped(names[c], out);
  }
  out->push_back('\n');
}

void AppendTsvRows(const std::vector<const Vector*>& cols, const uint32_t* rows, size_t n, std::string* out) {
  char buf[24];
  for (size_t k = 0; k < n; ++k) {
    const uint32_t r = rows[k];
    for (size_t c = 0; c < cols.size(); ++c) {
      if (c) out->push_back('\t');
      const Vector& v = *cols[c];
      if (v.IsNull(r)) {
        out->append("\\N");
        continue;
      }
      switch (v.type) {
        case TypeId::kText:
          AppendTsvEscaped(v.strs[r], out);
          break;
        case TypeId::kDouble:
          AppendDouble(v.dbls[r], out);
          break;
        case TypeId::kTimestamp:
          AppendTimestamp(v.ints[r], out);
          break;
        case TypeId::kBoolean:
          out->append(v.ints[r] ? "true" : "false");
          break;
        default: {
          auto res = std::to_chars(buf, buf + sizeof(buf), v.ints[r]);
          out->append(buf, res.ptr);
        }
      }
    }
    out->push_back('\n');
  }
}

void AppendJson(const ViewResult& r, std::string* out) {
  out->append("{\"view\":");
  AppendJsonString(r.name, out);
  out->append(",\"columns\":[");
  for (size_t c = 0; c < r.column_names.size(); ++c) {
    if (c) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(r.column_names[c], out);
    out->append(",\"type\":\"");
    out->append(TypeName(r.column_types[c]));
    out->append("\"}");
  }
  out->append("],\"rows\":[");
  for (size_t i = 0; i < r.rows.size(); ++i) {
    if (i) out->push_back(',');
    out->push_back('[');
    for (size_t c = 0; c < r.rows[i].size(); ++c) {
      if (c) out->push_back(',');
      AppendJsonValue(r.rows[i][c], out);
    }
    out->push_back(']');
  }
  out->append("]}\n");
}

namespace {
size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
}  // namespace

void AppendTable(const ViewResult& r, std::string* out) {
  const size_t ncols = r.column_names.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(ncols);
  for (size_t c = 0; c < ncols; ++c) width[c] = DisplayWidth(r.column_names[c]);
  for (const auto& row : r.rows) {
    std::vector<std::string> line;
    for (size_t c = 0; c < ncols; ++c) {
      std::string s;
      if (row[c].is_null)
        s = "NULL";
      else
        AppendTsvValue(row[c], &s);
      width[c] = std::max(width[c], DisplayWidth(s));
      line.push_back(std::move(s));
    }
    cells.push_back(std::move(line));
  }
  auto rule = [&]() {
    out->push_back('+');
    for (size_t c = 0; c < ncols; ++c) {
      out->append(width[c] + 2, '-');
      out->push_back('+');
    }
    out->push_back('\n');
  };
  auto line = [&](const std::vector<std::string>& vals, bool header) {
    out->push_back('|');
    for (size_t c = 0; c < ncols; ++c) {
      size_t pad = width[c] - DisplayWidth(vals[c]);
      bool right = !header && IsNumeric(r.column_types[c]);
      out->push_back(' ');
      if (right) out->append(pad, ' ');
      out->append(vals[c]);
      if (!right) out->append(pad, ' ');
      out->append(" |");
    }
    out->push_back('\n');
  };
  out->append(r.name);
  out->append(" (" + std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row)\n" : " rows)\n"));
  rule();
  line(r.column_names, true);
  rule();
  for (const auto& l : cells) line(l, false);
  rule();
}

Status AppendViewTsv(const ViewPlan& plan, const ViewState& state, size_t threads, std::string* out, uint64_t* rows) {
  // Below this many groups per range, a thread costs more than it saves.
  constexpr size_t kMinGroupsPerRange = size_t{1} << 15;
  AppendTsvHeader(plan.output_names(), out);
  const std::vector<uint32_t> order = state.SortedGroups();
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const size_t ranges = std::max<size_t>(1, std::min(threads, order.size() / kMinGroupsPerRange));
  std::vector<std::string> parts(ranges);
  std::vector<Status> status(ranges);
  std::vector<uint64_t> counts(ranges, 0);
  auto run = [&](size_t r) {
    const auto from = order.begin() + static_cast<long>(order.size() * r / ranges);
    const auto to = order.begin() + static_cast<long>(order.size() * (r + 1) / ranges);
    std::string& text = r == 0 ? *out : parts[r];
    status[r] = state.FinalizeGroups(std::vector<uint32_t>(from, to),
                                     [&](const std::vector<const Vector*>& cols, const uint32_t* sel, size_t n) {
                                       AppendTsvRows(cols, sel, n, &text);
                                       counts[r] += n;
                                       return Status::OK();
                                     });
  };
  std::vector<std::thread> pool;
  for (size_t r = 1; r < ranges; ++r) pool.emplace_back(run, r);
  run(0);
  for (auto& t : pool) t.join();
  for (size_t r = 0; r < ranges; ++r) {
    RETURN_IF_ERROR(status[r]);
    if (r > 0) out->append(parts[r]);
    if (rows) *rows += counts[r];
  }
  return Status::OK();
}

void AppendResult(const ViewResult& r, ResultFormat f, std::string* out) {
  switch (f) {
    case ResultFormat::kTsv:
      AppendTsv(r, out);
      break;
    case ResultFormat::kJson:
      AppendJson(r, out);
      break;
    case ResultFormat::kTable:
      AppendTable(r, out);
      break;
  }
}

}  // namespace lf
