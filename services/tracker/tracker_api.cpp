#include "services/tracker/tracker_api.hpp"

#include <boost/json/object.hpp>

#include "common/kafka/murmur2.hpp"

namespace order_tracker::tracker {
namespace {

namespace bh = http::beast_http;
constexpr std::string_view orders_prefix = "/orders/";

/// The value of `name` in a query string "a=1&b=2", or empty.
std::string_view query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

tracker_api::tracker_api(const order_view& view, observability::registry& metrics,
                         readiness_fn not_ready_reason, live_partitions_fn live_partitions,
                         order_router& router)
    : view_(view),
      metrics_(metrics),
      not_ready_reason_(std::move(not_ready_reason)),
      live_partitions_(std::move(live_partitions)),
      router_(router) {}

void tracker_api::send(const http::responder& respond, http::response res) const {
  res.set(instance_header, router_.self());
  respond(std::move(res));
}

void tracker_api::handle(http::request&& req, http::responder respond) const {
  const std::string_view target(req.target().data(), req.target().size());
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  // One hop at most: what another instance asks is answered from this view alone.
  const bool forwarded = req.find(forwarded_header) != req.end();
  if (req.method() != bh::verb::get && req.method() != bh::verb::head) {
    auto res = http::json_error(bh::status::method_not_allowed, "use GET");
    res.set(bh::field::allow, "GET");
    return send(respond, std::move(res));
  }
  if (path.starts_with(orders_prefix))
    return get_order(path.substr(orders_prefix.size()), forwarded, respond);
  if (path == "/stats") return get_stats(query, forwarded, respond);
  if (path == "/healthz")
    return send(respond, http::json_response(bh::status::ok, {{"status", "alive"}}));
  if (path == "/metrics") {
    return send(respond, http::text_response(bh::status::ok, metrics_.render(),
                                             observability::content_type));
  }
  if (path == "/readyz") {
    const auto reason = not_ready_reason_();
    if (reason.empty())
      return send(respond, http::json_response(bh::status::ok, {{"status", "ready"}}));
    return send(respond, http::json_response(bh::status::service_unavailable,
                                             {{"status", "not ready"}, {"reason", reason}}));
  }
  send(respond, http::json_error(bh::status::not_found, "no such resource"));
}

void tracker_api::get_order(std::string_view id_text, bool forwarded,
                            const http::responder& respond) const {
  // The same strict check the event decoder applies: a canonical 36-character UUID.
  const auto decoded = events::decode(R"({"order_id":")" + std::string(id_text) +
                                      R"(","user":"u","item":"i","quantity":1})");
  if (!decoded)
    return send(respond, http::json_error(bh::status::bad_request, "not an order id", "order_id"));
  if (const auto* order = view_.find(decoded->order_id)) {
    return send(respond, http::json_response(bh::status::ok, to_json(*order)));
  }
  auto live = live_partitions_();
  if (view_.contains(decoded->order_id) || forwarded) {
    auto res = http::json_error(bh::status::not_found,
                                view_.contains(decoded->order_id)
                                    ? "order seen, but its detail was evicted"
                                    : "no such order on this instance's partitions",
                                "order_id");
    // For the instance that forwarded the request: the partitions this 404 speaks for.
    if (forwarded) res.set(live_partitions_header, format_partitions(live));
    return send(respond, std::move(res));
  }
  // The Order service keys each event with its id's canonical text: the partition it is on.
  const auto key = events::uuid_chars(decoded->order_id);
  const auto partition =
      kafka::murmur2_partition(std::string_view(key.data(), key.size()), router_.partition_count());
  router_.find(std::string_view(key.data(), key.size()), partition,
               local_answer{local_answer::kind::absent, std::move(live), {}}, {}, respond);
}

void tracker_api::get_stats(std::string_view query, bool forwarded,
                            const http::responder& respond) const {
  const auto scope = query_value(query, "scope");
  if (!scope.empty() && scope != "local" && scope != "group") {
    return send(respond,
                http::json_error(bh::status::bad_request, "scope is local or group", "scope"));
  }
  auto local = to_json(view_.stats());
  if (scope != "group" || forwarded)
    return send(respond, http::json_response(bh::status::ok, local));
  router_.group_stats(std::move(local.as_object()), respond);
}

}  // namespace order_tracker::tracker
