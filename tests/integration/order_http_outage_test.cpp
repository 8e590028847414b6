#define BOOST_TEST_MODULE order_http_outage
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "tests/integration/services.hpp"
#include "tests/support/http_client.hpp"

// The Order service while its broker goes away and comes back (issue 3). This executable stops
// and restarts its broker, so it has one of its own.

using namespace order_tracker::test;
using namespace std::chrono_literals;
using beast_http::verb;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

const std::string order = R"({"user":"John Doe","item":"Shoes","quantity":2})";

http_result post_order(std::uint16_t port) {
  return http_request(port, verb::post, "/orders", order, {{"Content-Type", "application/json"}},
                      15s);
}

/// Asks `ask` every 250 ms until it answers `status`; the last answer either way.
template <typename Ask>
http_result poll_until(unsigned status, std::chrono::seconds within, Ask ask) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto r = ask();
    if (r.status() == status || std::chrono::steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(250ms);
  }
}

/// A 503 must say when to come back: Retry-After as a whole number of seconds.
bool retry_after_is_seconds(const http_result& r) {
  const auto v = r.header("Retry-After");
  return !v.empty() && v.size() < 6 && v.find_first_not_of("0123456789") == std::string::npos;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

BOOST_AUTO_TEST_CASE(broker_down_means_503_with_retry_after_and_broker_back_means_201_again) {
  auto& broker = broker_fixture::broker();
  const auto port = static_cast<std::uint16_t>(free_port_range(1));
  const std::string topic = "outage-orders";
  // Orders queued while the broker is away give up after 5 s, so none waits out the test.
  auto svc = start_service("order-service",
                           {"--topic", topic, "--http-listen", "127.0.0.1:" + std::to_string(port),
                            "--delivery-timeout-ms", "5000"},
                           "outage-order");
  BOOST_REQUIRE_MESSAGE(svc->wait_for_text("topic " + topic + " is ready", 60s), svc->output());
  const auto readyz = [port] { return http_request(port, verb::get, "/readyz", {}, {}, 5s); };

  const auto first = post_order(port);
  BOOST_TEST_REQUIRE(first.status() == 201U, first.describe());
  BOOST_TEST(readyz().status() == 200U);

  broker.script("stop");
  const auto stopped = std::chrono::steady_clock::now();
  const auto not_ready = poll_until(503, 10s, readyz);
  BOOST_TEST_MESSAGE("/readyz said 503 " << seconds_since(stopped)
                                         << " s after the broker stopped");
  BOOST_TEST(not_ready.status() == 503U, "/readyz with the broker down: " << not_ready.describe());
  BOOST_TEST(not_ready.header("Content-Type").rfind("application/json", 0) == 0U);

  for (int i = 0; i < 3; ++i) {
    const auto r = post_order(port);
    BOOST_TEST_CONTEXT("order " << i << " with the broker down") {
      BOOST_TEST(r.status() == 503U, r.describe());
      BOOST_TEST(retry_after_is_seconds(r), "Retry-After: '" << r.header("Retry-After") << "'");
      BOOST_TEST(r.body().find("\"error\"") != std::string::npos, r.body());
    }
  }
  // Liveness is not readiness: the process is fine, only its broker is not.
  BOOST_TEST(http_request(port, verb::get, "/healthz").status() == 200U);

  broker.script("start --port " + std::to_string(broker.port()));
  const auto restarted = std::chrono::steady_clock::now();
  const auto ready = poll_until(200, 60s, readyz);
  BOOST_TEST_MESSAGE("/readyz said 200 " << seconds_since(restarted)
                                         << " s after the broker was restarted");
  BOOST_TEST_REQUIRE(ready.status() == 200U, "/readyz with the broker back: " << ready.describe()
                                                                              << "\n"
                                                                              << svc->output());
  // Leadership may still be settling: a 503 (with Retry-After) is an honest answer meanwhile.
  const auto again = poll_until(201, 30s, [port] { return post_order(port); });
  BOOST_TEST_MESSAGE("a new order got " << again.status() << " " << seconds_since(restarted)
                                        << " s after the broker was restarted");
  BOOST_TEST(again.status() == 201U, again.describe() << "\n" << svc->output());

  svc->signal(SIGTERM);
  const auto code = svc->exit_code_after(30s);
  BOOST_TEST(code == 0, "exit code " << code << ":\n" << svc->output());
}

BOOST_AUTO_TEST_CASE(
    a_service_started_while_the_broker_is_down_takes_orders_once_it_has_its_topic) {
  auto& broker = broker_fixture::broker();
  broker.script("stop");
  const auto port = static_cast<std::uint16_t>(free_port_range(1));
  const std::string topic = "late-orders";
  auto svc = start_service("order-service",
                           {"--topic", topic, "--http-listen", "127.0.0.1:" + std::to_string(port),
                            "--delivery-timeout-ms", "5000"},
                           "late-order");
  BOOST_REQUIRE_MESSAGE(svc->wait_for_text("HTTP API on", 30s), svc->output());
  // Alive, but it cannot make sure its topic exists, so it takes no orders.
  BOOST_TEST(http_request(port, verb::get, "/healthz").status() == 200U);
  const auto not_ready = http_request(port, verb::get, "/readyz");
  BOOST_TEST(not_ready.status() == 503U, not_ready.describe());
  const auto refused = post_order(port);
  BOOST_TEST(refused.status() == 503U, refused.describe());
  BOOST_TEST(retry_after_is_seconds(refused),
             "Retry-After: '" << refused.header("Retry-After") << "'");

  broker.script("start --port " + std::to_string(broker.port()));
  const auto restarted = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(svc->wait_for_text("topic " + topic + " is ready", 60s), svc->output());
  const auto ready =
      poll_until(200, 30s, [port] { return http_request(port, verb::get, "/readyz", {}, {}, 5s); });
  BOOST_TEST(ready.status() == 200U, ready.describe());
  const auto placed = poll_until(201, 30s, [port] { return post_order(port); });
  BOOST_TEST_MESSAGE("a first order got " << placed.status() << " " << seconds_since(restarted)
                                          << " s after the broker was started");
  BOOST_TEST(placed.status() == 201U, placed.describe() << "\n" << svc->output());

  svc->signal(SIGTERM);
  const auto code = svc->exit_code_after(30s);
  BOOST_TEST(code == 0, "exit code " << code << ":\n" << svc->output());
}
