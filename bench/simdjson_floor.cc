// The parse-only floor for `lambdaflow eval` over seed-shaped NDJSON: maps
// the file, splits it into T contiguous ranges at newlines, and on T threads
// parses every line with simdjson on-demand, reading all four fields of the
// seed event (zipcode int, ProductName string, price double, timestamp
// string). Nothing is aggregated beyond a checksum that keeps the reads alive.
//
//   simdjson_floor FILE [THREADS]
//
// Prints one line: "lines=N threads=T seconds=S checksum=C errors=E".
// The time covers the parse only, not the mmap call (page faults on first
// touch are included, as they are for any reader of the file).

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Partial {
  uint64_t lines = 0;
  uint64_t errors = 0;
  double checksum = 0;
};

// Parses the lines of [begin, end) (which ends at a newline or at the file's
// end). `file_end` bounds the readable bytes after a line: lines closer than
// SIMDJSON_PADDING to it are copied into a padded buffer first.
Partial ParseRange(const char* begin, const char* end, const char* file_end) {
  Partial out;
  simdjson::ondemand::parser parser;
  std::string tail;  // padded copy for the last lines of the file
  const char* p = begin;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    size_t len = static_cast<size_t>(line_end - p);
    if (len == 0) {
      p = line_end + 1;
      continue;
    }
    const char* buf = p;
    size_t capacity = static_cast<size_t>(file_end - p);
    if (capacity < len + simdjson::SIMDJSON_PADDING) {
      tail.assign(p, len);
      tail.append(simdjson::SIMDJSON_PADDING, ' ');
      buf = tail.data();
      capacity = tail.size();
    }
    ++out.lines;
    auto doc = parser.iterate(buf, len, capacity);
    int64_t zipcode = 0;
    std::string_view product, timestamp;
    double price = 0;
    if (doc.error() || doc["zipcode"].get_int64().get(zipcode) || doc["ProductName"].get_string().get(product) ||
        doc["price"].get_double().get(price) || doc["timestamp"].get_string().get(timestamp)) {
      ++out.errors;
    } else {
      out.checksum += static_cast<double>(zipcode) + price + static_cast<double>(product.size() + timestamp.size());
    }
    p = line_end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s FILE [THREADS]\n", argv[0]);
    return 2;
  }
  int threads = argc == 3 ? std::atoi(argv[2]) : 1;
  if (threads < 1) threads = 1;

  int fd = ::open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    std::perror("fstat");
    return 1;
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    std::printf("lines=0 threads=%d seconds=0 checksum=0 errors=0\n", threads);
    return 0;
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  ::madvise(map, size, MADV_SEQUENTIAL);
  const char* data = static_cast<const char*>(map);
  const char* file_end = data + size;

  // Contiguous ranges, each boundary moved forward to just after a newline.
  std::vector<const char*> bounds{data};
  for (int t = 1; t < threads; ++t) {
    const char* cut = data + size * static_cast<size_t>(t) / static_cast<size_t>(threads);
    if (cut < bounds.back()) cut = bounds.back();
    const char* nl = static_cast<const char*>(std::memchr(cut, '\n', static_cast<size_t>(file_end - cut)));
    bounds.push_back(nl ? nl + 1 : file_end);
  }
  bounds.push_back(file_end);

  auto start = std::chrono::steady_clock::now();
  std::vector<Partial> partials(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] { partials[t] = ParseRange(bounds[t], bounds[t + 1], file_end); });
  }
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Partial total;
  for (const auto& p : partials) {
    total.lines += p.lines;
    total.errors += p.errors;
    total.checksum += p.checksum;
  }
  std::printf("lines=%llu threads=%d seconds=%.6f checksum=%.6g errors=%llu\n",
              static_cast<unsigned long long>(total.lines), threads, seconds, total.checksum,
              static_cast<unsigned long long>(total.errors));
  ::munmap(map, size);
  ::close(fd);
  return total.errors == 0 ? 0 : 1;
}
