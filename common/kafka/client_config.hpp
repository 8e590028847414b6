#pragma once
/// Builds librdkafka configurations from the service options. Internal to the Kafka adapters.

#include <string_view>
#include <vector>

#include "common/config/options.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/property_scope.hpp"

namespace order_tracker::kafka::detail {

/// Applies, in order: `defaults` (the adapter's and the service's choices), bootstrap.servers,
/// then the user's -X properties that apply to this kind of client, which may override any
/// default. `enforced` come last and
/// cannot be overridden (the guarantees the service makes depend on them).
/// Throws config::config_error naming the property librdkafka rejected.
conf_ptr make_conf(client_kind kind, const config::kafka_options& options,
                   const std::vector<config::property>& defaults,
                   const std::vector<config::property>& enforced = {});

/// Routes librdkafka's log lines through the service logger (called on librdkafka's threads).
void route_logs(rd_kafka_conf_t* conf);

/// Creates the client; throws config::config_error with librdkafka's reason on failure.
handle_ptr make_handle(rd_kafka_type_t type, conf_ptr conf);

}  // namespace order_tracker::kafka::detail
