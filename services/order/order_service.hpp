#pragma once
/// The Order service: makes sure its topic exists, then publishes OrderPlaced events from the
/// generator (and, later, HTTP clients), and shuts down on SIGINT/SIGTERM after a bounded flush.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/events/order_placed.hpp"
#include "common/kafka/admin.hpp"
#include "common/kafka/producer.hpp"
#include "services/order/generator.hpp"
#include "services/order/order_options.hpp"

namespace order_tracker::order {

class order_service {
 public:
  /// Throws config::config_error when Kafka rejects the configuration.
  order_service(boost::asio::io_context& io, order_options options);

  /// Begins the start-up sequence; io_context::run() returns once the service has stopped.
  void start();

  /// 0 after a clean stop; non-zero when the service could not do its job.
  int exit_code() const { return exit_code_; }

 private:
  void ensure_topic();
  void on_topic(const boost::system::error_code& ec, const std::string& detail);
  bool publish_generated(const events::order_placed& order);
  void on_delivered(const boost::uuids::uuid& id, const kafka::delivery_report& report);
  void shutdown(std::string_view why);
  void finish(std::size_t unfinished);
  void log_summary();
  void arm_summary();

  boost::asio::io_context& io_;
  order_options options_;
  /// Owns the connections; admin below borrows them, so it is declared first.
  kafka::producer producer_;
  kafka::admin admin_;
  std::optional<generator> generator_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer summary_timer_;
  std::chrono::milliseconds retry_backoff_{250};
  std::string encoded_;  ///< reused encode buffer
  std::uint64_t delivered_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t delivered_at_last_summary_ = 0;
  bool log_each_delivery_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace order_tracker::order
