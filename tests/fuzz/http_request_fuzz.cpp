// libFuzzer target: arbitrary bytes as what clients send to the Order service's HTTP server. The
// real server and its sessions (common/http/server.*, session.*) listen on a loopback port for the
// whole run; each input is written on one connection, or on two at once where it holds the
// separator below, and each connection's bytes are followed by the end of the client's output.
// Every request the sessions pass on goes through the part of POST /orders that needs no broker:
// body parsing, the event it becomes, its trace context, the idempotency window. order_api itself
// needs a Kafka publisher, so its content-type and readiness gates are left out and every body is
// taken as an order. What comes back on each connection must be whole HTTP responses, one per
// answer given, each the answer given, plus the server's own refusals (400, 413, 431).
#include "common/http/server.hpp"

// What the target uses besides the header under test, which comes first to show it stands alone.
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/uuid/uuid.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/events/order_placed.hpp"
#include "common/http/response.hpp"
#include "common/observability/traceparent.hpp"
#include "services/order/idempotency_cache.hpp"
#include "services/order/order_options.hpp"
#include "services/order/order_request.hpp"
#include "tests/fuzz/require.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
namespace events = order_tracker::events;
namespace http = order_tracker::http;
namespace observability = order_tracker::observability;
namespace order = order_tracker::order;
using asio::ip::tcp;
using order_tracker::fuzz::require;

/// Splits an input into the bytes of two connections, sent at the same time, so that a retry can
/// meet its first request still in flight; a corpus file holds it once (two_connections.http).
constexpr std::string_view connection_separator = "\n--next-connection--\n";
/// As order_api.cpp and order_publisher.hpp have them; those headers pull in Kafka.
constexpr std::size_t max_idempotency_key_bytes = 255;
constexpr std::string_view traceparent_header = "traceparent";
/// Set on every answer the handler gives, so the client can tell which one it got.
constexpr std::string_view answer_header = "x-fuzz-answer";

std::string_view text(beast::string_view s) {
  return {s.data(), s.size()};
}

/// The Order service's HTTP limits, as order_service.cpp builds them from default options.
http::limits order_service_limits() {
  http::limits lim;
  lim.max_body_bytes = order::order_options{}.max_body_bytes;
  return lim;
}

/// An answer the handler gave, as the client must receive it.
struct given {
  bh::status status;
  std::string body;
  bool head;
};

/// A JSON error as the API builds it; the client must get `error` and `field` back intact,
/// whatever bytes a field name in the body held.
http::response checked_error(bh::status status, std::string_view error, std::string_view field) {
  auto res = http::json_error(status, error, field);
  boost::system::error_code ec;
  const auto doc = boost::json::parse(res.body(), ec);
  require(!ec && doc.is_object(), "an error body is a JSON object");
  const auto& o = doc.get_object();
  const auto* e = o.if_contains("error");
  require(e != nullptr && e->is_string() && e->get_string() == error, "an error body has it all");
  const auto* f = o.if_contains("field");
  require(field.empty() ? f == nullptr : f != nullptr && f->is_string() && f->get_string() == field,
          "an error body names the field");
  return res;
}

/// The labels order_api may count a refused body under; a metric label must come from a fixed set.
bool is_known_reason(std::string_view reason) {
  return reason == "invalid_json" || reason == "missing_field" || reason == "wrong_type" ||
         reason == "invalid_value" || reason == "unknown_field";
}

/// POST /orders without the broker, for one input. A publish is confirmed (or refused) when the
/// server has nothing else to do, so that a retry with the same Idempotency-Key on the other
/// connection can find the first one in flight.
class broker_free_orders {
 public:
  explicit broker_free_orders(std::size_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

  void handle(http::request&& req, http::responder res) {
    require(req.body().size() <= max_body_bytes_, "no body over the limit is read");
    const bool head = req.method() == bh::verb::head;
    now_ += std::chrono::seconds(1);

    // The service parses with one parser kept for every request; a fresh parse must agree.
    auto parsed = parser_.parse(req.body());
    const auto fresh = order::parse_order_request(req.body());
    require(parsed.has_value() == fresh.has_value(),
            "the reused parser accepts what a fresh one does");
    if (parsed) {
      require(parsed->user == fresh->user && parsed->item == fresh->item &&
                  parsed->quantity == fresh->quantity,
              "the reused parser reads what a fresh one does");
    } else {
      require(parsed.error().error == fresh.error().error &&
                  parsed.error().field == fresh.error().field &&
                  parsed.error().reason == fresh.error().reason,
              "the reused parser refuses as a fresh one does");
    }
    if (!parsed) {
      const auto& e = parsed.error();
      require(is_known_reason(e.reason), "a refused body is counted under a known reason");
      return answer(res, checked_error(bh::status::bad_request, e.error, e.field), head);
    }

    const auto incoming = text(req[traceparent_header]);
    auto traceparent = traces_.child_of(incoming.empty() ? std::nullopt : std::optional(incoming));
    require(observability::is_valid_traceparent(traceparent), "the order's traceparent is valid");
    if (observability::is_valid_traceparent(incoming)) {
      require(traceparent.substr(3, 32) == incoming.substr(3, 32) &&
                  traceparent.substr(53) == incoming.substr(53),
              "a valid incoming trace is continued");
    }

    // What the API answers 201 for, the Tracker must take as the very same order.
    auto order = order::make_order(std::move(*parsed), next_order_id());
    require(events::validate(order).has_value(), "an accepted body makes a valid event");
    const auto decoded = events::decode(events::encode(order));
    require(decoded.has_value() && *decoded == order, "the Tracker decodes the order published");

    // The broker refuses every order whose quantity is a multiple of 4, so that failed publishes
    // and the retries waiting on them are covered too.
    publish next{std::string(text(req["Idempotency-Key"])), order.quantity % 4 != 0, head,
                 std::move(traceparent), res};
    if (!next.key.empty()) {
      if (next.key.size() > max_idempotency_key_bytes) {
        return answer(res,
                      checked_error(bh::status::bad_request,
                                    "Idempotency-Key must be at most 255 bytes", "Idempotency-Key"),
                      head);
      }
      const auto waiter = calls_.size();
      calls_.push_back(0);
      const auto started =
          idempotency_.start(next.key, order::fingerprint(req.body()), now_,
                             [this, waiter, res, head](order::idempotency_cache::ending how,
                                                       const order::idempotency_cache::answer* a) {
                               ++calls_[waiter];
                               answer_retry(res, how, a, head);
                             });
      switch (started.result) {
        case order::idempotency_cache::outcome::first:
          never_called_.push_back(waiter);
          next.attempt = started.attempt;
          break;
        case order::idempotency_cache::outcome::full:
          never_called_.push_back(waiter);
          return answer(res,
                        checked_error(bh::status::service_unavailable,
                                      "too many orders with an Idempotency-Key in flight", {}),
                        head);
        case order::idempotency_cache::outcome::waiting:
          called_once_.push_back(waiter);
          return;
        case order::idempotency_cache::outcome::replayed:
          require(calls_[waiter] == 1, "a replay answers at once");
          called_once_.push_back(waiter);
          return;
        case order::idempotency_cache::outcome::conflict:
          never_called_.push_back(waiter);
          return answer(res,
                        checked_error(bh::status::unprocessable_entity,
                                      "Idempotency-Key was already used with a different body",
                                      "Idempotency-Key"),
                        head);
      }
    }
    in_flight_.push_back(std::move(next));
  }

  /// The broker's verdict on the oldest publish in flight; false when none is.
  bool confirm_one() {
    if (in_flight_.empty()) return false;
    publish p = std::move(in_flight_.front());
    in_flight_.erase(in_flight_.begin());
    if (!p.confirmed) {
      if (!p.key.empty()) idempotency_.abandon(p.key, p.attempt);
      answer(p.res,
             checked_error(bh::status::service_unavailable, "the broker did not confirm the order",
                           {}),
             p.head);
      return true;
    }
    auto res = http::json_response(
        bh::status::created, {{"order_id", "confirmed"}, {"partition", 0}, {"offset", orders_}});
    res.set(traceparent_header, p.traceparent);
    if (!p.key.empty()) idempotency_.complete(p.key, p.attempt, {201, res.body(), p.traceparent});
    answer(p.res, std::move(res), p.head);
    return true;
  }

  /// The input is done: every publish got its verdict and every retry was answered exactly once.
  void finish() const {
    require(in_flight_.empty(), "every publish got a verdict");
    for (const auto w : called_once_)
      require(calls_[w] == 1, "a retry is answered exactly once");
    for (const auto w : never_called_)
      require(calls_[w] == 0, "a first request or a conflict is not answered by the cache");
  }

  /// The answers given, by the number in their answer header.
  const std::vector<given>& answers() const { return answers_; }

 private:
  struct publish {
    std::string key;
    bool confirmed = true;
    bool head = false;
    std::string traceparent;
    http::responder res;
    std::uint64_t attempt = 0;  ///< the cache's attempt number of a first request with a key
  };

  void answer(const http::responder& to, http::response res, bool head) {
    res.set(answer_header, std::to_string(answers_.size()));
    answers_.push_back({res.result(), res.body(), head});
    to(std::move(res));
  }

  boost::uuids::uuid next_order_id() {
    boost::uuids::uuid id{};
    id.data[0] = 0x4f;  // never nil
    ++orders_;
    std::memcpy(id.data + 8, &orders_, sizeof orders_);
    return id;
  }

  void answer_retry(const http::responder& to, order::idempotency_cache::ending how,
                    const order::idempotency_cache::answer* a, bool head) {
    require((how == order::idempotency_cache::ending::answered) == (a != nullptr),
            "a retry gets an answer exactly when the first request was answered");
    if (a == nullptr) {
      return answer(to,
                    checked_error(bh::status::service_unavailable,
                                  "the first request with this Idempotency-Key failed; retry", {}),
                    head);
    }
    require(a->status == 201, "only a confirmed order is replayed");
    http::response res(static_cast<bh::status>(a->status), 11);
    res.set(bh::field::content_type, "application/json");
    res.set(traceparent_header, a->traceparent);
    res.body() = a->body;
    answer(to, std::move(res), head);
  }

  std::size_t max_body_bytes_;
  /// Kept across inputs, as order_api keeps its parser across requests.
  order::order_request_parser parser_;
  /// Small, so that short inputs reach both the expiry and the cap.
  order::idempotency_cache idempotency_{4, std::chrono::seconds(3)};
  order::idempotency_cache::clock::time_point now_{};
  observability::trace_ids traces_{7};
  std::uint64_t orders_ = 0;
  std::vector<publish> in_flight_;
  std::vector<given> answers_;
  /// How often each waiter handed to the cache has run, and what each one owes.
  std::vector<int> calls_;
  std::vector<std::size_t> called_once_;
  std::vector<std::size_t> never_called_;
};

/// One client connection: writes its bytes, then ends its output, and reads until the server
/// closes.
struct client {
  explicit client(asio::io_context& ioc) : socket(ioc) {}

  void start(const tcp::endpoint& server, std::string_view bytes) {
    // Tens of thousands of connections in 30 s can use up loopback's ephemeral ports while the
    // server's closed ones sit in TIME_WAIT: such an input is not run (nothing was sent), rather
    // than the harness aborting on an exception from connect().
    beast::error_code ec;
    socket.connect(server, ec);
    if (ec) {
      written = closed = true;
      return;
    }
    asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()),
                      [this](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        socket.shutdown(tcp::socket::shutdown_send, ignored);
                        written = true;
                      });
    do_read();
  }

  void do_read() {
    socket.async_read_some(asio::buffer(chunk), [this](beast::error_code ec, std::size_t n) {
      received.append(chunk.data(), n);
      if (ec) {
        closed = true;
        return;
      }
      do_read();
    });
  }

  tcp::socket socket;
  std::array<char, 4096> chunk{};
  std::string received;
  /// Both operations have completed, so the client can go; the server closed when `closed`.
  bool written = false;
  bool closed = false;
  bool done() const { return written && closed; }
};

/// Splits what one connection received into responses and checks each against what was given:
/// `seen` counts, per answer number, how often it arrived; `refusals`, by status, the answers
/// without a number, which only the server itself gives.
void check_received(std::string_view in, const std::vector<given>& answers, std::vector<int>& seen,
                    std::map<bh::status, int>& refusals) {
  while (!in.empty()) {
    const auto end = in.find("\r\n\r\n");
    require(end != std::string_view::npos, "what the server sends is whole responses");
    const auto header = in.substr(0, end + 4);
    in.remove_prefix(header.size());
    bh::response_parser<bh::empty_body> parser;
    parser.skip(true);
    beast::error_code ec;
    parser.put(asio::buffer(header.data(), header.size()), ec);
    require(!ec && parser.is_header_done(), "each response header parses");
    const auto& res = parser.get();
    if (res.result() == bh::status::continue_) continue;  // the interim answer to Expect

    const auto length = parser.content_length();
    require(length.has_value(), "each response has a Content-Length");
    const auto number = text(res[answer_header]);
    if (number.empty()) {
      // The server's own refusal of a request it could not read: never to a HEAD, JSON error.
      require(*length <= in.size(), "a refusal's body is whole");
      const auto body = in.substr(0, *length);
      in.remove_prefix(*length);
      boost::system::error_code jec;
      const auto doc = boost::json::parse(body, jec);
      require(!jec && doc.is_object() && doc.get_object().contains("error"),
              "a refusal is a JSON error");
      ++refusals[res.result()];
      continue;
    }
    const auto n = std::stoul(std::string(number));
    require(n < answers.size(), "an answer number was given");
    const given& g = answers[n];
    ++seen[n];
    require(res.result() == g.status, "the answer keeps its status");
    require(*length == g.body.size(), "the answer's Content-Length is its body's");
    if (g.head) continue;  // HEAD: the headers a GET would get, no body
    require(*length <= in.size(), "an answer's body is whole");
    require(in.substr(0, *length) == g.body, "the answer keeps its body");
    in.remove_prefix(*length);
  }
}

/// The server, its io_context and a listening port, for the whole run; the orders handler is
/// made anew for each input.
class harness {
 public:
  harness()
      : server_(
            ioc_,
            [this](http::request&& req, http::responder res) {
              orders_->handle(std::move(req), std::move(res));
            },
            limits_, [](std::string_view) {}) {
    server_.on_refused([this](bh::status s) { ++refused_[s]; });
    const auto ec = server_.listen({asio::ip::address_v4::loopback(), 0});
    require(!ec, "the server listens on loopback");
    endpoint_ = server_.local_endpoint();
  }

  void run(std::string_view input) {
    broker_free_orders orders(limits_.max_body_bytes);
    orders_ = &orders;
    refused_.clear();

    std::vector<std::string_view> parts{input};
    if (const auto at = input.find(connection_separator); at != std::string_view::npos) {
      parts = {input.substr(0, at), input.substr(at + connection_separator.size())};
    }
    std::vector<std::unique_ptr<client>> clients;
    for (const auto part : parts) {
      clients.push_back(std::make_unique<client>(ioc_));
      clients.back()->start(endpoint_, part);
    }

    // Until every client has seen its connection closed and the server holds none: run what is
    // ready; when nothing is, the broker gives its next verdict; when none is due, wait for I/O.
    const auto all_done = [&] {
      for (const auto& c : clients)
        if (!c->done()) return false;
      return server_.connections() == 0;
    };
    while (!all_done()) {
      if (ioc_.poll() > 0 || orders.confirm_one()) continue;
      ioc_.run_one();
    }
    orders.finish();

    std::vector<int> seen(orders.answers().size(), 0);
    std::map<bh::status, int> refusals;
    for (const auto& c : clients)
      check_received(c->received, orders.answers(), seen, refusals);
    for (const int n : seen)
      require(n == 1, "every answer given arrives exactly once");
    require(refusals == refused_, "every refusal counted arrives, and only those");
    orders_ = nullptr;
  }

 private:
  asio::io_context ioc_;
  http::limits limits_ = order_service_limits();
  /// The handler of the input being run.
  broker_free_orders* orders_ = nullptr;
  /// The refusals the server counted for the input being run, by status.
  std::map<bh::status, int> refused_;
  http::server server_;
  tcp::endpoint endpoint_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static harness h;
  h.run({reinterpret_cast<const char*>(data), size});
  return 0;
}
