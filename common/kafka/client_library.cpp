#include "common/kafka/client_library.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "common/config/options.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::kafka {

client_library loaded_client_library() {
  return {rd_kafka_version(), rd_kafka_version_str()};
}

void require_supported_client_library(std::string_view program) {
  const auto loaded = loaded_client_library();
  if (loaded.version < minimum_client_version) {
    throw config::config_error(fmt::format(
        "librdkafka {} is loaded, but {} needs 2.12.0 or later; deploy/install-librdkafka.sh "
        "builds 2.14.2 into /opt/order-tracker (check LD_LIBRARY_PATH and `ldd $(which {})`)",
        loaded.text, program, program));
  }
  log::info("kafka", "{} runs on librdkafka {}", program, loaded.text);
}

}  // namespace order_tracker::kafka
