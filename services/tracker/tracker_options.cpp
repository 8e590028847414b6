#include "services/tracker/tracker_options.hpp"

namespace order_tracker::tracker {

std::optional<tracker_options> parse_tracker_options(int argc, const char* const argv[],
                                                     const config::environment& env) {
  tracker_options o;
  long shutdown_ms = o.shutdown_timeout.count();
  config::command_line cli(
      "tracker-service",
      "Consumes OrderPlaced events in a consumer group and keeps track of them.");
  cli.add_common(o.common);
  cli.add_topic(o.topic);
  cli.add("group-id", o.group_id, "KAFKA_GROUP_ID", "consumer group");
  cli.add("http-listen", o.http_listen, "HTTP_LISTEN", "HTTP API address, HOST:PORT");
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
  if (heartbeat_ms < 1) throw config::config_error("--stream-heartbeat-ms: must be at least 1");
  if (flush_ms < 0) throw config::config_error("--stream-flush-ms: must be >= 0");
  o.stream.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  o.stream.flush_interval = std::chrono::milliseconds(flush_ms);
  return o;
}

}  // namespace order_tracker::tracker
