#include "common/http/server.hpp"

#define BOOST_TEST_MODULE http_server
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
namespace ot = order_tracker::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

ot::request make_request(bhttp::verb method, std::string target, std::string body = {}) {
  ot::request req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

std::string body_of(const ot::response& res) {
  return res.body();
}

std::string header(const ot::response& res, bhttp::field field) {
  return std::string{res[field]};
}

/// Answers with what it received, so a test can check which request a response belongs to.
void echo(ot::request&& req, ot::responder respond) {
  json::object body;
  body["method"] = std::string{req.method_string()};
  body["target"] = std::string{req.target()};
  body["body"] = req.body();
  respond(ot::json_response(bhttp::status::ok, body));
}

std::string target_echoed_in(const ot::response& res) {
  return json::value_to<std::string>(json::parse(res.body()).at("target"));
}

awaitable<void> sleep_for(clock_type::duration d) {
  asio::steady_timer timer{co_await asio::this_coro::executor, d};
  co_await timer.async_wait(use_awaitable);
}

/// Waits until `done()` holds; fails the test after ten seconds.
awaitable<void> wait_until(std::function<bool()> done) {
  const auto deadline = clock_type::now() + 10s;
  while (!done()) {
    BOOST_TEST_REQUIRE((clock_type::now() < deadline), "condition not reached in time");
    co_await sleep_for(5ms);
  }
}

/// A Beast client connection; every operation gives up after five seconds so a bug cannot hang.
class client {
 public:
  static awaitable<client> connect(tcp::endpoint endpoint) {
    client c{co_await asio::this_coro::executor};
    c.stream_.expires_after(5s);
    co_await c.stream_.async_connect(endpoint, use_awaitable);
    co_return c;
  }

  awaitable<void> write(ot::request req) {
    stream_.expires_after(5s);
    co_await bhttp::async_write(stream_, req, use_awaitable);
  }

  awaitable<void> write_raw(std::string_view bytes) {
    stream_.expires_after(5s);
    co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), use_awaitable);
  }

  awaitable<ot::response> read() {
    stream_.expires_after(5s);
    ot::response res;
    co_await bhttp::async_read(stream_, buffer_, res, use_awaitable);
    co_return res;
  }

  awaitable<ot::response> send(ot::request req) {
    co_await write(std::move(req));
    co_return co_await read();
  }

  /// True once the server has closed the connection (end of stream or reset), with nothing
  /// more to read.
  awaitable<bool> closed_by_server() {
    stream_.expires_after(5s);
    char byte = 0;
    beast::error_code ec;
    const auto n = co_await stream_.async_read_some(asio::buffer(&byte, 1),
                                                    asio::redirect_error(use_awaitable, ec));
    co_return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

  void close() { stream_.close(); }

  beast::tcp_stream& stream() { return stream_; }

 private:
  explicit client(const asio::any_io_executor& ex) : stream_(ex) {}

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

/// A server on 127.0.0.1 and an ephemeral port, and one io_context for it and its clients.
struct server_fixture {
  asio::io_context ioc;
  std::vector<std::string> reports;
  std::optional<ot::server> server;
  tcp::endpoint endpoint;

  void start(ot::handler handler, ot::limits lim = {}) {
    server.emplace(ioc, std::move(handler), lim,
                   [this](std::string_view message) { reports.emplace_back(message); });
    const auto ec = server->listen({asio::ip::make_address("127.0.0.1"), 0});
    BOOST_TEST_REQUIRE(!ec, "listen: " << ec.message());
    endpoint = server->local_endpoint();
  }

  /// Runs `test` as a client next to the server, then shuts the server down; io_context::run
  /// must then return by itself, which proves nothing was left behind.
  void run(std::function<awaitable<void>()> test) {
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, test(), [&](std::exception_ptr e) {
      finished = true;
      failure = e;
      if (server) {
        server->shutdown([] {});
      }
    });
    ioc.run_for(20s);
    BOOST_TEST_REQUIRE(finished, "the test's client did not finish");
    if (failure) {
      std::rethrow_exception(failure);
    }
    BOOST_TEST(ioc.stopped(), "io_context::run did not return by itself");
  }
};

/// Puts the process at its file descriptor limit until destroyed, so that accept() fails.
class descriptor_exhaustion {
 public:
  explicit descriptor_exhaustion(int some_open_fd) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::stoi(entry.path().filename().string()));
    }
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(highest) + 1;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    // Fill the gaps below the limit too, or accept() would just take one of them.
    for (int fd = ::dup(some_open_fd); fd >= 0; fd = ::dup(some_open_fd)) {
      placeholders_.push_back(fd);
    }
  }
  ~descriptor_exhaustion() {
    for (const int fd : placeholders_) {
      ::close(fd);
    }
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  descriptor_exhaustion(const descriptor_exhaustion&) = delete;
  descriptor_exhaustion& operator=(const descriptor_exhaustion&) = delete;

 private:
  rlimit saved_{};
  std::vector<int> placeholders_;
};

ot::limits short_timeouts() {
  ot::limits lim;
  lim.request_timeout = 200ms;
  lim.idle_timeout = 200ms;
  lim.linger_timeout = 200ms;
  return lim;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(serving_requests, server_fixture)

BOOST_AUTO_TEST_CASE(answers_several_gets_and_posts_on_one_keep_alive_connection) {
  start(echo);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    for (int i = 0; i < 3; ++i) {
      auto get = co_await c.send(make_request(bhttp::verb::get, "/orders/" + std::to_string(i)));
      BOOST_TEST(get.result_int() == 200);
      BOOST_TEST(get.version() == 11u);
      BOOST_TEST(get.keep_alive());
      BOOST_TEST(header(get, bhttp::field::server) == "order-tracker");
      BOOST_TEST(header(get, bhttp::field::content_type) == "application/json");
      BOOST_TEST(header(get, bhttp::field::content_length) == std::to_string(get.body().size()));
      BOOST_TEST(target_echoed_in(get) == "/orders/" + std::to_string(i));

      auto post = co_await c.send(make_request(bhttp::verb::post, "/orders", R"({"qty":1})"));
      BOOST_TEST(post.result_int() == 200);
      BOOST_TEST(post.keep_alive());
      const auto echoed = json::parse(post.body());
      BOOST_TEST(json::value_to<std::string>(echoed.at("method")) == "POST");
      BOOST_TEST(json::value_to<std::string>(echoed.at("body")) == R"({"qty":1})");
    }
    BOOST_TEST(server->connections() == 1u);
  });
}

BOOST_AUTO_TEST_CASE(answers_http_1_0_without_keep_alive_in_kind_and_closes) {
  start(echo);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    auto req = make_request(bhttp::verb::get, "/stats");
    req.version(10);
    auto res = co_await c.send(std::move(req));
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res.version() == 10u);
    BOOST_TEST(!res.keep_alive());
    BOOST_TEST(co_await c.closed_by_server());
  });
}

BOOST_AUTO_TEST_CASE(answers_pipelined_requests_one_at_a_time_in_order) {
  std::vector<std::string> seen;
  start([&](ot::request&& req, ot::responder respond) {
    seen.emplace_back(req.target());
    echo(std::move(req), std::move(respond));
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write_raw(
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(target_echoed_in(co_await c.read()) == "/a");
    BOOST_TEST(target_echoed_in(co_await c.read()) == "/b");
    BOOST_TEST(seen == (std::vector<std::string>{"/a", "/b"}), boost::test_tools::per_element());
  });
}

BOOST_AUTO_TEST_CASE(sends_100_continue_to_a_client_that_waits_for_it_before_the_body) {
  start(echo);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write_raw(
        "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        "Expect: 100-continue\r\n\r\n");
    auto interim = co_await c.read();
    BOOST_TEST(interim.result_int() == 100);
    co_await c.write_raw("{}");
    auto res = co_await c.read();
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(json::value_to<std::string>(json::parse(res.body()).at("body")) == "{}");
  });
}

BOOST_AUTO_TEST_CASE(lets_a_handler_answer_later_from_a_timer) {
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  start([&](ot::request&&, ot::responder respond) {
    auto& timer = *timers.emplace_back(std::make_unique<asio::steady_timer>(ioc, 50ms));
    timer.async_wait([respond](beast::error_code) {
      respond(ot::json_response(bhttp::status::created, json::object{{"order_id", "o-1"}}));
    });
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    for (int i = 0; i < 2; ++i) {
      const auto sent = clock_type::now();
      auto res = co_await c.send(make_request(bhttp::verb::post, "/orders", "{}"));
      BOOST_TEST(res.result_int() == 201);
      BOOST_TEST(res.keep_alive());
      BOOST_TEST(body_of(res) == R"({"order_id":"o-1"})");
      BOOST_TEST((clock_type::now() - sent >= 45ms));
    }
  });
}

BOOST_AUTO_TEST_CASE(turns_a_handler_exception_into_500_and_keeps_serving_the_connection) {
  start([](ot::request&& req, ot::responder respond) {
    if (req.target() == "/boom") {
      throw std::runtime_error("boom");
    }
    echo(std::move(req), std::move(respond));
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    auto res = co_await c.send(make_request(bhttp::verb::get, "/boom"));
    BOOST_TEST(res.result_int() == 500);
    BOOST_TEST(body_of(res) == R"({"error":"internal error"})");
    BOOST_TEST(target_echoed_in(co_await c.send(make_request(bhttp::verb::get, "/ok"))) == "/ok");
  });
  BOOST_TEST_REQUIRE(reports.size() == 1u);
  BOOST_TEST(reports[0].find("boom") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(replaces_a_response_beast_cannot_frame_with_500) {
  start([](ot::request&&, ot::responder respond) {
    respond(ot::text_response(bhttp::status::no_content, "a 204 must not have a body"));
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    auto res = co_await c.send(make_request(bhttp::verb::get, "/"));
    BOOST_TEST(res.result_int() == 500);
    BOOST_TEST(res.keep_alive());
  });
  BOOST_TEST_REQUIRE(reports.size() == 1u);
  BOOST_TEST(reports[0].find("invalid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(serves_200_concurrent_keep_alive_connections) {
  constexpr int clients = 200;
  constexpr int requests_each = 5;
  // Out here rather than in the test coroutine, which the clients must not outlive if it fails.
  int connected = 0;
  int answered = 0;
  int finished = 0;
  std::size_t most_connections = 0;
  asio::steady_timer all_connected{ioc, asio::steady_timer::time_point::max()};
  start(echo);
  for (int i = 0; i < clients; ++i) {
    asio::co_spawn(
        ioc,
        [&, i]() -> awaitable<void> {
          auto c = co_await client::connect(endpoint);
          ++connected;
          // Hold every connection open until all are, so they really are concurrent.
          beast::error_code cancelled;
          co_await all_connected.async_wait(asio::redirect_error(use_awaitable, cancelled));
          most_connections = std::max(most_connections, server->connections());
          for (int r = 0; r < requests_each; ++r) {
            const auto target = "/c" + std::to_string(i) + "/r" + std::to_string(r);
            auto res = co_await c.send(make_request(bhttp::verb::get, target));
            if (res.result_int() == 200 && res.keep_alive() && target_echoed_in(res) == target) {
              ++answered;
            }
          }
        },
        [&](std::exception_ptr e) {
          ++finished;
          BOOST_TEST(!e);
        });
  }
  run([&]() -> awaitable<void> {
    co_await wait_until(
        [&] { return connected == clients && server->connections() == std::size_t{clients}; });
    all_connected.cancel();
    co_await wait_until([&] { return finished == clients; });
  });
  BOOST_TEST(answered == clients * requests_each);
  BOOST_TEST(most_connections == std::size_t{clients});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(limits, server_fixture)

BOOST_AUTO_TEST_CASE(refuses_a_body_over_the_limit_with_413_without_calling_the_handler) {
  int handled = 0;
  start([&](ot::request&& req, ot::responder respond) {
    ++handled;
    echo(std::move(req), std::move(respond));
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    auto res = co_await c.send(make_request(bhttp::verb::post, "/orders", std::string(65537, 'x')));
    BOOST_TEST(res.result_int() == 413);
    BOOST_TEST(!res.keep_alive());
    BOOST_TEST(header(res, bhttp::field::content_type) == "application/json");
    BOOST_TEST(body_of(res) == R"({"error":"body exceeds 65536 bytes"})");
    BOOST_TEST(co_await c.closed_by_server());
  });
  BOOST_TEST(handled == 0);
}

BOOST_AUTO_TEST_CASE(refuses_a_chunked_body_that_grows_over_the_limit_with_413) {
  int handled = 0;
  ot::limits lim;
  lim.max_body_bytes = 1000;
  start(
      [&](ot::request&& req, ot::responder respond) {
        ++handled;
        echo(std::move(req), std::move(respond));
      },
      lim);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    const std::string chunk(600, 'x');
    co_await c.write_raw("POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    co_await c.write_raw("258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    auto res = co_await c.read();
    BOOST_TEST(res.result_int() == 413);
    BOOST_TEST(body_of(res) == R"({"error":"body exceeds 1000 bytes"})");
    BOOST_TEST(co_await c.closed_by_server());
  });
  BOOST_TEST(handled == 0);
}

BOOST_AUTO_TEST_CASE(refuses_headers_over_the_limit_with_431_and_closes) {
  start(echo);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    auto req = make_request(bhttp::verb::get, "/stats");
    req.set("X-Padding", std::string(10'000, 'a'));
    auto res = co_await c.send(std::move(req));
    BOOST_TEST(res.result_int() == 431);
    BOOST_TEST(body_of(res) == R"({"error":"headers exceed 8192 bytes"})");
    BOOST_TEST(co_await c.closed_by_server());
  });
}

BOOST_AUTO_TEST_CASE(answers_garbage_bytes_with_400_and_closes) {
  start(echo);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write_raw("\x01\x02\x03 not http at all\r\n\r\n");
    auto res = co_await c.read();
    BOOST_TEST(res.result_int() == 400);
    BOOST_TEST(!res.keep_alive());
    const auto error = json::value_to<std::string>(json::parse(res.body()).at("error"));
    BOOST_TEST(error.starts_with("malformed request"));
    BOOST_TEST(co_await c.closed_by_server());
  });
}

BOOST_AUTO_TEST_CASE(answers_a_slowloris_request_with_408_counting_from_its_first_byte) {
  start(echo, short_timeouts());
  run([&]() -> awaitable<void> {
    // Shared with the trickle below, which may outlive this coroutine if a check throws.
    auto c = std::make_shared<client>(co_await client::connect(endpoint));
    const auto first_byte = clock_type::now();
    // A byte every 50 ms keeps the connection busy, but the request never completes; a
    // per-read timeout would never fire.
    asio::co_spawn(
        ioc,
        [c]() -> awaitable<void> {
          const std::string_view request = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
          for (std::size_t i = 0; i < 40; ++i) {
            beast::error_code ec;
            const char byte = i < request.size() ? request[i] : 'a';
            co_await asio::async_write(c->stream(), asio::buffer(&byte, 1),
                                       asio::redirect_error(use_awaitable, ec));
            if (ec) {
              co_return;
            }
            co_await sleep_for(50ms);
          }
        },
        asio::detached);
    auto res = co_await c->read();
    const auto elapsed = clock_type::now() - first_byte;
    BOOST_TEST(res.result_int() == 408);
    BOOST_TEST(!res.keep_alive());
    BOOST_TEST((elapsed >= 180ms && elapsed < 1s));
    BOOST_TEST(co_await c->closed_by_server());
    c->close();
  });
}

BOOST_AUTO_TEST_CASE(closes_a_keep_alive_connection_idle_beyond_the_idle_timeout) {
  auto lim = short_timeouts();
  lim.idle_timeout = 300ms;
  start(echo, lim);
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    BOOST_TEST((co_await c.send(make_request(bhttp::verb::get, "/a"))).result_int() == 200);
    co_await sleep_for(150ms);
    BOOST_TEST((co_await c.send(make_request(bhttp::verb::get, "/b"))).result_int() == 200,
               "a pause shorter than the idle timeout keeps the connection");
    const auto answered = clock_type::now();
    BOOST_TEST(co_await c.closed_by_server());
    const auto idle = clock_type::now() - answered;
    BOOST_TEST((idle >= 250ms && idle < 2s));
  });
}

BOOST_AUTO_TEST_CASE(closes_a_new_connection_that_sends_nothing_after_the_request_timeout) {
  auto lim = short_timeouts();
  lim.idle_timeout = 60s;
  start(echo, lim);
  run([&]() -> awaitable<void> {
    const auto connected = clock_type::now();
    auto c = co_await client::connect(endpoint);
    BOOST_TEST(co_await c.closed_by_server());
    BOOST_TEST((clock_type::now() - connected < 2s));
  });
}

BOOST_AUTO_TEST_CASE(answers_503_to_connections_beyond_max_connections) {
  ot::limits lim;
  lim.max_connections = 2;
  start(echo, lim);
  run([&]() -> awaitable<void> {
    auto first = co_await client::connect(endpoint);
    auto second = co_await client::connect(endpoint);
    BOOST_TEST((co_await first.send(make_request(bhttp::verb::get, "/a"))).result_int() == 200);
    BOOST_TEST((co_await second.send(make_request(bhttp::verb::get, "/b"))).result_int() == 200);
    auto third = co_await client::connect(endpoint);
    auto res = co_await third.send(make_request(bhttp::verb::get, "/c"));
    BOOST_TEST(res.result_int() == 503);
    BOOST_TEST(header(res, bhttp::field::retry_after) == "1");
    BOOST_TEST(co_await third.closed_by_server());
    third.close();
    // Room again once a connection goes.
    first.close();
    co_await wait_until([&] { return server->connections() == 1; });
    auto fourth = co_await client::connect(endpoint);
    BOOST_TEST((co_await fourth.send(make_request(bhttp::verb::get, "/d"))).result_int() == 200);
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(shutting_down, server_fixture)

BOOST_AUTO_TEST_CASE(
    shutdown_answers_the_pending_request_with_close_closes_idle_connections_and_refuses_new_ones) {
  std::optional<ot::responder> pending;
  start([&](ot::request&& req, ot::responder respond) {
    if (req.target() == "/slow") {
      pending = std::move(respond);
      return;
    }
    echo(std::move(req), std::move(respond));
  });
  bool drained = false;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto busy = co_await client::connect(endpoint);
        auto idle = co_await client::connect(endpoint);
        BOOST_TEST((co_await idle.send(make_request(bhttp::verb::get, "/a"))).keep_alive());
        co_await busy.write(make_request(bhttp::verb::post, "/slow", "{}"));
        co_await wait_until([&] { return pending.has_value(); });
        BOOST_TEST(server->connections() == 2u);

        server->shutdown([&] { drained = true; });
        BOOST_TEST(co_await idle.closed_by_server());
        beast::tcp_stream latecomer{co_await asio::this_coro::executor};
        beast::error_code ec;
        co_await latecomer.async_connect(endpoint, asio::redirect_error(use_awaitable, ec));
        BOOST_TEST(ec == asio::error::connection_refused);
        BOOST_TEST(server->connections() == 1u);
        BOOST_TEST(!drained);

        (*pending)(ot::json_response(bhttp::status::created, json::object{{"order_id", "o-7"}}));
        auto res = co_await busy.read();
        BOOST_TEST(res.result_int() == 201);
        BOOST_TEST(!res.keep_alive());
        BOOST_TEST(co_await busy.closed_by_server());
      },
      [](std::exception_ptr e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  // No shutdown from the fixture here: run() must return on its own once drained.
  ioc.run_for(20s);
  BOOST_TEST(drained);
  BOOST_TEST(ioc.stopped(), "io_context::run did not return by itself");
  BOOST_TEST(server->connections() == 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_without_connections_runs_on_drained_and_lets_run_return) {
  start(echo);
  bool drained = false;
  server->shutdown([&] { drained = true; });
  BOOST_TEST(!drained, "on_drained runs from the io_context, not from inside shutdown");
  ioc.run_for(5s);
  BOOST_TEST(drained);
  BOOST_TEST(ioc.stopped());
}

BOOST_AUTO_TEST_CASE(destroying_the_server_closes_every_connection_and_lets_run_return) {
  std::optional<ot::responder> pending;
  int handled = 0;
  start([&](ot::request&&, ot::responder respond) {
    ++handled;
    pending = std::move(respond);
  });
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto busy = co_await client::connect(endpoint);
        auto idle = co_await client::connect(endpoint);
        co_await busy.write(make_request(bhttp::verb::post, "/orders", "{}"));
        co_await wait_until([&] { return pending.has_value(); });
        co_await idle.write_raw("GET /half-a-request");

        server.reset();
        BOOST_TEST(co_await busy.closed_by_server());
        BOOST_TEST(co_await idle.closed_by_server());
        // The application may still answer; nothing is sent and nothing breaks.
        (*pending)(ot::json_response(bhttp::status::ok, json::object{}));
      },
      [](std::exception_ptr e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  ioc.run_for(20s);
  BOOST_TEST(ioc.stopped(), "io_context::run did not return by itself");
  BOOST_TEST(handled == 1);
  BOOST_TEST(reports.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(responding, server_fixture)

BOOST_AUTO_TEST_CASE(a_responder_called_after_the_client_disconnected_does_nothing) {
  std::optional<ot::responder> pending;
  start([&](ot::request&&, ot::responder respond) { pending = std::move(respond); });
  run([&]() -> awaitable<void> {
    {
      auto c = co_await client::connect(endpoint);
      co_await c.write(make_request(bhttp::verb::post, "/orders", "{}"));
      co_await wait_until([&] { return pending.has_value(); });
    }
    co_await sleep_for(50ms);
    (*pending)(ot::json_response(bhttp::status::created, json::object{{"order_id", "o-1"}}));
    (*pending)(ot::json_response(bhttp::status::created, json::object{{"order_id", "o-1"}}));
    co_await wait_until([&] { return server->connections() == 0; });
  });
}

BOOST_AUTO_TEST_CASE(only_the_first_answer_to_a_request_counts_and_stale_responders_are_ignored) {
  std::vector<ot::responder> stash;
  start([&](ot::request&&, ot::responder respond) { stash.push_back(std::move(respond)); });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write(make_request(bhttp::verb::get, "/1"));
    co_await wait_until([&] { return stash.size() == 1; });
    const ot::responder copy = stash[0];
    stash[0](ot::text_response(bhttp::status::ok, "first"));
    copy(ot::text_response(bhttp::status::ok, "second"));
    BOOST_TEST(body_of(co_await c.read()) == "first");

    co_await c.write(make_request(bhttp::verb::get, "/2"));
    co_await wait_until([&] { return stash.size() == 2; });
    stash[0](ot::text_response(bhttp::status::ok, "stale"));
    stash[1](ot::text_response(bhttp::status::ok, "third"));
    BOOST_TEST(body_of(co_await c.read()) == "third");
    // Had a stray answer been written, this would read it instead.
    co_await c.write(make_request(bhttp::verb::get, "/3"));
    co_await wait_until([&] { return stash.size() == 3; });
    stash[2](ot::text_response(bhttp::status::ok, "fourth"));
    BOOST_TEST(body_of(co_await c.read()) == "fourth");
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(accepting, server_fixture)

BOOST_AUTO_TEST_CASE(keeps_accepting_after_running_out_of_file_descriptors) {
  start(echo);
  run([&]() -> awaitable<void> {
    beast::tcp_stream stream{co_await asio::this_coro::executor};
    stream.socket().open(tcp::v4());
    {
      descriptor_exhaustion exhausted{stream.socket().native_handle()};
      stream.expires_after(5s);
      co_await stream.async_connect(endpoint, use_awaitable);
      co_await wait_until([&] { return !reports.empty(); });
    }
    BOOST_TEST(reports[0].find("accept") != std::string::npos);
    auto req = make_request(bhttp::verb::get, "/after");
    co_await bhttp::async_write(stream, req, use_awaitable);
    beast::flat_buffer buffer;
    ot::response res;
    co_await bhttp::async_read(stream, buffer, res, use_awaitable);
    BOOST_TEST(res.result_int() == 200);
  });
}

BOOST_AUTO_TEST_CASE(listen_returns_an_error_for_an_address_in_use) {
  start(echo);
  ot::server second{ioc, echo};
  const auto ec = second.listen(endpoint);
  BOOST_TEST(ec == asio::error::address_in_use);
  BOOST_TEST(second.local_endpoint() == tcp::endpoint{});
}

BOOST_AUTO_TEST_CASE(refuses_an_empty_handler) {
  BOOST_CHECK_THROW(ot::server(ioc, ot::handler{}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(parsing_endpoints)

BOOST_AUTO_TEST_CASE(accepts_an_ipv4_or_bracketed_ipv6_address_and_a_port) {
  const auto any = ot::parse_endpoint("0.0.0.0:8080");
  BOOST_TEST_REQUIRE(any.has_value());
  BOOST_TEST(any->address().to_string() == "0.0.0.0");
  BOOST_TEST(any->port() == 8080);

  const auto loopback6 = ot::parse_endpoint("[::1]:0");
  BOOST_TEST_REQUIRE(loopback6.has_value());
  BOOST_TEST(loopback6->address().is_v6());
  BOOST_TEST(loopback6->port() == 0);

  BOOST_TEST(ot::parse_endpoint("127.0.0.1:65535").value().port() == 65535);
}

BOOST_AUTO_TEST_CASE(rejects_a_missing_or_bad_port_and_host_names) {
  const auto error_of = [](std::string_view text) {
    const auto parsed = ot::parse_endpoint(text);
    return parsed ? boost::system::error_code{} : parsed.error();
  };
  BOOST_TEST(error_of("0.0.0.0") == make_error_code(ot::endpoint_error::missing_port));
  BOOST_TEST(error_of("8080") == make_error_code(ot::endpoint_error::missing_port));
  BOOST_TEST(error_of("0.0.0.0:") == make_error_code(ot::endpoint_error::bad_port));
  BOOST_TEST(error_of("0.0.0.0:65536") == make_error_code(ot::endpoint_error::bad_port));
  BOOST_TEST(error_of("0.0.0.0:80x") == make_error_code(ot::endpoint_error::bad_port));
  BOOST_TEST(error_of("0.0.0.0:-1") == make_error_code(ot::endpoint_error::bad_port));
  BOOST_TEST(error_of(":8080") == make_error_code(ot::endpoint_error::bad_host));
  BOOST_TEST(error_of("localhost:8080") == make_error_code(ot::endpoint_error::bad_host));
  BOOST_TEST(error_of("::1:8080") == make_error_code(ot::endpoint_error::bad_host));
  BOOST_TEST(error_of("[127.0.0.1]:8080") == make_error_code(ot::endpoint_error::bad_host));
  BOOST_TEST(error_of("1.2.3:8080") == make_error_code(ot::endpoint_error::bad_host));
  BOOST_TEST(error_of("0.0.0.0:8080").message().empty() == false);
  BOOST_TEST(ot::make_error_code(ot::endpoint_error::bad_port).message() ==
             "the port must be a number from 0 to 65535");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(building_responses)

BOOST_AUTO_TEST_CASE(json_error_names_the_field_only_when_one_is_given) {
  const auto plain = ot::json_error(bhttp::status::bad_request, "body is not JSON");
  BOOST_TEST(plain.result_int() == 400);
  BOOST_TEST(body_of(plain) == R"({"error":"body is not JSON"})");
  BOOST_TEST(header(plain, bhttp::field::content_type) == "application/json");
  BOOST_TEST(header(plain, bhttp::field::content_length) == std::to_string(plain.body().size()));

  const auto with_field = ot::json_error(bhttp::status::unprocessable_entity, "must be > 0", "qty");
  BOOST_TEST(body_of(with_field) == R"({"error":"must be > 0","field":"qty"})");
}

BOOST_AUTO_TEST_CASE(text_response_keeps_the_body_and_content_type_given) {
  const auto res = ot::text_response(bhttp::status::ok, "up 1\n", "text/plain; version=0.0.4");
  BOOST_TEST(body_of(res) == "up 1\n");
  BOOST_TEST(header(res, bhttp::field::content_type) == "text/plain; version=0.0.4");
  BOOST_TEST(header(res, bhttp::field::content_length) == "5");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// Everything the server sends until it closes the connection.
awaitable<std::string> read_until_closed(client& c) {
  std::string all;
  char chunk[4096];
  for (;;) {
    c.stream().expires_after(5s);
    beast::error_code ec;
    const auto n = co_await c.stream().async_read_some(asio::buffer(chunk),
                                                       asio::redirect_error(use_awaitable, ec));
    all.append(chunk, n);
    if (ec) co_return all;
  }
}

/// Reads until at least `n` bytes have come.
awaitable<void> read_at_least(client& c, std::size_t n) {
  std::vector<char> chunk(256 * 1024);
  std::size_t got = 0;
  while (got < n) {
    c.stream().expires_after(5s);
    got += co_await c.stream().async_read_some(asio::buffer(chunk), use_awaitable);
  }
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(streaming, server_fixture)

BOOST_AUTO_TEST_CASE(a_stream_sends_its_header_without_length_then_each_write_until_it_ends) {
  ot::stream out;
  int closed = 0;
  start([&](ot::request&&, ot::responder respond) {
    ot::response header{bhttp::status::ok, 11};
    header.set(bhttp::field::content_type, "text/event-stream");
    out = respond.start_stream(std::move(header), {.on_closed = [&] { ++closed; }});
    BOOST_TEST(out.open());
    BOOST_TEST(out.write("data: 1\n\n"));
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write(make_request(bhttp::verb::get, "/orders/stream"));
    co_await wait_until([&] { return out.open(); });
    co_await sleep_for(20ms);
    BOOST_TEST(out.write("data: 2\n\n"));
    out.end();
    BOOST_TEST(!out.write("data: 3\n\n"), "nothing is accepted after end()");
    const auto text = co_await read_until_closed(c);
    const auto body_at = text.find("\r\n\r\n");
    BOOST_TEST_REQUIRE(body_at != std::string::npos);
    const auto head = text.substr(0, body_at);
    BOOST_TEST(head.starts_with("HTTP/1.1 200 OK\r\n"));
    BOOST_TEST(head.find("Content-Type: text/event-stream") != std::string::npos);
    BOOST_TEST(head.find("Connection: close") != std::string::npos);
    BOOST_TEST(head.find("Content-Length") == std::string::npos);
    BOOST_TEST(text.substr(body_at + 4) == "data: 1\n\ndata: 2\n\n");
    co_await wait_until([&] { return closed == 1; });
    BOOST_TEST(server->connections() == 0u);
  });
  BOOST_TEST(reports.empty());
}

BOOST_AUTO_TEST_CASE(a_client_leaving_closes_its_stream_and_tells_the_application_once) {
  ot::stream out;
  int closed = 0;
  start([&](ot::request&&, ot::responder respond) {
    out =
        respond.start_stream(ot::response{bhttp::status::ok, 11}, {.on_closed = [&] { ++closed; }});
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write(make_request(bhttp::verb::get, "/orders/stream"));
    co_await wait_until([&] { return out.open(); });
    c.close();
    co_await wait_until([&] { return closed == 1; });
    BOOST_TEST(!out.open());
    BOOST_TEST(!out.write("data: late\n\n"));
    BOOST_TEST(out.queued() == 0u);
    co_await sleep_for(20ms);
    BOOST_TEST(closed == 1);
  });
}

BOOST_AUTO_TEST_CASE(queued_counts_what_a_client_that_does_not_read_has_not_taken) {
  ot::stream out;
  start([&](ot::request&&, ot::responder respond) {
    out = respond.start_stream(ot::response{bhttp::status::ok, 11}, {});
  });
  run([&]() -> awaitable<void> {
    auto c = co_await client::connect(endpoint);
    co_await c.write(make_request(bhttp::verb::get, "/orders/stream"));
    co_await wait_until([&] { return out.open(); });
    // Far more than socket buffers take: the rest waits in the stream, never in the caller.
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 400; ++i) {
      BOOST_TEST_REQUIRE(out.write(chunk));
      co_await sleep_for(0ms);
    }
    BOOST_TEST(out.queued() > 0u);
    bool flushed = false;
    out.when_flushed([&] { flushed = true; });
    BOOST_TEST(!flushed);
    co_await read_at_least(c, 400 * chunk.size());
    co_await wait_until([&] { return flushed; });
    BOOST_TEST(out.queued() == 0u);
    BOOST_TEST(out.open());
  });
}

BOOST_AUTO_TEST_CASE(shutdown_ends_a_stream_after_what_is_queued_and_run_returns) {
  ot::stream out;
  start([&](ot::request&&, ot::responder respond) {
    out = respond.start_stream(ot::response{bhttp::status::ok, 11}, {});
    out.write("data: last\n\n");
  });
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto c = co_await client::connect(endpoint);
        co_await c.write(make_request(bhttp::verb::get, "/orders/stream"));
        co_await wait_until([&] { return out.open(); });
        bool drained = false;
        server->shutdown([&] { drained = true; });
        const auto text = co_await read_until_closed(c);
        BOOST_TEST(text.ends_with("\r\n\r\ndata: last\n\n"));
        co_await wait_until([&] { return drained; });
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ioc.run_for(20s);
  BOOST_TEST(ioc.stopped(), "io_context::run did not return by itself");
}

BOOST_AUTO_TEST_SUITE_END()
