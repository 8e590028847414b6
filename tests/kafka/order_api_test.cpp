#include "services/order/order_api.hpp"

#define BOOST_TEST_MODULE order_api
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <future>
#include <string>
#include <thread>

#include "common/http/server.hpp"
#include "common/kafka/producer.hpp"
#include "services/order/idempotency_cache.hpp"
#include "services/order/order_publisher.hpp"
#include "services/order/order_service.hpp"
#include "tests/kafka/mock_cluster.hpp"
#include "tests/support/http_client.hpp"

// POST /orders in-process, against librdkafka's mock cluster: the API, the publisher, the
// idempotency cache and the producer as the Order service wires them, on a loop of their own,
// with a real HTTP client. Each accepted order ends in exactly one answer: 201, 503 "not sent"
// or 503 delivery_unknown (issue 12, defects 5 and 6).

using namespace order_tracker;
using namespace std::chrono_literals;
using test::beast_http::verb;

namespace {

const std::string order_body = R"({"user":"John Doe","item":"Shoes","quantity":2})";

/// The Order service's request path on a thread of its own.
struct api_under_test {
  explicit api_under_test(std::chrono::milliseconds delivery_deadline,
                          std::vector<config::property> producer_properties = {})
      : producer(io, mock.options(), std::move(producer_properties), {}),
        publisher(producer, "orders", metrics),
        cache(100, 60s),
        api(
            io, publisher, cache, metrics,
            [this] { return ready ? std::string{} : std::string{"broker blip"}; },
            delivery_deadline),
        server(io, [this](http::request&& req, http::responder respond) {
          api.handle(std::move(req), std::move(respond));
        }) {
    BOOST_REQUIRE(!server.listen({boost::asio::ip::make_address("127.0.0.1"), 0}));
    port = server.local_endpoint().port();
    loop = std::thread([this] { io.run(); });
  }
  ~api_under_test() {
    boost::asio::post(io, [this] { producer.stop(); });
    work.reset();
    io.stop();
    loop.join();
  }
  api_under_test(const api_under_test&) = delete;
  api_under_test& operator=(const api_under_test&) = delete;

  /// Runs `f` on the service's loop and waits for it.
  template <typename F>
  void on_loop(F f) {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  test::http_result post(const std::string& key = {},
                         std::chrono::milliseconds timeout = 10s) const {
    test::http_connection c(port, timeout);
    return c.post_json(
        "/orders", order_body,
        key.empty() ? test::http_headers{} : test::http_headers{{"Idempotency-Key", key}});
  }

  test::mock_cluster mock;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  observability::registry metrics;
  kafka::producer producer;
  order::order_publisher publisher;
  order::idempotency_cache cache;
  std::atomic<bool> ready{true};
  order::order_api api;
  http::server server;
  std::uint16_t port = 0;
  std::thread loop;
};

std::string reason_of(const test::http_result& r) {
  const auto v = boost::json::parse(r.body());
  const auto* reason = v.as_object().if_contains("reason");
  return reason != nullptr && reason->is_string() ? std::string(reason->as_string()) : "";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

BOOST_AUTO_TEST_CASE(
    an_order_with_no_delivery_report_is_answered_delivery_unknown_at_its_deadline) {
  // librdkafka would wait 30 s for the broker, which answers after 4 s; the request gives up at 1
  // s.
  api_under_test svc(1s, {{"message.timeout.ms", "30000"}});
  rd_kafka_mock_broker_set_rtt(svc.mock.cluster, 1, 4000);
  const auto start = std::chrono::steady_clock::now();
  const auto r = svc.post("late-key", 8s);
  BOOST_TEST(r.status() == 503U, r.describe());
  BOOST_TEST(reason_of(r) == "delivery_unknown", r.describe());
  BOOST_TEST(seconds_since(start) < 3.0);
  BOOST_TEST(!r.header("Retry-After").empty());

  // The report arrives after all: the order is on the broker, and a retry learns so instead of
  // placing it again.
  rd_kafka_mock_broker_set_rtt(svc.mock.cluster, 1, 0);
  test::http_result retry;
  for (int i = 0; i < 40 && retry.status() != 201U; ++i) {
    std::this_thread::sleep_for(250ms);
    retry = svc.post("late-key");
  }
  BOOST_TEST(retry.status() == 201U, retry.describe());
  std::uint64_t in_flight = 1;
  svc.on_loop([&] { in_flight = svc.publisher.in_flight(); });
  BOOST_TEST(in_flight == 0U);
}

BOOST_AUTO_TEST_CASE(a_renewed_producer_answers_each_order_it_never_reported_delivery_unknown) {
  api_under_test svc(30s, {{"message.timeout.ms", "30000"}});
  rd_kafka_mock_broker_set_rtt(svc.mock.cluster, 1, 10000);
  auto pending = std::async(std::launch::async, [&] { return svc.post("renewed-key", 8s); });
  std::this_thread::sleep_for(500ms);  // the order is sent and waits for the broker
  // As order_service::renew_producer does it, from a handler of the loop.
  const auto renewed = std::chrono::steady_clock::now();
  svc.on_loop([&] { svc.producer.renew(); });
  const auto r = pending.get();
  BOOST_TEST(r.status() == 503U, r.describe());
  BOOST_TEST(reason_of(r) == "delivery_unknown", r.describe());
  BOOST_TEST(seconds_since(renewed) < 2.0);
  std::uint64_t in_flight = 1;
  svc.on_loop([&] { in_flight = svc.publisher.in_flight(); });
  BOOST_TEST(in_flight == 0U, "no order is left in flight for the stall detector");
}

BOOST_AUTO_TEST_CASE(a_retry_waiting_on_an_attempt_with_an_unknown_outcome_hears_delivery_unknown) {
  api_under_test svc(30s, {{"message.timeout.ms", "30000"}});
  rd_kafka_mock_broker_set_rtt(svc.mock.cluster, 1, 10000);
  auto first = std::async(std::launch::async, [&] { return svc.post("unknown-key"); });
  std::this_thread::sleep_for(500ms);
  auto waiting = std::async(std::launch::async, [&] { return svc.post("unknown-key"); });
  std::this_thread::sleep_for(500ms);
  // The renewal drops the message unreported: it may be on the broker.
  svc.on_loop([&] { svc.producer.renew(); });
  const auto f = first.get();
  BOOST_TEST(f.status() == 503U, f.describe());
  BOOST_TEST(reason_of(f) == "delivery_unknown", f.describe());
  const auto w = waiting.get();
  BOOST_TEST(w.status() == 503U, w.describe());
  BOOST_TEST(reason_of(w) == "delivery_unknown", w.describe());
}

BOOST_AUTO_TEST_CASE(a_replay_of_an_answered_key_gets_the_stored_answer_while_not_ready) {
  api_under_test svc(30s);
  const auto first = svc.post("answered-key");
  BOOST_TEST_REQUIRE(first.status() == 201U, first.describe());
  svc.ready = false;
  const auto replay = svc.post("answered-key");
  BOOST_TEST(replay.status() == 201U, replay.describe());
  BOOST_TEST(replay.body() == first.body());
  // Anything that would need the producer is still refused.
  const auto fresh = svc.post("fresh-key");
  BOOST_TEST(fresh.status() == 503U, fresh.describe());
  BOOST_TEST(reason_of(fresh) == "not_ready", fresh.describe());
  const auto keyless = svc.post();
  BOOST_TEST(reason_of(keyless) == "not_ready", keyless.describe());
}

BOOST_AUTO_TEST_CASE(the_order_service_renews_its_producer_after_a_fatal_error_at_start) {
  // The path the service takes, whole: the fatal error arrives inside the producer's drain with
  // nothing in flight; order_service renews from its flush completion. Under ASan before
  // issue 12: a SEGV polling the destroyed queue.
  test::mock_cluster mock;
  constexpr std::int16_t init_producer_id = 22;  // Kafka's API key
  rd_kafka_mock_push_request_errors(mock.cluster, init_producer_id, 1,
                                    RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED);
  std::uint16_t port = 0;
  {
    boost::asio::io_context probe;
    boost::asio::ip::tcp::acceptor a(probe, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  order::order_options options;
  options.common.kafka = mock.options();
  options.http_listen = "127.0.0.1:" + std::to_string(port);
  boost::asio::io_context io;
  order::order_service service(io, options);
  service.start();
  std::thread loop([&] { io.run(); });
  std::string metrics;
  for (int i = 0; i < 80 && metrics.find("kafka_producer_renewals_total 1") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(100ms);
    metrics = test::http_request(port, verb::get, "/metrics").body();
  }
  BOOST_TEST(metrics.find("kafka_producer_renewals_total 1") != std::string::npos, metrics);
  io.stop();
  loop.join();
}
