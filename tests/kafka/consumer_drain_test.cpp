#include "common/kafka/consumer.hpp"

#define BOOST_TEST_MODULE consumer_drain
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>

#include "common/kafka/producer.hpp"
#include "tests/kafka/mock_cluster.hpp"

// How the consumer adapter shares the event loop: bounded batches with other handlers in between,
// and handler failures that never unwind through librdkafka's C frames.

using namespace order_tracker;
using namespace std::chrono_literals;
using test::mock_cluster;
using test::run_until;

namespace {

/// Writes `count` messages to partition-spread keys and waits for every delivery report.
void fill(boost::asio::io_context& io, const mock_cluster& mock, int count) {
  kafka::producer producer(io, mock.options(), {{"linger.ms", "20"}}, {});
  int delivered = 0;
  for (int i = 0; i < count; ++i) {
    BOOST_REQUIRE(!producer.send("orders", std::to_string(i), R"({"n":1})", {},
                                 [&](const kafka::delivery_report& r) {
                                   BOOST_REQUIRE(!r.error);
                                   ++delivered;
                                 }));
  }
  BOOST_REQUIRE(run_until(io, [&] { return delivered == count; }));
  producer.stop();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_backlog_is_consumed_in_bounded_batches_with_other_handlers_in_between) {
  mock_cluster mock;
  boost::asio::io_context io;
  constexpr int backlog = 30'000;
  fill(io, mock, backlog);

  int consumed = 0;
  int consumed_when_posted_handler_ran = -1;
  kafka::consumer_events events;
  events.on_message = [&](kafka::message&&) {
    if (consumed++ == 0) {
      // Stands for a timer, a signal or an HTTP request that becomes ready mid-drain.
      boost::asio::post(io, [&] { consumed_when_posted_handler_ran = consumed; });
    }
  };
  kafka::consumer consumer(io, mock.options(), "drain-test", {}, std::move(events));
  BOOST_REQUIRE(!consumer.subscribe({"orders"}));
  BOOST_TEST(run_until(
      io, [&] { return consumed == backlog; }, 30s));
  BOOST_TEST_MESSAGE("the posted handler ran after " << consumed_when_posted_handler_ran << " of "
                                                     << backlog << " messages");
  BOOST_TEST(consumed_when_posted_handler_ran > 0);
  // One batch of at most 1,024 messages, then the loop's turn.
  BOOST_TEST(consumed_when_posted_handler_ran <= 1024);
  bool closed = false;
  consumer.close(5s, [&] { closed = true; });
  BOOST_TEST(run_until(io, [&] { return closed; }));
}

BOOST_AUTO_TEST_CASE(a_throwing_statistics_handler_is_reported_as_a_fatal_handler_failure) {
  mock_cluster mock;
  boost::asio::io_context io;
  std::string reported;
  bool fatal = false;
  kafka::consumer_events events;
  events.on_message = [](kafka::message&&) {};
  events.on_stats = [](std::string_view) { throw std::runtime_error("metric registry full"); };
  events.on_error = [&](const boost::system::error_code&, std::string_view reason, bool f) {
    if (!f) return;
    fatal = true;
    reported = std::string(reason);
  };
  kafka::consumer consumer(io, mock.options({{"statistics.interval.ms", "100"}}), "stats-test", {},
                           std::move(events));
  BOOST_REQUIRE(!consumer.subscribe({"orders"}));
  // Without the catch at the C boundary the exception reaches librdkafka's frames: terminate.
  BOOST_TEST(run_until(
      io, [&] { return fatal; }, 10s));
  BOOST_TEST(reported.find("statistics handler failed: metric registry full") != std::string::npos,
             reported);
  bool closed = false;
  consumer.close(5s, [&] { closed = true; });
  BOOST_TEST(run_until(io, [&] { return closed; }));
}
