// A tiny HTTP/1.1 server on 127.0.0.1 for the network layer's tests, one
// thread per connection, optionally over TLS. Handlers write raw bytes so
// tests can misbehave on purpose. Test-only: included by *_test.cc files.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::net::test_server {

// over TLS. Handlers write raw bytes so tests can misbehave on purpose.

struct SrvRequest {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  bool has(const std::string& name) const {
    for (const auto& h : headers)
      if (h.first == name) return true;
    return false;
  }
  std::string header(const std::string& name) const {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    return "";
  }
};

class Conn {
 public:
  Conn(int fd, SSL* ssl, const std::atomic<bool>& stop) : fd_(fd), ssl_(ssl), stop_(stop) {}
  int fd() const { return fd_; }
  bool stopping() const { return stop_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ssl_ ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                       : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Appends what arrives to buf; false at EOF or error.
  bool fill(std::string& buf) {
    char tmp[65536];
    ssize_t n = ssl_ ? SSL_read(ssl_, tmp, sizeof tmp) : ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  // Waits up to ms for the peer to send or hang up.
  void wait_peer(int ms) {
    pollfd p{fd_, POLLIN, 0};
    for (int waited = 0; waited < ms && !stop_; waited += 50)
      if (::poll(&p, 1, 50) > 0) return;
  }

  bool close_after = false;

 private:
  int fd_;
  SSL* ssl_;
  const std::atomic<bool>& stop_;
};

using Handler = std::function<void(const SrvRequest&, Conn&)>;

inline std::string response(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::string& body, bool content_length = true) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Status\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (content_length) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

class TestServer {
 public:
  // raw: the handler runs once per connection, before any request is read.
  explicit TestServer(Handler h, SSL_CTX* tls = nullptr, bool raw = false)
      : handler_(std::move(h)), tls_(tls), raw_(raw) {
    ::signal(SIGPIPE, SIG_IGN);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
      std::abort();
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : workers_) t.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_; }
  // Connections the client closed (or broke) between requests.
  int hangups() const { return hangups_; }
  std::vector<SrvRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      if (stop_) {
        ::close(fd);
        return;
      }
      accepted_++;
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    SSL* ssl = nullptr;
    if (tls_) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        ::shutdown(fd, SHUT_RDWR);
        return;  // fd closed by the destructor's bookkeeping below
      }
    }
    Conn c(fd, ssl, stop_);
    // Like Go's server: a TLS ClientHello on a plain-HTTP port gets a
    // plain-text 400, so a client probing https first learns at once.
    if (!tls_ && !raw_) {
      char first = 0;
      if (::recv(fd, &first, 1, MSG_PEEK) == 1 && first == 0x16) {
        c.send("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
    }
    if (raw_) {
      handler_(SrvRequest{}, c);
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    std::string buf;
    SrvRequest req;
    while (!stop_ && read_request(c, buf, req)) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      handler_(req, c);
      if (c.close_after) break;
    }
    if (!stop_ && !c.close_after) hangups_++;
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    ::shutdown(fd, SHUT_RDWR);
  }

  static bool read_request(Conn& c, std::string& buf, SrvRequest& out) {
    out = SrvRequest{};
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
      if (buf.size() > (4 << 20) || !c.fill(buf)) return false;
    std::string head = buf.substr(0, end + 2);
    buf.erase(0, end + 4);
    size_t eol = head.find("\r\n");
    std::string line = head.substr(0, eol);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    out.method = line.substr(0, sp1);
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (size_t p = eol + 2; p < head.size();) {
      size_t e = head.find("\r\n", p);
      std::string h = head.substr(p, e - p);
      p = e + 2;
      size_t colon = h.find(':');
      std::string name = h.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.headers.emplace_back(name, value);
    }
    if (out.header("transfer-encoding") == "chunked") {
      for (;;) {
        while ((eol = buf.find("\r\n")) == std::string::npos)
          if (!c.fill(buf)) return false;
        size_t n = std::stoul(buf.substr(0, eol), nullptr, 16);
        buf.erase(0, eol + 2);
        if (n == 0) {
          while (buf.find("\r\n") == std::string::npos)
            if (!c.fill(buf)) return false;
          buf.erase(0, buf.find("\r\n") + 2);  // no trailers in these tests
          return true;
        }
        while (buf.size() < n + 2)
          if (!c.fill(buf)) return false;
        out.body.append(buf, 0, n);
        buf.erase(0, n + 2);
      }
    }
    if (out.has("content-length")) {
      size_t n = std::stoul(out.header("content-length"));
      while (buf.size() < n)
        if (!c.fill(buf)) return false;
      out.body = buf.substr(0, n);
      buf.erase(0, n);
    }
    return true;
  }

  Handler handler_;
  SSL_CTX* tls_;
  bool raw_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> hangups_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> fds_;
  std::vector<SrvRequest> requests_;
};

// A throwaway CA, a server certificate for IP 127.0.0.1 and a client
// certificate, made with the openssl CLI in a temporary directory that goes
// with the object: ca.crt, srv.crt/.key, client.cert/.key, and other.crt
// (an unrelated CA).
class TestCerts {
 public:
  TestCerts() = default;
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;
  ~TestCerts() {
    for (SSL_CTX* c : ctxs_) SSL_CTX_free(c);
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }

  // False when they could not be made (no openssl CLI).
  bool make() {
    char tmpl[] = "/tmp/ferry-http-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) return false;
    dir_ = tmpl;
    std::ofstream(dir_ + "/ext") << "subjectAltName=IP:127.0.0.1\n";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string cmd =
        "cd " + dir_ + " && openssl req -x509" + ec + " -keyout ca.key -out ca.crt -days 2 -subj /CN=ferry-test-ca" +
        " && openssl req" + ec + " -keyout srv.key -out srv.csr -subj /CN=127.0.0.1" +
        " && openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext" +
        " && openssl req" + ec + " -keyout client.key -out client.csr -subj /CN=client" +
        " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.cert -days 2" +
        " && openssl req -x509" + ec + " -keyout other.key -out other.crt -days 2 -subj /CN=other-ca";
    return std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0;
  }

  const std::string& dir() const { return dir_; }

  // The server's TLS context (owned here), optionally demanding a client
  // certificate signed by the CA.
  SSL_CTX* server_ctx(bool require_client_cert) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    ctxs_.push_back(ctx);
    SSL_CTX_use_certificate_file(ctx, (dir_ + "/srv.crt").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, (dir_ + "/srv.key").c_str(), SSL_FILETYPE_PEM);
    if (require_client_cert) {
      SSL_CTX_load_verify_locations(ctx, (dir_ + "/ca.crt").c_str(), nullptr);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return ctx;
  }

 private:
  std::string dir_;
  std::vector<SSL_CTX*> ctxs_;
};

}  // namespace ferry::net::test_server
