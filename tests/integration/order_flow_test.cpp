#define BOOST_TEST_MODULE order_flow
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include "tests/integration/services.hpp"

using namespace order_tracker::test;
using namespace std::chrono_literals;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

std::set<std::string> delivered_ids(const std::string& log) {
  static const std::regex line("Delivered order ([0-9a-f-]{36}) to");
  std::set<std::string> ids;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    ids.insert((*it)[1].str());
  }
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_generated_order_reaches_the_tracker_and_both_stop_cleanly_on_sigterm) {
  const std::string topic = "flow-orders";
  auto tracker = start_service("tracker-service", {"--topic", topic, "--group-id", "flow-group"},
                               "flow-tracker");
  constexpr int count = 40;
  // 40/s keeps one log line per delivery, so the test can compare ids end to end.
  auto order = start_service(
      "order-service",
      {"--topic", topic, "--generate-rate", "40", "--count", std::to_string(count)}, "flow-order");
  const auto order_exit = order->wait(60s);
  BOOST_TEST_INFO(order->output());
  BOOST_REQUIRE(order_exit.has_value());
  BOOST_TEST(*order_exit == 0);
  const auto delivered = delivered_ids(order->output());
  BOOST_TEST(delivered.size() == static_cast<std::size_t>(count));

  BOOST_TEST(tracker->wait_for_text("Received order", 60s, count));
  tracker->signal(SIGTERM);
  const auto tracker_exit = tracker->wait(30s);
  BOOST_TEST_INFO(tracker->output());
  BOOST_REQUIRE(tracker_exit.has_value());
  BOOST_TEST(*tracker_exit == 0);

  const auto received = received_order_ids(tracker->output());
  const std::set<std::string> unique(received.begin(), received.end());
  BOOST_TEST(unique == delivered);
}

BOOST_AUTO_TEST_CASE(order_service_stops_on_sigterm_with_everything_delivered) {
  auto order = start_service("order-service", {"--topic", "sigterm-orders", "--generate-rate", "0"},
                             "sigterm-order");
  BOOST_REQUIRE(order->wait_for_text("generating orders", 60s));
  std::this_thread::sleep_for(1s);
  order->signal(SIGTERM);
  const auto code = order->wait(30s);
  BOOST_TEST_INFO(order->output());
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  const std::regex summary(
      "stopped: accepted 0 over HTTP, generated ([0-9]+) delivered / 0 failed, 0 unfinished");
  std::smatch m;
  const auto out = order->output();
  BOOST_REQUIRE(std::regex_search(out, m, summary));
  BOOST_TEST(std::stoull(m[1].str()) > 0U);
}

BOOST_AUTO_TEST_CASE(tracker_resumes_after_its_committed_offset_when_restarted) {
  const std::string topic = "restart-orders";
  auto first =
      start_service("order-service", {"--topic", topic, "--generate-rate", "0", "--count", "100"},
                    "restart-order-1");
  BOOST_REQUIRE(first->exit_code_after(60s) == 0);
  auto tracker = start_service("tracker-service", {"--topic", topic, "--group-id", "restart-group"},
                               "restart-tracker-1");
  BOOST_REQUIRE(tracker->wait_for_text("Received order", 60s, 100));
  tracker->signal(SIGTERM);
  BOOST_REQUIRE(tracker->exit_code_after(30s) == 0);

  auto second =
      start_service("order-service", {"--topic", topic, "--generate-rate", "0", "--count", "50"},
                    "restart-order-2");
  BOOST_REQUIRE(second->exit_code_after(60s) == 0);
  auto again = start_service("tracker-service", {"--topic", topic, "--group-id", "restart-group"},
                             "restart-tracker-2");
  BOOST_TEST(again->wait_for_text("Received order", 60s, 50));
  std::this_thread::sleep_for(2s);  // anything beyond the 50 new orders would show up by now
  again->signal(SIGTERM);
  BOOST_REQUIRE(again->exit_code_after(30s) == 0);
  BOOST_TEST(received_order_ids(again->output()).size() == 50U);
}

BOOST_AUTO_TEST_CASE(bad_configuration_exits_with_code_2_and_says_why) {
  auto order = start_service("order-service", {"-X", "no.such.property=1"}, "badconf-order");
  BOOST_REQUIRE(order->exit_code_after(10s) == 2);
  BOOST_TEST(order->output().find("no.such.property") != std::string::npos);
  auto tracker = start_service("tracker-service", {"--log-level", "loud"}, "badconf-tracker");
  BOOST_REQUIRE(tracker->exit_code_after(10s) == 2);
  BOOST_TEST(tracker->output().find("--log-level") != std::string::npos);
}
