// A raw-socket HTTP/1.1 client for hostile tests: it sends exactly the
// bytes it is given (any framing, however broken) and reads answers with
// a deadline, so that a test can say what the server did with them.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lf::test {

struct RawAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; check ok().
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Sends all of `bytes`; false when the server closed or reset.
  bool Send(std::string_view bytes);
  // Half-closes: the server reads end of stream.
  void ShutdownWrite();
  // The next answer (Content-Length framed, or up to the close; a HEAD
  // answer has no body: pass `head`; an interim 100 Continue is returned
  // as such), or nullopt when none came complete
  // within `timeout`.
  std::optional<RawAnswer> Read(std::chrono::milliseconds timeout, bool head = false);
  // True when the server closed the connection within `timeout` (answers
  // still unread are dropped).
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  // Reads more into buf_; false on close or when the deadline passed.
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool closed_ = false;
  std::string buf_;
};

// GET `path` on a fresh connection with Host 127.0.0.1:port.
std::optional<RawAnswer> RawGet(int port, const std::string& path, std::chrono::milliseconds timeout,
                                const std::string& extra_headers = "");
// POST `body` on a fresh connection with Content-Length.
std::optional<RawAnswer> RawPost(int port, const std::string& path, const std::string& body,
                                 std::chrono::milliseconds timeout, const std::string& extra_headers = "");

// VmRSS of a process in KiB (0 when unreadable).
long RssKib(int pid);

}  // namespace lf::test
