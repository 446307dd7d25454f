// Tests of InputReader and LineSplitter: chunking at line boundaries, line
// numbers, padding, long lines, zstd input and errors.
#include "ingest/input_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace lf {
namespace {

struct Line {
  std::string text;
  uint64_t no;
};

class InputReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lf_input_reader_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string WriteFile(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    files_.push_back(path);
    return path;
  }
  std::string WriteZstd(const std::string& name, const std::string& bytes) {
    std::string out(ZSTD_compressBound(bytes.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return WriteFile(name, out);
  }

  // Reads the whole input with `buffers` rotating chunk buffers, checking
  // the chunk invariants, and returns its lines.
  Result<std::vector<Line>> ReadAll(const std::string& path, InputReaderOptions opts, int buffers = 2,
                                    int* chunks = nullptr) {
    auto reader = InputReader::Open(path, opts);
    if (!reader.ok()) return reader.status();
    std::vector<ChunkBuffer> bufs(buffers);
    std::vector<Line> lines;
    uint64_t expect_no = 1;
    for (int i = 0;; ++i) {
      ChunkBuffer& buf = bufs[i % buffers];
      Result<bool> more = (*reader)->Next(&buf);
      if (!more.ok()) return more.status();
      if (!*more) break;
      if (chunks != nullptr) ++*chunks;
      const LineChunk& c = buf.chunk();
      EXPECT_GT(c.size, 0u);
      EXPECT_GE(c.padded_capacity, c.size + kJsonPadding);
      EXPECT_EQ(c.first_line_no, expect_no);
      LineSplitter split(c);
      std::string_view line;
      size_t padded;
      uint64_t no;
      while (split.Next(&line, &padded, &no)) {
        EXPECT_EQ(no, expect_no);
        EXPECT_GE(padded, line.size() + kJsonPadding);
        ++expect_no;
        lines.push_back({std::string(line), no});
      }
    }
    // The end is sticky.
    Result<bool> again = (*reader)->Next(&bufs[0]);
    EXPECT_TRUE(again.ok() && !*again);
    return lines;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

std::vector<std::string> Texts(const std::vector<Line>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

std::string MakeLines(int n, std::mt19937* rng, std::vector<std::string>* want) {
  std::string all;
  for (int i = 0; i < n; ++i) {
    std::string line =
        R"({"zipcode":)" + std::to_string(i) + R"(,"ProductName":")" + std::string((*rng)() % 200, 'p') + R"("})";
    want->push_back(line);
    all += line + "\n";
  }
  return all;
}

TEST_F(InputReaderTest, SmallFile) {
  std::string path = WriteFile("a.ndjson", "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n");
  auto lines = ReadAll(path, {});
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(Texts(*lines), (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "", "{\"a\":3}"}));
}

TEST_F(InputReaderTest, LastLineWithoutNewline) {
  std::string path = WriteFile("a.ndjson", "one\ntwo\r\nthree");
  auto lines = ReadAll(path, {});
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(Texts(*lines), (std::vector<std::string>{"one", "two\r", "three"}));
  EXPECT_EQ((*lines)[2].no, 3u);
}

TEST_F(InputReaderTest, EmptyFile) {
  std::string path = WriteFile("empty.ndjson", "");
  auto lines = ReadAll(path, {});
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
}

TEST_F(InputReaderTest, LinesSpanChunkBoundaries) {
  std::mt19937 rng(7);
  std::vector<std::string> want;
  std::string data = MakeLines(3000, &rng, &want);
  std::string path = WriteFile("span.ndjson", data);
  for (size_t chunk : {size_t{300}, size_t{4096}, size_t{65536}}) {
    InputReaderOptions opts;
    opts.chunk_bytes = chunk;
    int chunks = 0;
    auto lines = ReadAll(path, opts, 3, &chunks);
    ASSERT_TRUE(lines.ok()) << lines.status().ToString();
    EXPECT_EQ(Texts(*lines), want) << "chunk " << chunk;
    EXPECT_GT(chunks, static_cast<int>(data.size() / chunk / 2)) << "chunk " << chunk;
  }
}

TEST_F(InputReaderTest, LineLongerThanChunkGrowsTheBuffer) {
  std::string long_line(10000, 'x');
  std::string path = WriteFile("long.ndjson", "a\n" + long_line + "\nb\n");
  InputReaderOptions opts;
  opts.chunk_bytes = 256;
  opts.max_line_bytes = 20000;
  auto lines = ReadAll(path, opts);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(Texts(*lines), (std::vector<std::string>{"a", long_line, "b"}));
}

TEST_F(InputReaderTest, OverlongLineIsCutAndSkipped) {
  std::string huge(100000, 'h');
  std::string path = WriteFile("huge.ndjson", "a\n" + huge + "\nb\n" + huge);
  InputReaderOptions opts;
  opts.chunk_bytes = 1024;
  opts.max_line_bytes = 4000;
  auto reader = InputReader::Open(path, opts);
  ASSERT_TRUE(reader.ok());
  auto lines = ReadAll(path, opts);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 4u);
  EXPECT_EQ((*lines)[0].text, "a");
  EXPECT_EQ((*lines)[1].text, huge.substr(0, 4002));  // longer than max_line_bytes: the decoder rejects it
  EXPECT_EQ((*lines)[2].text, "b");
  EXPECT_EQ((*lines)[2].no, 3u);
  EXPECT_EQ((*lines)[3].text, huge.substr(0, 4002));
  EXPECT_EQ((*lines)[3].no, 4u);

  // The decoder rejects the cut line as too long, not as malformed.
  DecoderOptions dopts;
  dopts.max_line_bytes = opts.max_line_bytes;
  StreamSchema schema;
  schema.columns = {{"a", TypeId::kInt, false}};
  JsonDecoder decoder(schema, dopts);
  Batch batch(schema.types());
  Reject reject;
  bool blank;
  std::string cut = (*lines)[1].text;
  cut.back() = '\r';
  EXPECT_FALSE(decoder.Decode(cut, cut.size(), 2, &batch, &reject, &blank));
  EXPECT_EQ(reject.reason, RejectReason::kLineTooLong);
}

TEST_F(InputReaderTest, OverlongLineMemoryIsBounded) {
  std::string path = WriteFile("huge2.ndjson", std::string(3 << 20, 'h') + "\n{}\n");
  InputReaderOptions opts;
  opts.chunk_bytes = 4096;
  opts.max_line_bytes = 10000;
  auto reader = InputReader::Open(path, opts);
  ASSERT_TRUE(reader.ok());
  ChunkBuffer buf;
  int chunks = 0;
  while (true) {
    auto more = (*reader)->Next(&buf);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ++chunks;
    EXPECT_LE(buf.capacity(), opts.max_line_bytes + 2);
  }
  EXPECT_EQ(chunks, 2);
  EXPECT_EQ(buf.chunk().first_line_no, 2u);
  EXPECT_EQ((*reader)->bytes_read(), (3u << 20) + 4);
}

TEST_F(InputReaderTest, ChunksStayValidWhileOtherBuffersAreFilled) {
  std::mt19937 rng(3);
  std::vector<std::string> want;
  std::string path = WriteFile("rot.ndjson", MakeLines(2000, &rng, &want));
  InputReaderOptions opts;
  opts.chunk_bytes = 1000;
  auto reader = InputReader::Open(path, opts);
  ASSERT_TRUE(reader.ok());
  // Fill four buffers before looking at any of them.
  std::vector<ChunkBuffer> bufs(4);
  std::vector<std::string> got;
  bool end = false;
  while (!end) {
    int filled = 0;
    for (auto& b : bufs) {
      auto more = (*reader)->Next(&b);
      ASSERT_TRUE(more.ok());
      if (!*more) {
        end = true;
        break;
      }
      ++filled;
    }
    for (int i = 0; i < filled; ++i) {
      LineSplitter split(bufs[i].chunk());
      std::string_view line;
      size_t padded;
      uint64_t no;
      while (split.Next(&line, &padded, &no)) got.emplace_back(line);
    }
  }
  EXPECT_EQ(got, want);
}

TEST_F(InputReaderTest, ZstdInput) {
  std::mt19937 rng(11);
  std::vector<std::string> want;
  std::string data = MakeLines(5000, &rng, &want);
  std::string path = WriteZstd("events.ndjson.zst", data);
  for (size_t chunk : {size_t{777}, size_t{4} << 20}) {
    InputReaderOptions opts;
    opts.chunk_bytes = chunk;
    auto lines = ReadAll(path, opts);
    ASSERT_TRUE(lines.ok()) << lines.status().ToString();
    EXPECT_EQ(Texts(*lines), want);
  }
  auto reader = InputReader::Open(path, {});
  ASSERT_TRUE(reader.ok());
  ChunkBuffer buf;
  while (true) {
    auto more = (*reader)->Next(&buf);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
  }
  EXPECT_EQ((*reader)->bytes_decoded(), data.size());
  EXPECT_LT((*reader)->bytes_read(), data.size());
}

TEST_F(InputReaderTest, ZstdConcatenatedFramesAndNoFinalNewline) {
  auto compress = [](const std::string& s) {
    std::string out(ZSTD_compressBound(s.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 1));
    return out;
  };
  std::string path = WriteFile("cat.zst", compress("a\nb") + compress("c\nd"));
  auto lines = ReadAll(path, {});
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(Texts(*lines), (std::vector<std::string>{"a", "bc", "d"}));
}

TEST_F(InputReaderTest, TruncatedZstdIsCorruption) {
  std::mt19937 rng(5);
  std::vector<std::string> want;
  std::string data = MakeLines(2000, &rng, &want);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  for (size_t keep : {out.size() - 1, out.size() / 2, size_t{6}}) {
    std::string path = WriteFile("trunc" + std::to_string(keep) + ".zst", out.substr(0, keep));
    auto lines = ReadAll(path, {});
    ASSERT_FALSE(lines.ok()) << keep;
    EXPECT_EQ(lines.status().code(), StatusCode::kCorruption);
    EXPECT_NE(lines.status().message().find(path), std::string::npos) << lines.status().ToString();
    EXPECT_NE(lines.status().message().find("truncated"), std::string::npos) << lines.status().ToString();
  }
}

TEST_F(InputReaderTest, GarbageZstdIsCorruption) {
  std::string path = WriteFile("bad.zst", "this is not zstd at all\n");
  auto lines = ReadAll(path, {});
  ASSERT_FALSE(lines.ok());
  EXPECT_EQ(lines.status().code(), StatusCode::kCorruption);
  EXPECT_NE(lines.status().message().find(path), std::string::npos);
}

TEST_F(InputReaderTest, MissingFileIsIOError) {
  auto reader = InputReader::Open(dir_ + "/nope.ndjson", {});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kIOError);
  EXPECT_NE(reader.status().message().find("nope.ndjson"), std::string::npos);
  EXPECT_NE(reader.status().message().find("No such file"), std::string::npos) << reader.status().ToString();
}

TEST_F(InputReaderTest, DirectoryIsIOError) {
  auto reader = InputReader::Open(dir_, {});
  ASSERT_TRUE(reader.ok());  // open(2) of a directory succeeds; read(2) fails
  ChunkBuffer buf;
  auto more = (*reader)->Next(&buf);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kIOError);
  EXPECT_NE(more.status().message().find(dir_), std::string::npos) << more.status().ToString();
  // After an error the reader stays at its end.
  auto again = (*reader)->Next(&buf);
  EXPECT_TRUE(again.ok() && !*again);
}

TEST(LineSplitterTest, SplitsLinesWithPadding) {
  std::string data = "a\n\nbc\r\nd";
  data.append(kJsonPadding, ' ');
  LineChunk chunk{data.data(), 8, data.size(), 10};
  LineSplitter split(chunk);
  std::string_view line;
  size_t padded;
  uint64_t no;
  std::vector<std::pair<std::string, uint64_t>> got;
  while (split.Next(&line, &padded, &no)) {
    EXPECT_EQ(padded, data.size() - static_cast<size_t>(line.data() - data.data()));
    got.emplace_back(std::string(line), no);
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, uint64_t>>{{"a", 10}, {"", 11}, {"bc\r", 12}, {"d", 13}}));
}

}  // namespace
}  // namespace lf
