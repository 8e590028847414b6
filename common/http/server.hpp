#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>

#include "common/http/response.hpp"
#include "common/http/stream.hpp"

namespace order_tracker::http {

namespace detail {
class listener;
class session;
}  // namespace detail

/// What one client may cost the server. Going over a limit costs that client its connection, and
/// nobody else anything.
struct limits {
  /// Largest request body; a larger one is answered 413 and closed, before the body is read.
  std::size_t max_body_bytes = 64 * 1024;
  /// Largest request line plus headers; more is answered 431 and closed.
  std::size_t max_header_bytes = 8 * 1024;
  /// From a request's first byte to its last (slowloris guard): slower is answered 408 and closed.
  /// A new connection gets this long, too, to send its first byte.
  std::chrono::milliseconds request_timeout{10'000};
  /// How long a keep-alive connection may wait for its next request before it is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  /// How long writing one response may take before a client that does not read is dropped.
  std::chrono::milliseconds write_timeout{10'000};
  /// After a response that closes the connection, how long to discard what the client still
  /// sends: closing with unread input resets the connection, and the reset can destroy the
  /// response.
  std::chrono::milliseconds linger_timeout{1'000};
  /// Connections served at once; each one beyond is answered 503 and closed.
  std::size_t max_connections = 4096;
};

/// Receives a line for each error an operator may need (accept failures, handler exceptions).
/// Runs on the io_context's thread and must not throw.
using error_reporter = std::function<void(std::string_view)>;

/// Answers one request. Call it once, now or later, on the io_context's thread; later calls, calls
/// after the client went away and calls after the server was destroyed do nothing. Copies answer
/// the same request. Do not keep one beyond the io_context. If every copy is dropped unanswered,
/// the connection is closed without a response.
class responder {
 public:
  /// Sends `res`, with version, keep-alive, `Server` and `Content-Length` set by the server.
  void operator()(response res) const;
  /// Answers with a long-lived response instead: `header`'s status and fields go out now, with
  /// `Connection: close` and no Content-Length, and the body is what the returned stream is given.
  /// Deadlines for idle and request time no longer apply; each write still has the write
  /// timeout. Returns a closed stream if the request was answered already or the client left.
  stream start_stream(response header, stream_events events) const;

 private:
  friend class detail::session;
  responder(std::shared_ptr<detail::session> session, std::uint64_t request_id);

  /// Keeps the connection alive while the answer is pending.
  std::shared_ptr<detail::session> session_;
  /// Which request on the connection this answers, so a stale copy cannot answer a later one.
  std::uint64_t request_id_;
};

/// Handles one complete request. It may throw: the client then gets 500 and the error is reported.
using handler = std::function<void(request&&, responder)>;

/// An HTTP/1.1 server on one io_context and one thread: keep-alive, one request at a time per
/// connection, bounded by `limits`.
class server {
 public:
  /// Prepares a server on `ioc`; nothing listens until `listen`. Throws std::invalid_argument if
  /// `on_request` is empty.
  server(boost::asio::io_context& ioc, handler on_request, limits lim = {},
         error_reporter report = {});
  /// Closes the listener and every connection at once; no handler, reporter or `on_drained` runs
  /// afterwards. Use `shutdown` first to let pending requests finish.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds (with SO_REUSEADDR), listens and starts accepting; the error says why not.
  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);
  /// The bound address, e.g. to learn the port chosen for port 0; empty before `listen`.
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  /// Stops accepting and closes idle connections now; a request whose answer is pending is still
  /// answered, with `Connection: close`. `on_drained` runs once no connection is left.
  void shutdown(std::function<void()> on_drained);
  /// Called for each request the server refuses itself (400 malformed, 408, 413, 431), e.g. to
  /// count them in metrics; on the io_context's thread.
  void on_refused(std::function<void(beast_http::status)> f);
  /// Open connections, counting ones being refused or lingering before their close.
  std::size_t connections() const;

 private:
  /// The acceptor and the sessions, shared so that completion handlers can outlive the server.
  std::shared_ptr<detail::listener> listener_;
};

/// Why `parse_endpoint` rejected its input; each message tells what to write instead.
enum class endpoint_error { missing_port = 1, bad_port, bad_host };

/// The category of `endpoint_error`.
const boost::system::error_category& endpoint_category() noexcept;

/// Makes `endpoint_error` usable as a `boost::system::error_code`.
boost::system::error_code make_error_code(endpoint_error e) noexcept;

/// Parses "HOST:PORT" as in `--http-listen 0.0.0.0:8080`; HOST is a numeric IPv4 address or a
/// bracketed IPv6 one ("[::1]:8080"). Names are refused: resolving them would block.
boost::system::result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

}  // namespace order_tracker::http

template <>
struct boost::system::is_error_code_enum<order_tracker::http::endpoint_error> : std::true_type {};
