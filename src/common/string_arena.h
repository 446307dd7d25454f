// StringArena: bump allocation of string bytes that live until Reset().
// Blocks are kept across Reset() so that a steady-state batch loop touches no
// fresh memory. Views handed out stay valid until Reset() or destruction.
// Not thread-safe; one per batch or per table.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace lf {

class StringArena {
 public:
  explicit StringArena(size_t block_size = 64 * 1024) : block_size_(block_size) {}
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;
  StringArena(StringArena&&) = default;
  StringArena& operator=(StringArena&&) = default;

  // Returns `n` writable bytes.
  char* Allocate(size_t n) {
    if (n > remaining_) NewBlock(n);
    char* p = cursor_;
    cursor_ += n;
    remaining_ -= n;
    return p;
  }

  std::string_view Copy(std::string_view s) {
    const size_t n = s.size();
    if (n == 0) return {};
    char* p = Allocate(n);
    const char* src = s.data();
    // Short texts (names, codes) by two overlapping fixed-size moves rather
    // than a call to memcpy.
    if (n >= 8 && n <= 16) {
      std::memcpy(p, src, 8);
      std::memcpy(p + n - 8, src + n - 8, 8);
    } else if (n >= 4 && n < 8) {
      std::memcpy(p, src, 4);
      std::memcpy(p + n - 4, src + n - 4, 4);
    } else {
      std::memcpy(p, src, n);
    }
    return {p, n};
  }

  // Forgets every string; keeps the blocks for reuse.
  void Reset() {
    next_block_ = 0;
    cursor_ = nullptr;
    remaining_ = 0;
  }

  size_t bytes_reserved() const {
    size_t total = 0;
    for (const auto& b : blocks_) total += b.size;
    return total;
  }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };

  void NewBlock(size_t at_least) {
    // Reuse a kept block when it is big enough.
    while (next_block_ < blocks_.size()) {
      Block& b = blocks_[next_block_++];
      if (b.size >= at_least) {
        cursor_ = b.data.get();
        remaining_ = b.size;
        return;
      }
    }
    size_t size = at_least > block_size_ ? at_least : block_size_;
    blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    next_block_ = blocks_.size();
    cursor_ = blocks_.back().data.get();
    remaining_ = size;
  }

  size_t block_size_;
  std::vector<Block> blocks_;
  size_t next_block_ = 0;
  char* cursor_ = nullptr;
  size_t remaining_ = 0;
};

}  // namespace lf
