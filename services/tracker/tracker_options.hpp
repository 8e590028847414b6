#pragma once
/// The Tracker service's settings: the shared Kafka/logging options plus its own.

#include <chrono>
#include <optional>
#include <string>

#include "common/config/options.hpp"
#include "services/tracker/order_stream.hpp"

namespace order_tracker::tracker {

struct tracker_options {
  config::common_options common;
  /// How the topic and the dead-letter topic are created when missing (as the Order service does).
  config::topic_options topic;
  std::string group_id{"order-tracker"};
  std::string http_listen{"0.0.0.0:8081"};
  /// Where the other members of the group reach this instance's HTTP API, HOST:PORT (a name or
  /// an address); empty: the --http-listen address, with a wildcard host read as 127.0.0.1.
  std::string advertised_address;
  /// How long another member may take to answer a routed request.
  std::chrono::milliseconds route_timeout{1000};
  std::string dlq_topic;    ///< empty: "<topic>.dlq"
  std::string state_topic;  ///< empty: "<topic>.tracker-state" (partition snapshots, compacted)
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::size_t max_orders = 50'000;  ///< orders whose detail the view keeps, in all partitions
  /// Offsets of a partition across which a redelivered order id is recognised; the same on every
  /// member of the group, since totals and snapshots are counted with it.
  std::size_t id_window = 50'000;
  stream_options stream;   ///< GET /orders/stream
  bool log_orders = true;  ///< one info line per order, as the seed's consumer prints
};

/// The advertised address `http_listen` implies: its host, or 127.0.0.1 for a wildcard one.
std::string default_advertised_address(const std::string& http_listen);

/// `address` with "{hostname}" replaced by this machine's host name (a container's own name in
/// Compose, where the replicas of one service share the service's name).
std::string with_hostname(std::string address);

/// Parses argv and the environment. Empty when --help was printed. Throws config::config_error.
std::optional<tracker_options> parse_tracker_options(int argc, const char* const argv[],
                                                     const config::environment& env);

}  // namespace order_tracker::tracker
