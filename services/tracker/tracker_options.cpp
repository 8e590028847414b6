#include "services/tracker/tracker_options.hpp"

#include <unistd.h>

#include <array>
#include <string_view>

namespace order_tracker::tracker {

std::string default_advertised_address(const std::string& http_listen) {
  const auto colon = http_listen.rfind(':');
  if (colon == std::string::npos) return http_listen;
  const auto host = http_listen.substr(0, colon);
  // A wildcard is no address to connect to; on one machine the loopback reaches the listener.
  if (host == "0.0.0.0" || host == "[::]" || host.empty())
    return "127.0.0.1" + http_listen.substr(colon);
  return http_listen;
}

std::string with_hostname(std::string address) {
  constexpr std::string_view placeholder = "{hostname}";
  const auto at = address.find(placeholder);
  if (at == std::string::npos) return address;
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) {
    throw config::config_error("--advertised-address: cannot read this machine's host name");
  }
  return address.replace(at, placeholder.size(), name.data());
}

std::optional<tracker_options> parse_tracker_options(int argc, const char* const argv[],
                                                     const config::environment& env) {
  tracker_options o;
  long shutdown_ms = o.shutdown_timeout.count();
  long route_ms = o.route_timeout.count();
  config::command_line cli(
      "tracker-service",
      "Consumes OrderPlaced events in a consumer group and keeps track of them.");
  cli.add_common(o.common);
  cli.add_topic(o.topic);
  cli.add("group-id", o.group_id, "KAFKA_GROUP_ID", "consumer group");
  cli.add("http-listen", o.http_listen, "HTTP_LISTEN", "HTTP API address, HOST:PORT");
  cli.add("advertised-address", o.advertised_address, "ADVERTISED_ADDRESS",
          "HOST:PORT where the other Trackers of the group reach this one's HTTP API (default: "
          "--http-listen, with 0.0.0.0 read as 127.0.0.1); {hostname} stands for this machine's "
          "host name, e.g. {hostname}:8081 in containers");
  cli.add("route-timeout-ms", route_ms, "ROUTE_TIMEOUT_MS",
          "how long another Tracker may take to answer a request routed to it");
  cli.add("dlq-topic", o.dlq_topic, "DLQ_TOPIC", "dead-letter topic (default: <topic>.dlq)");
  cli.add("state-topic", o.state_topic, "STATE_TOPIC",
          "compacted topic of partition snapshots (default: <topic>.tracker-state)");
  cli.add("shutdown-timeout-ms", shutdown_ms, "SHUTDOWN_TIMEOUT_MS",
          "on SIGTERM, how long to wait for the final commit and group exit");
  cli.add("max-orders", o.max_orders, "VIEW_MAX_ORDERS",
          "orders whose detail GET /orders/{id} answers for, shared by the partitions owned "
          "(oldest evicted first)");
  cli.add("dedup-window", o.id_window, "DEDUP_WINDOW",
          "offsets of a partition across which a redelivered order id is recognised; the same "
          "on every member of the group");
  long heartbeat_ms = o.stream.heartbeat.count();
  long flush_ms = o.stream.flush_interval.count();
  cli.add("max-streams", o.stream.max_streams, "MAX_STREAMS",
          "GET /orders/stream connections open at once (more get 503)");
  cli.add("stream-buffer-bytes", o.stream.buffer_bytes, "STREAM_BUFFER_BYTES",
          "per stream, bytes queued for a slow client before it is dropped");
  cli.add("stream-history", o.stream.history, "STREAM_HISTORY",
          "events kept for clients that reconnect with Last-Event-ID");
  cli.add("stream-heartbeat-ms", heartbeat_ms, "STREAM_HEARTBEAT_MS",
          "comment line sent on an idle stream this often");
  cli.add("stream-flush-ms", flush_ms, "STREAM_FLUSH_MS",
          "orders are written to the streams in batches this far apart");
  bool quiet = false;
  cli.add_switch("quiet-orders", quiet, "", "no line per order (counted in the summary instead)");
  if (cli.parse(argc, argv, env) == config::command_line::outcome::exit_success)
    return std::nullopt;
  if (o.group_id.empty()) throw config::config_error("--group-id: must not be empty");
  if (shutdown_ms < 0) throw config::config_error("--shutdown-timeout-ms: must be >= 0");
  o.log_orders = !quiet;
  if (o.id_window == 0) throw config::config_error("--dedup-window: must be at least 1");
  if (o.dlq_topic.empty()) o.dlq_topic = o.common.kafka.topic + ".dlq";
  if (o.state_topic.empty()) o.state_topic = o.common.kafka.topic + ".tracker-state";
  o.shutdown_timeout = std::chrono::milliseconds(shutdown_ms);
  if (route_ms <= 0) throw config::config_error("--route-timeout-ms: must be > 0");
  o.route_timeout = std::chrono::milliseconds(route_ms);
  if (o.advertised_address.empty())
    o.advertised_address = default_advertised_address(o.http_listen);
  o.advertised_address = with_hostname(o.advertised_address);
  if (o.advertised_address.find('@') != std::string::npos ||
      o.advertised_address.rfind(':') == std::string::npos) {
    throw config::config_error("--advertised-address " + o.advertised_address +
                               ": must be HOST:PORT");
  }
  if (heartbeat_ms < 1) throw config::config_error("--stream-heartbeat-ms: must be at least 1");
  if (flush_ms < 0) throw config::config_error("--stream-flush-ms: must be >= 0");
  o.stream.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  o.stream.flush_interval = std::chrono::milliseconds(flush_ms);
  return o;
}

}  // namespace order_tracker::tracker
