#pragma once
/// The Order service's settings: the shared Kafka/logging options plus its own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/config/options.hpp"

namespace order_tracker::order {

/// The topic settings are a base, not a member, so that code naming `partitions` and the like
/// reads them where it always did; the Tracker takes the same settings (config::topic_options).
struct order_options : config::topic_options {
  config::common_options common;
  std::string http_listen{"0.0.0.0:8080"};
  /// Orders per second from the built-in generator; absent: no generator. 0: as fast as Kafka
  /// takes.
  std::optional<double> generate_rate;
  /// Stop after this many generated orders (0: no limit) and exit once all are delivered.
  std::int64_t count = 0;
  std::chrono::milliseconds delivery_timeout{30'000};
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::chrono::milliseconds stall_timeout{5'000};
  std::size_t max_body_bytes = 64 * 1024;
  /// HTTP connections served at once; each one beyond is answered 503 and closed.
  std::size_t max_connections = 4096;
  std::chrono::seconds idempotency_window{600};
  std::size_t idempotency_capacity = 100'000;
  bool http_enabled = true;  ///< off: generator only (e.g. --count runs and benchmarks)
};

/// Parses argv and the environment. Empty when --help was printed. Throws config::config_error.
std::optional<order_options> parse_order_options(int argc, const char* const argv[],
                                                 const config::environment& env);

}  // namespace order_tracker::order
