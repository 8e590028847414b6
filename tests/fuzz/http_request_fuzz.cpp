// libFuzzer target: arbitrary bytes as what one client sends on a connection to the Order service.
// Beast's request parser, set up as the server's session sets it up, splits them into requests
// (several may be pipelined), and each request goes through the part of POST /orders that needs
// no broker: body parsing, the event it becomes, its trace context, the idempotency window and the
// answer written back. order_api itself needs a Kafka publisher, so its content-type and readiness
// gates are left out and every body is taken as an order.
#include "services/order/order_request.hpp"

// What the target uses besides the header under test, which comes first to show it stands alone.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>
#include <boost/uuid/uuid.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/events/order_placed.hpp"
#include "common/http/response.hpp"
#include "common/http/server.hpp"
#include "common/observability/traceparent.hpp"
#include "services/order/idempotency_cache.hpp"
#include "services/order/order_options.hpp"
#include "tests/fuzz/require.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
namespace events = order_tracker::events;
namespace http = order_tracker::http;
namespace observability = order_tracker::observability;
namespace order = order_tracker::order;
using order_tracker::fuzz::require;

/// Most bytes one read returns, so that the parser resumes mid-header and mid-body as it does on a
/// socket.
constexpr std::size_t segment_bytes = 1024;
/// As order_api.cpp and order_publisher.hpp have them; those headers pull in Kafka.
constexpr std::size_t max_idempotency_key_bytes = 255;
constexpr std::string_view traceparent_header = "traceparent";

std::string_view text(beast::string_view s) {
  return {s.data(), s.size()};
}

/// The fuzz input as the client's end of a connection: a SyncReadStream that hands the bytes out
/// in segments, then reports end of stream.
class client_bytes {
 public:
  explicit client_bytes(std::string_view bytes) : rest_(bytes) {}

  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    if (rest_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const auto n = asio::buffer_copy(
        buffers, asio::buffer(rest_.data(), std::min(rest_.size(), segment_bytes)));
    rest_.remove_prefix(n);
    return n;
  }

  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
};

/// The Order service's HTTP limits, as order_service.cpp builds them from default options.
http::limits order_service_limits() {
  http::limits lim;
  lim.max_body_bytes = order::order_options{}.max_body_bytes;
  return lim;
}

/// How the request being answered was asked, for the parts of the answer the session sets.
struct asked {
  unsigned version = 11;
  bool keep_alive = false;
  bool head = false;
};

/// Completes `res` as session::complete does, writes it, and reads it back as a client would: the
/// bytes on the wire must be exactly one response with the status and body the API chose.
void send(http::response res, const asked& how) {
  const auto status = res.result();
  const std::string body = how.head ? std::string() : res.body();
  res.version(how.version);
  res.keep_alive(how.keep_alive);
  res.set(bh::field::server, "order-tracker");
  res.prepare_payload();
  if (how.head) res.body().clear();
  std::ostringstream out;
  out << res;
  const std::string wire = out.str();

  bh::response_parser<bh::string_body> client;
  client.eager(true);
  client.skip(how.head);
  std::string_view rest = wire;
  beast::error_code ec;
  while (!client.is_done() && !rest.empty()) {
    const auto n = client.put(asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(n);
    if (ec || n == 0) break;
  }
  require(client.is_done() && rest.empty(), "an answer is one complete HTTP response");
  require(client.get().result() == status, "the answer keeps its status");
  require(client.get().body() == body, "the answer keeps its body");
}

/// A JSON error as the API sends it; the client must get `error` and `field` back intact, whatever
/// bytes a field name in the body held.
void send_error(bh::status status, std::string_view error, std::string_view field,
                const asked& how) {
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
  send(std::move(res), how);
}

/// The labels order_api may count a refused body under; a metric label must come from a fixed set.
bool is_known_reason(std::string_view reason) {
  return reason == "invalid_json" || reason == "missing_field" || reason == "wrong_type" ||
         reason == "invalid_value" || reason == "unknown_field";
}

/// POST /orders without the broker, for one connection. A publish is confirmed (or refused) one
/// request later, so that a retry with the same Idempotency-Key can find the first one in flight.
class broker_free_orders {
 public:
  void handle(const http::request& req) {
    const asked how{req.version(), req.keep_alive(), req.method() == bh::verb::head};
    now_ += std::chrono::seconds(1);

    auto parsed = order::parse_order_request(req.body());
    if (!parsed) {
      const auto& e = parsed.error();
      require(is_known_reason(e.reason), "a refused body is counted under a known reason");
      return send_error(bh::status::bad_request, e.error, e.field, how);
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
    publish next{std::string(text(req["Idempotency-Key"])), order.quantity % 4 != 0, how,
                 std::move(traceparent)};
    if (!next.key.empty()) {
      if (next.key.size() > max_idempotency_key_bytes) {
        return send_error(bh::status::bad_request, "Idempotency-Key must be at most 255 bytes",
                          "Idempotency-Key", how);
      }
      const auto waiter = calls_.size();
      calls_.push_back(0);
      const auto outcome =
          idempotency_.start(next.key, order::fingerprint(req.body()), now_,
                             [this, waiter, how](const order::idempotency_cache::answer* a) {
                               ++calls_[waiter];
                               answer_retry(a, how);
                             });
      switch (outcome) {
        case order::idempotency_cache::outcome::first:
          never_called_.push_back(waiter);
          break;
        case order::idempotency_cache::outcome::waiting:
          called_once_.push_back(waiter);
          return confirm_previous();
        case order::idempotency_cache::outcome::replayed:
          require(calls_[waiter] == 1, "a replay answers at once");
          called_once_.push_back(waiter);
          return confirm_previous();
        case order::idempotency_cache::outcome::conflict:
          never_called_.push_back(waiter);
          return send_error(bh::status::unprocessable_entity,
                            "Idempotency-Key was already used with a different body",
                            "Idempotency-Key", how);
      }
    }
    confirm_previous();
    in_flight_ = std::move(next);
  }

  /// The connection ends: every publish gets its verdict, and every request has been answered
  /// exactly once.
  void finish() {
    confirm_previous();
    for (const auto w : called_once_)
      require(calls_[w] == 1, "a retry is answered exactly once");
    for (const auto w : never_called_)
      require(calls_[w] == 0, "a first request or a conflict is not answered by the cache");
  }

 private:
  struct publish {
    std::string key;
    bool confirmed = true;
    asked how;
    std::string traceparent;
  };

  boost::uuids::uuid next_order_id() {
    boost::uuids::uuid id{};
    id.data[0] = 0x4f;  // never nil
    ++orders_;
    std::memcpy(id.data + 8, &orders_, sizeof orders_);
    return id;
  }

  void confirm_previous() {
    auto p = std::exchange(in_flight_, std::nullopt);
    if (!p) return;
    if (!p->confirmed) {
      if (!p->key.empty()) idempotency_.abandon(p->key);
      return send_error(bh::status::service_unavailable, "the broker did not confirm the order", {},
                        p->how);
    }
    auto res = http::json_response(
        bh::status::created, {{"order_id", "confirmed"}, {"partition", 0}, {"offset", orders_}});
    res.set(traceparent_header, p->traceparent);
    if (!p->key.empty()) idempotency_.complete(p->key, {201, res.body(), p->traceparent});
    send(std::move(res), p->how);
  }

  void answer_retry(const order::idempotency_cache::answer* a, const asked& how) {
    if (a == nullptr) {
      return send_error(bh::status::service_unavailable,
                        "the first request with this Idempotency-Key failed; retry", {}, how);
    }
    require(a->status == 201, "only a confirmed order is replayed");
    http::response res(static_cast<bh::status>(a->status), 11);
    res.set(bh::field::content_type, "application/json");
    res.set(traceparent_header, a->traceparent);
    res.body() = a->body;
    send(std::move(res), how);
  }

  /// Small, so that short inputs reach both the expiry and the cap.
  order::idempotency_cache idempotency_{4, std::chrono::seconds(3)};
  order::idempotency_cache::clock::time_point now_{};
  observability::trace_ids traces_{7};
  std::uint64_t orders_ = 0;
  std::optional<publish> in_flight_;
  /// How often each waiter handed to the cache has run, and what each one owes.
  std::vector<int> calls_;
  std::vector<std::size_t> called_once_;
  std::vector<std::size_t> never_called_;
};

/// What the session answers a request it cannot read, or nothing when the client just left.
std::optional<bh::status> refusal(const beast::error_code& ec) {
  if (ec == bh::error::body_limit) return bh::status::payload_too_large;
  if (ec == bh::error::header_limit) return bh::status::request_header_fields_too_large;
  if (ec == bh::error::end_of_stream || ec == bh::error::partial_message ||
      ec == asio::error::eof) {
    return std::nullopt;
  }
  return bh::status::bad_request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const http::limits limits = order_service_limits();
  client_bytes client({reinterpret_cast<const char*>(data), size});
  beast::flat_buffer buffer;
  broker_free_orders orders;
  for (;;) {
    // One parser per request, with the limits session::do_read_header sets.
    bh::request_parser<bh::string_body> parser;
    parser.body_limit(limits.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    beast::error_code ec;
    bh::read_header(client, buffer, parser, ec);
    if (!ec && !parser.is_done()) bh::read(client, buffer, parser, ec);
    if (ec) {
      if (const auto status = refusal(ec)) {
        send_error(*status, "malformed request: " + ec.message(), {}, asked{});
      }
      break;
    }
    const http::request req = parser.release();
    require(req.body().size() <= limits.max_body_bytes, "no body over the limit is read");
    orders.handle(req);
    if (!req.keep_alive()) break;
  }
  orders.finish();
  return 0;
}
