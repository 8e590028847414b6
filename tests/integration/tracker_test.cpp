#define BOOST_TEST_MODULE tracker
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/services.hpp"
#include "tests/integration/tracker_probe.hpp"
#include "tests/support/http_client.hpp"

// The Tracker (issue 4) against the real broker: at-least-once through a kill -9, poison messages
// parked in the dead-letter topic, scale-out with a member leaving, seed payloads with trace
// context, and readiness that follows the topic. Each test has its own topic and group.

using namespace order_tracker::test;
using namespace std::chrono_literals;
using beast_http::verb;
namespace json = boost::json;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

tracker_process start_tracker(const std::string& topic, const std::string& group,
                              const std::string& log_name,
                              const std::vector<std::string>& extra = {}) {
  tracker_process t;
  t.port = static_cast<std::uint16_t>(free_port_range(1));
  std::vector<std::string> flags{
      "--topic", topic, "--group-id", group, "--http-listen", "127.0.0.1:" + std::to_string(t.port),
      // A member killed with -9 is dropped from the group after a 6 s session rather than 45 s.
      // That is a client setting under the classic protocol only (under KIP-848, the default,
      // the broker times sessions per group): these tests run the classic protocol, and the
      // other integration and chaos tests the default.
      "-X", "group.protocol=classic", "-X", "session.timeout.ms=6000", "-X",
      "heartbeat.interval.ms=1000"};
  flags.insert(flags.end(), extra.begin(), extra.end());
  t.process = start_service("tracker-service", flags, log_name);
  return t;
}

/// SIGTERM, and the exit code within 30 s (-1 if it still runs).
int stop(tracker_process& t) {
  t.process->signal(SIGTERM);
  return t.process->exit_code_after(30s);
}

/// Creates `topic` (3 partitions) the way production does: the Order service, which writes one
/// generated order to it.
void create_topic(const std::string& topic, const std::string& log_name) {
  auto order = start_service(
      "order-service", {"--topic", topic, "--generate-rate", "0", "--count", "1", "--no-http"},
      log_name);
  const auto code = order->exit_code_after(60s);
  BOOST_REQUIRE_MESSAGE(code == 0, "order-service exit code " << code << ":\n" << order->output());
}

/// One record as kcat reads it.
struct record {
  std::int64_t partition = -1;
  std::int64_t offset = -1;
  std::string key;
  std::string payload;
  std::map<std::string, std::string> headers;
};

/// Everything in `topic` from the beginning to its current end; empty if kcat cannot read it
/// (e.g. the topic does not exist yet).
std::optional<std::vector<record>> try_read_topic(const std::string& topic) {
  auto [code, out] = run_command({"kcat", "-b", broker_fixture::broker().bootstrap(), "-C", "-t",
                                  topic, "-o", "beginning", "-e", "-q", "-J"},
                                 60s);
  if (code != 0) return std::nullopt;
  std::vector<record> records;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    boost::system::error_code ec;
    const auto v = json::parse(line, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "kcat -J line is not JSON: " << line.substr(0, 200));
    const auto& o = v.as_object();
    record r;
    r.partition = o.at("partition").to_number<std::int64_t>();
    r.offset = o.at("offset").to_number<std::int64_t>();
    if (const auto* k = o.if_contains("key"); k && k->is_string())
      r.key = std::string(k->get_string());
    if (const auto* p = o.if_contains("payload"); p && p->is_string())
      r.payload = std::string(p->get_string());
    if (const auto* h = o.if_contains("headers"); h && h->is_array()) {
      const auto& a = h->get_array();
      for (std::size_t i = 0; i + 1 < a.size(); i += 2) {
        if (a[i].is_string() && a[i + 1].is_string())
          r.headers[std::string(a[i].get_string())] = std::string(a[i + 1].get_string());
      }
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<record> read_topic(const std::string& topic) {
  auto records = try_read_topic(topic);
  BOOST_REQUIRE_MESSAGE(records.has_value(), "kcat cannot read " << topic);
  return std::move(*records);
}

/// The record keys of `topic`: the ids of the orders the Order service delivered to it.
std::set<std::string> topic_keys(const std::string& topic) {
  std::set<std::string> keys;
  for (const auto& r : read_topic(topic))
    keys.insert(r.key);
  return keys;
}

/// Writes each payload as one message, in order, to one partition of `topic` (kcat sends each
/// file it is given as a message), with the given headers (name=value) on every one.
void produce(const std::string& topic, int partition, const std::vector<std::string>& payloads,
             const std::vector<std::string>& headers = {}) {
  static const auto dir = scratch_dir("payloads");
  static int serial = 0;
  std::vector<std::string> argv{"kcat",
                                "-b",
                                broker_fixture::broker().bootstrap(),
                                "-P",
                                "-t",
                                topic,
                                "-p",
                                std::to_string(partition)};
  for (const auto& h : headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  for (const auto& p : payloads) {
    const auto file = dir / ("payload-" + std::to_string(++serial));
    std::ofstream(file, std::ios::binary) << p;
    argv.push_back(file.string());
  }
  auto [code, out] = run_command(argv, 60s);
  BOOST_REQUIRE_MESSAGE(code == 0, "kcat -P failed (" << code << "):\n" << out);
}

std::string new_uuid() {
  static boost::uuids::random_generator generate;
  return boost::uuids::to_string(generate());
}

/// The order as the Order service and the seed would write it, without schema_version.
std::string order_json(const std::string& id, const std::string& item, int quantity,
                       const std::string& extra = {}) {
  return R"({"order_id": ")" + id + R"(", "user": "Test User", "item": ")" + item +
         R"(", "quantity": )" + std::to_string(quantity) + extra + "}";
}

/// The ids of every `Received order` line over several logs.
std::set<std::string> received_union(const std::vector<std::string>& logs) {
  std::set<std::string> ids;
  for (const auto& log : logs) {
    for (auto& id : received_order_ids(log))
      ids.insert(std::move(id));
  }
  return ids;
}

/// Where a `Received order` line says the order came from.
struct received_line {
  std::int64_t partition = -1;
  std::int64_t offset = -1;
  std::string trace;
  std::string text;
};

std::multimap<std::string, received_line> received_lines(const std::string& log) {
  static const std::regex line(
      R"(Received order ([0-9a-f-]{36}): [^\n]*\(partition ([0-9]+), offset ([0-9]+)\)(?: trace ([^\s]+))?)");
  std::multimap<std::string, received_line> out;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    out.emplace(m[1].str(), received_line{std::stoll(m[2].str()), std::stoll(m[3].str()),
                                          m[4].matched ? m[4].str() : std::string(), m[0].str()});
  }
  return out;
}

/// The value of an unlabelled Prometheus sample, or -1 when it is absent.
double metric(const tracker_process& t, const std::string& name) {
  const auto r = t.get("/metrics");
  if (r.status() != 200) return -1;
  const std::regex sample("(^|\n)" + name + " ([0-9.eE+-]+)");
  std::smatch m;
  if (!std::regex_search(r.body(), m, sample)) return -1;
  return std::stod(m[2].str());
}

std::string describe_missing(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::string out;
  std::size_t n = 0;
  for (const auto& id : want) {
    if (!got.contains(id)) {
      if (n++ < 10) out += id + " ";
    }
  }
  return std::to_string(n) + " missing: " + out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_tracker_killed_mid_stream_loses_nothing_and_its_successor_counts_each_once) {
  const std::string topic = "crash-orders";
  const std::string group = "crash-group";
  create_topic(topic, "crash-create");
  auto first = start_tracker(topic, group, "crash-tracker-1");
  BOOST_REQUIRE_MESSAGE(eventually([&] { return first.ready(); }, 60s), first.output());

  constexpr int count = 1000;
  auto order = start_service("order-service",
                             {"--topic", topic, "--generate-rate", "200", "--count",
                              std::to_string(count), "--no-http", "--log-level", "warn"},
                             "crash-order");
  BOOST_REQUIRE_MESSAGE(first.process->wait_for_text("Received order", 60s, count / 2),
                        first.output());
  first.process->signal(SIGKILL);
  BOOST_REQUIRE_EQUAL(first.process->exit_code_after(10s), 128 + SIGKILL);
  const auto before_crash = received_order_ids(first.output());

  auto second = start_tracker(topic, group, "crash-tracker-2");
  const auto order_exit = order->exit_code_after(60s);
  BOOST_REQUIRE_MESSAGE(order_exit == 0, "order-service: " << order_exit << "\n"
                                                           << order->output());
  const auto delivered = topic_keys(topic);
  BOOST_TEST(delivered.size() == static_cast<std::size_t>(count) + 1);  // + create_topic's

  // The view counts every order of the topic once: restored (committed before the crash),
  // processed live by the successor (including what the first one did not commit), or, when the
  // first one's last snapshot got past its last commit, redelivered to the successor and known
  // from that snapshot (counted as a duplicate). The ids are unique, so no other duplicate exists.
  const auto seen = [](const json::value& s) {
    return uint_field(s, "orders") + uint_field(s, "restored") + uint_field(s, "duplicates");
  };
  json::value stats;
  const bool complete = eventually(
      [&] {
        stats = second.stats();
        return seen(stats) >= delivered.size();
      },
      60s);
  BOOST_TEST_INFO(second.output());
  BOOST_REQUIRE_MESSAGE(complete, "successor's /stats: " << json::serialize(stats));
  std::this_thread::sleep_for(1s);  // anything counted twice would show up by now
  stats = second.stats();
  BOOST_TEST_MESSAGE("after the crash: " << json::serialize(stats));
  BOOST_TEST(seen(stats) == delivered.size());
  BOOST_TEST(uint_field(stats, "restored") > 0U);
  BOOST_TEST(orders_by_item(stats) == delivered.size());
  BOOST_TEST(owned_partitions(stats) == (std::set<std::int64_t>{0, 1, 2}));
  // From the first one's last snapshot, or from the log start if it wrote none in time.
  BOOST_TEST((second.output().find("restoring from the snapshot at offset") != std::string::npos ||
              second.output().find("restoring the view from offsets below") != std::string::npos));

  // At least once: every delivered order was processed by one of the two.
  const auto received = received_union({first.output(), second.output()});
  BOOST_TEST(std::includes(received.begin(), received.end(), delivered.begin(), delivered.end()),
             describe_missing(delivered, received));

  // Orders processed before the crash are still answered.
  BOOST_REQUIRE(!before_crash.empty());
  http_connection c(second.port);
  std::size_t answered = 0;
  for (const auto& id : before_crash) {
    if (c.get("/orders/" + id).status() == 200) ++answered;
  }
  BOOST_TEST(answered == before_crash.size());
  const auto earliest = c.get("/orders/" + before_crash.front());
  BOOST_TEST(earliest.status() == 200U, earliest.describe());
  BOOST_TEST(earliest.body().find(before_crash.front()) != std::string::npos);

  BOOST_TEST(stop(second) == 0);
}

BOOST_AUTO_TEST_CASE(poison_messages_are_dead_lettered_with_their_origin_and_valid_ones_tracked) {
  const std::string topic = "poison-orders";
  const std::string dlq = topic + ".dlq";
  const std::string group = "poison-group";
  create_topic(topic, "poison-create");
  auto tracker = start_tracker(topic, group, "poison-tracker-1");
  BOOST_REQUIRE_MESSAGE(eventually([&] { return tracker.ready(); }, 60s), tracker.output());

  // payload -> the dlq-error it must be parked with ("" for a valid order).
  const std::string big = R"({"order_id": ")" + new_uuid() +
                          R"(", "user": "u", "item": "i", "quantity": 1, "pad": ")" +
                          std::string(100 * 1024, 'x') + R"("})";
  const std::vector<std::pair<std::string, std::string>> partition0{
      {order_json(new_uuid(), "Shoes", 2), ""},
      {"this is not JSON", "not_json"},
      {order_json(new_uuid(), "Phone", 1), ""},
      {R"({"order_id": ")" + new_uuid() + R"(", "user": "u", "ite)", "not_json"},
      {R"({"order_id": ")" + new_uuid() + R"(", "user": "u", "item": "i", "quantity": "two"})",
       "wrong_type"},
      {order_json(new_uuid(), "Hat", 3), ""},
      {R"({"order_id": ")" + new_uuid() + R"(", "user": "u", "quantity": 1})", "missing_field"},
      {big, "too_large"},  // last on its partition: its commit is what a restart relies on
  };
  const std::vector<std::pair<std::string, std::string>> partition1{
      {R"({"order_id": ")" + new_uuid() + R"(", "user": "u", "item": "i", "quantity": 0})",
       "invalid_value"},
      {order_json(new_uuid(), "Shoes", 1), ""},
      {R"({"order_id": "not-a-uuid", "user": "u", "item": "i", "quantity": 1})", "invalid_value"},
      {R"({"schema_version": 2, "order_id": ")" + new_uuid() +
           R"(", "user": "u", "item": "i", "quantity": 1})",
       "unknown_version"},
      {R"([1, 2, 3])", "not_an_object"},
      {order_json(new_uuid(), "Phone", 4, R"(, "schema_version": 1)"), ""},
  };
  std::map<std::string, std::string> expected_error;  // payload -> token
  for (const auto* part : {&partition0, &partition1}) {
    std::vector<std::string> payloads;
    for (const auto& [payload, error] : *part) {
      payloads.push_back(payload);
      expected_error[payload] = error;
    }
    produce(topic, part == &partition0 ? 0 : 1, payloads);
  }

  // What the topic now holds, and where: the one generated order plus the ones above.
  const auto source = read_topic(topic);
  std::map<std::pair<std::int64_t, std::int64_t>, const record*> poison;
  std::map<std::string, const record*> valid;  // order id -> record
  for (const auto& r : source) {
    const auto it = expected_error.find(r.payload);
    if (it != expected_error.end() && !it->second.empty()) {
      poison[{r.partition, r.offset}] = &r;
    } else {
      const auto id_at = r.payload.find("\"order_id\"");
      BOOST_REQUIRE(id_at != std::string::npos);
      const auto quote = r.payload.find('"', r.payload.find(':', id_at) + 1);
      valid[r.payload.substr(quote + 1, 36)] = &r;
    }
  }
  BOOST_REQUIRE_EQUAL(poison.size(), 9U);
  BOOST_REQUIRE_EQUAL(valid.size(), 6U);

  // Every poison message lands in the dead-letter topic, once, saying why and where from.
  std::vector<record> parked;
  const bool all_parked = eventually(
      [&] {
        parked = try_read_topic(dlq).value_or(std::vector<record>{});
        return parked.size() >= poison.size();
      },
      60s);
  BOOST_TEST_INFO(tracker.output());
  BOOST_REQUIRE_MESSAGE(all_parked, parked.size() << " of " << poison.size() << " in " << dlq);
  BOOST_TEST(parked.size() == poison.size());
  std::set<std::pair<std::int64_t, std::int64_t>> origins;
  for (const auto& d : parked) {
    const auto header = [&](const std::string& name) {
      const auto it = d.headers.find(name);
      return it == d.headers.end() ? std::string("<absent>") : it->second;
    };
    BOOST_TEST_CONTEXT("dead letter " << header("dlq-original-partition") << "@"
                                      << header("dlq-original-offset") << ": "
                                      << header("dlq-reason")) {
      for (const char* name :
           {"dlq-reason", "dlq-error", "dlq-original-topic", "dlq-original-partition",
            "dlq-original-offset", "dlq-original-timestamp"}) {
        BOOST_REQUIRE_MESSAGE(d.headers.contains(name), "no header " << name);
      }
      BOOST_TEST(header("dlq-original-topic") == topic);
      const std::pair<std::int64_t, std::int64_t> from{std::stoll(header("dlq-original-partition")),
                                                       std::stoll(header("dlq-original-offset"))};
      origins.insert(from);
      const auto it = poison.find(from);
      BOOST_REQUIRE(it != poison.end());
      BOOST_TEST(d.payload == it->second->payload);
      const auto& error = expected_error.at(it->second->payload);
      BOOST_TEST(header("dlq-error") == error);
      BOOST_TEST(header("dlq-reason").starts_with(error + ":"));
    }
  }
  BOOST_TEST(origins.size() == poison.size());

  // Every valid order is tracked, once, from where it was written.
  BOOST_REQUIRE(tracker.process->wait_for_text("Received order", 30s, valid.size()));
  const auto lines = received_lines(tracker.output());
  BOOST_TEST(lines.size() == valid.size());
  for (const auto& [id, r] : valid) {
    BOOST_TEST_CONTEXT("order " << id) {
      BOOST_REQUIRE(lines.count(id) == 1U);
      const auto& l = lines.find(id)->second;
      BOOST_TEST(l.partition == r->partition);
      BOOST_TEST(l.offset == r->offset);
      BOOST_TEST(tracker.get("/orders/" + id).status() == 200U);
    }
  }
  BOOST_TEST(eventually([&] { return metric(tracker, "tracker_dead_lettered_total") == 9; }, 10s));
  const auto stats = tracker.stats();
  BOOST_TEST(uint_field(stats, "orders") == valid.size());
  BOOST_TEST(orders_by_item(stats) == valid.size());
  BOOST_TEST(tracker.process->running());
  BOOST_TEST(tracker.get("/readyz").status() == 200U);
  BOOST_TEST(stop(tracker) == 0);

  // Restarted: the poison's offsets were committed, so nothing is dead-lettered again, and the
  // valid orders come back by the restore, not as new ones.
  auto again = start_tracker(topic, group, "poison-tracker-2");
  BOOST_REQUIRE_MESSAGE(
      eventually(
          [&] { return again.ready() && uint_field(again.stats(), "restored") >= valid.size(); },
          60s),
      again.output());
  std::this_thread::sleep_for(2s);
  BOOST_TEST_INFO(again.output());
  BOOST_TEST(read_topic(dlq).size() == poison.size());
  BOOST_TEST(again.output().find("poison message") == std::string::npos);
  BOOST_TEST(received_order_ids(again.output()).empty());
  const auto restored = again.stats();
  BOOST_TEST(uint_field(restored, "restored") == valid.size());
  BOOST_TEST(uint_field(restored, "orders") == 0U);
  BOOST_TEST(stop(again) == 0);
}

BOOST_AUTO_TEST_CASE(trackers_sharing_a_group_lose_nothing_when_one_leaves_mid_stream) {
  const std::string topic = "scale-orders";
  const std::string group = "scale-group";
  create_topic(topic, "scale-create");
  std::vector<tracker_process> trackers;
  for (int i = 0; i < 3; ++i)
    trackers.push_back(start_tracker(topic, group, "scale-tracker-" + std::to_string(i)));

  // Wait for the group to settle: each member owns one partition, together all three.
  BOOST_REQUIRE_MESSAGE(eventually([&] { return one_partition_each(trackers); }, 90s),
                        "the group did not settle:\n"
                            << trackers[0].output() << "\n"
                            << trackers[1].output() << "\n"
                            << trackers[2].output());

  constexpr int count = 1200;
  auto order = start_service("order-service",
                             {"--topic", topic, "--generate-rate", "200", "--count",
                              std::to_string(count), "--no-http", "--log-level", "warn"},
                             "scale-order");
  auto& leaving = trackers[2];
  const auto left_partition = *owned_partitions(leaving.stats()).begin();
  BOOST_REQUIRE_MESSAGE(leaving.process->wait_for_text("Received order", 60s, 100),
                        leaving.output());
  std::vector<std::size_t> survivor_log_sizes{trackers[0].output().size(),
                                              trackers[1].output().size()};
  BOOST_TEST(stop(leaving) == 0, leaving.output());

  const auto order_exit = order->exit_code_after(60s);
  BOOST_REQUIRE_MESSAGE(order_exit == 0, "order-service: " << order_exit << "\n"
                                                           << order->output());
  const auto delivered = topic_keys(topic);
  BOOST_TEST(delivered.size() == static_cast<std::size_t>(count) + 1);

  // No order is missing from the union of the three logs.
  std::set<std::string> received;
  eventually(
      [&] {
        received =
            received_union({trackers[0].output(), trackers[1].output(), trackers[2].output()});
        return std::includes(received.begin(), received.end(), delivered.begin(), delivered.end());
      },
      60s);
  BOOST_TEST(std::includes(received.begin(), received.end(), delivered.begin(), delivered.end()),
             describe_missing(delivered, received));

  // A survivor took the leaver's partition over and rebuilt its view (from the leaver's snapshot
  // and the log after it).
  const std::string moved = topic + "-" + std::to_string(left_partition);
  const std::regex assigned_line("assigned [^\n]*" + moved + "(,|\n|$)");
  const std::string restoring = "partition " + std::to_string(left_partition) + ": restoring ";
  std::size_t takers = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto after = trackers[i].output().substr(survivor_log_sizes[i]);
    if (std::regex_search(after, assigned_line)) {
      ++takers;
      BOOST_TEST(after.find(restoring) != std::string::npos, after);
    }
  }
  BOOST_TEST(takers == 1U, trackers[0].output() << "\n" << trackers[1].output());

  // Together the survivors own every partition and count every order once.
  const bool counted = eventually(
      [&] {
        const auto a = trackers[0].stats();
        const auto b = trackers[1].stats();
        auto parts = owned_partitions(a);
        for (const auto p : owned_partitions(b))
          parts.insert(p);
        return parts.size() == 3 && orders_by_item(a) + orders_by_item(b) == delivered.size();
      },
      30s);
  BOOST_TEST(counted, json::serialize(trackers[0].stats()) << "\n"
                                                           << json::serialize(trackers[1].stats()));

  BOOST_TEST(stop(trackers[0]) == 0, trackers[0].output());
  BOOST_TEST(stop(trackers[1]) == 0, trackers[1].output());
}

BOOST_AUTO_TEST_CASE(seed_style_orders_are_tracked_with_their_traceparent) {
  const std::string topic = "seed-orders";
  create_topic(topic, "seed-create");
  auto tracker = start_tracker(topic, "seed-group", "seed-tracker");

  // As the seed's producer.py writes them (json.dumps, no schema_version), plus a field the
  // Tracker does not know.
  const auto traced = new_uuid();
  const auto plain = new_uuid();
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  produce(
      topic, 0,
      {R"({"order_id": ")" + traced +
       R"(", "user": "John Doe", "item": "Shoes", "quantity": 2, "created_at": "2024-05-01T12:00:00Z"})"},
      {"traceparent=" + traceparent});
  produce(topic, 1,
          {R"({"order_id": ")" + plain +
           R"(", "user": "Jane Doe", "item": "Phone", "quantity": 1, "created_at": 1714564800})"});

  BOOST_REQUIRE_MESSAGE(tracker.process->wait_for_text("Received order " + traced, 60s) &&
                            tracker.process->wait_for_text("Received order " + plain, 30s),
                        tracker.output());
  const auto lines = received_lines(tracker.output());
  BOOST_REQUIRE(lines.count(traced) == 1U);
  BOOST_TEST(lines.find(traced)->second.text.find("2 x Shoes from John Doe") != std::string::npos);
  BOOST_TEST(lines.find(traced)->second.trace == traceparent);
  BOOST_REQUIRE(lines.count(plain) == 1U);
  BOOST_TEST(lines.find(plain)->second.text.find("1 x Phone from Jane Doe") != std::string::npos);
  BOOST_TEST(lines.find(plain)->second.trace.empty());

  const auto with_trace = tracker.get("/orders/" + traced);
  BOOST_REQUIRE_MESSAGE(with_trace.status() == 200, with_trace.describe());
  const auto body = json::parse(with_trace.body());
  BOOST_TEST(body.at("traceparent").as_string() == traceparent);
  BOOST_TEST(body.at("user").as_string() == "John Doe");
  BOOST_TEST(body.at("item").as_string() == "Shoes");
  BOOST_TEST(body.at("quantity").to_number<std::int64_t>() == 2);
  const auto without = tracker.get("/orders/" + plain);
  BOOST_REQUIRE_MESSAGE(without.status() == 200, without.describe());
  BOOST_TEST(!json::parse(without.body()).as_object().contains("traceparent"));
  BOOST_TEST(tracker.get("/orders/" + new_uuid()).status() == 404U);
  BOOST_TEST(stop(tracker) == 0);
}

BOOST_AUTO_TEST_CASE(readiness_waits_for_a_missing_topic_and_follows_it_without_a_restart) {
  const std::string topic = "late-orders";
  // The Tracker creates a missing topic itself; here it cannot (three replicas on one broker, as
  // when its principal may not create topics), so the topic comes later, from someone else.
  auto tracker = start_tracker(topic, "late-group", "late-tracker", {"--replication-factor", "3"});
  BOOST_REQUIRE_MESSAGE(eventually([&] { return tracker.get("/readyz").ok(); }, 30s),
                        tracker.output());

  // Not ready while the topic does not exist, and it says why.
  std::string reason;
  bool always_503 = true;
  eventually(
      [&] {
        const auto r = tracker.get("/readyz");
        always_503 = always_503 && r.status() == 503;
        reason = r.body();
        return reason.find("does not exist") != std::string::npos;
      },
      20s);
  BOOST_TEST_INFO(tracker.output());
  BOOST_TEST(reason.find("does not exist") != std::string::npos, reason);
  for (int i = 0; i < 10; ++i) {  // and stays so (two more seconds)
    always_503 = always_503 && tracker.get("/readyz").status() == 503;
    std::this_thread::sleep_for(200ms);
  }
  BOOST_TEST(always_503);

  BOOST_TEST(tracker.output().find("cannot make sure topic " + topic + " exists") !=
             std::string::npos);
  create_topic(topic, "late-create");
  const auto ids = topic_keys(topic);
  BOOST_REQUIRE_EQUAL(ids.size(), 1U);
  BOOST_TEST(eventually([&] { return tracker.ready(); }, 60s), tracker.get("/readyz").describe());
  BOOST_TEST(tracker.process->wait_for_text("Received order " + *ids.begin(), 30s));
  BOOST_TEST(tracker.get("/orders/" + *ids.begin()).status() == 200U);
  BOOST_TEST(stop(tracker) == 0);
}
