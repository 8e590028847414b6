#pragma once
/// Which librdkafka this process loaded. librdkafka keeps the soname librdkafka.so.1 from 0.x to
/// 2.x, so the loader would take an old copy silently: the services check the loaded version.

#include <string>
#include <string_view>

namespace order_tracker::kafka {

/// librdkafka 2.12.0: the first release with KIP-848 production-ready, SCRAM logins to Kafka 4.x
/// and fetch.queue.backoff.ms (README, "Dependencies").
inline constexpr int minimum_client_version = 0x020c0000;

/// The loaded librdkafka's version, as rd_kafka_version() and rd_kafka_version_str() give it.
struct client_library {
  int version = 0;
  std::string text;
};

client_library loaded_client_library();

/// Logs the loaded librdkafka's version; throws config::config_error when it is older than
/// minimum_client_version, naming the version and where the project's build of it comes from.
void require_supported_client_library(std::string_view program);

}  // namespace order_tracker::kafka
