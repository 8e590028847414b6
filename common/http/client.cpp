#include "common/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <memory>
#include <optional>

#include "common/observability/log.hpp"

namespace order_tracker::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A /stats answer with every item and user of a partition is the largest thing read here.
constexpr std::uint64_t max_response_body = 64ULL * 1024 * 1024;

class get_operation : public std::enable_shared_from_this<get_operation> {
 public:
  get_operation(asio::io_context& io, client_handler done)
      : resolver_(io), socket_(io), timer_(io), done_(std::move(done)) {}

  void start(std::string_view address, std::string target, const header_list& headers,
             std::chrono::milliseconds timeout) {
    request_.method(beast_http::verb::get);
    request_.target(target);
    request_.version(11);
    request_.set(beast_http::field::host, address);
    request_.set(beast_http::field::connection, "close");
    for (const auto& [name, value] : headers)
      request_.set(name, value);
    parser_.emplace();
    parser_->body_limit(max_response_body);

    // One deadline for the whole exchange: closing the socket completes whatever is pending.
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->finish(asio::error::timed_out);
    });
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return finish(asio::error::invalid_argument);
    auto host = std::string(address.substr(0, colon));
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    const auto port = std::string(address.substr(colon + 1));
    resolver_.async_resolve(
        host, port, tcp::resolver::numeric_service,
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    const tcp::resolver::results_type& endpoints) {
          if (ec) return self->finish(ec);
          self->connect(endpoints);
        });
  }

 private:
  void connect(const tcp::resolver::results_type& endpoints) {
    if (finished_) return;
    asio::async_connect(
        socket_, endpoints,
        [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint&) {
          if (ec) return self->finish(ec);
          self->socket_.set_option(tcp::no_delay(true));
          self->write();
        });
  }

  void write() {
    if (finished_) return;
    beast_http::async_write(
        socket_, request_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (ec) return self->finish(ec);
          self->read();
        });
  }

  void read() {
    if (finished_) return;
    beast_http::async_read(socket_, buffer_, *parser_,
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t) { self->finish(ec); });
  }

  void finish(const boost::system::error_code& ec) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    client_result result{ec, {}};
    if (!ec) result.message = parser_->release();
    try {
      done_(std::move(result));
    } catch (const std::exception& e) {
      // The caller's handler runs inside an Asio completion: nothing may escape from it.
      log::error("http", "HTTP client handler failed: {}", e.what());
    }
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  beast_http::request<beast_http::empty_body> request_;
  std::optional<beast_http::response_parser<beast_http::string_body>> parser_;
  client_handler done_;
  bool finished_ = false;
};

}  // namespace

void get(asio::io_context& io, std::string_view address, std::string target,
         const header_list& headers, std::chrono::milliseconds timeout, client_handler done) {
  std::make_shared<get_operation>(io, std::move(done))
      ->start(address, std::move(target), headers, timeout);
}

}  // namespace order_tracker::http
