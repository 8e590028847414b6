#pragma once
/// The Order service: makes sure its topic exists, then publishes OrderPlaced events from HTTP
/// clients and/or the generator, and on SIGINT/SIGTERM stops taking orders, answers those in
/// flight, flushes with a deadline and exits.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/http/server.hpp"
#include "common/kafka/admin.hpp"
#include "common/kafka/producer.hpp"
#include "common/kafka/statistics.hpp"
#include "common/observability/metrics.hpp"
#include "services/order/generator.hpp"
#include "services/order/idempotency_cache.hpp"
#include "services/order/order_api.hpp"
#include "services/order/order_options.hpp"
#include "services/order/order_publisher.hpp"

namespace order_tracker::order {

class order_service {
 public:
  /// Throws config::config_error when Kafka rejects the configuration.
  order_service(boost::asio::io_context& io, order_options options);

  /// Listens and begins the start-up sequence; io_context::run() returns once the service has
  /// stopped. Throws config::config_error if the HTTP address cannot be used.
  void start();

 private:
  void ensure_topic();
  void on_topic(const boost::system::error_code& ec, const std::string& detail);
  bool publish_generated(const events::order_placed& order);
  void on_generated_delivery(const kafka::delivery_report& r);
  void on_kafka_error(const boost::system::error_code& ec, std::string_view reason, bool fatal);
  void renew_producer();
  void on_stats(std::string_view json);
  std::string not_ready_reason() const;
  void shutdown(std::string_view why);
  void maybe_finish();
  void arm_summary();

  order_options options_;
  /// Everything below reports into it, so it is declared (and destroyed) first/last.
  observability::registry metrics_;
  /// What the producer's error handler writes, before the producer: it may report an error from
  /// inside its own constructor (an error event queued at start).
  std::string last_kafka_error_;
  kafka::broker_reachability brokers_;
  kafka::producer producer_;
  /// Borrows the producer's connections.
  kafka::admin admin_;
  order_publisher publisher_;
  idempotency_cache idempotency_;
  order_api api_;
  std::optional<generator> generator_;
  /// Last: its handlers call into the parts above.
  std::optional<http::server> http_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer summary_timer_;
  observability::counter& renewals_;
  std::chrono::milliseconds retry_backoff_{250};
  std::uint64_t generated_delivered_ = 0;
  std::uint64_t generated_failed_ = 0;
  std::uint64_t accepted_at_last_summary_ = 0;
  std::uint64_t rejected_at_last_summary_ = 0;
  bool topic_ready_ = false;
  bool log_each_delivery_ = false;
  bool stopping_ = false;
  bool http_drained_ = true;
  bool flushed_ = false;
  std::size_t unfinished_ = 0;
  bool renewing_ = false;
};

}  // namespace order_tracker::order
