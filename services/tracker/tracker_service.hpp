#pragma once
/// The Tracker service: consumes OrderPlaced events in its consumer group, logs each order, and
/// stores an order's offset only once it is processed.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>

#include "common/kafka/consumer.hpp"
#include "services/tracker/tracker_options.hpp"

namespace order_tracker::tracker {

class tracker_service {
 public:
  /// Throws config::config_error when Kafka rejects the configuration.
  tracker_service(boost::asio::io_context& io, tracker_options options);

  /// Subscribes; io_context::run() returns once the service has stopped.
  void start();
  int exit_code() const { return exit_code_; }

 private:
  void on_message(kafka::message&& m);
  void shutdown(std::string_view why);

  tracker_options options_;
  kafka::consumer consumer_;
  boost::asio::signal_set signals_;
  std::uint64_t processed_ = 0;
  std::uint64_t invalid_ = 0;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace order_tracker::tracker
