// RecordBuffer: records copied out of a reader whose views are valid only
// during its callback (the log, a source's tail), kept contiguous, and then
// handed on as views in the order they were added (e.g. to
// MasterStore::Seal). The views are valid until the buffer changes or dies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lf {

class RecordBuffer {
 public:
  void Add(std::string_view record) {
    storage_.append(record);
    ends_.push_back(storage_.size());
  }
  // Room for `records` records of `bytes` in all, so that filling the
  // buffer does not copy it while it grows (a guess above the real size
  // costs address space, not memory: untouched pages are never faulted in).
  void Reserve(size_t records, size_t bytes) {
    storage_.reserve(bytes);
    ends_.reserve(records);
  }
  size_t size() const { return ends_.size(); }
  // One view per record added.
  std::vector<std::string_view> views() const {
    std::vector<std::string_view> out;
    out.reserve(ends_.size());
    size_t begin = 0;
    for (size_t e : ends_) {
      out.emplace_back(storage_.data() + begin, e - begin);
      begin = e;
    }
    return out;
  }

 private:
  std::string storage_;
  std::vector<size_t> ends_;
};

}  // namespace lf
