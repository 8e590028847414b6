#define BOOST_TEST_MODULE tracker_drain
#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "tests/integration/services.hpp"
#include "tests/support/committed_offsets.hpp"
#include "tests/support/http_client.hpp"

// Issue 14, at a scale CI affords: one Tracker drains a backlog of 200,000 orders and stays a
// responsive service meanwhile. Its HTTP endpoints answer during the drain, the group's committed
// offsets (read from the broker, as kafka-consumer-groups does) advance step by step, and SIGTERM
// in the middle of the drain ends it with exit code 0 within the shutdown bound, every processed
// order committed. Latency figures are printed; the speed targets are the benchmark's
// (tests/bench), the bound asserted here is only a sanity check.

using namespace order_tracker::test;
using namespace std::chrono_literals;
using beast_http::verb;
namespace json = boost::json;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

constexpr std::int64_t backlog = 200'000;
constexpr auto shutdown_bound = 5s;

/// The value of an unlabelled Prometheus sample in `body`, if present.
std::optional<double> sample(const std::string& body, const std::string& name) {
  const std::regex line("(^|\n)" + name + " ([0-9.eE+-]+)");
  std::smatch m;
  if (!std::regex_search(body, m, line)) return std::nullopt;
  return std::stod(m[2].str());
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

std::uint64_t uint_field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  if (f == nullptr) return 0;
  if (f->is_uint64()) return f->get_uint64();
  if (f->is_int64() && f->get_int64() >= 0) return static_cast<std::uint64_t>(f->get_int64());
  return 0;
}

json::value stats(std::uint16_t port) {
  const auto r = http_request(port, verb::get, "/stats", {}, {}, 5s);
  if (r.status() != 200) return nullptr;
  boost::system::error_code ec;
  auto v = json::parse(r.body(), ec);
  return ec ? json::value(nullptr) : v;
}

/// What the HTTP prober saw while the Tracker drained: each answer's latency, and the orders
/// processed according to the /metrics answer it followed.
struct http_probe {
  struct answer {
    bool healthz = false;
    unsigned status = 0;
    double ms = 0;
    std::int64_t processed = -1;  ///< from the latest /metrics answer; -1 before the first
    bool before_signal = true;    ///< answered (or failed) before SIGTERM went out
  };
  std::mutex mutex;
  std::vector<answer> answers;
  std::atomic<std::int64_t> processed{-1};
  std::atomic<bool> signalled{false};
};

/// Asks /healthz and /metrics in turn, each on a fresh connection (as a probe does), until `stop`.
void probe_http(std::uint16_t port, http_probe& probe, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    for (const bool healthz : {true, false}) {
      const auto start = std::chrono::steady_clock::now();
      const auto r = http_request(port, verb::get, healthz ? "/healthz" : "/metrics", {}, {}, 10s);
      // A request still on its way when SIGTERM goes out may meet a closed listener, rightly.
      const bool before_signal = !probe.signalled.load();
      const std::chrono::duration<double, std::milli> took =
          std::chrono::steady_clock::now() - start;
      if (!healthz && r.status() == 200) {
        if (const auto v = sample(r.body(), "tracker_orders_processed_total"))
          probe.processed = static_cast<std::int64_t>(*v);
      }
      const std::lock_guard lock(probe.mutex);
      probe.answers.push_back(
          {healthz, r.status(), took.count(), probe.processed.load(), before_signal});
    }
  }
}

/// The group's committed sum, every 10 ms, until `stop`.
void poll_committed(const std::string& group, const std::string& topic, std::mutex& mutex,
                    std::vector<std::int64_t>& seen, const std::atomic<bool>& stop) {
  committed_offsets reader(broker_fixture::broker().bootstrap(), group);
  while (!stop.load()) {
    if (const auto sum = reader.sum(topic, 3, 5s)) {
      const std::lock_guard lock(mutex);
      seen.push_back(*sum);
    }
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(
    a_tracker_draining_a_backlog_answers_http_commits_step_by_step_and_stops_on_sigterm) {
  const std::string topic = "drain";
  const std::string group = "drain-tracker";

  // The backlog, written before any Tracker runs (the Order service also creates the topic).
  auto order = start_service(
      "order-service",
      {"--topic", topic, "--generate-rate", "0", "--count", std::to_string(backlog), "--no-http"},
      "drain-order");
  const auto order_code = order->exit_code_after(180s);
  BOOST_REQUIRE_MESSAGE(order_code == 0, "order-service exit code " << order_code << ":\n"
                                                                    << order->output());

  // Per-order lines on (the default), as in production. A commit every 20 ms instead of every
  // second: at CI scale the drain to 60% lasts about 0.2 s (since a414cb8; at 100 ms one CI run
  // saw only 2 steps), and the steps must be visible in it; how the consumer stores and commits
  // between batches is the same at any interval.
  const auto port = static_cast<std::uint16_t>(free_port_range(1));
  auto tracker = start_service(
      "tracker-service",
      {"--topic", topic, "--group-id", group, "--http-listen", "127.0.0.1:" + std::to_string(port),
       "--shutdown-timeout-ms", std::to_string(shutdown_bound.count() * 1000), "-X",
       "auto.commit.interval.ms=20"},
      "drain-tracker");

  http_probe probe;
  std::mutex committed_mutex;
  std::vector<std::int64_t> committed_seen;
  std::atomic<bool> stop{false};
  std::thread prober(probe_http, port, std::ref(probe), std::cref(stop));
  std::thread committer(poll_committed, group, topic, std::ref(committed_mutex),
                        std::ref(committed_seen), std::cref(stop));

  // SIGTERM once the Tracker is past 60% of the backlog: in the middle of the drain.
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  while (probe.processed.load() < backlog * 6 / 10 && tracker->running() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  const auto processed_at_signal = probe.processed.load();
  const auto signalled = std::chrono::steady_clock::now();
  probe.signalled = true;
  tracker->signal(SIGTERM);
  const auto code = tracker->wait(shutdown_bound + 5s);
  const std::chrono::duration<double> exit_time = std::chrono::steady_clock::now() - signalled;
  stop = true;
  prober.join();
  committer.join();

  const auto log = tracker->output();
  BOOST_REQUIRE_MESSAGE(processed_at_signal >= backlog * 6 / 10,
                        "the Tracker never got past 60% of the backlog:\n"
                            << log.substr(0, 4000));

  // The endpoints answered during the drain: between the first processed order and the last.
  std::vector<double> healthz_ms, metrics_ms;
  std::size_t failed_during_drain = 0;
  std::set<std::int64_t> progress_seen;
  {
    const std::lock_guard lock(probe.mutex);
    for (const auto& a : probe.answers) {
      // The drain: from the first processed order to SIGTERM (after it, refusals are expected).
      if (!a.before_signal || a.processed <= 0 || a.processed >= backlog) continue;
      if (a.status != 200) {
        ++failed_during_drain;
        continue;
      }
      (a.healthz ? healthz_ms : metrics_ms).push_back(a.ms);
      if (!a.healthz) progress_seen.insert(a.processed);
    }
  }
  BOOST_TEST_MESSAGE("during the drain: /healthz answered "
                     << healthz_ms.size() << " times, p50 " << percentile(healthz_ms, 0.5)
                     << " ms, p99 " << percentile(healthz_ms, 0.99) << " ms; /metrics answered "
                     << metrics_ms.size() << " times, p50 " << percentile(metrics_ms, 0.5)
                     << " ms, p99 " << percentile(metrics_ms, 0.99) << " ms");
  BOOST_TEST(failed_during_drain == 0u);
  BOOST_TEST(healthz_ms.size() >= 5u);
  BOOST_TEST(metrics_ms.size() >= 5u);
  // /metrics showed the drain moving, not one frozen count.
  BOOST_TEST(progress_seen.size() >= 3u);
  // Sanity only (the benchmark measures the target): a blocked loop would show seconds here.
  BOOST_TEST(percentile(healthz_ms, 0.99) < 1000.0);
  BOOST_TEST(percentile(metrics_ms, 0.99) < 1000.0);

  // Committed offsets rose in steps while the drain ran, not once at its end.
  std::set<std::int64_t> steps;
  {
    const std::lock_guard lock(committed_mutex);
    for (const auto c : committed_seen) {
      if (c > 0 && c < processed_at_signal) steps.insert(c);
    }
    BOOST_TEST_MESSAGE("committed offsets read " << committed_seen.size() << " times, "
                                                 << steps.size()
                                                 << " distinct sums during the drain");
  }
  BOOST_TEST(steps.size() >= 3u);

  // SIGTERM mid-drain: exit 0 within the shutdown bound, and nothing processed left uncommitted.
  BOOST_TEST_MESSAGE("SIGTERM to exit: " << exit_time.count() << " s");
  BOOST_REQUIRE_MESSAGE(code.has_value(),
                        "the Tracker still runs " << exit_time.count() << " s after SIGTERM");
  BOOST_TEST(*code == 0);
  BOOST_TEST(exit_time.count() <= std::chrono::duration<double>(shutdown_bound).count());
  std::smatch m;
  static const std::regex stopped("stopped: processed ([0-9]+)");
  BOOST_REQUIRE_MESSAGE(std::regex_search(log, m, stopped),
                        "no final line:\n"
                            << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  const auto processed = std::stoll(m[1].str());
  BOOST_TEST(processed >= processed_at_signal);
  // Stopped in the middle, not after the end: the signal was served between batches.
  BOOST_TEST(processed < backlog);
  const auto committed = committed_offsets(broker_fixture::broker().bootstrap(), group).sum(topic);
  BOOST_REQUIRE(committed.has_value());
  BOOST_TEST(*committed == processed);

  // The next member takes over where the commit says: it rebuilds the processed part without
  // counting it, and counts the rest once.
  auto successor = start_service("tracker-service",
                                 {"--topic", topic, "--group-id", group, "--http-listen",
                                  "127.0.0.1:" + std::to_string(port), "--quiet-orders"},
                                 "drain-successor");
  json::value s;
  const auto successor_deadline = std::chrono::steady_clock::now() + 180s;
  while (std::chrono::steady_clock::now() < successor_deadline && successor->running()) {
    s = stats(port);
    if (uint_field(s, "orders") + uint_field(s, "restored") >= static_cast<std::uint64_t>(backlog))
      break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(uint_field(s, "orders") == static_cast<std::uint64_t>(backlog - processed));
  BOOST_TEST(uint_field(s, "restored") == static_cast<std::uint64_t>(processed));
  BOOST_TEST(uint_field(s, "duplicates") == 0u);
  successor->signal(SIGTERM);
  BOOST_TEST(successor->exit_code_after(30s) == 0);
}
