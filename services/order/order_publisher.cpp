#include "services/order/order_publisher.hpp"

#include <boost/uuid/uuid_io.hpp>

namespace order_tracker::order {

std::vector<double> delivery_buckets() {
  return observability::exponential_buckets(0.0005, 2, 15);
}

order_publisher::order_publisher(kafka::producer& producer, std::string topic,
                                 observability::registry& metrics)
    : producer_(producer),
      topic_(std::move(topic)),
      latency_(metrics.histogram("order_delivery_latency_seconds",
                                 "Time from producing an order to the broker's acknowledgement",
                                 delivery_buckets())),
      delivered_(metrics.counter("orders_delivered_total", "Orders the broker acknowledged")),
      failed_(metrics.counter("orders_delivery_failed_total",
                              "Orders the broker did not acknowledge in time, or refused")),
      window_(std::make_unique<observability::histogram>(delivery_buckets())) {
  metrics.gauge_callback("orders_in_flight", "Orders produced and awaiting the broker's verdict",
                         [this] { return static_cast<double>(in_flight_); });
  metrics.gauge_callback("kafka_producer_queue_messages",
                         "Messages and requests in librdkafka's queues",
                         [this] { return static_cast<double>(producer_.queue_length()); });
}

boost::system::error_code order_publisher::publish(const events::order_placed& order,
                                                   std::string_view traceparent, done_fn done) {
  kafka::delivery_handler handler;
  if (done) {
    handler = [this, done = std::move(done)](const kafka::delivery_report& r) {
      record(r);
      done(r);
    };
  }
  return send(order, traceparent, std::move(handler));
}

boost::system::error_code order_publisher::publish(const events::order_placed& order,
                                                   std::string_view traceparent,
                                                   delivery_sink& sink) {
  return send(order, traceparent, [this, s = &sink](const kafka::delivery_report& r) {
    record(r);
    s->on_delivery(r);
  });
}

boost::system::error_code order_publisher::send(const events::order_placed& order,
                                                std::string_view traceparent,
                                                kafka::delivery_handler handler) {
  encoded_.clear();
  events::encode(order, encoded_);
  const auto key = events::uuid_chars(order.order_id);
  const kafka::header headers[] = {{traceparent_header, traceparent}};
  const auto hdrs = traceparent.empty() ? std::span<const kafka::header>{} : std::span(headers);
  auto ec = producer_.send(topic_, std::string_view(key.data(), key.size()), encoded_, hdrs,
                           std::move(handler));
  if (!ec && in_flight_++ == 0) waiting_since_ = std::chrono::steady_clock::now();
  return ec;
}

void order_publisher::record(const kafka::delivery_report& r) {
  --in_flight_;
  waiting_since_ = std::chrono::steady_clock::now();
  if (r.error) {
    failed_.inc();
    return;
  }
  delivered_.inc();
  const auto s = std::chrono::duration<double>(r.latency).count();
  latency_.observe(s);
  window_->observe(s);
}

std::chrono::steady_clock::duration order_publisher::unconfirmed_for(
    std::chrono::steady_clock::time_point now) const {
  if (in_flight_ == 0) return std::chrono::steady_clock::duration::zero();
  return now - waiting_since_;
}

order_publisher::window order_publisher::take_window() {
  const window w{window_->count(), observability::quantile(*window_, 0.99)};
  window_ = std::make_unique<observability::histogram>(delivery_buckets());
  return w;
}

}  // namespace order_tracker::order
