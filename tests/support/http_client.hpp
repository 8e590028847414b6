#pragma once
/// A small synchronous HTTP/1.1 client for tests (Boost.Beast): one keep-alive connection to
/// 127.0.0.1:port that sends request after request, plus a raw mode that writes arbitrary bytes
/// for malformed or hostile input. Every operation is bounded by a timeout, and every failure is
/// a value in the result: nothing throws, and nothing waits forever.

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace order_tracker::test {

namespace beast_http = boost::beast::http;

/// Extra request headers, in order: name, value.
using http_headers = std::vector<std::pair<std::string, std::string>>;

/// What came back for one request: a response, or why there is none.
struct http_result {
  /// Why no complete response arrived (connect refused, timeout, connection closed); empty when
  /// `message` holds one. A result no request has filled in says "not connected".
  boost::system::error_code error = boost::asio::error::not_connected;
  /// The response; meaningful only without `error`.
  beast_http::response<beast_http::string_body> message;

  bool ok() const { return !error; }
  /// The status code, or 0 when there is no response.
  unsigned status() const { return ok() ? message.result_int() : 0; }
  /// A header's value (case-insensitive name), or empty.
  std::string header(std::string_view name) const;
  const std::string& body() const { return message.body(); }
  /// "201 {...}" or "no response: <error>", for test messages.
  std::string describe() const;
};

/// What came back for raw bytes: everything the server sent until it closed, a complete response
/// arrived, or the timeout.
struct raw_result {
  std::string received;                   ///< the bytes as they came
  boost::system::error_code write_error;  ///< e.g. a reset because the server stopped reading
  bool closed = false;                    ///< the server closed (or reset) the connection
  bool timed_out = false;  ///< neither a complete response nor a close within the timeout
  /// "HTTP/1.1 400 Bad Request", or empty when nothing came back.
  std::string status_line() const;
  /// The status code from the status line, or 0.
  unsigned status() const;
  /// The response body, when `received` holds a complete response; otherwise empty.
  std::string body() const;
  std::string describe() const;
};

/// One TCP connection to 127.0.0.1:port. Not thread-safe: use one per thread.
class http_connection {
 public:
  /// Connects within `timeout`; a failure is kept in `error()` and makes every request fail.
  explicit http_connection(std::uint16_t port,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  /// True while the connection can carry another request.
  bool is_open() const { return open_; }
  /// Why the connection is not open (connect failure, or the last request's error).
  boost::system::error_code error() const { return error_; }

  /// Sends one request and reads its response, both within the timeout. Sets `Host` and
  /// `Content-Length`; `headers` come on top (a `Content-Type` among them is sent as given). The
  /// connection stays open unless the server asked to close it or something failed.
  http_result request(beast_http::verb method, std::string_view target, std::string body = {},
                      const http_headers& headers = {});

  /// `request(post, target, body)` with `Content-Type: application/json` and `headers`.
  http_result post_json(std::string_view target, std::string body,
                        const http_headers& headers = {});
  /// `request(get, target)`.
  http_result get(std::string_view target) { return request(beast_http::verb::get, target); }

  /// Writes `bytes` as they are and reads whatever comes back, within the timeout; the connection
  /// is closed afterwards.
  raw_result send_raw(std::string_view bytes);

  /// Closes the connection (a FIN, as a client that goes away).
  void close();

  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  /// Runs the queued operations to completion; the stream's expiry bounds them.
  void run();

  /// The client's own loop: requests run on it synchronously, one at a time.
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  /// Holds bytes read past one response, for the next one.
  boost::beast::flat_buffer buffer_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::system::error_code error_;
  bool open_ = false;
};

/// One request on a fresh connection, closed afterwards.
http_result http_request(std::uint16_t port, beast_http::verb method, std::string_view target,
                         std::string body = {}, const http_headers& headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Raw bytes on a fresh connection.
raw_result http_send_raw(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace order_tracker::test
