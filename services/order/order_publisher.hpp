#pragma once
/// Publishes OrderPlaced events, from HTTP and from the generator alike: encodes, keys by order_id,
/// attaches the traceparent header, and measures in-flight orders and delivery latency.

#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/events/order_placed.hpp"
#include "common/kafka/producer.hpp"
#include "common/observability/metrics.hpp"

namespace order_tracker::order {

/// The Kafka header that carries the W3C traceparent with the event.
inline constexpr std::string_view traceparent_header = "traceparent";

class order_publisher {
 public:
  order_publisher(kafka::producer& producer, std::string topic, observability::registry& metrics);

  using done_fn = std::function<void(const kafka::delivery_report&)>;

  /// Receives the broker's verdict on one order, after the publisher has accounted for it.
  class delivery_sink {
   public:
    /// Runs once per publish that succeeded, on the io thread.
    virtual void on_delivery(const kafka::delivery_report& r) = 0;

   protected:
    ~delivery_sink() = default;
  };

  /// Queues the event; `done` runs once with the broker's verdict. An immediate failure is
  /// returned instead and `done` never runs (kafka::is_queue_full: try again soon). With an empty
  /// `done` the verdict goes to the producer's on_unowned_delivery, which must pass it to
  /// record(): the generator's path, with no allocation per order.
  boost::system::error_code publish(const events::order_placed& order, std::string_view traceparent,
                                    done_fn done);
  /// As above, with the verdict going to `sink`, which must stay alive until it has it. Nothing
  /// is allocated per order beyond the producer's own record: the handler handed to the producer
  /// is two pointers, which std::function keeps without a heap box of its own.
  boost::system::error_code publish(const events::order_placed& order, std::string_view traceparent,
                                    delivery_sink& sink);

  /// Accounts for one verdict: in-flight count, delivered/failed counters, latency.
  void record(const kafka::delivery_report& r);

  const std::string& topic() const { return topic_; }
  std::uint64_t in_flight() const { return in_flight_; }
  /// How long orders have been in flight with no verdict at all: since the last report, or since
  /// the first send after an idle spell. Zero when nothing is in flight.
  std::chrono::steady_clock::duration unconfirmed_for(
      std::chrono::steady_clock::time_point now) const;
  /// Orders confirmed since the last call and their p99 delivery latency (seconds; NaN if none),
  /// for the periodic summary.
  struct window {
    std::uint64_t delivered = 0;
    double p99_seconds = 0;
  };
  window take_window();

 private:
  boost::system::error_code send(const events::order_placed& order, std::string_view traceparent,
                                 kafka::delivery_handler handler);

  kafka::producer& producer_;
  std::string topic_;
  std::string encoded_;  ///< reused: the producer copies the bytes
  std::uint64_t in_flight_ = 0;
  std::chrono::steady_clock::time_point waiting_since_{};
  observability::histogram& latency_;
  observability::counter& delivered_;
  observability::counter& failed_;
  std::unique_ptr<observability::histogram> window_;
};

/// Latency buckets for delivery: 0.5 ms to about 8 s.
std::vector<double> delivery_buckets();

}  // namespace order_tracker::order
