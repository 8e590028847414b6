#include "common/kafka/client_config.hpp"

#include <fmt/format.h>

#include <array>

#include "common/observability/log.hpp"

namespace order_tracker::kafka::detail {
namespace {

void set(rd_kafka_conf_t* conf, const config::property& p) {
  std::array<char, 512> err{};
  if (rd_kafka_conf_set(conf, p.first.c_str(), p.second.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    throw config::config_error(
        fmt::format("Kafka property {}={}: {}", p.first, p.second, err.data()));
  }
}

void log_line(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 notice/info, 7 debug.
  const auto l = level <= 3   ? log::level::error
                 : level == 4 ? log::level::warn
                 : level <= 6 ? log::level::info
                              : log::level::debug;
  if (!log::enabled(l)) return;
  // A C callback on librdkafka's threads: nothing may unwind into its frames (an allocation
  // failure while formatting would otherwise end in std::terminate). A lost line is all it costs.
  try {
    log::write(l, "librdkafka", fmt::format("{}: {}", facility, message));
  } catch (...) {
  }
}

}  // namespace

conf_ptr make_conf(client_kind kind, const config::kafka_options& options,
                   const std::vector<config::property>& defaults,
                   const std::vector<config::property>& enforced) {
  conf_ptr conf(rd_kafka_conf_new());
  for (const auto& p : defaults)
    set(conf.get(), p);
  set(conf.get(), {"bootstrap.servers", options.bootstrap_servers});
  for (const auto& p : options.properties) {
    if (property_applies_to(p.first, kind)) {
      set(conf.get(), p);
    } else {
      log::debug("kafka", "-X {} is a {} property: not given to this {}", p.first,
                 kind == client_kind::producer ? "consumer" : "producer",
                 kind == client_kind::producer ? "producer" : "consumer");
    }
  }
  for (const auto& p : enforced)
    set(conf.get(), p);
  route_logs(conf.get());
  return conf;
}

void route_logs(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, &log_line);
}

handle_ptr make_handle(rd_kafka_type_t type, conf_ptr conf) {
  std::array<char, 512> err{};
  // rd_kafka_new takes ownership of conf only on success.
  handle_ptr handle(rd_kafka_new(type, conf.get(), err.data(), err.size()));
  if (!handle) throw config::config_error(fmt::format("Kafka client: {}", err.data()));
  (void)conf.release();
  return handle;
}

}  // namespace order_tracker::kafka::detail
