#include "services/tracker/tracker_service.hpp"

#define BOOST_TEST_MODULE tracker_kafka
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"
#include "common/observability/log.hpp"
#include "common/observability/log_sink.hpp"
#include "services/tracker/dead_letter.hpp"
#include "tests/support/committed_offsets.hpp"

// The Tracker's Kafka paths that a real broker will not take on demand, against librdkafka's
// in-process mock cluster: dead-letter writes that fail (also in the middle of a batch), and a
// dead-letter producer that meets a fatal error. Everything runs on one io_context, driven from
// inside its loop as the service is.

#include "tests/kafka/mock_cluster.hpp"

using namespace order_tracker;
using namespace std::chrono_literals;

namespace {

// Kafka protocol API keys, for the mock cluster's error injection (librdkafka keeps its own
// names for them out of the public headers).
constexpr std::int16_t produce_request = 0;
constexpr std::int16_t init_producer_id_request = 22;

/// A mock cluster with the topics "orders" and "orders.dlq".
struct mock_cluster : test::mock_cluster {
  mock_cluster() { add_topic("orders.dlq"); }
};

using test::run_until;

/// Writes `payload` with `key` to "orders" and waits for the broker's ack.
void produce(boost::asio::io_context& io, const mock_cluster& mock, std::string_view key,
             std::string_view payload) {
  // Not idempotent: it must not take a request error pushed for the client under test.
  auto options = mock.options();
  options.properties = {{"enable.idempotence", "false"}, {"acks", "all"}};
  kafka::producer producer(io, options, {{"linger.ms", "0"}}, {});
  std::optional<kafka::delivery_report> report;
  BOOST_REQUIRE(!producer.send("orders", key, payload, {},
                               [&](const kafka::delivery_report& r) { report = r; }));
  BOOST_REQUIRE(run_until(io, [&] { return report.has_value(); }));
  BOOST_REQUIRE(!report->error);
  producer.stop();
}

/// A group consumer of `topic` that keeps every message it receives.
struct collector {
  collector(boost::asio::io_context& io, const mock_cluster& mock, const std::string& topic,
            const std::string& group)
      : consumer(io, mock.options(), group, {{"auto.offset.reset", "earliest"}},
                 kafka::consumer_events{
                     .on_message = [this](kafka::message&& m) { messages.push_back(std::move(m)); },
                     .on_assigned = nullptr,
                     .on_revoked = nullptr,
                     .on_error = nullptr,
                     .on_commit = nullptr,
                     .on_stats = nullptr,
                 }) {
    BOOST_REQUIRE(!consumer.subscribe({topic}));
  }
  void close(boost::asio::io_context& io) {
    bool closed = false;
    consumer.close(5s, [&] { closed = true; });
    BOOST_TEST(run_until(io, [&] { return closed; }));
  }
  /// Before the messages: they must be destroyed before the client they came from.
  kafka::consumer consumer;
  std::vector<kafka::message> messages;
};

tracker::tracker_options tracker_options_for(const mock_cluster& mock, const std::string& group) {
  tracker::tracker_options o;
  o.common.kafka = mock.options();
  o.group_id = group;
  o.http_listen = "127.0.0.1:0";
  o.dlq_topic = "orders.dlq";
  o.shutdown_timeout = 5s;
  return o;
}

/// The Tracker's own way out: SIGTERM through its signal_set, then run() until it has stopped.
bool stop_tracker(boost::asio::io_context& io) {
  ::raise(SIGTERM);
  io.restart();
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (!io.stopped() && std::chrono::steady_clock::now() < end)
    io.run_for(50ms);
  return io.stopped();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dead_letter_pauses)

// Two poison messages of partition 0 both fail their first write. The first one's retry goes
// through while the second is still waiting for its own: partition 0 must stay paused until the
// second is written too, or the consumer would run on past poison that is not parked yet.
BOOST_AUTO_TEST_CASE(a_partition_resumes_only_once_none_of_its_poison_is_waiting) {
  mock_cluster mock;
  boost::asio::io_context io;
  // One key: one partition.
  produce(io, mock, "same-key", "not json 1");
  produce(io, mock, "same-key", "not json 2");
  collector source(io, mock, "orders", "poison-source");
  BOOST_REQUIRE(run_until(io, [&] { return source.messages.size() == 2; }));
  const auto p = std::to_string(source.messages[0].partition());
  BOOST_REQUIRE(source.messages[1].partition() == source.messages[0].partition());

  kafka::producer producer(io, mock.options(), {{"linger.ms", "0"}}, {});
  std::vector<std::string> events;
  std::size_t done = 0;
  // What had been written when each resume came.
  std::vector<std::size_t> done_at_resume;
  tracker::dead_letter dead_letter(
      io, producer, "orders.dlq", [&](std::int32_t partition, bool stuck) {
        events.push_back((stuck ? "pause " : "resume ") + std::to_string(partition));
        if (!stuck) done_at_resume.push_back(done);
      });

  // The first write of the first message fails; the second message is sent only after that.
  mock.fail_next(produce_request, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  dead_letter.send(std::move(source.messages[0]), "not_json", "first", [&] { ++done; });
  BOOST_REQUIRE(run_until(io, [&] { return !events.empty(); }));
  mock.fail_next(produce_request, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  dead_letter.send(std::move(source.messages[1]), "not_json", "second", [&] { ++done; });

  BOOST_TEST(run_until(io, [&] { return done == 2 && dead_letter.pending() == 0; }));
  // Let anything still queued run before looking.
  run_until(
      io, [] { return false; }, 200ms);
  const std::vector<std::string> expected{"pause " + p, "resume " + p};
  BOOST_TEST(events == expected, boost::test_tools::per_element());
  BOOST_TEST(done_at_resume == std::vector<std::size_t>{2}, boost::test_tools::per_element());

  source.close(io);
  producer.stop();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dead_letter_producer_renewal)

namespace {

/// A poison message waits in "orders"; the Tracker starts with the next `api_key` request failing
/// with `err`, which is fatal to its (idempotent) dead-letter producer. The Tracker must renew the
/// producer, park the poison, and keep running.
void poison_is_parked_despite_a_fatal_dead_letter_producer_error(std::int16_t api_key,
                                                                 rd_kafka_resp_err_t err) {
  mock_cluster mock;
  boost::asio::io_context io;
  produce(io, mock, "poison-key", "not json");
  mock.fail_next(api_key, 1, err);
  tracker::tracker_service tracker(io, tracker_options_for(mock, "renewal-tracker"));
  tracker.start();
  collector dlq(io, mock, "orders.dlq", "dlq-reader");

  BOOST_TEST(run_until(io, [&] { return !dlq.messages.empty(); }));
  BOOST_TEST(tracker.exit_code() == 0);
  if (!dlq.messages.empty()) {
    const auto& parked = dlq.messages.front();
    BOOST_TEST(parked.payload() == "not json");
    BOOST_TEST(parked.key() == "poison-key");
    BOOST_TEST(parked.header(tracker::dlq_headers::offset).value_or("") == "0");
  }
  dlq.close(io);
  BOOST_TEST(stop_tracker(io));
  BOOST_TEST(tracker.exit_code() == 0);
}

}  // namespace

// Nothing in flight: the first producer id request is refused for good.
BOOST_AUTO_TEST_CASE(a_fatal_error_at_start_renews_the_producer_and_the_poison_is_parked) {
  poison_is_parked_despite_a_fatal_dead_letter_producer_error(
      init_producer_id_request, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED);
}

// The poison's write in flight: the broker answers it with a sequence the producer cannot
// reconcile, librdkafka's "sequence desynchronization" fatal error.
BOOST_AUTO_TEST_CASE(a_fatal_error_with_a_write_in_flight_renews_the_producer_and_retries_it) {
  poison_is_parked_despite_a_fatal_dead_letter_producer_error(
      produce_request, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batched_stores)

namespace {

/// Points the process's logger at a temporary file for one test, and back at stderr after it.
struct log_capture {
  log_capture() : file(std::tmpfile()) {
    BOOST_REQUIRE(file != nullptr);
    log::redirect_for_test(fileno(file), log::line_sink::default_capacity);
  }
  ~log_capture() {
    log::redirect_for_test(STDERR_FILENO, log::line_sink::default_capacity);
    std::fclose(file);
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  std::string written() const {
    log::flush();
    std::ifstream in("/proc/self/fd/" + std::to_string(fileno(file)));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::FILE* file;
};

std::string order_json(const std::string& id) {
  return R"({"order_id":")" + id + R"(","user":"Test User","item":"Shoes","quantity":1})";
}

}  // namespace

// Two orders, a poison message, two more orders, all in one partition: fetched and processed in
// one batch, whose offsets the consumer stores together at its end. The poison's dead-letter
// write keeps failing for a while. The orders after it are processed meanwhile, but the group's
// committed offset stays at the poison's own offset until its dead letter is confirmed, so a
// crash in between could not skip it; then the commit covers the whole partition.
BOOST_AUTO_TEST_CASE(
    a_poison_message_mid_batch_holds_back_the_commit_until_its_dead_letter_is_confirmed) {
  mock_cluster mock;
  boost::asio::io_context io;
  const std::vector<std::string> ids{
      "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
      "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"};
  // One key: one partition, offsets 0..4, the poison at 2.
  produce(io, mock, "same-key", order_json(ids[0]));
  produce(io, mock, "same-key", order_json(ids[1]));
  produce(io, mock, "same-key", "not json");
  produce(io, mock, "same-key", order_json(ids[2]));
  produce(io, mock, "same-key", order_json(ids[3]));
  constexpr std::int64_t poison_offset = 2;
  constexpr std::int64_t end_offset = 5;

  log_capture log;
  // The next six dead-letter writes fail (each retried 500 ms later): the poison waits ~3 s.
  mock.fail_next(produce_request, 6, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto options = tracker_options_for(mock, "mid-batch-tracker");
  // Commits every 100 ms, so that several happen while the poison waits.
  options.common.kafka.properties = {{"auto.commit.interval.ms", "100"}};
  tracker::tracker_service tracker(io, options);
  tracker.start();
  test::committed_offsets committed(mock.options().bootstrap_servers, "mid-batch-tracker");
  const auto committed_of_partition = [&]() -> std::optional<std::int64_t> {
    const auto all = committed.of("orders", 3, 2s);
    if (!all || all->empty()) return std::nullopt;
    BOOST_TEST(all->size() == 1u);
    return all->begin()->second;
  };

  // Until the dead letter is confirmed (the partition resumes), every commit seen stops at the
  // poison, though the orders after it are processed.
  std::set<std::int64_t> seen_while_waiting;
  bool resumed = false;
  bool later_orders_processed = false;
  BOOST_TEST(run_until(io, [&] {
    const auto text = log.written();
    later_orders_processed = text.find("Received order " + ids[3]) != std::string::npos;
    resumed = text.find("resumed") != std::string::npos;
    if (!resumed) {
      if (const auto c = committed_of_partition()) seen_while_waiting.insert(*c);
    }
    return resumed;
  }));
  const auto text = log.written();
  for (const auto& id : ids)
    BOOST_TEST(text.find("Received order " + id) != std::string::npos, id);
  BOOST_TEST(text.find("dead-letter write of orders-") != std::string::npos);
  BOOST_TEST(later_orders_processed);
  // Commits happened while the poison waited, and none went past it.
  BOOST_TEST(seen_while_waiting == std::set<std::int64_t>{poison_offset},
             boost::test_tools::per_element());

  // Confirmed: the commit moves past the poison to the end of the partition.
  BOOST_TEST(run_until(io, [&] { return committed_of_partition() == end_offset; }));
  BOOST_TEST(stop_tracker(io));
  BOOST_TEST(tracker.exit_code() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
