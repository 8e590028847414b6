#define BOOST_TEST_MODULE tracker_restart
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <thread>

#include "tests/integration/services.hpp"
#include "tests/integration/tracker_probe.hpp"
#include "tests/support/http_client.hpp"

// Checkpointed restore against a real broker (issue 15): a Tracker restarted on a topic with 1M
// orders is ready about as soon as on one with 200k, because it starts each partition from its
// snapshot on the state topic and reads only the dedup window before it; and its totals are
// exact. The figures at 1M, 5M and 10M are in the benchmark (tests/bench/restore_bench.py).

using namespace order_tracker::test;
using namespace std::chrono_literals;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

tracker_process start_tracker(const std::string& topic, const std::string& log_name) {
  tracker_process t;
  t.port = static_cast<std::uint16_t>(free_port_range(1));
  t.process = start_service("tracker-service",
                            {"--topic", topic, "--group-id", topic + "-group", "--http-listen",
                             "127.0.0.1:" + std::to_string(t.port), "--quiet-orders"},
                            log_name);
  return t;
}

struct restart_result {
  double seconds_to_ready = 0;
  std::uint64_t totals = 0;
  std::string log;
};

constexpr int restarts = 3;

/// Fills a topic with `count` orders, lets a Tracker process them all and stop (committing and
/// writing its snapshots), then times new Trackers, one after another, from their start to
/// /readyz 200, and keeps the fastest.
restart_result restart_after(std::uint64_t count) {
  const std::string topic = "restart-" + std::to_string(count);
  auto order = start_service("order-service",
                             {"--topic", topic, "--generate-rate", "0", "--count",
                              std::to_string(count), "--no-http", "--log-level", "warn"},
                             topic + "-order");
  const auto order_exit = order->exit_code_after(600s);
  BOOST_REQUIRE_MESSAGE(order_exit == 0, "order-service: " << order_exit << "\n"
                                                           << order->output());

  auto first = start_tracker(topic, topic + "-tracker-1");
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return orders_by_item(first.stats()) == count; }, 600s, 500ms),
      first.process->output());
  // Idle, so every offset is committed and every partition's snapshot is at the log end.
  first.process->signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(first.process->exit_code_after(30s), 0);

  // The best of a few restarts: each one's time is a second or two, and the test runs beside
  // others on a shared machine, so one slow start says nothing about the retained orders.
  restart_result r;
  for (int i = 0; i < restarts; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto next = start_tracker(topic, topic + "-tracker-" + std::to_string(i + 2));
    const bool ready = eventually([&] { return next.get("/readyz").status() == 200; }, 600s, 20ms);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    BOOST_REQUIRE_MESSAGE(ready, next.process->output());
    r.seconds_to_ready = i == 0 ? seconds : std::min(r.seconds_to_ready, seconds);
    r.totals = orders_by_item(next.stats());
    r.log = next.process->output();
    next.process->signal(SIGTERM);
    BOOST_TEST(next.process->exit_code_after(30s) == 0);
    // Every restart must find its snapshots and count every order once, not only the last.
    BOOST_TEST(r.totals == count);
    BOOST_TEST(r.log.find("restoring from the snapshot at offset") != std::string::npos, r.log);
  }
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(time_to_ready_after_a_restart_does_not_grow_with_the_retained_orders) {
  const auto small = restart_after(200'000);
  const auto large = restart_after(1'000'000);
  BOOST_TEST_MESSAGE("time to ready after a restart: " << small.seconds_to_ready << " s at 200k, "
                                                       << large.seconds_to_ready << " s at 1M");
  // Exact totals, from the snapshots and the window replayed after them.
  BOOST_TEST(small.totals == 200'000u);
  BOOST_TEST(large.totals == 1'000'000u);
  for (const auto* r : {&small, &large}) {
    BOOST_TEST(r->log.find("restoring from the snapshot at offset") != std::string::npos, r->log);
    BOOST_TEST(r->log.find("restoring from the log start instead") == std::string::npos, r->log);
  }
  // Five times the retained orders, about the same time: the restore is bounded by the window.
  BOOST_TEST(large.seconds_to_ready <= 1.5 * small.seconds_to_ready);
}
