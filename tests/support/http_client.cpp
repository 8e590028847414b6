#include "tests/support/http_client.hpp"

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <functional>
#include <optional>

namespace order_tracker::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {

/// Tests send bodies over the server's limit, but never read one this large.
constexpr std::size_t max_response_body = 16 * 1024 * 1024;

/// The first complete response in `bytes`, if there is one.
std::optional<beast_http::response<beast_http::string_body>> parse_response(
    std::string_view bytes) {
  beast_http::response_parser<beast_http::string_body> parser;
  parser.eager(true);
  parser.body_limit(max_response_body);
  asio::const_buffer rest(bytes.data(), bytes.size());
  while (!parser.is_done() && rest.size() > 0) {
    error_code ec;
    const auto used = parser.put(rest, ec);
    if (ec || used == 0) return std::nullopt;
    rest += used;
  }
  if (!parser.is_done()) return std::nullopt;
  return parser.release();
}

std::string shortened(std::string_view text) {
  constexpr std::size_t max = 400;
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

std::string http_result::header(std::string_view name) const {
  const auto it = message.find(name);
  return it == message.end() ? std::string() : std::string(it->value());
}

std::string http_result::describe() const {
  if (!ok()) return "no response: " + error.message();
  return std::to_string(status()) + " " + shortened(body());
}

std::string raw_result::status_line() const {
  return received.substr(0, received.find("\r\n"));
}

unsigned raw_result::status() const {
  const auto line = status_line();
  // "HTTP/1.1 400 Bad Request"
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) return 0;
  unsigned code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    code = code * 10 + static_cast<unsigned>(line[i] - '0');
  }
  return code;
}

std::string raw_result::body() const {
  const auto res = parse_response(received);
  return res ? res->body() : std::string();
}

std::string raw_result::describe() const {
  std::string text = received.empty() ? std::string("nothing received") : shortened(received);
  if (closed) text += " [connection closed]";
  if (timed_out) text += " [timed out]";
  if (write_error) text += " [write: " + write_error.message() + "]";
  return text;
}

http_connection::http_connection(std::uint16_t port, std::chrono::milliseconds timeout)
    : stream_(io_), port_(port), timeout_(timeout) {
  stream_.expires_after(timeout_);
  stream_.async_connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_),
                        [this](const error_code& ec) { error_ = ec; });
  run();
  open_ = !error_;
}

void http_connection::run() {
  io_.restart();
  io_.run();
}

http_result http_connection::request(beast_http::verb method, std::string_view target,
                                     std::string body, const http_headers& headers) {
  http_result result;
  if (!open_) {
    result.error = error_ ? error_ : error_code(asio::error::not_connected);
    return result;
  }
  beast_http::request<beast_http::string_body> req(method, target, 11);
  req.set(beast_http::field::host, "127.0.0.1:" + std::to_string(port_));
  req.set(beast_http::field::user_agent, "order-tracker-test");
  for (const auto& [name, value] : headers)
    req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();

  beast_http::response_parser<beast_http::string_body> parser;
  parser.body_limit(max_response_body);
  parser.skip(method == beast_http::verb::head);
  error_code write_ec;
  error_code read_ec;
  bool write_done = false;
  // Written and read at once: a server may answer (413, 431) before it has read all we send, and
  // stop reading; waiting for the write first would then wait for the timeout.
  stream_.expires_after(timeout_);
  beast_http::async_write(stream_, req, [&](const error_code& ec, std::size_t) {
    write_ec = ec;
    write_done = true;
  });
  beast_http::async_read(stream_, buffer_, parser, [&](const error_code& ec, std::size_t) {
    read_ec = ec;
    if (!write_done) {
      // The answer is in and the rest of the request will not be read: give up writing it.
      error_code ignored;
      stream_.socket().cancel(ignored);
    }
  });
  run();

  if (read_ec) {
    result.error = read_ec;
    error_ = read_ec;
    close();
    return result;
  }
  result.error = {};
  result.message = parser.release();
  if (write_ec || !write_done || !result.message.keep_alive()) {
    error_ = write_ec ? write_ec : error_code(beast_http::error::end_of_stream);
    close();
  }
  return result;
}

http_result http_connection::post_json(std::string_view target, std::string body,
                                       const http_headers& headers) {
  http_headers all{{"Content-Type", "application/json"}};
  all.insert(all.end(), headers.begin(), headers.end());
  return request(beast_http::verb::post, target, std::move(body), all);
}

raw_result http_connection::send_raw(std::string_view bytes) {
  raw_result result;
  if (!open_) {
    result.closed = true;
    result.write_error = error_ ? error_ : error_code(asio::error::not_connected);
    return result;
  }
  // Bytes read past an earlier response belong to this answer.
  result.received.assign(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());

  std::array<char, 4096> chunk{};
  bool write_done = false;
  std::function<void()> do_read;
  do_read = [&] {
    stream_.async_read_some(asio::buffer(chunk), [&](const error_code& ec, std::size_t n) {
      result.received.append(chunk.data(), n);
      const bool complete = parse_response(result.received).has_value();
      if (ec || complete) {
        if (ec == beast::error::timeout)
          result.timed_out = !complete;
        else if (ec)
          result.closed = true;
        if (!write_done) {
          error_code ignored;
          stream_.socket().cancel(ignored);
        }
        return;
      }
      do_read();
    });
  };
  stream_.expires_after(timeout_);
  asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                    [&](const error_code& ec, std::size_t) {
                      write_done = true;
                      if (ec != asio::error::operation_aborted) result.write_error = ec;
                    });
  do_read();
  run();
  error_ = asio::error::not_connected;
  close();
  return result;
}

void http_connection::close() {
  open_ = false;
  error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

http_result http_request(std::uint16_t port, beast_http::verb method, std::string_view target,
                         std::string body, const http_headers& headers,
                         std::chrono::milliseconds timeout) {
  http_connection c(port, timeout);
  return c.request(method, target, std::move(body), headers);
}

raw_result http_send_raw(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout) {
  http_connection c(port, timeout);
  return c.send_raw(bytes);
}

}  // namespace order_tracker::test
