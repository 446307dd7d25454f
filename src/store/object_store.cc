// The non-virtual ObjectStore helpers and key validation.
#include "store/object_store.h"

#include <cstring>

namespace lf {

Status ObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> w, NewObject(key));
  RETURN_IF_ERROR(w->Append(data));
  return w->Commit();
}

Status ObjectStore::Put(const std::string& key, std::string_view data) {
  Status st = PutIfAbsent(key, data);
  if (st.code() != StatusCode::kAlreadyExists) return st;
  auto existing = Get(key);
  if (existing.ok() && *existing == data) return Status::OK();
  return Status::AlreadyExists("put " + key + " in " + Describe() +
                               ": an object with other bytes has this name; objects are never overwritten");
}

Result<bool> ObjectStore::Exists(const std::string& key) {
  auto size = Size(key);
  if (size.ok()) return true;
  if (size.status().code() == StatusCode::kNotFound) return false;
  return size.status();
}

namespace {

// Reads an object through ranged gets; its size is fixed when opened
// (objects are never modified).
class RangeReader final : public RandomAccessFile {
 public:
  RangeReader(ObjectStore* store, std::string key, uint64_t size) : store_(store), key_(std::move(key)), size_(size) {}
  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    ASSIGN_OR_RETURN(std::string got, store_->GetRange(key_, offset, n));
    std::memcpy(scratch, got.data(), got.size());
    return got.size();
  }
  uint64_t size() const override { return size_; }

 private:
  ObjectStore* const store_;
  const std::string key_;
  const uint64_t size_;
};

}  // namespace

Result<std::unique_ptr<RandomAccessFile>> ObjectStore::NewReader(const std::string& key) {
  ASSIGN_OR_RETURN(uint64_t size, Size(key));
  return std::unique_ptr<RandomAccessFile>(std::make_unique<RangeReader>(this, key, size));
}

Status ValidateKey(std::string_view key) {
  auto bad = [&](const char* why) { return Status::InvalidArgument("object key '" + std::string(key) + "': " + why); };
  if (key.empty()) return bad("empty");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view part = key.substr(start, end - start);
    if (part.empty()) return bad("empty component (leading, trailing or doubled '/')");
    if (part[0] == '.') return bad("a component starts with '.'");
    for (char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
      if (!ok) return bad("only letters, digits, '.', '_', '-' and '/' are allowed");
    }
    start = end + 1;
  }
  return Status::OK();
}

}  // namespace lf
