#pragma once
/// GET /orders/stream: Server-Sent Events, one event per order the Tracker tracks live, with the
/// JSON of GET /orders/{id}. Fans each order out to every open stream without ever waiting for a
/// client:
///
/// - Streams are written at most once per `flush_interval`, each with everything since the last
///   time, so 50 streams cost 50 writes per interval, not per order; an order after a quiet
///   interval goes out at once.
/// - Each stream may have `buffer_bytes` queued. A stream that still has bytes queued and whose
///   next batch does not fit beside them has fallen behind: it gets nothing more, and once its
///   queue has gone out it gets one `dropped` event (how many orders it missed, and the id to
///   resume from) and is closed. If it does not read at all, the HTTP layer's write timeout closes
///   it. Counted in /metrics.
/// - `Last-Event-ID` resumes from the history (stream_history.hpp); without one a client gets the
///   orders from now on, as the seed's console consumer did.
/// - At most `max_streams` at once; more get 503 and `Retry-After`.
/// - A comment line every `heartbeat` keeps idle connections (and proxies) from timing out.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "common/http/server.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/stream_history.hpp"
#include "services/tracker/view_types.hpp"

namespace order_tracker::tracker {

struct stream_options {
  std::size_t max_streams = 100;
  /// Per stream: bytes queued beyond what the kernel took; more and the client is dropped.
  std::size_t buffer_bytes = 1024 * 1024;
  /// Events kept for clients that reconnect with Last-Event-ID.
  std::size_t history = 2048;
  std::chrono::milliseconds heartbeat{15'000};
  /// The least time between two writes to the streams. 250 ms: with 50 streams at
  /// 1,000 orders/s the Tracker's CPU per order rose 9-10% (100 ms: 22-23%;
  /// tests/bench/sse_bench.py).
  std::chrono::milliseconds flush_interval{250};
};

class order_stream {
 public:
  order_stream(boost::asio::io_context& io, stream_options options,
               observability::registry& metrics);
  order_stream(const order_stream&) = delete;
  order_stream& operator=(const order_stream&) = delete;

  /// Answers GET /orders/stream: 503 at the cap or once stopped, else a stream.
  void open(const http::request& req, const http::responder& respond);
  /// One order applied live, in the order they were applied.
  void publish(const tracked_order& order);
  /// Ends every stream once its queue is written and refuses new ones (shutdown).
  void stop();

  std::size_t open_streams() const noexcept { return clients_.size(); }

 private:
  struct client {
    http::stream out;
    /// The next sequence number this client needs.
    std::uint64_t next = 0;
    /// Fell behind: waiting for its queue to empty, to be told and closed.
    bool behind = false;
    std::uint64_t missed = 0;
    /// Once behind: the first sequence number it did not get.
    std::uint64_t resume_from = 0;
    /// Something was written since the last heartbeat tick.
    bool active = false;
  };

  void flush();
  void arm_flush();
  void arm_heartbeat();
  void fall_behind(std::uint64_t key, client& c, std::uint64_t count);
  void tell_dropped(std::uint64_t key);

  stream_options options_;
  stream_history history_;
  /// Keyed by the order streams were opened in.
  std::map<std::uint64_t, client> clients_;
  std::uint64_t next_key_ = 0;
  /// Events up to here were written to the streams; the rest wait for the flush timer.
  std::uint64_t flushed_ = 0;
  /// The batch being written, reused.
  std::string batch_;
  bool flush_armed_ = false;
  std::chrono::steady_clock::time_point last_flush_{};
  bool stopped_ = false;
  boost::asio::steady_timer flush_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  observability::counter& dropped_;
  observability::counter& missed_;
  observability::counter& refused_;
  observability::counter& opened_;
};

}  // namespace order_tracker::tracker
