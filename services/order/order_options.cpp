#include "services/order/order_options.hpp"

#include <fmt/format.h>

namespace order_tracker::order {

std::optional<order_options> parse_order_options(int argc, const char* const argv[],
                                                 const config::environment& env) {
  order_options o;
  double rate = -1;
  long delivery_ms = o.delivery_timeout.count();
  long shutdown_ms = o.shutdown_timeout.count();
  long stall_ms = o.stall_timeout.count();
  config::command_line cli(
      "order-service",
      "Publishes OrderPlaced events on Kafka: from HTTP clients and/or a generator.");
  cli.add_common(o.common);
  cli.add("http-listen", o.http_listen, "HTTP_LISTEN", "HTTP API address, HOST:PORT");
  cli.add("generate-rate", rate, "GENERATE_RATE",
          "generate sample orders at N/s (0: as fast as Kafka takes them; -1: no generator)");
  cli.add("count", o.count, "ORDER_COUNT",
          "stop after N generated orders, once delivered (0: no limit)");
  cli.add_topic(o);
  cli.add("delivery-timeout-ms", delivery_ms, "DELIVERY_TIMEOUT_MS",
          "give up on an order the broker has not confirmed after this long");
  cli.add("shutdown-timeout-ms", shutdown_ms, "SHUTDOWN_TIMEOUT_MS",
          "on SIGTERM, how long to wait for outstanding deliveries");
  cli.add("stall-timeout-ms", stall_ms, "STALL_TIMEOUT_MS",
          "not ready (503 at once) while orders have waited this long with no broker verdict");
  long idem_s = o.idempotency_window.count();
  bool no_http = false;
  cli.add("max-body-bytes", o.max_body_bytes, "MAX_BODY_BYTES",
          "largest POST /orders body (413 above)");
  cli.add("max-connections", o.max_connections, "MAX_CONNECTIONS",
          "HTTP connections served at once (503 above); each needs a file descriptor");
  cli.add("idempotency-window-s", idem_s, "IDEMPOTENCY_WINDOW_S",
          "how long an Idempotency-Key is remembered");
  cli.add("idempotency-capacity", o.idempotency_capacity, "IDEMPOTENCY_CAPACITY",
          "how many Idempotency-Keys are remembered at most");
  cli.add_switch("no-http", no_http, "", "do not serve HTTP (generator only)");
  if (cli.parse(argc, argv, env) == config::command_line::outcome::exit_success)
    return std::nullopt;

  if (rate >= 0)
    o.generate_rate = rate;
  else if (rate != -1)
    throw config::config_error(fmt::format("--generate-rate {}: must be >= 0, or -1", rate));
  if (o.count < 0) throw config::config_error("--count: must be >= 0");
  if (delivery_ms < 1) throw config::config_error("--delivery-timeout-ms: must be positive");
  if (stall_ms < 1) throw config::config_error("--stall-timeout-ms: must be positive");
  if (shutdown_ms < 0) throw config::config_error("--shutdown-timeout-ms: must be >= 0");
  if (idem_s < 1) throw config::config_error("--idempotency-window-s: must be positive");
  if (o.max_body_bytes < 64) throw config::config_error("--max-body-bytes: must be at least 64");
  if (o.max_connections < 1) throw config::config_error("--max-connections: must be positive");
  o.idempotency_window = std::chrono::seconds(idem_s);
  o.http_enabled = !no_http;
  o.delivery_timeout = std::chrono::milliseconds(delivery_ms);
  o.shutdown_timeout = std::chrono::milliseconds(shutdown_ms);
  o.stall_timeout = std::chrono::milliseconds(stall_ms);
  return o;
}

}  // namespace order_tracker::order
