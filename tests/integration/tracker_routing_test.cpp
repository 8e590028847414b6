#define BOOST_TEST_MODULE tracker_routing
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/services.hpp"
#include "tests/integration/tracker_probe.hpp"
#include "tests/support/http_client.hpp"

// Issue 15 item 3 against the real broker: three Trackers in one group, and every order, placed
// through the Order service (keyed by its id) or by the seed's producer.py (no key, any
// partition), is found from every instance; group totals from any instance; 503 with a reason
// while an owner does not answer. The seed's clients use the topic "orders", so this executable
// has a broker of its own.

using namespace order_tracker::test;
using namespace std::chrono_literals;
namespace json = boost::json;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

const std::vector<std::string> local_only{"Tracker-Forwarded-By", "routing-test"};

tracker_process start_tracker(const std::string& name, std::vector<std::string> extra = {}) {
  tracker_process t;
  t.port = static_cast<std::uint16_t>(free_port_range(1));
  std::vector<std::string> args{"--http-listen", "127.0.0.1:" + std::to_string(t.port),
                                "--quiet-orders"};
  args.insert(args.end(), extra.begin(), extra.end());
  t.process = start_service("tracker-service", args, name);
  return t;
}

std::string address(const tracker_process& t) {
  return "127.0.0.1:" + std::to_string(t.port);
}

std::string all_output(const std::vector<tracker_process>& trackers) {
  std::string out;
  for (const auto& t : trackers)
    out += t.output() + "\n----\n";
  return out;
}

http_result ask(const tracker_process& t, const std::string& target, const http_headers& h = {}) {
  return http_request(t.port, beast_http::verb::get, target, {}, h, 10s);
}

/// The value of one sample of a Tracker's /metrics, `series` written as there (name and
/// labels), or -1 when absent.
double metric(const tracker_process& t, const std::string& series) {
  const auto r = ask(t, "/metrics");
  const auto at = r.body().find("\n" + series + " ");
  if (r.status() != 200 || at == std::string::npos) return -1;
  return std::stod(r.body().substr(at + series.size() + 2));
}

double routed_lookups(const tracker_process& t, const std::string& outcome) {
  return metric(t, "tracker_routed_lookups_total{outcome=\"" + outcome + "\"}");
}

double group_describes(const tracker_process& t) {
  return metric(t, "tracker_group_describes_total");
}

/// The ids of the orders the seed's producer.py delivered ("✅ Delivered {json}" lines).
std::vector<std::string> seed_orders(int runs) {
  const std::vector<std::string> env{
      "KAFKA_BOOTSTRAP_SERVERS=" + broker_fixture::broker().bootstrap(), "PYTHONUNBUFFERED=1"};
  const std::regex delivered(R"re("order_id": "([0-9a-f-]{36})")re");
  std::vector<std::string> ids;
  for (int i = 0; i < runs; ++i) {
    auto [code, out] = run_command(
        {"/usr/bin/python3", std::string(ORDER_TRACKER_SEED_DIR) + "/producer.py"}, 60s, env);
    BOOST_REQUIRE_MESSAGE(code == 0, "producer.py: " << out);
    for (auto it = std::sregex_iterator(out.begin(), out.end(), delivered);
         it != std::sregex_iterator(); ++it)
      ids.push_back((*it)[1].str());
  }
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_CASE(any_tracker_answers_for_any_order_of_the_group) {
  // The Order service creates "orders" with 3 partitions and places keyed orders over HTTP.
  const auto order_port = static_cast<std::uint16_t>(free_port_range(1));
  auto order =
      start_service("order-service", {"--http-listen", "127.0.0.1:" + std::to_string(order_port)},
                    "routing-order");
  BOOST_REQUIRE_MESSAGE(
      eventually(
          [&] {
            return http_request(order_port, beast_http::verb::get, "/readyz").status() == 200;
          },
          60s),
      order->output());

  std::vector<tracker_process> trackers;
  for (int i = 0; i < 3; ++i)
    trackers.push_back(start_tracker("routing-tracker-" + std::to_string(i)));
  BOOST_REQUIRE_MESSAGE(eventually([&] { return one_partition_each(trackers); }, 90s),
                        "the group did not settle:\n"
                            << all_output(trackers));

  std::vector<std::string> keyed;
  {
    http_connection c(order_port);
    for (int i = 0; i < 30; ++i) {
      const auto r = c.post_json("/orders", R"({"user":"Routing User","item":"Item )" +
                                                std::to_string(i % 4) + R"(","quantity":1})");
      BOOST_REQUIRE_MESSAGE(r.status() == 201, r.describe());
      keyed.emplace_back(json::parse(r.body()).at("order_id").as_string());
    }
  }
  const auto unkeyed = seed_orders(3);
  BOOST_REQUIRE(unkeyed.size() == 6U);
  std::vector<std::string> all = keyed;
  all.insert(all.end(), unkeyed.begin(), unkeyed.end());

  // Every order from every instance; some answers come from another instance than the one asked.
  std::map<std::string, int> answered_by_other;
  for (const auto& id : all) {
    for (const auto& t : trackers) {
      http_result r;
      const bool found = eventually(
          [&] {
            r = ask(t, "/orders/" + id);
            return r.status() == 200;
          },
          60s, 100ms);
      BOOST_REQUIRE_MESSAGE(found, id << " from " << address(t) << ": " << r.describe() << "\n"
                                      << all_output(trackers));
      BOOST_TEST(json::parse(r.body()).at("order_id").as_string() == id);
      const auto instance = r.header("Tracker-Instance");
      BOOST_TEST(!instance.empty());
      if (instance != address(t)) ++answered_by_other[id];
    }
  }
  // Each order lives in one view: asked three times, two answers came from elsewhere, and each
  // of those is counted by the instance that routed it.
  for (const auto& id : all)
    BOOST_TEST(answered_by_other[id] == 2, id);
  double routed_found = 0;
  for (const auto& t : trackers)
    routed_found += routed_lookups(t, "found");
  BOOST_TEST(routed_found == 2.0 * static_cast<double>(all.size()));
  // Holding one partition of three, each had to describe the group to learn the others.
  for (const auto& t : trackers)
    BOOST_TEST(group_describes(t) > 0.0, address(t));

  // Asked for its own view only (as a forwarded request is), exactly one instance has each.
  for (const auto& id : all) {
    int holders = 0;
    for (const auto& t : trackers) {
      const auto r = ask(t, "/orders/" + id, {{local_only[0], local_only[1]}});
      if (r.status() == 200) {
        ++holders;
        BOOST_TEST(r.header("Tracker-Instance") == address(t));
      } else {
        BOOST_TEST(r.status() == 404U, r.describe());
        BOOST_TEST(!r.header("Tracker-Live-Partitions").empty());
      }
    }
    BOOST_TEST(holders == 1, id);
  }

  // An order nobody has: 404 from every instance, after asking the group.
  const auto nobody = boost::uuids::to_string(boost::uuids::random_generator()());
  for (const auto& t : trackers) {
    const auto r = ask(t, "/orders/" + nobody);
    BOOST_TEST(r.status() == 404U, r.describe());
  }

  // The group's totals from any instance; the local ones stay local.
  for (const auto& t : trackers) {
    const auto r = ask(t, "/stats?scope=group");
    BOOST_REQUIRE_MESSAGE(r.status() == 200, r.describe());
    const auto stats = json::parse(r.body());
    BOOST_TEST(uint_field(stats, "orders") == all.size(), r.body());
    BOOST_TEST(owned_partitions(stats).size() == 3U);
    BOOST_TEST(owned_partitions(t.stats()).size() == 1U);
  }

  // An owner that does not answer (stopped): its keyed orders are 503 with a reason and
  // Retry-After from the others, not 404; after it resumes, they are found again.
  auto& stopped = trackers[2];
  std::string held_there;
  for (const auto& id : keyed) {
    if (ask(stopped, "/orders/" + id, {{local_only[0], local_only[1]}}).status() == 200) {
      held_there = id;
      break;
    }
  }
  BOOST_REQUIRE(!held_there.empty());
  stopped.process->signal(SIGSTOP);
  // Never 404. Until trackers[0] has described the group since the last assignment (every 2 s)
  // it may not know the owner yet (503 rebalancing); then the owner is asked and is silent.
  http_result r;
  BOOST_TEST(eventually(
      [&] {
        r = ask(trackers[0], "/orders/" + held_there);
        BOOST_TEST_REQUIRE(r.status() == 503U, r.describe());
        BOOST_TEST(r.header("Retry-After") == "1");
        return r.body().find("owner_unavailable") != std::string::npos;
      },
      15s));
  BOOST_TEST(r.body().find("owner_unavailable") != std::string::npos, r.body());
  const auto group = ask(trackers[1], "/stats?scope=group");
  BOOST_TEST(group.status() == 503U, group.describe());
  stopped.process->signal(SIGCONT);
  BOOST_TEST(
      eventually([&] { return ask(trackers[0], "/orders/" + held_there).status() == 200; }, 30s));

  for (auto& t : trackers) {
    t.process->signal(SIGTERM);
    BOOST_TEST(t.process->exit_code_after(30s) == 0, t.output());
  }
  order->signal(SIGTERM);
  BOOST_TEST(order->exit_code_after(30s) == 0);
}

BOOST_AUTO_TEST_CASE(a_lone_tracker_knows_the_owners_without_describing_its_group) {
  // librdkafka 2.14.2 can abort on a DescribeConsumerGroups whose coordinator goes down
  // (owners_watch.cpp), so a Tracker holding every partition does not describe its group: every
  // other member holds none.
  const auto group = "lone-" + boost::uuids::to_string(boost::uuids::random_generator()());
  auto t = start_tracker("routing-lone", {"--group-id", group});
  BOOST_REQUIRE_MESSAGE(eventually([&] { return owned_partitions(t.stats()).size() == 3U; }, 90s),
                        t.output());
  // The owners are known (itself for all three) once the topic's partitions were counted.
  BOOST_REQUIRE_MESSAGE(
      eventually(
          [&] {
            return t.output().find("group " + group + ": 1 members advertise an address") !=
                   std::string::npos;
          },
          30s),
      t.output());
  // Before it joined it held nothing and may have described the group; from now on it holds
  // every partition: three refresh periods (2 s each) later it has not described it again.
  const auto before = group_describes(t);
  BOOST_REQUIRE(before >= 0.0);
  std::this_thread::sleep_for(6s);
  BOOST_TEST(group_describes(t) == before, t.output());
  // An order nobody has: 404, asking nobody else.
  const auto nobody = boost::uuids::to_string(boost::uuids::random_generator()());
  const auto r = ask(t, "/orders/" + nobody);
  BOOST_TEST(r.status() == 404U, r.describe());
}
