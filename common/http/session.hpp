#pragma once

// Internal to the HTTP server: one accepted connection.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/server.hpp"

namespace order_tracker::http::detail {

/// The server's registry of live sessions; a session keeps its own position to leave in O(1).
using session_list = std::list<std::weak_ptr<session>>;

/// The side of the server a session talks back to. Sessions hold it weakly: once the server is
/// gone they call nothing and only close.
class session_owner {
 public:
  /// Passes a complete request to the application's handler; may throw what the handler throws.
  virtual void dispatch(request&& req, responder res) = 0;
  /// Passes on an error an operator may need to see.
  virtual void report(std::string_view message) = 0;
  /// Counts a request the server itself refused (400, 408, 413, 431) before any handler saw it.
  virtual void refused(beast_http::status status) = 0;
  /// Removes a session that is being destroyed from the registry.
  virtual void forget(session_list::iterator registration) = 0;

 protected:
  ~session_owner() = default;
};

/// One connection: reads a request, hands it to the handler, writes the answer, repeats.
class session : public std::enable_shared_from_this<session> {
 public:
  /// Takes over an accepted socket; `start` or `reject` begins the work.
  session(boost::asio::ip::tcp::socket socket, const limits& lim,
          std::weak_ptr<session_owner> owner);
  /// Leaves the owner's registry if still in it.
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Records where the owner registered this session; called once, before `start` or `reject`.
  void registered(session_list::iterator registration);
  /// Begins serving requests.
  void start();
  /// Answers 503 and closes: the server is at `max_connections`.
  void reject();
  /// Graceful shutdown: closes now unless an answer is pending or being written, in which case
  /// that answer goes out with `Connection: close` and then the connection closes.
  void drain();
  /// Closes now, whatever is pending; later answers are dropped.
  void close();
  /// Writes the answer to request `request_id` if it is the one awaiting an answer.
  void respond(std::uint64_t request_id, response res);
  /// Turns the answer to request `request_id` into a stream (see responder::start_stream); false
  /// if that request is not the one awaiting an answer.
  bool start_stream(std::uint64_t request_id, response header, stream_events events);
  /// The stream's side of `http::stream`.
  bool stream_write(std::string_view bytes);
  std::size_t stream_queued() const {
    return state_ == state::streaming ? stream_pending_.size() : 0;
  }
  bool stream_open() const { return state_ == state::streaming && !stream_ending_; }
  void stream_when_flushed(std::function<void()> f);
  void stream_end();

 private:
  enum class state {
    reading,
    sending_continue,
    awaiting_response,
    writing,
    streaming,
    lingering,
    closed
  };

  void do_wait_for_request();
  void begin_request();
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void parse();
  void on_continue_sent(boost::beast::error_code ec, std::size_t bytes);
  void on_read_error(boost::beast::error_code ec);
  void on_request_timeout();
  void dispatch();
  void do_write(response res, bool keep_alive);
  void complete(response& res) const;
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_linger();
  void do_stream_write();
  void on_stream_write(boost::beast::error_code ec, std::size_t bytes);
  void do_stream_read();
  void on_stream_read(boost::beast::error_code ec, std::size_t bytes);
  void finish_stream();
  void do_drain_input();
  void on_drain_input(boost::beast::error_code ec, std::size_t bytes);
  void set_deadline(std::chrono::milliseconds from_now);
  void arm_timer();
  void on_timer(boost::beast::error_code ec);
  void on_deadline();
  void answer_and_close(boost::beast::http::status status, std::string_view error);
  void close_now();
  void leave_registry();
  void fail(boost::beast::error_code ec, std::string_view what);
  void report(std::string_view message);

  using clock = std::chrono::steady_clock;

  /// The connection.
  boost::asio::ip::tcp::socket socket_;
  /// Bytes read but not yet parsed, including pipelined requests.
  boost::beast::flat_buffer buffer_;
  /// Parses the current request; rebuilt for each one, since a parser parses a single message.
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  /// The answer being written; Beast's writer needs it to stay put until the write completes.
  response response_;
  /// The one deadline of what the connection is doing now (waiting for a request, reading it,
  /// writing the answer, lingering); `clock::time_point::max()` while the application answers.
  /// What passing it does depends on the state: see on_deadline.
  clock::time_point deadline_ = clock::time_point::max();
  /// Watches `deadline_` lazily: moving the deadline later (every request does) only stores the
  /// new time, and the timer, when it fires early, waits again for the rest. So a request costs
  /// no timer operation; the timer is re-armed only for an earlier deadline, at most once per
  /// timeout period. A timer per phase was three arm/cancel pairs per request.
  boost::asio::steady_timer timer_;
  /// When `timer_` fires; meaningful while `timer_armed_`.
  clock::time_point timer_expiry_{};
  bool timer_armed_ = false;
  /// Copied from the server so a session does not need the server to read them.
  limits limits_;
  /// The server; weak so that destroying the server does not wait for its sessions.
  std::weak_ptr<session_owner> owner_;
  /// Where the owner keeps this session; empty until `registered` and once closed.
  std::optional<session_list::iterator> registration_;
  /// What the connection is doing; every completion handler starts by checking for `closed`.
  state state_ = state::reading;
  /// Numbers the requests on this connection; also tells a stale deadline from the current one.
  std::uint64_t request_id_ = 0;
  /// The request's version and wish to keep the connection, for the answer.
  unsigned request_version_ = 11;
  bool request_is_head_ = false;
  bool request_keep_alive_ = false;
  /// The answer being written is the last on this connection.
  bool close_after_write_ = false;
  /// The request deadline passed while the request was still being read.
  bool timed_out_ = false;
  /// The server is shutting down: finish the pending answer, then close.
  bool draining_ = false;
  /// No request has started yet, so waiting for one is bounded by the request timeout.
  bool first_request_ = true;
  /// A request's first byte has arrived: its deadline runs and passing it is answered 408.
  bool in_request_ = false;
  /// The current request's header was looked at for `Expect: 100-continue`.
  bool continue_checked_ = false;

  /// A streaming answer: what the application wrote and is not yet being written, and what is.
  /// Two buffers, so that writes arriving during a write coalesce into the next one.
  std::string stream_pending_;
  std::string stream_writing_;
  bool stream_write_in_flight_ = false;
  /// The application ended the stream: close once stream_pending_ is written.
  bool stream_ending_ = false;
  stream_events stream_events_;
  std::function<void()> stream_flushed_;
};

}  // namespace order_tracker::http::detail
