#define BOOST_TEST_MODULE seed_interop
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/services.hpp"

// The seed tutorial's clients, unchanged, under Debian's python3-confluent-kafka. They use the
// topic "orders" and the group "order-tracker", so this executable has a broker of its own.

using namespace order_tracker::test;
using namespace std::chrono_literals;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

std::vector<std::string> seed_env() {
  return {"KAFKA_BOOTSTRAP_SERVERS=" + broker_fixture::broker().bootstrap(), "PYTHONUNBUFFERED=1"};
}

std::string seed(const std::string& script) {
  return std::string(ORDER_TRACKER_SEED_DIR) + "/" + script;
}

/// Runs a Kafka CLI tool against the broker (kafka.sh cli) and returns its output.
std::string kafka_cli(std::vector<std::string> args) {
  const auto& broker = broker_fixture::broker();
  std::vector<std::string> argv{"bash", (source_dir() / "deploy/local/kafka.sh").string(), "cli",
                                "--dir", broker.dir().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [code, out] = run_command(argv, 120s);
  BOOST_REQUIRE_MESSAGE(code == 0, "kafka.sh cli failed: " << out);
  return out;
}

/// The topics on the broker, one name a line, as kafka-topics --list prints them.
std::vector<std::string> topics() {
  std::istringstream in(kafka_cli({"kafka-topics", "--list"}));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

bool has_topic(const std::string& name) {
  const auto names = topics();
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// The seed's producer relies on topic auto-creation, which our broker (like production) has off.
void create_orders_topic() {
  auto order =
      start_service("order-service", {"--generate-rate", "0", "--count", "1"}, "create-topic");
  BOOST_REQUIRE(order->exit_code_after(60s) == 0);
}

}  // namespace

// The seed tutorial's own steps on a fresh broker, as a new user takes them: the Tracker first,
// then the seed's producer, and no Order service anywhere to create the topic. First in this file:
// the tests below create "orders".
BOOST_AUTO_TEST_CASE(seed_steps_on_a_fresh_broker_tracker_first_then_the_seed_producer) {
  BOOST_REQUIRE_MESSAGE(!has_topic("orders"), "needs a broker without the topic orders yet: "
                                                  << kafka_cli({"kafka-topics", "--list"}));
  // No flags but the HTTP address, which start_service keeps on loopback.
  auto tracker = start_service("tracker-service", {}, "seed-steps-tracker");
  BOOST_REQUIRE_MESSAGE(tracker->wait_for_text("starting:", 30s), tracker->output());
  auto [code, out] = run_command({"/usr/bin/python3", seed("producer.py")}, 120s, seed_env());
  BOOST_TEST_INFO(out);
  BOOST_REQUIRE(code == 0);
  BOOST_TEST(count_of(out, "Delivery failed") == 0U);
  BOOST_TEST(count_of(out, "Delivered to orders") == 2U);
  BOOST_CHECK_MESSAGE(tracker->wait_for_text("2 x Shoes from John Doe", 60s), tracker->output());
  BOOST_CHECK_MESSAGE(tracker->wait_for_text("1 x Phone from Jane Doe", 30s), tracker->output());
  // Created with the Order service's defaults (--partitions 3), and the dead-letter topic too.
  const auto described = kafka_cli({"kafka-topics", "--describe", "--topic", "orders"});
  BOOST_CHECK_MESSAGE(described.find("PartitionCount: 3") != std::string::npos, described);
  BOOST_TEST(has_topic("orders.dlq"));
  tracker->signal(SIGTERM);
  BOOST_TEST(tracker->exit_code_after(30s) == 0);
}

BOOST_AUTO_TEST_CASE(tracker_tracks_what_the_seed_producer_writes) {
  create_orders_topic();
  auto tracker =
      start_service("tracker-service", {"--group-id", "interop-tracker"}, "interop-tracker");
  auto [code, out] = run_command({"/usr/bin/python3", seed("producer.py")}, 60s, seed_env());
  BOOST_TEST_INFO(out);
  BOOST_REQUIRE(code == 0);
  BOOST_TEST(count_of(out, "Delivered to orders") == 2U);
  BOOST_TEST(tracker->wait_for_text("2 x Shoes from John Doe", 60s));
  BOOST_TEST(tracker->wait_for_text("1 x Phone from Jane Doe", 30s));
  tracker->signal(SIGTERM);
  BOOST_TEST(tracker->exit_code_after(30s) == 0);
}

BOOST_AUTO_TEST_CASE(seed_consumer_reads_what_the_order_service_writes) {
  create_orders_topic();
  // The seed's consumer uses group order-tracker and starts from its committed offsets (earliest
  // when none), so it sees at least the orders produced below.
  child_process consumer({"/usr/bin/python3", seed("consumer.py")},
                         scratch_dir("seed") / "consumer.log", seed_env());
  BOOST_REQUIRE(consumer.wait_for_text("subscribed to orders topic", 60s));
  auto order =
      start_service("order-service", {"--generate-rate", "20", "--count", "10"}, "interop-order");
  BOOST_REQUIRE(order->exit_code_after(60s) == 0);
  BOOST_TEST(consumer.wait_for_text("Received order:", 60s, 10));
  BOOST_TEST(consumer.output().find("Error") == std::string::npos);
  consumer.signal(SIGINT);
  BOOST_TEST(consumer.exit_code_after(30s) != -1);
}
