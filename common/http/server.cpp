#include "common/http/server.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/errc.hpp>
#include <charconv>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/http/session.hpp"

namespace order_tracker::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace detail {

/// Accepts connections and keeps the registry of live sessions. Owned by `server` alone;
/// completion handlers and sessions hold it weakly, so it goes away with the server.
class listener final : public session_owner, public std::enable_shared_from_this<listener> {
 public:
  listener(asio::io_context& ioc, handler on_request, const limits& lim, error_reporter report)
      : ioc_(ioc),
        handler_(std::move(on_request)),
        limits_(lim),
        report_(std::move(report)),
        acceptor_(ioc),
        retry_timer_(ioc) {}

  error_code listen(const tcp::endpoint& endpoint);
  tcp::endpoint local_endpoint() const;
  void shutdown(std::function<void()> on_drained);
  void stop();
  std::size_t connections() const { return sessions_.size(); }

  void dispatch(request&& req, responder res) override { handler_(std::move(req), std::move(res)); }
  void report(std::string_view message) override;
  void refused(beast_http::status status) override {
    if (on_refused_) on_refused_(status);
  }
  void forget(session_list::iterator registration) override;
  void set_on_refused(std::function<void(beast_http::status)> f) { on_refused_ = std::move(f); }

 private:
  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void do_retry_accept();
  void notify_if_drained();
  std::vector<std::shared_ptr<session>> live_sessions() const;

  /// Runs every handler; sessions and timers use it as their executor.
  asio::io_context& ioc_;
  /// The application's request handler.
  handler handler_;
  /// Handed to each session.
  limits limits_;
  /// Where errors go; may be empty.
  error_reporter report_;
  std::function<void(beast_http::status)> on_refused_;
  /// The listening socket; closed by shutdown and stop.
  tcp::acceptor acceptor_;
  /// Delays the next accept after an error such as EMFILE, which would otherwise repeat at once.
  asio::steady_timer retry_timer_;
  /// Open connections, weakly: a session's pending operations and responders own it, and it
  /// leaves this list when its connection closes.
  session_list sessions_;
  /// Waiting for the last session to go; run once, then cleared.
  std::vector<std::function<void()>> on_drained_;
  /// No more connections are accepted.
  bool stopped_ = false;
};

error_code listener::listen(const tcp::endpoint& endpoint) {
  if (stopped_) {
    return asio::error::shut_down;
  }
  if (acceptor_.is_open()) {
    return asio::error::already_open;
  }
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    // A restarted service must be able to bind while old connections sit in TIME_WAIT.
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  do_accept();
  return {};
}

tcp::endpoint listener::local_endpoint() const {
  error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? tcp::endpoint{} : endpoint;
}

void listener::do_accept() {
  acceptor_.async_accept([self = weak_from_this()](error_code ec, tcp::socket socket) {
    if (auto l = self.lock()) {
      l->on_accept(ec, std::move(socket));
    }
  });
}

void listener::on_accept(error_code ec, tcp::socket socket) {
  if (stopped_) {
    return;
  }
  if (ec) {
    report("http: accept failed: " + ec.message() + "; retrying in 100 ms");
    return do_retry_accept();
  }
  // Counted before this one joins: a connection beyond the limit still costs a socket, so it is
  // answered quickly and closed rather than left in the backlog where it costs nothing visible.
  const bool over_limit = sessions_.size() >= limits_.max_connections;
  auto s = std::make_shared<session>(std::move(socket), limits_, weak_from_this());
  s->registered(sessions_.insert(sessions_.end(), s));
  if (over_limit) {
    s->reject();
  } else {
    s->start();
  }
  do_accept();
}

void listener::do_retry_accept() {
  retry_timer_.expires_after(std::chrono::milliseconds{100});
  retry_timer_.async_wait([self = weak_from_this()](error_code ec) {
    auto l = self.lock();
    if (ec || !l || l->stopped_) {
      return;
    }
    l->do_accept();
  });
}

void listener::shutdown(std::function<void()> on_drained) {
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  for (const auto& s : live_sessions()) {
    s->drain();
  }
  on_drained_.push_back(std::move(on_drained));
  notify_if_drained();
}

void listener::stop() {
  stopped_ = true;
  on_drained_.clear();
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  for (const auto& s : live_sessions()) {
    s->close();
  }
}

void listener::report(std::string_view message) {
  if (report_) {
    report_(message);
  }
}

void listener::forget(session_list::iterator registration) {
  sessions_.erase(registration);
  notify_if_drained();
}

void listener::notify_if_drained() {
  if (!stopped_ || !sessions_.empty() || on_drained_.empty()) {
    return;
  }
  // Posted, not called: this runs inside a session's destructor or inside shutdown(), and the
  // callback may well destroy the server.
  asio::post(ioc_, [self = weak_from_this(), callbacks = std::move(on_drained_)] {
    for (const auto& callback : callbacks) {
      // Checked each time: an earlier callback may have destroyed the server.
      if (self.expired()) {
        return;
      }
      if (!callback) {
        continue;
      }
      try {
        callback();
      } catch (const std::exception& e) {
        if (auto l = self.lock()) {
          l->report(std::string{"http: on_drained threw: "} + e.what());
        }
      } catch (...) {
        if (auto l = self.lock()) {
          l->report("http: on_drained threw a non-standard exception");
        }
      }
    }
  });
  on_drained_.clear();
}

std::vector<std::shared_ptr<session>> listener::live_sessions() const {
  // A copy, because closing a session erases it from sessions_.
  std::vector<std::shared_ptr<session>> live;
  live.reserve(sessions_.size());
  for (const auto& weak : sessions_) {
    if (auto s = weak.lock()) {
      live.push_back(std::move(s));
    }
  }
  return live;
}

}  // namespace detail

server::server(asio::io_context& ioc, handler on_request, limits lim, error_reporter report) {
  if (!on_request) {
    throw std::invalid_argument("http::server needs a request handler");
  }
  listener_ =
      std::make_shared<detail::listener>(ioc, std::move(on_request), lim, std::move(report));
}

server::~server() {
  listener_->stop();
}

error_code server::listen(const tcp::endpoint& endpoint) {
  return listener_->listen(endpoint);
}

tcp::endpoint server::local_endpoint() const {
  return listener_->local_endpoint();
}

void server::shutdown(std::function<void()> on_drained) {
  listener_->shutdown(std::move(on_drained));
}

void server::on_refused(std::function<void(beast_http::status)> f) {
  listener_->set_on_refused(std::move(f));
}

std::size_t server::connections() const {
  return listener_->connections();
}

namespace {

class endpoint_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "order_tracker.http.endpoint"; }
  std::string message(int ev) const override {
    switch (static_cast<endpoint_error>(ev)) {
      case endpoint_error::missing_port:
        return "expected HOST:PORT, such as 0.0.0.0:8080 or [::1]:8080";
      case endpoint_error::bad_port:
        return "the port must be a number from 0 to 65535";
      case endpoint_error::bad_host:
        return "the host must be an IPv4 address or a bracketed IPv6 address, not a name";
    }
    return "unknown endpoint error";
  }
};

}  // namespace

const boost::system::error_category& endpoint_category() noexcept {
  static const endpoint_category_impl category;
  return category;
}

error_code make_error_code(endpoint_error e) noexcept {
  return {static_cast<int>(e), endpoint_category()};
}

boost::system::result<tcp::endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return make_error_code(endpoint_error::missing_port);
  }
  auto host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);

  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    // "::1:8080" cannot be split reliably; brackets say where the address ends.
    return make_error_code(endpoint_error::bad_host);
  }
  error_code ec;
  const auto address = asio::ip::make_address(std::string{host}, ec);
  if (ec || host.empty() || address.is_v6() != bracketed) {
    return make_error_code(endpoint_error::bad_host);
  }

  std::uint32_t port = 0;
  const auto* const end = port_text.data() + port_text.size();
  const auto [parsed_to, parse_error] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || parse_error != std::errc{} || parsed_to != end || port > 65535) {
    return make_error_code(endpoint_error::bad_port);
  }
  return tcp::endpoint{address, static_cast<std::uint16_t>(port)};
}

}  // namespace order_tracker::http
