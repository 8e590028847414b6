#pragma once
/// Shared pieces of the integration tests: one real broker per test executable, and the two
/// services started as real processes against it.

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/kafka_broker.hpp"

namespace order_tracker::test {

/// The executable's broker, started once by the global fixture.
struct broker_fixture {
  broker_fixture() { instance() = std::make_unique<kafka_broker>(); }
  ~broker_fixture() { instance().reset(); }
  static std::unique_ptr<kafka_broker>& instance() {
    static std::unique_ptr<kafka_broker> broker;
    return broker;
  }
  static kafka_broker& broker() { return *instance(); }
};

/// Starts `order-service` or `tracker-service` with the broker's address and extra flags.
inline std::unique_ptr<child_process> start_service(const std::string& name,
                                                    std::vector<std::string> flags,
                                                    const std::string& log_name,
                                                    std::vector<std::string> env = {}) {
  std::vector<std::string> argv{(bin_dir() / name).string(), "--bootstrap-servers",
                                broker_fixture::broker().bootstrap()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  // Never the default 0.0.0.0:808x: tests stay on loopback and run in parallel.
  if (std::find(flags.begin(), flags.end(), "--http-listen") == flags.end() &&
      std::find(flags.begin(), flags.end(), "--no-http") == flags.end()) {
    argv.insert(argv.end(), {"--http-listen", "127.0.0.1:" + std::to_string(free_port_range(1))});
  }
  static const auto logs = scratch_dir("logs");
  return std::make_unique<child_process>(argv, logs / (log_name + ".log"), std::move(env));
}

/// The order ids in lines like "Received order <uuid>: ...".
std::vector<std::string> received_order_ids(const std::string& log);

}  // namespace order_tracker::test
