#include "services/tracker/tracker_api.hpp"

#include <boost/json/object.hpp>
#include <boost/uuid/string_generator.hpp>

namespace order_tracker::tracker {
namespace {

namespace bh = http::beast_http;
constexpr std::string_view orders_prefix = "/orders/";

}  // namespace

tracker_api::tracker_api(const order_view& view, observability::registry& metrics,
                         readiness_fn not_ready_reason)
    : view_(view), metrics_(metrics), not_ready_reason_(std::move(not_ready_reason)) {}

void tracker_api::handle(http::request&& req, http::responder respond) const {
  const std::string_view target(req.target().data(), req.target().size());
  const auto path = target.substr(0, target.find('?'));
  if (req.method() != bh::verb::get && req.method() != bh::verb::head) {
    auto res = http::json_error(bh::status::method_not_allowed, "use GET");
    res.set(bh::field::allow, "GET");
    return respond(std::move(res));
  }
  if (path.starts_with(orders_prefix)) {
    const auto id_text = path.substr(orders_prefix.size());
    // The same strict check the event decoder applies: a canonical 36-character UUID.
    const auto decoded = events::decode(R"({"order_id":")" + std::string(id_text) +
                                        R"(","user":"u","item":"i","quantity":1})");
    if (!decoded)
      return respond(http::json_error(bh::status::bad_request, "not an order id", "order_id"));
    const auto* order = view_.find(decoded->order_id);
    if (order == nullptr) {
      const char* why = view_.contains(decoded->order_id)
                            ? "order seen, but its detail was evicted"
                            : "no such order on this instance's partitions";
      return respond(http::json_error(bh::status::not_found, why, "order_id"));
    }
    return respond(http::json_response(bh::status::ok, to_json(*order)));
  }
  if (path == "/stats") return respond(http::json_response(bh::status::ok, to_json(view_.stats())));
  if (path == "/healthz")
    return respond(http::json_response(bh::status::ok, {{"status", "alive"}}));
  if (path == "/metrics") {
    return respond(
        http::text_response(bh::status::ok, metrics_.render(), observability::content_type));
  }
  if (path == "/readyz") {
    const auto reason = not_ready_reason_();
    if (reason.empty()) return respond(http::json_response(bh::status::ok, {{"status", "ready"}}));
    return respond(http::json_response(bh::status::service_unavailable,
                                       {{"status", "not ready"}, {"reason", reason}}));
  }
  respond(http::json_error(bh::status::not_found, "no such resource"));
}

}  // namespace order_tracker::tracker
