#include "common/kafka/producer.hpp"

#define BOOST_TEST_MODULE kafka_adapters
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/kafka/admin.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/error.hpp"
#include "tests/kafka/mock_cluster.hpp"

// The Kafka adapters against librdkafka's in-process mock cluster: fast, and able to fail in ways
// a real broker will not on demand. The real-broker tests in tests/integration prove the rest.

using namespace order_tracker;
using namespace std::chrono_literals;

namespace {

using test::mock_cluster;

using test::run_until;

/// Sends `count` messages keyed 0, 1, ... with a handler each, called with the key's number.
template <typename Handler>
void send_numbered(kafka::producer& p, int count, Handler on_report) {
  for (int i = 0; i < count; ++i) {
    BOOST_REQUIRE(!p.send("orders", std::to_string(i), "v", {},
                          [on_report, i](const kafka::delivery_report& r) { on_report(i, r); }));
  }
}

// Kafka's API key of InitProducerId, the request an idempotent producer makes first.
constexpr std::int16_t init_producer_id = 22;

/// A producer and its admin client that renew themselves on a fatal error exactly as
/// order_service::renew_producer does: flush, then detach the admin and renew in the completion.
struct self_renewing {
  ~self_renewing() {
    admin.stop();
    producer.stop();
  }
  self_renewing(const self_renewing&) = delete;
  self_renewing& operator=(const self_renewing&) = delete;
  self_renewing(boost::asio::io_context& io, const config::kafka_options& options)
      : producer(io, options, {{"linger.ms", "1"}},
                 kafka::producer_events{
                     .on_progress = nullptr,
                     .on_error =
                         [this](const boost::system::error_code&, std::string_view, bool fatal) {
                           if (fatal) on_fatal();
                         },
                     .on_stats = nullptr,
                     .on_unowned_delivery = nullptr,
                 }),
        admin(io, producer) {}

  void on_fatal() {
    ++fatal_errors;
    if (renewing) return;
    renewing = true;
    producer.flush(2s, [this](std::size_t) {
      admin.detach();
      producer.renew();
      renewing = false;
      ++renewals;
    });
  }

  kafka::producer producer;
  kafka::admin admin;
  int fatal_errors = 0;
  int renewals = 0;
  bool renewing = false;
};

bool delivers(boost::asio::io_context& io, kafka::producer& p) {
  std::optional<boost::system::error_code> result;
  if (p.send("orders", "after", "v", {},
             [&](const kafka::delivery_report& r) { result = r.error; })) {
    return false;
  }
  return run_until(io, [&] { return result.has_value(); }) && !*result;
}

}  // namespace

BOOST_AUTO_TEST_CASE(delivery_reports_arrive_through_the_event_loop_for_every_message) {
  mock_cluster mock;
  boost::asio::io_context io;
  kafka::producer producer(io, mock.options(), {{"linger.ms", "1"}}, {});
  constexpr int count = 5000;
  int delivered = 0;
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    const auto key = std::to_string(i);
    const auto ec = producer.send("orders", key, "{}", {}, [&](const kafka::delivery_report& r) {
      (r.error ? failed : delivered)++;
      BOOST_TEST(r.offset >= 0);
    });
    BOOST_REQUIRE(!ec);
  }
  // Edge-triggered wake-ups: a drain that took one event per wake-up would leave most stuck here.
  BOOST_TEST(run_until(io, [&] { return delivered + failed == count; }));
  BOOST_TEST(delivered == count);
  BOOST_TEST(failed == 0);
  producer.stop();
}

BOOST_AUTO_TEST_CASE(messages_without_a_handler_report_to_the_producer_sink_with_their_key) {
  mock_cluster mock;
  boost::asio::io_context io;
  std::vector<std::string> keys;
  int owned = 0;
  kafka::producer_events events;
  events.on_unowned_delivery = [&](const kafka::delivery_report& r) {
    BOOST_TEST(!r.error);
    keys.emplace_back(r.key);
  };
  kafka::producer producer(io, mock.options(), {{"linger.ms", "1"}}, std::move(events));
  for (int i = 0; i < 100; ++i)
    BOOST_REQUIRE(!producer.send("orders", std::to_string(i), "{}", {}, {}));
  BOOST_REQUIRE(!producer.send("orders", "mine", "{}", {},
                               [&](const kafka::delivery_report& r) { owned += r.key == "mine"; }));
  BOOST_TEST(run_until(io, [&] { return keys.size() == 100 && owned == 1; }));
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i)
    expected.push_back(std::to_string(i));
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(keys == expected, boost::test_tools::per_element());
  producer.stop();
}

BOOST_AUTO_TEST_CASE(after_a_fatal_error_a_renewed_producer_delivers_again) {
  mock_cluster mock;
  boost::asio::io_context io;
  bool fatal = false;
  kafka::producer_events events;
  events.on_error = [&](const boost::system::error_code&, std::string_view, bool f) {
    fatal = fatal || f;
  };
  kafka::producer producer(io, mock.options(), {{"linger.ms", "1"}}, std::move(events));
  kafka::admin admin(io, producer);

  // librdkafka's own hook for raising a fatal error, as an idempotence failure would.
  BOOST_REQUIRE(rd_kafka_test_fatal_error(producer.native_handle(),
                                          RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                          "test") == RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_TEST(run_until(io, [&] { return fatal; }));
  BOOST_TEST(producer.failed());
  const auto refused = producer.send("orders", "k", "v", {}, [](const kafka::delivery_report&) {});
  BOOST_TEST(kafka::is_fatal(refused));

  bool flushed = false;
  producer.flush(2s, [&](std::size_t) { flushed = true; });
  BOOST_TEST(run_until(io, [&] { return flushed; }));
  admin.detach();
  producer.renew();
  BOOST_TEST(!producer.failed());

  bool delivered = false;
  BOOST_REQUIRE(!producer.send("orders", "k", "v", {},
                               [&](const kafka::delivery_report& r) { delivered = !r.error; }));
  BOOST_TEST(run_until(io, [&] { return delivered; }));
  // The admin client follows the new instance on its next request (the mock cluster never
  // answers CreateTopics; what matters is that the request goes through the live handle).
  admin.ensure_topic({"orders", 3, 1, {}}, 5s,
                     [](const boost::system::error_code&, const std::string&) {});
  producer.stop();
}

BOOST_AUTO_TEST_CASE(headers_travel_with_the_message) {
  mock_cluster mock;
  boost::asio::io_context io;
  kafka::producer producer(io, mock.options(), {}, {});
  bool done = false;
  const kafka::header headers[] = {{"traceparent", "00-abc"}};
  BOOST_REQUIRE(!producer.send("orders", "k", "v", headers, [&](const kafka::delivery_report& r) {
    BOOST_TEST(!r.error);
    done = true;
  }));
  BOOST_TEST(run_until(io, [&] { return done; }));

  std::optional<std::string> seen;
  kafka::consumer consumer(io, mock.options(), "headers-group", {},
                           kafka::consumer_events{
                               .on_message =
                                   [&](kafka::message&& m) {
                                     if (auto h = m.header("traceparent")) seen = std::string(*h);
                                   },
                               .on_assigned = nullptr,
                               .on_revoked = nullptr,
                               .on_error = nullptr,
                               .on_commit = nullptr,
                               .on_stats = nullptr,
                           });
  BOOST_REQUIRE(!consumer.subscribe({"orders"}));
  BOOST_TEST(run_until(io, [&] { return seen.has_value(); }));
  BOOST_TEST(seen.value_or("") == "00-abc");
  bool closed = false;
  consumer.close(5s, [&] { closed = true; });
  BOOST_TEST(run_until(io, [&] { return closed; }));
  producer.stop();
}

BOOST_AUTO_TEST_CASE(an_unreachable_broker_fails_the_delivery_after_the_timeout_not_never) {
  mock_cluster mock;
  rd_kafka_mock_broker_set_down(mock.cluster, 1);
  boost::asio::io_context io;
  kafka::producer producer(io, mock.options(), {{"message.timeout.ms", "1500"}}, {});
  std::optional<kafka::delivery_report> report;
  BOOST_REQUIRE(
      !producer.send("orders", "k", "v", {}, [&](const kafka::delivery_report& r) { report = r; }));
  BOOST_TEST(run_until(io, [&] { return report.has_value(); }));
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(report->error.value() == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
  BOOST_TEST((report->status != kafka::persistence::persisted));
  producer.stop();
}

BOOST_AUTO_TEST_CASE(a_full_local_queue_is_backpressure_not_a_lost_message) {
  mock_cluster mock;
  rd_kafka_mock_broker_set_down(mock.cluster, 1);
  boost::asio::io_context io;
  kafka::producer producer(io, mock.options(), {{"queue.buffering.max.messages", "10"}}, {});
  int accepted = 0;
  boost::system::error_code refused;
  for (int i = 0; i < 20 && !refused; ++i) {
    refused = producer.send("orders", "k", "v", {}, [](const kafka::delivery_report&) {});
    if (!refused) ++accepted;
  }
  BOOST_TEST(accepted == 10);
  BOOST_TEST(kafka::is_queue_full(refused));
  // A bounded flush purges what the broker never took, and each owner hears of it.
  std::optional<std::size_t> unfinished;
  producer.flush(300ms, [&](std::size_t left) { unfinished = left; });
  BOOST_TEST(run_until(io, [&] { return unfinished.has_value(); }));
  BOOST_TEST(producer.queue_length() == 0U);
  producer.stop();
}

BOOST_AUTO_TEST_CASE(a_consumer_closes_within_its_deadline_even_with_the_broker_gone) {
  mock_cluster mock;
  boost::asio::io_context io;
  std::vector<kafka::topic_partition> assigned;
  kafka::consumer consumer(io, mock.options(), "close-group", {},
                           kafka::consumer_events{
                               .on_message = [](kafka::message&&) {},
                               .on_assigned =
                                   [&](std::vector<kafka::assigned_partition>& parts) {
                                     for (const auto& p : parts)
                                       assigned.push_back(p.where);
                                   },
                               .on_revoked = nullptr,
                               .on_error = nullptr,
                               .on_commit = nullptr,
                               .on_stats = nullptr,
                           });
  BOOST_REQUIRE(!consumer.subscribe({"orders"}));
  BOOST_TEST(run_until(io, [&] { return assigned.size() == 3U; }));
  rd_kafka_mock_broker_set_down(mock.cluster, 1);
  bool closed = false;
  const auto start = std::chrono::steady_clock::now();
  consumer.close(2s, [&] { closed = true; });
  BOOST_TEST(run_until(
      io, [&] { return closed; }, 10s));
  BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

// A coordinator request of the Admin API (here the committed offsets) that times out while its
// coordinator is unreachable stays queued inside librdkafka and is taken up again when the
// coordinator comes back. 2.14.2 as released freed its bookkeeping twice on that path and aborted
// the process (rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt > 0'; chaos
// leader_kill, the Tracker); deploy/librdkafka-patches/0002 fixes it. The unpatched library aborts
// here on the first round.
BOOST_AUTO_TEST_CASE(
    a_coordinator_request_that_timed_out_is_harmless_when_the_coordinator_returns) {
  mock_cluster mock(3);
  constexpr int coordinator = 2;
  BOOST_REQUIRE(rd_kafka_mock_coordinator_set(mock.cluster, "group", "offsets-group",
                                              coordinator) == RD_KAFKA_RESP_ERR_NO_ERROR);
  boost::asio::io_context io;
  kafka::consumer consumer(io, mock.options(), "offsets-group", {},
                           kafka::consumer_events{
                               .on_message = [](kafka::message&&) {},
                               .on_assigned = nullptr,
                               .on_revoked = nullptr,
                               .on_error = nullptr,
                               .on_commit = nullptr,
                               .on_stats = nullptr,
                           });
  const std::vector<kafka::topic_partition> parts{{"orders", 0}};
  const auto fetch = [&](std::chrono::milliseconds timeout) {
    std::optional<boost::system::error_code> result;
    consumer.fetch_committed(parts, timeout,
                             [&](const boost::system::error_code& ec,
                                 const std::vector<kafka::topic_partition>&) { result = ec; });
    BOOST_REQUIRE(run_until(
        io, [&] { return result.has_value(); }, 15s));
    return *result;
  };
  BOOST_REQUIRE_MESSAGE(!fetch(5s), "the coordinator answers while it is up");
  for (int round = 0; round < 5; ++round) {
    BOOST_TEST_INFO("round " << round);
    rd_kafka_mock_broker_set_down(mock.cluster, coordinator);
    // Until the client has seen the connection drop, a request goes out and fails at once with a
    // transport error: ask again until one waits for the coordinator and times out.
    boost::system::error_code ec;
    for (int attempt = 0; attempt < 20 && ec != kafka::make_error(RD_KAFKA_RESP_ERR__TIMED_OUT);
         ++attempt)
      ec = fetch(300ms);
    BOOST_TEST(ec == kafka::make_error(RD_KAFKA_RESP_ERR__TIMED_OUT));
    rd_kafka_mock_broker_set_up(mock.cluster, coordinator);
    // The timed-out request is taken up now that the coordinator is back (and dropped, patched).
    ec = fetch(10s);
    BOOST_TEST(!ec, ec.message());
  }
}

BOOST_AUTO_TEST_CASE(a_callback_that_throws_is_reported_and_the_producer_carries_on) {
  mock_cluster mock;
  boost::asio::io_context io;
  int stats_calls = 0;
  kafka::producer_events events;
  // E.g. registering a metric that fails: the exception must not end the process or the loop.
  events.on_stats = [&](std::string_view) {
    ++stats_calls;
    throw std::runtime_error("cannot register the metric");
  };
  events.on_progress = [] { throw std::runtime_error("progress handler failed"); };
  kafka::producer producer(io, mock.options(), {{"statistics.interval.ms", "100"}},
                           std::move(events));
  // Each wake-up's drain meets the throwing handler; later wake-ups must still be served.
  BOOST_TEST(run_until(io, [&] { return stats_calls >= 3; }));
  bool delivered = false;
  BOOST_REQUIRE(!producer.send("orders", "k", "v", {},
                               [&](const kafka::delivery_report& r) { delivered = !r.error; }));
  BOOST_TEST(run_until(io, [&] { return delivered; }));
  std::optional<std::size_t> unfinished;
  producer.flush(1s, [&](std::size_t left) {
    unfinished = left;
    throw std::runtime_error("flush completion failed");
  });
  BOOST_TEST(run_until(io, [&] { return unfinished.has_value(); }));
  BOOST_TEST(stats_calls >= 3);
  producer.stop();
}

// Renewing the producer the way the Order service does it: a fatal error arrives as an event,
// inside producer::drain, inside the waker's completion; the service flushes and renews from the
// flush's completion. Run under ASan (the debug preset): before issue 12 the renewal freed the
// waker, queue and handle that those frames were still using.

BOOST_AUTO_TEST_CASE(a_fatal_error_at_start_with_nothing_in_flight_renews_from_inside_the_loop) {
  mock_cluster mock;
  // The broker refuses the first producer id: librdkafka calls that fatal for an idempotent
  // producer, and reports it before any message was sent.
  rd_kafka_mock_push_request_errors(mock.cluster, init_producer_id, 1,
                                    RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED);
  boost::asio::io_context io;
  self_renewing client(io, mock.options());
  BOOST_TEST(run_until(io, [&] { return client.renewals == 1; }));
  BOOST_TEST(client.fatal_errors == 1);
  BOOST_TEST(!client.producer.failed());
  BOOST_TEST(delivers(io, client.producer));
}

BOOST_AUTO_TEST_CASE(a_fatal_error_with_orders_in_flight_renews_and_every_order_hears_once) {
  mock_cluster mock;
  // Slow enough that the orders are still queued or in flight when the fatal error arrives.
  rd_kafka_mock_broker_set_rtt(mock.cluster, 1, 300);
  boost::asio::io_context io;
  self_renewing client(io, mock.options());
  constexpr int count = 20;
  std::map<int, int> reports;
  send_numbered(client.producer, count,
                [&reports](int i, const kafka::delivery_report&) { ++reports[i]; });
  BOOST_REQUIRE(rd_kafka_test_fatal_error(client.producer.native_handle(),
                                          RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                          "test") == RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_TEST(run_until(io, [&] { return client.renewals == 1; }));
  BOOST_TEST(reports.size() == static_cast<std::size_t>(count));
  for (const auto& [i, n] : reports)
    BOOST_TEST(n == 1, "order " << i << " heard " << n << " times");
  rd_kafka_mock_broker_set_rtt(mock.cluster, 1, 0);
  BOOST_TEST(delivers(io, client.producer));
}

BOOST_AUTO_TEST_CASE(a_renewal_answers_each_message_that_had_no_report_as_possibly_persisted) {
  mock_cluster mock;
  // The broker holds on to every request: nothing gets a report before the renewal.
  rd_kafka_mock_broker_set_rtt(mock.cluster, 1, 5000);
  boost::asio::io_context io;
  kafka::producer producer(io, mock.options(), {{"linger.ms", "1"}}, {});
  constexpr int count = 10;
  std::vector<kafka::delivery_report> reports;
  send_numbered(producer, count,
                [&reports](int, const kafka::delivery_report& r) { reports.push_back(r); });
  io.run_for(300ms);  // sent, and waiting for the broker
  BOOST_REQUIRE(reports.empty());
  // Renewed from a handler of the loop, as the service does after its flush.
  boost::asio::post(io, [&] { producer.renew(); });
  BOOST_TEST(run_until(
      io, [&] { return reports.size() >= static_cast<std::size_t>(count); }, 3s));
  BOOST_TEST(reports.size() == static_cast<std::size_t>(count));
  for (const auto& r : reports) {
    BOOST_TEST(r.error.value() == RD_KAFKA_RESP_ERR__DESTROY);
    BOOST_TEST((r.status == kafka::persistence::possibly_persisted));
  }
  io.run_for(200ms);
  BOOST_TEST(reports.size() == static_cast<std::size_t>(count), "no second report");
  producer.stop();
}
