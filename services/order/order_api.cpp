#include "services/order/order_api.hpp"

#include <boost/json/object.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "common/kafka/error.hpp"
#include "common/observability/log.hpp"
#include "services/order/order_request.hpp"

namespace order_tracker::order {
namespace {

namespace bh = http::beast_http;
constexpr std::size_t max_idempotency_key_bytes = 255;
// Clients may retry a 503 after this long: the producer queue drains or the broker comes back.
constexpr std::string_view retry_after_seconds = "1";

bool is_json(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  auto type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  return type.size() == 16 && std::equal(type.begin(), type.end(), "application/json",
                                         [](char a, char b) { return std::tolower(a) == b; });
}

}  // namespace

order_api::order_api(order_publisher& publisher, idempotency_cache& idempotency,
                     observability::registry& metrics, readiness_fn not_ready_reason)
    : publisher_(publisher),
      idempotency_(idempotency),
      metrics_(metrics),
      not_ready_reason_(std::move(not_ready_reason)),
      accepted_(metrics.counter("orders_accepted_total", "Orders answered 201: on the broker")) {}

void order_api::handle(http::request&& req, http::responder respond) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto path = target.substr(0, target.find('?'));
  log::debug("http", "{} {}", std::string_view(req.method_string()), target);
  const bool get = req.method() == bh::verb::get || req.method() == bh::verb::head;

  if (path == "/orders") {
    if (req.method() == bh::verb::post) return post_order(std::move(req), std::move(respond));
    auto res = http::json_error(bh::status::method_not_allowed, "use POST /orders");
    res.set(bh::field::allow, "POST");
    return respond(std::move(res));
  }
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (!get) {
      auto res = http::json_error(bh::status::method_not_allowed, "use GET");
      res.set(bh::field::allow, "GET");
      return respond(std::move(res));
    }
    if (path == "/healthz")
      return respond(http::json_response(bh::status::ok, {{"status", "alive"}}));
    if (path == "/metrics") {
      return respond(
          http::text_response(bh::status::ok, metrics_.render(), observability::content_type));
    }
    const auto reason = not_ready_reason_();
    if (reason.empty()) return respond(http::json_response(bh::status::ok, {{"status", "ready"}}));
    return respond(http::json_response(bh::status::service_unavailable,
                                       {{"status", "not ready"}, {"reason", reason}}));
  }
  count_rejection("not_found");
  respond(http::json_error(bh::status::not_found, "no such resource"));
}

void order_api::count_rejection(std::string_view reason) {
  ++rejected_total_;
  metrics_
      .counter("orders_rejected_total", "Requests refused, by reason",
               {{"reason", std::string(reason)}})
      .inc();
}

void order_api::refused_by_server(bh::status status) {
  switch (status) {
    case bh::status::payload_too_large:
      return count_rejection("body_too_large");
    case bh::status::request_header_fields_too_large:
      return count_rejection("headers_too_large");
    case bh::status::request_timeout:
      return count_rejection("request_timeout");
    default:
      return count_rejection("malformed_http");
  }
}

void order_api::reject(const http::responder& respond, bh::status status, std::string_view reason,
                       std::string_view error, std::string_view field) {
  count_rejection(reason);
  // `reason` is the stable, machine-readable code (a client tells "not sent" from "unknown" by it).
  boost::json::object body{{"error", error}, {"reason", reason}};
  if (!field.empty()) body["field"] = field;
  auto res = http::json_response(status, body);
  if (status == bh::status::service_unavailable)
    res.set(bh::field::retry_after, retry_after_seconds);
  respond(std::move(res));
}

void order_api::post_order(http::request&& req, http::responder respond) {
  const auto content_type = req[bh::field::content_type];
  if (!is_json(std::string_view(content_type.data(), content_type.size()))) {
    return reject(respond, bh::status::unsupported_media_type, "unsupported_media_type",
                  "Content-Type must be application/json");
  }
  if (auto why = not_ready_reason_(); !why.empty()) {
    return reject(respond, bh::status::service_unavailable, "not_ready", "not ready: " + why);
  }
  auto parsed = parse_order_request(req.body());
  if (!parsed) {
    const auto& e = parsed.error();
    return reject(respond, bh::status::bad_request, e.reason, e.error, e.field);
  }
  const auto incoming = req[traceparent_header];
  auto traceparent = traces_.child_of(
      incoming.empty() ? std::nullopt
                       : std::optional(std::string_view(incoming.data(), incoming.size())));
  auto order = make_order(std::move(*parsed), ids_());

  const auto key_field = req["Idempotency-Key"];
  std::string key(key_field.data(), key_field.size());
  if (!key.empty()) {
    if (key.size() > max_idempotency_key_bytes) {
      return reject(respond, bh::status::bad_request, "invalid_value",
                    "Idempotency-Key must be at most 255 bytes", "Idempotency-Key");
    }
    const auto outcome = idempotency_.start(
        key, fingerprint(req.body()), idempotency_cache::clock::now(),
        [this, respond](const idempotency_cache::answer* a) {
          if (a == nullptr) {
            return reject(respond, bh::status::service_unavailable, "delivery_failed",
                          "the first request with this Idempotency-Key failed; retry");
          }
          http::response res(static_cast<bh::status>(a->status), 11);
          res.set(bh::field::content_type, "application/json");
          res.set(traceparent_header, a->traceparent);
          res.body() = a->body;
          respond(std::move(res));
        });
    switch (outcome) {
      case idempotency_cache::outcome::first:
        if (const auto id = idempotency_.pinned(key); !id.empty()) {
          order.order_id = boost::uuids::string_generator()(id);
        }
        break;
      case idempotency_cache::outcome::waiting:
      case idempotency_cache::outcome::replayed:
        return;
      case idempotency_cache::outcome::conflict:
        return reject(respond, bh::status::unprocessable_entity, "idempotency_conflict",
                      "Idempotency-Key was already used with a different body", "Idempotency-Key");
    }
  }
  publish(std::move(order), std::move(traceparent), std::move(key), std::move(respond));
}

void order_api::publish(events::order_placed&& order, std::string traceparent, std::string key,
                        http::responder respond) {
  const auto id = order.order_id;
  const auto ec = publisher_.publish(
      order, traceparent, [this, id, traceparent, key, respond](const kafka::delivery_report& r) {
        if (r.error) {
          log::warn("order", "order {} not confirmed: {}", boost::uuids::to_string(id),
                    r.error.message());
          // Clients must know whether a retry can duplicate the order: a message that may have
          // reached the broker before the failure is an unknown outcome, not a failure.
          if (r.status != kafka::persistence::not_persisted) {
            if (!key.empty()) idempotency_.uncertain(key, boost::uuids::to_string(id));
            return reject(respond, bh::status::service_unavailable, "delivery_unknown",
                          "the broker may or may not have the order " +
                              boost::uuids::to_string(id) + ": " + r.error.message());
          }
          if (!key.empty()) idempotency_.abandon(key);
          return reject(respond, bh::status::service_unavailable, "delivery_failed",
                        "the broker did not take the order: " + r.error.message());
        }
        accepted_.inc();
        boost::json::object body{{"order_id", boost::uuids::to_string(id)},
                                 {"partition", r.partition},
                                 {"offset", r.offset}};
        auto res = http::json_response(bh::status::created, body);
        res.set(traceparent_header, traceparent);
        if (!key.empty()) idempotency_.complete(key, {201, res.body(), traceparent});
        log::debug("order", "order {} at {}-{}@{} trace {}", boost::uuids::to_string(id),
                   publisher_.topic(), r.partition, r.offset, traceparent);
        respond(std::move(res));
      });
  if (!ec) return;
  if (!key.empty()) idempotency_.abandon(key);
  if (kafka::is_queue_full(ec)) {
    return reject(respond, bh::status::service_unavailable, "queue_full",
                  "too many orders in flight; retry shortly");
  }
  reject(respond, bh::status::service_unavailable, "producer_failed",
         "cannot publish: " + ec.message());
}

}  // namespace order_tracker::order
