#define BOOST_TEST_MODULE snapshot_reader
#include "services/tracker/snapshot_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/admin.hpp"
#include "common/kafka/producer.hpp"
#include "services/tracker/snapshot_codec.hpp"
#include "tests/support/kafka_broker.hpp"
#include "tests/support/run_until.hpp"

// The Tracker's snapshot lookups against a real broker while the partitions they look at are
// written all the time, as they are when a Tracker restarts under load. librdkafka reports a
// partition's EOF only for a fetch that comes back empty, and a broker answers a long poll as soon
// as a record arrives: a lookup that waited for EOF went unanswered (chaos snapshot_faults: one
// partition of three replayed in full after "no answer within 5000 ms").

using namespace order_tracker;
using namespace std::chrono_literals;
using test::run_until;

namespace {

const std::string orders_topic = "orders";
const std::string state_topic = "orders.tracker-state";
const std::string group = "lookup-group";
constexpr int partitions = 3;

void create_topic(boost::asio::io_context& io, kafka::producer& producer, const std::string& name) {
  kafka::admin admin(io, producer);
  bool created = false;
  kafka::topic_spec spec;
  spec.name = name;
  spec.partitions = partitions;
  admin.ensure_topic(spec, 30s, [&](const boost::system::error_code& ec, const std::string& why) {
    BOOST_REQUIRE_MESSAGE(!ec, "creating " << name << ": " << why);
    created = true;
  });
  BOOST_REQUIRE(run_until(
      io, [&] { return created; }, 40s));
  admin.stop();
}

/// Sends one record to `topic`'s partition `p` and waits for its ack; returns its offset.
std::int64_t write_one(boost::asio::io_context& io, kafka::producer& producer,
                       const std::string& topic, std::int32_t p, const std::string& key,
                       const std::string& value) {
  std::optional<kafka::delivery_report> report;
  BOOST_REQUIRE(!producer.send(
      topic, key, value, {}, [&](const kafka::delivery_report& r) { report = r; }, p));
  BOOST_REQUIRE(run_until(
      io, [&] { return report.has_value(); }, 30s));
  BOOST_REQUIRE_MESSAGE(!report->error, report->error.message());
  return report->offset;
}

std::string snapshot_value(std::int32_t p, std::size_t round) {
  return "snapshot of " + std::to_string(p) + " in round " + std::to_string(round);
}

}  // namespace

BOOST_AUTO_TEST_CASE(lookups_answer_while_their_partitions_are_written_all_the_time) {
  test::kafka_broker broker;
  boost::asio::io_context io;
  config::kafka_options options;
  options.bootstrap_servers = broker.bootstrap();
  options.topic = orders_topic;
  kafka::producer producer(io, options, {{"linger.ms", "0"}}, kafka::producer_events{});
  create_topic(io, producer, orders_topic);
  create_topic(io, producer, state_topic);

  // Each partition's snapshot, with another group's record after it on the same state partition.
  for (std::int32_t p = 0; p < partitions; ++p) {
    (void)write_one(io, producer, state_topic, p, tracker::snapshot_key(group, orders_topic, p),
                    "old snapshot of " + std::to_string(p));
    (void)write_one(io, producer, state_topic, p, tracker::snapshot_key(group, orders_topic, p),
                    "snapshot of " + std::to_string(p));
    (void)write_one(io, producer, state_topic, p, "another-group", "theirs");
  }

  // From here on every orders partition gets a record every 2 ms. The state partitions are left
  // alone: a record there comes back beside the orders partition's EOF and would hide the case.
  std::map<std::int32_t, std::int64_t> acked_end;  // per orders partition: last acked offset + 1
  boost::asio::steady_timer tick(io);
  std::function<void()> write_round = [&] {
    for (std::int32_t p = 0; p < partitions; ++p) {
      (void)producer.send(
          orders_topic, "order", "{}", {},
          [&acked_end, p](const kafka::delivery_report& r) {
            if (!r.error) acked_end[p] = std::max(acked_end[p], r.offset + 1);
          },
          p);
    }
    tick.expires_after(2ms);
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) write_round();
    });
  };
  write_round();
  BOOST_REQUIRE(run_until(
      io, [&] { return acked_end.size() == partitions && acked_end[0] > 100; }, 30s));

  tracker::snapshot_reader reader(io, options, state_topic, group);
  // All partitions at once, as a Tracker looks them up when they are assigned; then each on its
  // own, the case that went unanswered: a fetch of one written partition only ever returns with
  // its new records, where with several, one's records can come back beside another's EOF.
  const std::vector<std::vector<std::int32_t>> rounds = {{0, 1, 2}, {0}, {1}, {2}, {0, 1, 2}};
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    // A newer snapshot each round, with another group's record after it: the lookup must read
    // past its own earlier answer to the state partition's new end.
    for (const auto p : rounds[r]) {
      (void)write_one(io, producer, state_topic, p, tracker::snapshot_key(group, orders_topic, p),
                      snapshot_value(p, r));
      (void)write_one(io, producer, state_topic, p, "another-group", "theirs");
    }
    const auto end_before = acked_end;
    std::map<std::int32_t, tracker::snapshot_lookup> answers;
    const auto started = std::chrono::steady_clock::now();
    for (const auto p : rounds[r]) {
      reader.read(p, 10s, [&answers, p](const tracker::snapshot_lookup& l) { answers[p] = l; });
    }
    BOOST_REQUIRE(run_until(
        io, [&] { return answers.size() == rounds[r].size(); }, 20s));
    BOOST_TEST_MESSAGE(
        "round "
        << r << ": answered in "
        << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
        << " s");
    for (const auto p : rounds[r]) {
      const auto& a = answers[p];
      BOOST_TEST_INFO("round " << r << ", partition " << p);
      BOOST_TEST(!a.failed, a.error);
      BOOST_TEST(a.record.value_or("(none)") == snapshot_value(p, r));
      BOOST_TEST(a.log_start == 0);
      // At or past the end acknowledged before the lookup, and not past what exists after it.
      BOOST_TEST(a.log_end >= end_before.at(p));
      BOOST_TEST(a.log_end <= acked_end.at(p) + 50);
    }
  }

  reader.stop();
  tick.cancel();
  bool flushed = false;
  producer.flush(10s, [&](std::size_t) { flushed = true; });
  BOOST_TEST(run_until(
      io, [&] { return flushed; }, 15s));
  producer.stop();
}
