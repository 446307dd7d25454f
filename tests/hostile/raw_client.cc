#include "hostile/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace lf::test {

using Clock = std::chrono::steady_clock;

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool RawConnection::Fill(Clock::time_point deadline) {
  if (closed_) return false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

std::optional<RawAnswer> RawConnection::Read(std::chrono::milliseconds timeout, bool head) {
  const auto deadline = Clock::now() + timeout;
  {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill(deadline)) return std::nullopt;
    RawAnswer a;
    if (buf_.compare(0, 9, "HTTP/1.1 ") != 0 && buf_.compare(0, 9, "HTTP/1.0 ") != 0) return std::nullopt;
    a.status = std::atoi(buf_.c_str() + 9);
    size_t pos = buf_.find("\r\n") + 2;
    while (pos < end) {
      const size_t eol = buf_.find("\r\n", pos);
      const std::string line = buf_.substr(pos, eol - pos);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      a.headers[name] = value;
      pos = eol + 2;
    }
    const size_t body_at = end + 4;
    if (a.status == 100) {  // interim: no body; the final answer follows (read it with another Read)
      buf_.erase(0, body_at);
      return a;
    }
    if (head) {
      buf_.erase(0, body_at);
      return a;
    }
    if (a.headers.count("content-length")) {
      const size_t total = body_at + std::strtoull(a.Header("content-length").c_str(), nullptr, 10);
      while (buf_.size() < total)
        if (!Fill(deadline)) return std::nullopt;
      a.body = buf_.substr(body_at, total - body_at);
      buf_.erase(0, total);
    } else {
      while (Fill(deadline)) {
      }
      if (!closed_) return std::nullopt;
      a.body = buf_.substr(body_at);
      buf_.clear();
    }
    return a;
  }
}

bool RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Fill(deadline)) buf_.clear();
  return closed_;
}

std::optional<RawAnswer> RawGet(int port, const std::string& path, std::chrono::milliseconds timeout,
                                const std::string& extra_headers) {
  RawConnection c(port);
  if (!c.ok()) return std::nullopt;
  if (!c.Send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + extra_headers + "\r\n"))
    return std::nullopt;
  return c.Read(timeout);
}

std::optional<RawAnswer> RawPost(int port, const std::string& path, const std::string& body,
                                 std::chrono::milliseconds timeout, const std::string& extra_headers) {
  RawConnection c(port);
  if (!c.ok()) return std::nullopt;
  if (!c.Send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body))
    return std::nullopt;
  return c.Read(timeout);
}

long RssKib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

}  // namespace lf::test
