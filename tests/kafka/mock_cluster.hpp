#pragma once
/// librdkafka's in-process mock cluster for the Kafka adapter tests, and a loop runner that waits
/// for a condition with every wake-up coming from librdkafka's eventfds.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "common/config/options.hpp"

namespace order_tracker::testing {

/// A mock cluster of `brokers` brokers with an "orders" topic of 3 partitions.
struct mock_cluster {
  explicit mock_cluster(int brokers = 1) {
    std::array<char, 256> err{};
    host = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err.data(), err.size());
    BOOST_REQUIRE(host != nullptr);
    cluster = rd_kafka_mock_cluster_new(host, brokers);
    BOOST_REQUIRE(cluster != nullptr);
    BOOST_REQUIRE(rd_kafka_mock_topic_create(cluster, "orders", 3, 1) ==
                  RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ~mock_cluster() {
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(host);
  }
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  config::kafka_options options(std::vector<config::property> props = {}) const {
    return {rd_kafka_mock_cluster_bootstraps(cluster), "orders", std::move(props)};
  }
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
};

/// Runs `io` until `done()` or the deadline.
template <typename Done>
bool run_until(boost::asio::io_context& io, Done done,
               std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(50));
    if (io.stopped()) io.restart();
  }
  return done();
}

}  // namespace order_tracker::testing
