#include "common/http/session.hpp"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

namespace order_tracker::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

responder::responder(std::shared_ptr<detail::session> session, std::uint64_t request_id)
    : session_(std::move(session)), request_id_(request_id) {}

void responder::operator()(response res) const {
  // A moved-from responder has no session; calling it is as harmless as a second call.
  if (session_) {
    session_->respond(request_id_, std::move(res));
  }
}

stream responder::start_stream(response header, stream_events events) const {
  if (session_ && session_->start_stream(request_id_, std::move(header), std::move(events))) {
    return stream{session_};
  }
  return {};
}

bool stream::write(std::string_view bytes) const {
  return session_ && session_->stream_write(bytes);
}

std::size_t stream::queued() const {
  return session_ ? session_->stream_queued() : 0;
}

bool stream::open() const {
  return session_ && session_->stream_open();
}

void stream::when_flushed(std::function<void()> f) const {
  if (session_) session_->stream_when_flushed(std::move(f));
}

void stream::end() const {
  if (session_) session_->stream_end();
}

namespace detail {

namespace {

/// Enough for a typical request in one read; the parser asks for more when it needs it. Every
/// idle keep-alive connection keeps this much: 1 KiB holds a POST /orders of ~200 bytes, and
/// makes 10,000 connections cost 10 MiB of buffers where 4 KiB cost 40.
constexpr std::size_t first_read_bytes = 1024;
/// At most this much per read, as Beast's own reads take (read_size's default).
constexpr std::size_t max_read_bytes = 65536;

/// SO_SNDBUF of a streaming connection (Linux doubles it for its bookkeeping): at 1,000 orders/s
/// a stream carries about 400 KB/s, which this covers at round trips up to ~100 ms.
constexpr int stream_send_buffer_bytes = 64 * 1024;

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == beast_http::make_error_code(beast_http::error::bad_method).category();
}

// Errors that are a client leaving or our own cancellation, not something an operator can act on.
bool is_routine(const beast::error_code& ec) {
  return ec == asio::error::operation_aborted || ec == asio::error::eof ||
         ec == beast_http::error::end_of_stream || ec == beast_http::error::partial_message ||
         ec == beast::error::timeout || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::not_connected;
}

std::string bytes_text(std::size_t n) {
  return std::to_string(n) + " bytes";
}

}  // namespace

session::session(asio::ip::tcp::socket socket, const limits& lim,
                 std::weak_ptr<session_owner> owner)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      limits_(lim),
      owner_(std::move(owner)) {}

session::~session() {
  leave_registry();
}

void session::leave_registry() {
  auto registration = std::exchange(registration_, std::nullopt);
  if (!registration) {
    return;
  }
  if (auto owner = owner_.lock()) {
    owner->forget(*registration);
  }
}

void session::registered(session_list::iterator registration) {
  registration_ = registration;
}

void session::start() {
  do_wait_for_request();
}

void session::reject() {
  auto res = json_error(beast_http::status::service_unavailable, "too many connections");
  res.set(beast_http::field::retry_after, "1");
  do_write(std::move(res), false);
}

void session::drain() {
  draining_ = true;
  if (state_ == state::streaming) {
    // A stream has no natural end: what is queued goes out (within the linger time, so that a
    // client that stopped reading cannot hold up the shutdown), then the connection closes.
    set_deadline(limits_.linger_timeout);
    return stream_end();
  }
  // A request still being read has not reached the application, so dropping it loses nothing the
  // client cannot retry; answers that are pending or being written finish in on_write/respond.
  if (state_ == state::reading || state_ == state::sending_continue) {
    close_now();
  }
}

void session::close() {
  close_now();
}

void session::set_deadline(std::chrono::milliseconds from_now) {
  deadline_ = clock::now() + from_now;
  if (!timer_armed_ || deadline_ < timer_expiry_) {
    arm_timer();
  }
}

void session::arm_timer() {
  timer_expiry_ = deadline_;
  timer_armed_ = true;
  // Re-arming an armed timer cancels its wait: that handler sees operation_aborted and leaves
  // timer_armed_ to this one.
  timer_.expires_at(timer_expiry_);
  // Weakly: the timer must not keep the session alive. A request whose every responder was
  // dropped closes its connection now, as the responder's contract says, not when the timer fires.
  timer_.async_wait([self = weak_from_this()](beast::error_code ec) {
    if (auto s = self.lock()) s->on_timer(ec);
  });
}

void session::on_timer(beast::error_code ec) {
  if (ec == asio::error::operation_aborted || state_ == state::closed) {
    return;
  }
  timer_armed_ = false;
  if (deadline_ == clock::time_point::max()) {
    return;  // the application is answering: nothing to watch until the write
  }
  if (clock::now() < deadline_) {
    return arm_timer();  // the deadline moved later since the timer was armed
  }
  on_deadline();
}

void session::on_deadline() {
  switch (state_) {
    case state::reading:
    case state::sending_continue:
      if (in_request_) {
        // Closing would leave no way to answer 408: cancel the read (or the interim write)
        // instead, and let its handler answer.
        timed_out_ = true;
        beast::error_code ignored;
        socket_.cancel(ignored);
        return;
      }
      // Waiting for a request that never began: nobody to answer.
      return close_now();
    case state::writing:    // a client that does not read its answer
    case state::streaming:  // a stream's client that stopped reading (or a drain's bound)
    case state::lingering:  // the drain after a closing answer is over
      return close_now();
    case state::awaiting_response:
    case state::closed:
      return;
  }
}

void session::do_wait_for_request() {
  state_ = state::reading;
  if (buffer_.size() > 0) {
    // A pipelined request is already here; it is parsed only now, after the previous answer.
    begin_request();
    return parse();
  }
  in_request_ = false;
  // Only the first byte waits on the idle timeout, since a keep-alive client may think a while
  // between requests; a new connection that has sent nothing yet gets no such patience.
  set_deadline(first_request_ ? limits_.request_timeout : limits_.idle_timeout);
  do_read();
}

void session::begin_request() {
  in_request_ = true;
  ++request_id_;
  timed_out_ = false;
  continue_checked_ = false;
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  set_deadline(limits_.request_timeout);
}

void session::do_read() {
  // One read per request in the usual case: the parser below takes whatever has arrived, where
  // Beast's async_read_header then async_read were two operations, each completing through a post
  // when the bytes were already buffered.
  const std::size_t room =
      std::clamp(buffer_.capacity() - buffer_.size(), first_read_bytes, max_read_bytes);
  socket_.async_read_some(buffer_.prepare(room),
                          beast::bind_front_handler(&session::on_read, shared_from_this()));
}

void session::on_read(beast::error_code ec, std::size_t bytes) {
  if (state_ == state::closed) {
    return;
  }
  // Checked before `ec`: a read that completed in the same turn as the deadline still times out.
  if (timed_out_) {
    return on_request_timeout();
  }
  if (ec) {
    // The end of input before a request or inside one (Beast's end_of_stream, partial_message)
    // is the client leaving; everything else is reported unless it is routine.
    return fail(ec, "read");
  }
  buffer_.commit(bytes);
  if (!in_request_) {
    begin_request();
  }
  parse();
}

void session::parse() {
  for (;;) {
    beast::error_code ec;
    const std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == beast_http::error::need_more) {
      return do_read();
    }
    if (ec) {
      return on_read_error(ec);
    }
    if (parser_->is_done()) {
      break;
    }
    if (parser_->is_header_done() && !continue_checked_) {
      continue_checked_ = true;
      parser_->eager(true);
      const auto& req = parser_->get();
      if (req.version() >= 11 && beast::iequals(req[beast_http::field::expect], "100-continue")) {
        // The client waits for this before sending its body. An oversized body was refused
        // already: the parser checks Content-Length against the limit with the header.
        state_ = state::sending_continue;
        return asio::async_write(
            socket_, asio::buffer(continue_line.data(), continue_line.size()),
            beast::bind_front_handler(&session::on_continue_sent, shared_from_this()));
      }
      continue;
    }
    if (used == 0) {
      return do_read();
    }
  }
  deadline_ = clock::time_point::max();
  first_request_ = false;
  in_request_ = false;
  dispatch();
}

void session::on_continue_sent(beast::error_code ec, std::size_t) {
  if (state_ == state::closed) {
    return;
  }
  if (timed_out_) {
    // Part of the interim response may be out; a 408 after it would be garbage, so just close.
    return close_now();
  }
  if (ec) {
    return fail(ec, "write");
  }
  state_ = state::reading;
  parse();
}

void session::on_read_error(beast::error_code ec) {
  if (ec == beast_http::error::body_limit) {
    return answer_and_close(beast_http::status::payload_too_large,
                            "body exceeds " + bytes_text(limits_.max_body_bytes));
  }
  if (ec == beast_http::error::header_limit) {
    return answer_and_close(beast_http::status::request_header_fields_too_large,
                            "headers exceed " + bytes_text(limits_.max_header_bytes));
  }
  if (is_http_error(ec) && !is_routine(ec)) {
    return answer_and_close(beast_http::status::bad_request, "malformed request: " + ec.message());
  }
  fail(ec, "read");
}

void session::on_request_timeout() {
  answer_and_close(
      beast_http::status::request_timeout,
      "request not received within " + std::to_string(limits_.request_timeout.count()) + " ms");
}

void session::dispatch() {
  auto owner = owner_.lock();
  if (!owner) {
    return close_now();
  }
  request req = parser_->release();
  parser_.reset();
  request_version_ = req.version();
  request_keep_alive_ = req.keep_alive();
  request_is_head_ = req.method() == beast_http::verb::head;
  state_ = state::awaiting_response;
  const auto id = request_id_;
  // The handler is application code on our thread: an exception must become this client's 500,
  // not unwind through io_context::run() and take every other connection down with it.
  try {
    owner->dispatch(std::move(req), responder{shared_from_this(), id});
  } catch (const std::exception& e) {
    report(std::string{"http: handler threw: "} + e.what());
    respond(id, json_error(beast_http::status::internal_server_error, "internal error"));
  } catch (...) {
    report("http: handler threw a non-standard exception");
    respond(id, json_error(beast_http::status::internal_server_error, "internal error"));
  }
}

void session::respond(std::uint64_t request_id, response res) {
  if (state_ != state::awaiting_response || request_id != request_id_) {
    return;
  }
  const bool keep_alive = request_keep_alive_ && res.keep_alive();
  do_write(std::move(res), keep_alive);
}

bool session::start_stream(std::uint64_t request_id, response header, stream_events events) {
  if (state_ != state::awaiting_response || request_id != request_id_) {
    return false;
  }
  state_ = state::streaming;
  close_after_write_ = true;
  stream_events_ = std::move(events);
  // The body ends when the connection does: no Content-Length, and the client is told so.
  header.version(request_version_);
  header.keep_alive(false);
  header.set(beast_http::field::server, "order-tracker");
  header.erase(beast_http::field::content_length);
  header.erase(beast_http::field::transfer_encoding);
  std::ostringstream text;
  text << header.base();
  stream_pending_ = std::move(text).str();
  // HEAD gets the header alone; a stream begun during a shutdown, the header and its end.
  if (request_is_head_ || draining_) {
    stream_ending_ = true;
  }
  // The kernel's send buffer is part of what a client that stops reading costs, and Linux grows
  // it up to 4 MiB on its own; bounded here, the application's own bound on what it queues is
  // most of the bound, and a stalled client is noticed after a few hundred KiB, not megabytes.
  beast::error_code ignored;
  socket_.set_option(asio::socket_base::send_buffer_size(stream_send_buffer_bytes), ignored);
  // Reading goes on only to notice the client leaving; anything it sends is discarded.
  buffer_.clear();
  do_stream_read();
  do_stream_write();
  return true;
}

bool session::stream_write(std::string_view bytes) {
  if (state_ != state::streaming || stream_ending_) {
    return false;
  }
  stream_pending_.append(bytes);
  if (!stream_write_in_flight_) {
    do_stream_write();
  }
  return true;
}

void session::stream_when_flushed(std::function<void()> f) {
  if (state_ != state::streaming) {
    return;
  }
  if (stream_write_in_flight_ || !stream_pending_.empty()) {
    stream_flushed_ = std::move(f);
    return;
  }
  // Never from inside the caller's own call.
  asio::post(socket_.get_executor(), [self = shared_from_this(), f = std::move(f)] {
    if (self->state_ == state::streaming && f) f();
  });
}

void session::stream_end() {
  if (state_ != state::streaming) {
    return;
  }
  stream_ending_ = true;
  if (!stream_write_in_flight_) {
    finish_stream();
  }
}

void session::do_stream_write() {
  stream_writing_.swap(stream_pending_);
  stream_pending_.clear();
  stream_write_in_flight_ = true;
  // The write deadline only while a write is in flight: an idle stream waits for the
  // application as long as it likes. During a drain the drain's bound stands.
  if (!draining_) {
    set_deadline(limits_.write_timeout);
  } else if (deadline_ == clock::time_point::max()) {
    set_deadline(limits_.linger_timeout);
  }
  asio::async_write(socket_, asio::buffer(stream_writing_),
                    beast::bind_front_handler(&session::on_stream_write, shared_from_this()));
}

void session::on_stream_write(beast::error_code ec, std::size_t) {
  if (state_ == state::closed) {
    return;
  }
  stream_write_in_flight_ = false;
  if (ec) {
    return fail(ec, "write");
  }
  stream_writing_.clear();
  if (!stream_pending_.empty()) {
    return do_stream_write();
  }
  if (stream_ending_) {
    return finish_stream();
  }
  if (!draining_) {
    deadline_ = clock::time_point::max();
  }
  if (auto f = std::exchange(stream_flushed_, nullptr)) {
    f();
  }
}

void session::finish_stream() {
  state_ = state::lingering;
  beast::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  // The stream's read, already pending, drains what the client still sends until it closes.
  set_deadline(limits_.linger_timeout);
}

void session::do_stream_read() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(first_read_bytes),
                          beast::bind_front_handler(&session::on_stream_read, shared_from_this()));
}

void session::on_stream_read(beast::error_code ec, std::size_t) {
  if (state_ == state::closed) {
    return;
  }
  if (ec) {
    // The client closed (or reset) its side: it is gone, whatever the stream still had queued.
    return fail(ec, "read");
  }
  do_stream_read();
}

void session::answer_and_close(beast_http::status status, std::string_view error) {
  if (auto owner = owner_.lock()) owner->refused(status);
  // The request was never parsed completely, so its version is unknown; 1.1 is what clients expect.
  request_version_ = 11;
  request_is_head_ = false;
  parser_.reset();
  in_request_ = false;
  do_write(json_error(status, error), false);
}

void session::do_write(response res, bool keep_alive) {
  state_ = state::writing;
  close_after_write_ = !keep_alive || draining_;
  response_ = std::move(res);
  try {
    complete(response_);
  } catch (const std::exception& e) {
    // prepare_payload refuses a body on 1xx/204/304; the client still deserves an answer.
    report(std::string{"http: handler's response is invalid: "} + e.what());
    response_ = json_error(beast_http::status::internal_server_error, "internal error");
    complete(response_);
  }
  if (request_is_head_) {
    // HEAD: the headers GET would send (Content-Length included), and no body.
    response_.body().clear();
  }
  set_deadline(limits_.write_timeout);
  beast_http::async_write(socket_, response_,
                          beast::bind_front_handler(&session::on_write, shared_from_this()));
}

void session::complete(response& res) const {
  // Version first: keep_alive() writes the Connection header the way this version needs it.
  res.version(request_version_);
  res.keep_alive(!close_after_write_);
  res.set(beast_http::field::server, "order-tracker");
  res.prepare_payload();
}

void session::on_write(beast::error_code ec, std::size_t) {
  if (state_ == state::closed) {
    return;
  }
  if (ec) {
    return fail(ec, "write");
  }
  response_ = {};
  if (close_after_write_ || draining_) {
    return do_linger();
  }
  do_wait_for_request();
}

void session::do_linger() {
  state_ = state::lingering;
  beast::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  // One deadline covers the whole drain.
  set_deadline(limits_.linger_timeout);
  do_drain_input();
}

void session::do_drain_input() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(first_read_bytes),
                          beast::bind_front_handler(&session::on_drain_input, shared_from_this()));
}

void session::on_drain_input(beast::error_code ec, std::size_t) {
  if (state_ == state::closed) {
    return;
  }
  if (ec) {
    // End of input (the client read our answer and closed) or the linger timeout: done either way.
    return close_now();
  }
  do_drain_input();
}

void session::close_now() {
  state_ = state::closed;
  deadline_ = clock::time_point::max();
  timer_.cancel();
  beast::error_code ignored;
  socket_.close(ignored);
  stream_flushed_ = nullptr;
  if (auto closed = std::exchange(stream_events_.on_closed, nullptr)) {
    // Posted: close_now runs inside calls the application makes, and the application drops its
    // stream (perhaps the last reference to this session) when told.
    asio::post(socket_.get_executor(), std::move(closed));
  }
  // Leave now, not in the destructor: a responder the application still holds keeps this object
  // alive, and a closed connection must not hold up a drain or count against max_connections.
  leave_registry();
}

void session::fail(beast::error_code ec, std::string_view what) {
  close_now();
  if (is_routine(ec)) {
    return;
  }
  report(std::string{"http: "} + std::string{what} + ": " + ec.message());
}

void session::report(std::string_view message) {
  if (auto owner = owner_.lock()) {
    owner->report(message);
  }
}

}  // namespace detail
}  // namespace order_tracker::http
