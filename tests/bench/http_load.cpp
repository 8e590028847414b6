// bench_http_load: an open-loop HTTP load generator for POST /orders, the wrk2 approach.
//
//   bench_http_load --port P [--host 127.0.0.1] [--rate R] [--seconds S] [--connections C]
//
// Opens C keep-alive connections first (all of them, before the clock starts), then schedules
// one request every 1/R s. A request goes out on an idle connection; when none is idle it waits,
// and its latency still counts from its scheduled time, so a stalled server cannot hide its
// stall by slowing the client down (coordinated omission). Prints one machine-readable line:
//   HTTPLOAD sent=... created=... other=... errors=... connections=... p50_us=... p99_us=...
// With a rate of 0 every connection sends its next request as soon as its answer is in (closed
// loop, like wrk). One thread, one io_context; the client measures, it does not need to be fast
// beyond the rates it is asked for.
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr std::string_view body = R"({"user":"John Doe","item":"Shoes","quantity":2})";

std::string request_bytes(std::string_view host) {
  std::string r = "POST /orders HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\nContent-Type: application/json\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  double rate = 5000;
  double seconds = 10;
  std::size_t connections = 64;
};

class load;

/// One keep-alive connection: one request at a time; reads one response (headers plus a body of
/// Content-Length bytes) per request.
class connection {
 public:
  connection(asio::io_context& io, load& owner) : socket_(io), owner_(owner) {}
  tcp::socket socket_;
  asio::streambuf in_;
  load& owner_;
  clock_type::time_point scheduled_{};
  bool busy_ = false;
  bool dead_ = false;

  void send(clock_type::time_point scheduled);
  void on_headers(const boost::system::error_code& ec, std::size_t header_bytes);
};

class load {
 public:
  load(asio::io_context& io, options o)
      : io_(io), opt_(std::move(o)), request_(request_bytes(opt_.host)), tick_(io) {}

  int run() {
    const tcp::endpoint ep(asio::ip::make_address(opt_.host), opt_.port);
    for (std::size_t i = 0; i < opt_.connections; ++i) {
      auto c = std::make_unique<connection>(io_, *this);
      boost::system::error_code ec;
      c->socket_.connect(ep, ec);
      if (ec) {
        std::fprintf(stderr, "connect %zu: %s\n", i, ec.message().c_str());
        ++errors_;
        continue;
      }
      c->socket_.set_option(tcp::no_delay(true));
      idle_.push_back(c.get());
      conns_.push_back(std::move(c));
    }
    start_ = clock_type::now();
    end_ = start_ + std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::duration<double>(opt_.seconds));
    if (opt_.rate > 0) {
      interval_ = std::chrono::duration_cast<clock_type::duration>(
          std::chrono::duration<double>(1.0 / opt_.rate));
      next_ = start_;
      tick();
    } else {
      for (auto* c : std::vector<connection*>(idle_.begin(), idle_.end())) {
        idle_.pop_front();
        c->send(clock_type::now());
      }
    }
    io_.run();
    report();
    return 0;
  }

  /// Pacing: every due request is scheduled; the timer wakes at the next due time.
  void tick() {
    const auto now = clock_type::now();
    while (next_ <= now && next_ < end_) {
      backlog_.push_back(next_);
      next_ += interval_;
    }
    dispatch();
    if (next_ < end_) {
      tick_.expires_at(next_);
      tick_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
      });
    } else {
      ticking_done_ = true;
      maybe_finish();
    }
  }

  void dispatch() {
    while (!backlog_.empty() && !idle_.empty()) {
      auto* c = idle_.front();
      idle_.pop_front();
      const auto t = backlog_.front();
      backlog_.pop_front();
      c->send(t);
    }
  }

  void answered(connection& c, int status) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - c.scheduled_)
            .count();
    latencies_.push_back(us);
    (status == 201 ? created_ : other_)++;
    c.busy_ = false;
    if (opt_.rate > 0) {
      idle_.push_back(&c);
      dispatch();
      maybe_finish();
    } else if (clock_type::now() < end_) {
      c.send(clock_type::now());
    } else {
      maybe_finish();
    }
  }

  void failed(connection& c, const boost::system::error_code& ec) {
    if (!c.dead_) {
      std::fprintf(stderr, "connection error: %s\n", ec.message().c_str());
      ++errors_;
    }
    c.dead_ = true;
    c.busy_ = false;
    boost::system::error_code ignored;
    c.socket_.close(ignored);
    maybe_finish();
  }

  void maybe_finish() {
    if (opt_.rate > 0 && !ticking_done_) return;
    if (opt_.rate > 0 && !backlog_.empty() && !all_dead()) return;
    for (const auto& c : conns_)
      if (c->busy_) return;
    tick_.cancel();
    for (const auto& c : conns_) {
      boost::system::error_code ignored;
      c->socket_.close(ignored);
    }
  }

  bool all_dead() const {
    return std::all_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->dead_; });
  }

  void report() {
    const auto took = std::chrono::duration<double>(clock_type::now() - start_).count();
    std::sort(latencies_.begin(), latencies_.end());
    auto pct = [&](double q) -> long long {
      if (latencies_.empty()) return -1;
      const auto i = static_cast<std::size_t>(q * static_cast<double>(latencies_.size() - 1));
      return latencies_[i];
    };
    std::printf(
        "HTTPLOAD sent=%zu created=%llu other=%llu errors=%llu connections=%zu rate=%.0f "
        "seconds=%.3f p50_us=%lld p90_us=%lld p99_us=%lld p999_us=%lld max_us=%lld "
        "unsent=%zu\n",
        latencies_.size(), static_cast<unsigned long long>(created_),
        static_cast<unsigned long long>(other_), static_cast<unsigned long long>(errors_),
        conns_.size(), opt_.rate, took, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
        latencies_.empty() ? -1 : latencies_.back(), backlog_.size());
  }

  const std::string& request() const { return request_; }

 private:
  asio::io_context& io_;
  options opt_;
  std::string request_;
  asio::steady_timer tick_;
  std::vector<std::unique_ptr<connection>> conns_;
  std::deque<connection*> idle_;
  std::deque<clock_type::time_point> backlog_;
  std::vector<long long> latencies_;
  clock_type::time_point start_{}, end_{}, next_{};
  clock_type::duration interval_{};
  std::uint64_t created_ = 0, other_ = 0, errors_ = 0;
  bool ticking_done_ = false;
};

void connection::send(clock_type::time_point scheduled) {
  if (dead_) return owner_.maybe_finish();
  busy_ = true;
  scheduled_ = scheduled;
  asio::async_write(socket_, asio::buffer(owner_.request()),
                    [this](const boost::system::error_code& ec, std::size_t) {
                      if (ec) return owner_.failed(*this, ec);
                      asio::async_read_until(socket_, in_, "\r\n\r\n",
                                             [this](const boost::system::error_code& e,
                                                    std::size_t n) { on_headers(e, n); });
                    });
}

void connection::on_headers(const boost::system::error_code& ec, std::size_t header_bytes) {
  if (ec) return owner_.failed(*this, ec);
  const std::string_view all(static_cast<const char*>(in_.data().data()), in_.size());
  const auto head = all.substr(0, header_bytes);
  int status = 0;
  if (head.size() > 12) std::from_chars(head.data() + 9, head.data() + 12, status);
  std::size_t length = 0;
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    const auto next = head.find("\r\n", pos + 2);
    if (next == std::string_view::npos) break;
    auto line = head.substr(pos + 2, next - pos - 2);
    constexpr std::string_view cl = "content-length:";
    if (line.size() > cl.size() &&
        std::equal(cl.begin(), cl.end(), line.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      auto v = line.substr(cl.size());
      while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
      std::from_chars(v.data(), v.data() + v.size(), length);
    }
    pos = next;
  }
  auto finish = [this, header_bytes, length, status] {
    in_.consume(header_bytes + length);
    owner_.answered(*this, status);
  };
  if (in_.size() >= header_bytes + length) return finish();
  asio::async_read(socket_, in_, asio::transfer_exactly(header_bytes + length - in_.size()),
                   [this, finish](const boost::system::error_code& e, std::size_t) {
                     if (e) return owner_.failed(*this, e);
                     finish();
                   });
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--host") {
      o.host = v;
    } else if (flag == "--port") {
      o.port = static_cast<unsigned short>(std::atoi(v));
    } else if (flag == "--rate") {
      o.rate = std::atof(v);
    } else if (flag == "--seconds") {
      o.seconds = std::atof(v);
    } else if (flag == "--connections") {
      o.connections = static_cast<std::size_t>(std::atol(v));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (o.port == 0) {
    std::fprintf(stderr,
                 "usage: bench_http_load --port P [--rate R] [--seconds S] "
                 "[--connections C] [--host H]\n");
    return 2;
  }
  asio::io_context io(1);
  load l(io, o);
  return l.run();
}
