#pragma once
/// Wakes the io_context when a librdkafka queue gets events. Internal to the Kafka adapters.
///
/// librdkafka writes to the eventfd only when the queue goes from empty to non-empty, and not again
/// until someone polled it (edge-triggered). So every wake-up clears the eventfd first and then
/// drains the queue completely; reading the fd after draining could swallow a wake-up.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <exception>
#include <functional>
#include <string_view>

#include "common/kafka/handles.hpp"

namespace order_tracker::kafka::detail {

/// Logs an exception that a user callback let escape, as a handler failure is reported.
void report_handler_failure(std::string_view what, const std::exception_ptr& e) noexcept;

/// Runs `f`, a user callback called from a drain, and reports what it throws instead of letting it
/// unwind through librdkafka's frames or out of an Asio handler.
template <typename F>
void call_guarded(std::string_view what, F&& f) noexcept {
  try {
    std::forward<F>(f)();
  } catch (...) {
    report_handler_failure(what, std::current_exception());
  }
}

class queue_waker {
 public:
  /// `drain` must poll `queue` with timeout 0 until it is empty.
  queue_waker(boost::asio::io_context& io, rd_kafka_queue_t* queue, std::function<void()> drain);
  ~queue_waker();
  queue_waker(const queue_waker&) = delete;
  queue_waker& operator=(const queue_waker&) = delete;

  /// Starts waiting, and drains once in case events arrived before the fd was armed.
  void start();
  /// Stops waiting and detaches the fd from the queue; pending waits complete as aborted.
  void stop();

 private:
  void do_wait();
  void on_ready(const boost::system::error_code& ec);

  rd_kafka_queue_t* queue_;
  boost::asio::posix::stream_descriptor fd_;
  std::function<void()> drain_;
  bool stopped_ = true;
};

}  // namespace order_tracker::kafka::detail
