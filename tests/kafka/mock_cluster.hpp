#pragma once
/// librdkafka's in-process mock cluster for the fast Kafka tests: able to fail in ways a real
/// broker will not on demand. Owned by the test process; traffic stays on 127.0.0.1.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include "common/config/options.hpp"
#include "tests/support/run_until.hpp"

namespace order_tracker::test {

/// A mock cluster of `brokers` brokers with a 3-partition topic "orders", hosted by a client
/// handle of its own.
struct mock_cluster {
  explicit mock_cluster(int brokers = 1) {
    std::array<char, 256> err{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size());
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

  /// Adds a topic (replication 1).
  void add_topic(const char* name, int partitions = 3) const {
    BOOST_REQUIRE(rd_kafka_mock_topic_create(cluster, name, partitions, 1) ==
                  RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  /// The next `count` requests of kind `api_key` (a Kafka protocol API key) fail with `err`.
  void fail_next(std::int16_t api_key, std::size_t count, rd_kafka_resp_err_t err) const {
    std::vector<rd_kafka_resp_err_t> errors(count, err);
    rd_kafka_mock_push_request_errors_array(cluster, api_key, errors.size(), errors.data());
  }
  config::kafka_options options(std::vector<config::property> props = {}) const {
    return {rd_kafka_mock_cluster_bootstraps(cluster), "orders", std::move(props)};
  }
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
};

}  // namespace order_tracker::test
