#pragma once
/// The parts of librdkafka's statistics JSON (STATISTICS.md) that readiness checks and /metrics
/// use. Pure: parsing only.

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace order_tracker::kafka {

struct broker_statistics {
  std::string name;  ///< "host:port/id"
  std::int32_t node_id = -1;
  bool up = false;
  double rtt_avg_seconds = 0;
  std::int64_t outbuf_requests = 0;
};

struct partition_statistics {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t consumer_lag = -1;         ///< high watermark - committed (-1: unknown)
  std::int64_t consumer_lag_stored = -1;  ///< high watermark - stored
  std::int64_t committed_offset = -1;
  std::int64_t high_watermark = -1;
};

struct statistics {
  std::int64_t queued_messages = 0;  ///< msg_cnt: in the producer's queues
  std::int64_t queued_bytes = 0;
  std::int64_t tx_messages = 0;
  std::int64_t rx_messages = 0;
  std::vector<broker_statistics> brokers;  ///< learned brokers only (bootstrap entries skipped)
  /// A bootstrap connection is open. After all brokers were down, librdkafka (2.10+) re-bootstraps
  /// and, with sparse connections, connects a learned broker only once it has work for it: the
  /// bootstrap connection is then the only sign that the cluster is reachable again.
  bool bootstrap_up = false;
  std::vector<partition_statistics> partitions;  ///< assigned/consumed partitions only
  std::int64_t rebalances = 0;

  /// At least one broker of the cluster, learned or bootstrap, has an open connection.
  bool any_broker_up() const;
};

/// Whether a client can reach its cluster, from client errors (all brokers down) and from the
/// broker states in each statistics document. Both services base /readyz on it.
class broker_reachability {
 public:
  bool up() const { return up_; }
  /// Returns true when the state changed (worth a log line). `reason` is the client's text.
  bool on_error(const boost::system::error_code& ec, std::string_view reason = {});
  bool on_statistics(const statistics& s);
  /// Why no broker is reachable, for /readyz: an authentication failure seen since the last
  /// connection was up wins over librdkafka's later "N/N brokers are down", which follows it and
  /// says nothing an operator can act on; otherwise the last error.
  std::string down_reason() const;

 private:
  bool up_ = true;
  std::string last_error_;
  std::string authentication_error_;
};

/// Parses one statistics document; empty if it is not the expected JSON.
std::optional<statistics> parse_statistics(std::string_view json);

}  // namespace order_tracker::kafka
