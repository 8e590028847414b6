#pragma once
/// The write end of a long-lived response, such as Server-Sent Events: the header goes out once,
/// without Content-Length, and the body is whatever the application writes until it ends the
/// stream or the client leaves. The connection closes with the stream.

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

namespace order_tracker::http {

namespace detail {
class session;
}  // namespace detail
class responder;

/// What a stream tells its application; both run on the io_context's thread, never from inside a
/// call into the stream.
struct stream_events {
  /// The connection closed: the client left, a write timed out, the server shut down, or the
  /// stream ended. Runs once. Drop every copy of the stream then.
  std::function<void()> on_closed;
};

/// A handle on one streaming connection; copies share it. Every call is a no-op once the
/// connection is closed. Holding a copy keeps the connection's memory (not the connection) alive.
class stream {
 public:
  stream() = default;

  /// Queues `bytes` after what is queued already and starts writing if idle. False once the
  /// stream is closed or ending. Never blocks and never waits for the client: bounding what a
  /// slow client costs is the caller's business, through `queued()`.
  bool write(std::string_view bytes) const;
  /// Bytes accepted by `write` and not yet handed to the kernel.
  std::size_t queued() const;
  /// Whether `write` still accepts bytes.
  bool open() const;
  /// Runs `f` once when everything queued has been written (now, if nothing is queued); replaces
  /// a callback set before. Not run if the connection closes first.
  void when_flushed(std::function<void()> f) const;
  /// Ends the response once what is queued is written, then closes the connection.
  void end() const;

 private:
  friend class responder;
  explicit stream(std::shared_ptr<detail::session> session) : session_(std::move(session)) {}

  std::shared_ptr<detail::session> session_;
};

}  // namespace order_tracker::http
