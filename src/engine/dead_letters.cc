// Reading the dead-letter store from its end; see dead_letters.h.
#include "engine/dead_letters.h"

#include <algorithm>

namespace lf {

Result<std::vector<std::string>> ReadRecentDeadLetters(FileSystem* fs, const std::string& path, size_t limit,
                                                       size_t max_tail_bytes) {
  std::vector<std::string> lines;
  if (limit == 0) return lines;
  ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return lines;
  ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  const uint64_t size = file->size();
  // Blocks are read backwards; `tail` holds [pos, end) of the file.
  constexpr size_t kBlock = 64 << 10;
  std::string tail;
  uint64_t pos = size;
  uint64_t end = size;  // lines end before `end`: bytes after the last '\n' are an append in progress
  bool cut_at_last_newline = false;
  while (true) {
    if (!cut_at_last_newline) {
      const size_t nl = tail.rfind('\n');
      if (nl != std::string::npos) {
        end = pos + nl + 1;
        cut_at_last_newline = true;
      }
    }
    if (cut_at_last_newline) {
      const size_t complete = static_cast<size_t>(end - pos);
      if (static_cast<size_t>(std::count(tail.begin(), tail.begin() + complete, '\n')) > limit) break;
    }
    if (pos == 0 || size - pos >= max_tail_bytes) break;
    const size_t n = static_cast<size_t>(std::min<uint64_t>({kBlock, pos, max_tail_bytes - (size - pos)}));
    std::string block(n, '\0');
    ASSIGN_OR_RETURN(size_t got, file->Read(pos - n, n, block.data()));
    if (got != n) return Status::IOError("short read of the dead-letter store '" + path + "'");
    pos -= n;
    tail.insert(0, block);
  }
  if (!cut_at_last_newline) return lines;
  tail.resize(static_cast<size_t>(end - pos));
  // [line_start, line_end) from the back; the first line is whole only at
  // the file's start.
  size_t line_end = tail.size() - 1;  // at its '\n'
  while (lines.size() < limit) {
    const size_t prev = line_end == 0 ? std::string::npos : tail.rfind('\n', line_end - 1);
    if (prev == std::string::npos && pos != 0) break;  // cut by the tail limit
    const size_t start = prev == std::string::npos ? 0 : prev + 1;
    if (line_end > start) lines.push_back(tail.substr(start, line_end - start));
    if (prev == std::string::npos) break;
    line_end = prev;
  }
  return lines;
}

}  // namespace lf
