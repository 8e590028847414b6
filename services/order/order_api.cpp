#include "services/order/order_api.hpp"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <iterator>
#include <optional>

#include "common/kafka/error.hpp"
#include "common/observability/log.hpp"

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

/// One accepted order until the broker's verdict on it. Answered once: by the verdict or, if that
/// is late, by the deadline; the verdict still updates the idempotency cache afterwards, and only
/// then is the record free for another order. The publisher's handler points at it, so it is the
/// one thing the order needs in flight besides the producer's own record.
struct order_api::pending_order final : order_publisher::delivery_sink {
  explicit pending_order(order_api& a) : api(a) {}
  void on_delivery(const kafka::delivery_report& r) override { api.on_delivery(*this, r); }

  order_api& api;
  /// Empty once answered: the second of report and deadline only updates the cache.
  std::optional<http::responder> respond;
  boost::uuids::uuid id{};
  std::string traceparent;
  std::string key;  ///< the Idempotency-Key, or empty
  std::uint64_t attempt = 0;
  std::chrono::steady_clock::time_point deadline{};
  /// Neighbours in the deadline list while unanswered.
  pending_order* older = nullptr;
  pending_order* newer = nullptr;
  bool watched = false;
};

order_api::order_api(boost::asio::io_context& io, order_publisher& publisher,
                     idempotency_cache& idempotency, observability::registry& metrics,
                     readiness_fn not_ready_reason, std::chrono::milliseconds delivery_deadline)
    : io_(io),
      publisher_(publisher),
      idempotency_(idempotency),
      metrics_(metrics),
      not_ready_reason_(std::move(not_ready_reason)),
      accepted_(metrics.counter("orders_accepted_total", "Orders answered 201: on the broker")),
      delivery_deadline_(delivery_deadline),
      deadlines_(io) {}

// Records still waiting for a verdict are freed with us; the producer drops their handlers unheard
// (it is destroyed after us and runs no handler then).
order_api::~order_api() = default;

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
  for (const auto& [name, counter] : rejections_) {
    if (name == reason) return counter->inc();
  }
  // Registered on its first use, as before, so /metrics shows only reasons that happened.
  auto& counter = metrics_.counter("orders_rejected_total", "Requests refused, by reason",
                                   {{"reason", std::string(reason)}});
  rejections_.emplace_back(std::string(reason), &counter);
  counter.inc();
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
  const auto key_field = req["Idempotency-Key"];
  std::string key(key_field.data(), key_field.size());
  const auto body_fingerprint = fingerprint(req.body());
  const auto now = idempotency_cache::clock::now();
  // The cache before readiness: a retry whose answer is stored (or whose first request is still
  // in flight) needs no producer, and gets that answer during a broker blip too.
  if (auto why = not_ready_reason_();
      !why.empty() && !(!key.empty() && key.size() <= max_idempotency_key_bytes &&
                        idempotency_.answers_alone(key, body_fingerprint, now))) {
    return reject(respond, bh::status::service_unavailable, "not_ready", "not ready: " + why);
  }
  auto parsed = parser_.parse(req.body());
  if (!parsed) {
    const auto& e = parsed.error();
    return reject(respond, bh::status::bad_request, e.reason, e.error, e.field);
  }
  const auto incoming = req[traceparent_header];
  auto traceparent = traces_.child_of(
      incoming.empty() ? std::nullopt
                       : std::optional(std::string_view(incoming.data(), incoming.size())));
  auto order = make_order(std::move(*parsed), ids_());

  std::uint64_t attempt = 0;
  if (!key.empty()) {
    if (key.size() > max_idempotency_key_bytes) {
      return reject(respond, bh::status::bad_request, "invalid_value",
                    "Idempotency-Key must be at most 255 bytes", "Idempotency-Key");
    }
    const auto started = idempotency_.start(
        key, body_fingerprint, now,
        [this, respond](idempotency_cache::ending how, const idempotency_cache::answer* a) {
          if (how == idempotency_cache::ending::failed) {
            return reject(respond, bh::status::service_unavailable, "delivery_failed",
                          "the first request with this Idempotency-Key failed; retry");
          }
          if (how == idempotency_cache::ending::unknown || a == nullptr) {
            return reject(respond, bh::status::service_unavailable, "delivery_unknown",
                          "the broker may or may not have the order of the first request with "
                          "this Idempotency-Key; retry with the same key");
          }
          http::response res(static_cast<bh::status>(a->status), 11);
          res.set(bh::field::content_type, "application/json");
          res.set(traceparent_header, a->traceparent);
          res.body() = a->body;
          respond(std::move(res));
        });
    switch (started.result) {
      case idempotency_cache::outcome::first:
        attempt = started.attempt;
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
      case idempotency_cache::outcome::full:
        return reject(respond, bh::status::service_unavailable, "idempotency_full",
                      "too many orders with an Idempotency-Key in flight; retry shortly");
    }
  }
  publish(std::move(order), std::move(traceparent), std::move(key), attempt, std::move(respond));
}

void order_api::publish(events::order_placed&& order, std::string traceparent, std::string key,
                        std::uint64_t attempt, http::responder respond) {
  auto& p = acquire();
  p.id = order.order_id;
  p.traceparent = std::move(traceparent);
  p.key = std::move(key);
  p.attempt = attempt;
  const auto ec = publisher_.publish(order, p.traceparent, p);
  if (ec) {
    if (!p.key.empty()) idempotency_.abandon(p.key, p.attempt);
    release(p);
    if (kafka::is_queue_full(ec)) {
      return reject(respond, bh::status::service_unavailable, "queue_full",
                    "too many orders in flight; retry shortly");
    }
    return reject(respond, bh::status::service_unavailable, "producer_failed",
                  "cannot publish: " + ec.message());
  }
  p.respond = std::move(respond);
  watch(p);
}

void order_api::on_delivery(pending_order& p, const kafka::delivery_report& r) {
  unwatch(p);
  // The verdict is the record's last use, whichever way this ends.
  struct releaser {
    order_api& api;
    pending_order& p;
    ~releaser() { api.release(p); }
  } const done{*this, p};
  // After the deadline the client has its answer; the cache still learns the outcome, so that a
  // retry gets a late 201 instead of placing the order again.
  std::optional<http::responder> respond = std::exchange(p.respond, std::nullopt);
  const auto id = boost::uuids::to_string(p.id);
  if (r.error) {
    log::warn("order", "order {} not confirmed: {}", id, r.error.message());
    // Clients must know whether a retry can duplicate the order: a message that may have
    // reached the broker before the failure is an unknown outcome, not a failure.
    if (r.status != kafka::persistence::not_persisted) {
      if (!p.key.empty()) idempotency_.uncertain(p.key, p.attempt, id);
      if (!respond) return;
      return reject(*respond, bh::status::service_unavailable, "delivery_unknown",
                    "the broker may or may not have the order " + id + ": " + r.error.message());
    }
    if (!p.key.empty()) idempotency_.abandon(p.key, p.attempt);
    if (!respond) return;
    return reject(*respond, bh::status::service_unavailable, "delivery_failed",
                  "the broker did not take the order: " + r.error.message());
  }
  // The body Boost.JSON would serialise for {"order_id","partition","offset"}, written directly:
  // the id is hex and dashes, the others integers, so nothing needs escaping.
  http::response res{bh::status::created, 11};
  res.set(bh::field::content_type, "application/json");
  res.set(traceparent_header, p.traceparent);
  auto& body = res.body();
  body.reserve(96);
  body.append(R"({"order_id":")").append(id).append(R"(","partition":)");
  fmt::format_to(std::back_inserter(body), R"({},"offset":{}}})", r.partition, r.offset);
  if (!p.key.empty()) idempotency_.complete(p.key, p.attempt, {201, body, p.traceparent});
  if (!respond) {
    log::info("order", "order {} reached the broker after its client was told it might not", id);
    return;
  }
  accepted_.inc();
  log::debug("order", "order {} at {}-{}@{} trace {}", id, publisher_.topic(), r.partition,
             r.offset, p.traceparent);
  // The server sets Content-Length (prepare_payload) when it writes the answer.
  (*respond)(std::move(res));
}

void order_api::on_deadline(pending_order& p) {
  if (!p.respond) return;
  const auto respond = std::exchange(p.respond, std::nullopt);
  const auto id = boost::uuids::to_string(p.id);
  log::warn("order", "order {} has no delivery report after {} ms: answering delivery_unknown", id,
            delivery_deadline_.count());
  if (!p.key.empty()) idempotency_.uncertain(p.key, p.attempt, id);
  reject(*respond, bh::status::service_unavailable, "delivery_unknown",
         "no delivery report for the order " + id + " in time: the broker may or may not have it");
}

order_api::pending_order& order_api::acquire() {
  if (free_records_.empty()) {
    records_.push_back(std::make_unique<pending_order>(*this));
    return *records_.back();
  }
  auto* p = free_records_.back();
  free_records_.pop_back();
  return *p;
}

void order_api::release(pending_order& p) {
  p.respond.reset();
  // clear() keeps the strings' capacity for the next order.
  p.traceparent.clear();
  p.key.clear();
  p.attempt = 0;
  free_records_.push_back(&p);
}

void order_api::watch(pending_order& p) {
  p.deadline = std::chrono::steady_clock::now() + delivery_deadline_;
  p.older = newest_;
  p.newer = nullptr;
  if (newest_ != nullptr) {
    newest_->newer = &p;
  } else {
    oldest_ = &p;
  }
  newest_ = &p;
  p.watched = true;
  if (!deadlines_armed_) arm_deadlines();
}

void order_api::unwatch(pending_order& p) {
  if (!p.watched) return;
  p.watched = false;
  (p.older != nullptr ? p.older->newer : oldest_) = p.newer;
  (p.newer != nullptr ? p.newer->older : newest_) = p.older;
  p.older = p.newer = nullptr;
  // Nothing left to watch: a wait left armed would keep io_context::run() from returning at
  // shutdown for up to a whole deadline.
  if (oldest_ == nullptr && deadlines_armed_) {
    deadlines_armed_ = false;
    ++deadlines_generation_;
    deadlines_.cancel();
  }
}

void order_api::arm_deadlines() {
  deadlines_armed_ = true;
  deadlines_.expires_at(oldest_->deadline);
  deadlines_.async_wait([this, generation = ++deadlines_generation_](
                            const boost::system::error_code& ec) { on_deadlines(ec, generation); });
}

void order_api::on_deadlines(const boost::system::error_code& ec, std::uint64_t generation) {
  if (ec || generation != deadlines_generation_) return;
  deadlines_armed_ = false;
  const auto now = std::chrono::steady_clock::now();
  while (oldest_ != nullptr && oldest_->deadline <= now) {
    auto& p = *oldest_;
    unwatch(p);
    on_deadline(p);
  }
  // Orders answered since the timer was armed leave a later oldest one: wait again for it.
  if (oldest_ != nullptr && !deadlines_armed_) arm_deadlines();
}

}  // namespace order_tracker::order
