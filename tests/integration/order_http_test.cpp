#define BOOST_TEST_MODULE order_http
#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/src.hpp>  // header-only here: this executable links no Boost.JSON library
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <iterator>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/services.hpp"
#include "tests/support/http_client.hpp"

// The Order service's HTTP API (issue 3) against the real broker: what a client is told, and what
// a consumer then reads from the topic (kcat), must agree.

using namespace order_tracker::test;
using namespace std::chrono_literals;
using beast_http::verb;

BOOST_TEST_GLOBAL_FIXTURE(broker_fixture);

namespace {

/// An order-service serving HTTP on a free port with a topic of its own.
struct http_service {
  std::uint16_t port = 0;
  std::string topic;
  std::unique_ptr<child_process> process;
};

http_service start_http_service(const std::string& name, std::vector<std::string> extra = {}) {
  http_service s;
  s.port = static_cast<std::uint16_t>(free_port_range(1));
  s.topic = "http-" + name;
  std::vector<std::string> flags{"--topic", s.topic, "--http-listen",
                                 "127.0.0.1:" + std::to_string(s.port)};
  flags.insert(flags.end(), extra.begin(), extra.end());
  s.process = start_service("order-service", flags, "http-" + name);
  BOOST_REQUIRE_MESSAGE(s.process->wait_for_text("topic " + s.topic + " is ready", 60s),
                        "order-service did not get its topic ready:\n" + s.process->output());
  return s;
}

/// Stops the service as an operator would and requires a clean exit.
void stop(http_service& s) {
  s.process->signal(SIGTERM);
  const auto code = s.process->exit_code_after(30s);
  BOOST_TEST(code == 0, "order-service exit code " << code << ":\n" << s.process->output());
}

/// One record as a consumer sees it.
struct record {
  int partition = -1;
  long long offset = -1;
  std::string key;
  std::string headers;  ///< kcat's %h: name=value,...
};

/// Everything in `topic`, read from the beginning to its current end.
std::vector<record> read_topic(const std::string& topic) {
  auto [code, out] = run_command({"kcat", "-b", broker_fixture::broker().bootstrap(), "-C", "-t",
                                  topic, "-o", "beginning", "-e", "-q", "-f", "%p %o %k %h\n"},
                                 60s);
  BOOST_REQUIRE_MESSAGE(code == 0, "kcat failed (" << code << "):\n" << out);
  std::vector<record> records;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    record r;
    fields >> r.partition >> r.offset >> r.key;
    std::getline(fields >> std::ws, r.headers);
    if (fields.bad() || r.partition < 0 || r.offset < 0 || r.key.empty())
      BOOST_FAIL("unexpected kcat line: " << line);
    records.push_back(std::move(r));
  }
  return records;
}

std::map<std::string, record> by_key(const std::vector<record>& records) {
  std::map<std::string, record> m;
  for (const auto& r : records)
    m[r.key] = r;
  return m;
}

/// The value of header `name` in kcat's "a=1,b=2" rendering, or empty.
std::string kafka_header(const std::string& headers, const std::string& name) {
  std::size_t at = 0;
  while (at < headers.size()) {
    auto end = headers.find(',', at);
    if (end == std::string::npos) end = headers.size();
    const auto item = headers.substr(at, end - at);
    if (item.rfind(name + "=", 0) == 0) return item.substr(name.size() + 1);
    at = end + 1;
  }
  return {};
}

bool valid_traceparent(const std::string& v) {
  static const std::regex form("00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}");
  return std::regex_match(v, form) && v.substr(3, 32) != std::string(32, '0') &&
         v.substr(36, 16) != std::string(16, '0');
}

std::string trace_id(const std::string& traceparent) {
  return traceparent.size() >= 35 ? traceparent.substr(3, 32) : std::string();
}

boost::json::value json_of(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

std::string order_body(const std::string& user, const std::string& item, long long quantity) {
  return boost::json::serialize(
      boost::json::object{{"user", user}, {"item", item}, {"quantity", quantity}});
}

/// Where the service said an order landed.
struct placed {
  std::string order_id;
  long long partition = -1;
  long long offset = -1;
  std::string traceparent;
};

/// The order in a 201's body, when the body has exactly that shape. No assertions: client
/// threads call it too.
std::optional<placed> parse_placed(const http_result& r) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  const auto v = json_of(r.body());
  const auto* o = v.if_object();
  if (o == nullptr || o->size() != 3U) return std::nullopt;
  const auto* id = o->if_contains("order_id");
  const auto* partition = o->if_contains("partition");
  const auto* offset = o->if_contains("offset");
  if (!id || !id->is_string() || !partition || !partition->is_int64() || !offset ||
      !offset->is_int64()) {
    return std::nullopt;
  }
  placed p;
  p.order_id = std::string(id->get_string());
  p.partition = partition->get_int64();
  p.offset = offset->get_int64();
  p.traceparent = r.header("traceparent");
  if (!std::regex_match(p.order_id, uuid)) return std::nullopt;
  return p;
}

/// The order in a 201's body; requires {"order_id": uuid, "partition": n, "offset": n}.
placed placed_from(const http_result& r) {
  auto p = parse_placed(r);
  BOOST_TEST_REQUIRE(p.has_value(), "201 body is not {order_id, partition, offset}: " << r.body());
  return *p;
}

/// A number from a Prometheus text exposition, or -1 when the series is absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

/// A bad request and what it must get.
struct bad_case {
  std::string name;
  verb method = verb::post;
  std::string target = "/orders";
  std::string body;
  http_headers headers{{"Content-Type", "application/json"}};
  unsigned status = 400;
  std::string field;  ///< the field the error must name; empty: none expected
};

/// A JSON body POSTed to /orders that must get 400 naming `field`.
bad_case invalid(std::string name, std::string body, std::string field = {}) {
  return {std::move(name),
          verb::post,
          "/orders",
          std::move(body),
          http_headers{{"Content-Type", "application/json"}},
          400,
          std::move(field)};
}

/// A request that must get `status`, with a JSON error that names no field.
bad_case refused(std::string name, unsigned status, verb method, std::string target,
                 std::string body = {}, http_headers headers = {}) {
  return {std::move(name), method, std::move(target), std::move(body), std::move(headers),
          status,          {}};
}

/// Requires a JSON error {"error": "...", "field": ...} naming `field` (when not empty).
void check_json_error(const std::string& what, const std::string& body, const std::string& field) {
  const auto v = json_of(body);
  const auto* o = v.if_object();
  BOOST_TEST_REQUIRE(o != nullptr, what << ": error body is not a JSON object: " << body);
  const auto* error = o->if_contains("error");
  BOOST_TEST((error && error->is_string() && !error->get_string().empty()),
             what << ": no \"error\" text: " << body);
  const auto* f = o->if_contains("field");
  if (!field.empty()) {
    BOOST_TEST((f && f->is_string() && f->get_string() == field),
               what << ": \"field\" should be " << field << ": " << body);
  } else {
    BOOST_TEST((f == nullptr || (f->is_string() && f->get_string().empty())),
               what << ": unexpected \"field\": " << body);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(valid_orders_get_201_with_where_they_landed_and_the_topic_agrees) {
  auto svc = start_http_service("valid");
  const std::string client_trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  // A client's own trace is continued; a missing or malformed one starts a new trace.
  enum class trace { client, none, malformed };
  std::vector<placed> orders;
  {
    http_connection c(svc.port);
    BOOST_REQUIRE_MESSAGE(c.is_open(), "connect: " << c.error().message());
    for (int i = 0; i < 6; ++i) {
      const auto sent = static_cast<trace>(i % 3);
      http_headers h;
      if (sent == trace::client) h.emplace_back("traceparent", client_trace);
      if (sent == trace::malformed) h.emplace_back("traceparent", "00-not-a-trace-01");
      // A media type parameter is still JSON.
      h.emplace_back("Content-Type",
                     i == 5 ? "application/json; charset=utf-8" : "application/json");
      const auto r = c.request(verb::post, "/orders", order_body("John Doe", "Shoes", i + 1), h);
      BOOST_TEST_REQUIRE(r.status() == 201U, "order " << i << ": " << r.describe());
      BOOST_TEST(r.header("Content-Type").rfind("application/json", 0) == 0U);
      BOOST_TEST(c.is_open(), "the keep-alive connection was closed after order " << i);
      auto p = placed_from(r);
      BOOST_TEST(valid_traceparent(p.traceparent), "response traceparent: " << p.traceparent);
      if (sent == trace::client)
        BOOST_TEST(trace_id(p.traceparent) == trace_id(client_trace));
      else
        BOOST_TEST(trace_id(p.traceparent) != trace_id(client_trace));
      BOOST_TEST(p.partition >= 0);
      BOOST_TEST(p.partition < 3);  // the default partition count
      BOOST_TEST(p.offset >= 0);
      orders.push_back(p);
    }
  }
  const auto records = read_topic(svc.topic);
  BOOST_TEST(records.size() == orders.size());
  const auto topic = by_key(records);
  for (const auto& p : orders) {
    BOOST_TEST_CONTEXT("order " << p.order_id) {
      const auto it = topic.find(p.order_id);
      BOOST_TEST_REQUIRE((it != topic.end()), "not in the topic keyed by its order_id");
      BOOST_TEST(it->second.partition == p.partition);
      BOOST_TEST(it->second.offset == p.offset);
      BOOST_TEST(kafka_header(it->second.headers, "traceparent") == p.traceparent,
                 "Kafka headers: " << it->second.headers);
    }
  }
  stop(svc);
}

BOOST_AUTO_TEST_CASE(
    every_kind_of_bad_input_gets_its_status_and_a_json_error_and_nothing_reaches_the_topic) {
  auto svc = start_http_service("bad-input");
  // Valid orders before and after: the topic must end up with exactly these.
  std::set<std::string> valid_ids;
  const auto place_valid = [&] {
    const auto r = http_request(svc.port, verb::post, "/orders", order_body("Jane Doe", "Phone", 1),
                                {{"Content-Type", "application/json"}});
    BOOST_TEST_REQUIRE(r.status() == 201U, r.describe());
    valid_ids.insert(placed_from(r).order_id);
  };
  place_valid();

  const std::string user_300(300, 'u');
  const std::string valid = order_body("John", "Shoes", 2);
  const http_headers json{{"Content-Type", "application/json"}};
  const std::vector<bad_case> cases{
      invalid("malformed JSON", R"({"user": "a", "item": )"),
      invalid("trailing garbage after JSON", R"({"user":"a","item":"b","quantity":1} x)"),
      invalid("empty body", ""),
      invalid("invalid UTF-8",
              std::string("{\"user\":\"J\xff\xfe\",\"item\":\"Shoes\",\"quantity\":2}")),
      invalid("hostile nesting", std::string(100, '[') + std::string(100, ']')),
      invalid("not an object (array)", R"(["a","b",1])"),
      invalid("not an object (string)", R"("order")"),
      invalid("not an object (number)", "42"),
      invalid("missing user", R"({"item":"Shoes","quantity":2})", "user"),
      invalid("missing item", R"({"user":"John","quantity":2})", "item"),
      invalid("missing quantity", R"({"user":"John","item":"Shoes"})", "quantity"),
      invalid("user is a number", R"({"user":5,"item":"Shoes","quantity":2})", "user"),
      invalid("item is null", R"({"user":"John","item":null,"quantity":2})", "item"),
      invalid("item is an object", R"({"user":"John","item":{"a":1},"quantity":2})", "item"),
      invalid("quantity is a boolean", R"({"user":"John","item":"Shoes","quantity":true})",
              "quantity"),
      invalid("quantity 0", order_body("John", "Shoes", 0), "quantity"),
      invalid("quantity -1", order_body("John", "Shoes", -1), "quantity"),
      invalid("quantity 1000001", order_body("John", "Shoes", 1000001), "quantity"),
      invalid("quantity 2.5", R"({"user":"John","item":"Shoes","quantity":2.5})", "quantity"),
      invalid("quantity \"2\"", R"({"user":"John","item":"Shoes","quantity":"2"})", "quantity"),
      invalid("quantity 2^64-1",
              R"({"user":"John","item":"Shoes","quantity":18446744073709551615})", "quantity"),
      invalid("user of 300 bytes", order_body(user_300, "Shoes", 1), "user"),
      invalid("empty item", order_body("John", "", 1), "item"),
      invalid("unknown field", R"({"user":"John","item":"Shoes","quantity":2,"colour":"red"})",
              "colour"),
      invalid("order_id is the service's to assign",
              R"({"user":"John","item":"Shoes","quantity":2,)"
              R"("order_id":"00000000-0000-0000-0000-000000000001"})",
              "order_id"),
      refused("Content-Type text/plain", 415, verb::post, "/orders", valid,
              {{"Content-Type", "text/plain"}}),
      refused("no Content-Type", 415, verb::post, "/orders", valid),
      refused("body over 64 KiB", 413, verb::post, "/orders",
              R"({"user":"John","item":"Shoes","quantity":2,"pad":")" +
                  std::string(65 * 1024, 'x') + "\"}",
              json),
      refused("unknown path", 404, verb::get, "/nope"),
      refused("POST to an unknown path", 404, verb::post, "/orders/extra", valid, json),
      refused("GET /orders", 405, verb::get, "/orders"),
      refused("DELETE /orders", 405, verb::delete_, "/orders"),
      refused("huge headers", 431, verb::post, "/orders", valid,
              {{"Content-Type", "application/json"}, {"X-Filler", std::string(16 * 1024, 'h')}}),
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const auto r = http_request(svc.port, c.method, c.target, c.body, c.headers);
      BOOST_TEST_REQUIRE(r.ok(), r.describe());
      BOOST_TEST(r.status() == c.status, r.describe());
      BOOST_TEST(r.header("Content-Type").rfind("application/json", 0) == 0U);
      if (c.status == 405) BOOST_TEST(!r.header("Allow").empty(), "405 without Allow");
      check_json_error(c.name, r.body(), c.field);
    }
  }

  // Bytes no HTTP client would send: the answer is 400 and the connection is closed.
  const std::vector<std::pair<std::string, std::string>> garbage{
      {"TLS ClientHello", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11) +
                              std::string(64, '\x7f') + "\r\n\r\n"},
      {"binary noise", std::string("\x00\xff\xfe\x01 \x02\x03\r\n\r\n", 12)},
      {"not HTTP", "HELLO WORLD\r\n\r\n"},
      {"header without a colon", "GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"},
      {"non-numeric Content-Length",
       "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       "Content-Length: lots\r\n\r\n{}"},
      {"bad chunk",
       "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : garbage) {
    BOOST_TEST_CONTEXT(name) {
      const auto r = http_send_raw(svc.port, bytes, 15s);
      BOOST_TEST(r.status() == 400U, r.describe());
      if (r.status() == 400U) {
        check_json_error(name, r.body(), "");
        BOOST_TEST(r.received.find("Connection: close\r\n") != std::string::npos,
                   "the connection should close after a malformed request");
      }
    }
  }

  // The server is still fine, and the last valid order lands next to the first.
  place_valid();
  const auto records = read_topic(svc.topic);
  std::set<std::string> keys;
  for (const auto& rec : records)
    keys.insert(rec.key);
  BOOST_TEST(records.size() == valid_ids.size(),
             "the topic holds " << records.size() << " records");
  BOOST_TEST((keys == valid_ids));
  stop(svc);
}

BOOST_AUTO_TEST_CASE(the_same_idempotency_key_twice_yields_the_same_answer_and_one_event) {
  auto svc = start_http_service("idempotency");
  const auto body = order_body("John Doe", "Shoes", 2);
  const http_headers key{{"Idempotency-Key", "order-attempt-1"}};
  http_connection c(svc.port);
  const auto first = c.post_json("/orders", body, key);
  BOOST_TEST_REQUIRE(first.status() == 201U, first.describe());
  const auto again = c.post_json("/orders", body, key);
  BOOST_TEST(again.status() == 201U, again.describe());
  BOOST_TEST(again.body() == first.body());
  BOOST_TEST(again.header("traceparent") == first.header("traceparent"));

  // The same key for another order is a client bug, not a retry.
  const auto conflict = c.post_json("/orders", order_body("John Doe", "Shoes", 3), key);
  BOOST_TEST(conflict.status() == 422U, conflict.describe());
  check_json_error("reused key", conflict.body(), "Idempotency-Key");

  // Two retries racing on two connections, the second while the first is still in flight.
  const http_headers racing{{"Idempotency-Key", "order-attempt-2"}};
  const auto body2 = order_body("Jane Doe", "Phone", 1);
  http_result a, b;
  {
    std::latch go(2);
    std::jthread ta([&] {
      http_connection ca(svc.port);
      go.arrive_and_wait();
      a = ca.post_json("/orders", body2, racing);
    });
    std::jthread tb([&] {
      http_connection cb(svc.port);
      go.arrive_and_wait();
      b = cb.post_json("/orders", body2, racing);
    });
  }
  BOOST_TEST_REQUIRE(a.status() == 201U, a.describe());
  BOOST_TEST(b.status() == 201U, b.describe());
  BOOST_TEST(a.body() == b.body());

  const auto records = read_topic(svc.topic);
  BOOST_TEST(records.size() == 2U, "the topic holds " << records.size() << " records");
  std::set<std::string> keys;
  for (const auto& rec : records)
    keys.insert(rec.key);
  BOOST_TEST((keys == std::set<std::string>{placed_from(first).order_id, placed_from(a).order_id}));
  stop(svc);
}

BOOST_AUTO_TEST_CASE(health_readiness_and_metrics_report_what_just_happened) {
  auto svc = start_http_service("metrics");
  http_connection c(svc.port);
  const auto health = c.get("/healthz");
  BOOST_TEST(health.status() == 200U, health.describe());
  const auto ready = c.get("/readyz");
  BOOST_TEST(ready.status() == 200U, ready.describe());

  for (int i = 0; i < 3; ++i) {
    const auto r = c.post_json("/orders", order_body("John", "Shoes", 1));
    BOOST_TEST_REQUIRE(r.status() == 201U, r.describe());
  }
  for (int i = 0; i < 2; ++i)
    BOOST_TEST(c.post_json("/orders", "{nope").status() == 400U);
  BOOST_TEST(c.post_json("/orders", R"({"user":"a","item":"b"})").status() == 400U);
  BOOST_TEST(
      c.request(verb::post, "/orders", order_body("a", "b", 1), {{"Content-Type", "text/plain"}})
          .status() == 415U);

  const auto m = c.get("/metrics");
  BOOST_TEST_REQUIRE(m.status() == 200U, m.describe());
  BOOST_TEST(m.header("Content-Type").rfind("text/plain", 0) == 0U, m.header("Content-Type"));
  BOOST_TEST_INFO(m.body());
  BOOST_TEST(metric(m.body(), "orders_accepted_total") == 3.0);
  BOOST_TEST(metric(m.body(), R"(orders_rejected_total{reason="invalid_json"})") == 2.0);
  BOOST_TEST(metric(m.body(), R"(orders_rejected_total{reason="missing_field"})") == 1.0);
  BOOST_TEST(metric(m.body(), R"(orders_rejected_total{reason="unsupported_media_type"})") == 1.0);
  BOOST_TEST(metric(m.body(), "order_delivery_latency_seconds_count") == 3.0);
  BOOST_TEST(m.body().find("# TYPE order_delivery_latency_seconds histogram") != std::string::npos);
  stop(svc);
}

BOOST_AUTO_TEST_CASE(head_is_answered_without_a_body_so_the_keep_alive_connection_stays_usable) {
  auto svc = start_http_service("head");
  http_connection c(svc.port);
  const auto head = c.request(verb::head, "/healthz");
  BOOST_TEST_REQUIRE(head.status() == 200U, head.describe());
  // RFC 9110 9.3.2: a HEAD response has no content. Bytes after its header would be read as the
  // start of the next response on this connection.
  const auto next = c.get("/readyz");
  BOOST_TEST(next.status() == 200U,
             "GET /readyz after HEAD /healthz on one keep-alive connection: "
                 << next.describe()
                 << " -- SERVICE BUG: the HEAD response carries the GET body (see the report)");
  stop(svc);
}

BOOST_AUTO_TEST_CASE(
    fifty_keep_alive_connections_of_twenty_orders_each_all_get_201_and_reach_the_topic) {
  auto svc = start_http_service("concurrent");
  constexpr int connections = 50;
  constexpr int per_connection = 20;
  std::mutex m;
  std::vector<placed> accepted;
  std::vector<std::string> failures;
  const auto started = std::chrono::steady_clock::now();
  {
    std::latch all_connected(connections);
    std::vector<std::jthread> clients;
    for (int t = 0; t < connections; ++t) {
      clients.emplace_back([&, t] {
        http_connection c(svc.port, 30s);
        all_connected.arrive_and_wait();
        for (int i = 0; i < per_connection; ++i) {
          const auto r = c.post_json("/orders", order_body("user-" + std::to_string(t), "item", 1));
          const bool still_open = c.is_open();
          std::lock_guard lock(m);
          if (r.status() != 201U) {
            failures.push_back("connection " + std::to_string(t) + " order " + std::to_string(i) +
                               ": " + r.describe());
            return;
          }
          auto p = parse_placed(r);
          if (!p) {
            failures.push_back("201 with an unexpected body: " + r.body());
            return;
          }
          accepted.push_back(std::move(*p));
          if (!still_open) {
            failures.push_back("connection " + std::to_string(t) + " closed after order " +
                               std::to_string(i));
            return;
          }
        }
      });
    }
  }
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  BOOST_TEST_MESSAGE(accepted.size() << " orders over " << connections << " connections in "
                                     << elapsed.count() << " s");
  BOOST_TEST(failures.empty(),
             failures.size() << " failures, first: " << (failures.empty() ? "" : failures.front()));
  BOOST_TEST(accepted.size() == static_cast<std::size_t>(connections * per_connection));

  std::set<std::string> ids;
  for (const auto& p : accepted)
    ids.insert(p.order_id);
  BOOST_TEST(ids.size() == accepted.size(), "order ids are not unique");
  const auto records = read_topic(svc.topic);
  BOOST_TEST(records.size() == accepted.size());
  const auto topic = by_key(records);
  std::size_t missing = 0, misplaced = 0;
  for (const auto& p : accepted) {
    const auto it = topic.find(p.order_id);
    if (it == topic.end())
      ++missing;
    else if (it->second.partition != p.partition || it->second.offset != p.offset)
      ++misplaced;
  }
  BOOST_TEST(missing == 0U);
  BOOST_TEST(misplaced == 0U);
  stop(svc);
}

BOOST_AUTO_TEST_CASE(a_request_that_never_finishes_gets_408_and_its_connection_closed) {
  auto svc = start_http_service("slow");
  const auto started = std::chrono::steady_clock::now();
  // Half a header and then silence, as a slowloris client does; the server's request timeout is
  // 10 s.
  const auto r =
      http_send_raw(svc.port, "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-", 20s);
  const auto waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  BOOST_TEST(r.status() == 408U, r.describe());
  BOOST_TEST(waited < 15.0, "answered after " << waited << " s");
  BOOST_TEST(r.received.find("Connection: close\r\n") != std::string::npos, r.describe());
  // The server is unharmed.
  BOOST_TEST(http_request(svc.port, verb::get, "/healthz").status() == 200U);
  stop(svc);
}

BOOST_AUTO_TEST_CASE(sigterm_during_a_burst_answers_201_only_for_orders_on_the_broker_and_exits_0) {
  auto svc = start_http_service("sigterm", {"--shutdown-timeout-ms", "10000"});
  constexpr int clients_count = 20;
  std::mutex m;
  std::set<std::string> accepted;
  std::size_t unavailable = 0, closed = 0;
  std::size_t answered_while_draining =
      0;  ///< answers with Connection: close: in flight at SIGTERM
  std::vector<std::string> unexpected;
  std::atomic<std::size_t> accepted_so_far{0};
  std::atomic<bool> give_up{false};
  std::chrono::steady_clock::time_point signalled;
  int exit_code = -1;
  {
    std::vector<std::jthread> clients;
    for (int t = 0; t < clients_count; ++t) {
      clients.emplace_back([&, t] {
        std::optional<http_connection> c;
        while (!give_up) {
          if (!c || !c->is_open()) {
            c.emplace(svc.port, 15s);
            if (!c->is_open()) return;  // the listener is gone: the service is stopping
          }
          const auto r = c->post_json("/orders", order_body("burst-" + std::to_string(t), "x", 1));
          std::lock_guard lock(m);
          if (r.ok() && !r.message.keep_alive()) ++answered_while_draining;
          if (r.status() == 201U) {
            if (const auto p = parse_placed(r))
              accepted.insert(p->order_id);
            else
              unexpected.push_back("201 with an unexpected body: " + r.body());
            ++accepted_so_far;
          } else if (r.status() == 503U) {
            ++unavailable;
            if (r.header("Retry-After").empty())
              unexpected.push_back("503 without Retry-After: " + r.describe());
          } else if (!r.ok()) {
            ++closed;
          } else {
            unexpected.push_back(r.describe());
          }
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (accepted_so_far < 200 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    signalled = std::chrono::steady_clock::now();
    svc.process->signal(SIGTERM);
    exit_code = svc.process->exit_code_after(30s);
    give_up = true;
  }
  const auto shutdown_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  BOOST_TEST_MESSAGE(accepted.size()
                     << " answered 201, " << unavailable << " 503, " << closed << " closed, "
                     << answered_while_draining << " answered while draining; stopped in about "
                     << shutdown_s << " s");
  BOOST_TEST_INFO(svc.process->output());
  BOOST_TEST(exit_code == 0);
  BOOST_TEST(shutdown_s < 12.0, "the service took longer than its shutdown timeout");
  BOOST_TEST(accepted.size() >= 200U);
  BOOST_TEST(unexpected.empty(), unexpected.size() << " unexpected answers, first: "
                                                   << (unexpected.empty() ? "" : unexpected[0]));

  const auto records = read_topic(svc.topic);
  std::set<std::string> in_topic;
  for (const auto& r : records)
    in_topic.insert(r.key);
  std::vector<std::string> missing;
  std::set_difference(accepted.begin(), accepted.end(), in_topic.begin(), in_topic.end(),
                      std::back_inserter(missing));
  BOOST_TEST(missing.empty(), missing.size() << " orders answered 201 are not in the topic, e.g. "
                                             << (missing.empty() ? "" : missing[0]));
  // What the service reports as accepted is what the clients were told.
  static const std::regex summary("stopped: accepted ([0-9]+) over HTTP");
  std::smatch match;
  const auto log = svc.process->output();
  BOOST_TEST_REQUIRE(std::regex_search(log, match, summary), "no shutdown summary in the log");
  BOOST_TEST(std::stoull(match[1].str()) == accepted.size());
}
