#include "services/tracker/order_router.hpp"

#include <boost/json/parse.hpp>
#include <map>
#include <memory>
#include <utility>

#include "common/http/client.hpp"
#include "services/tracker/group_stats.hpp"

namespace order_tracker::tracker {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;

constexpr std::string_view routed_name = "tracker_routed_lookups_total";
constexpr std::string_view routed_help =
    "GET /orders/{id} this instance's view did not hold, by outcome: found on another member, "
    "404 or 503";

/// What an answer from another instance says about the order.
local_answer classify(const http::client_result& r) {
  if (r.error) return {local_answer::kind::no_answer, {}, r.error.message()};
  switch (r.message.result()) {
    case bh::status::ok:
      return {local_answer::kind::found, {}, {}};
    case bh::status::not_found: {
      const auto it = r.message.find(live_partitions_header);
      if (it == r.message.end())
        return {local_answer::kind::no_answer, {}, "404 from an older version"};
      return {local_answer::kind::absent,
              parse_partitions(std::string_view(it->value().data(), it->value().size())),
              {}};
    }
    default:
      return {
          local_answer::kind::no_answer, {}, "status " + std::to_string(r.message.result_int())};
  }
}

/// One GET /orders/{id} on its way through the group; kept alive by the requests it has out.
struct order_search {
  order_search(order_route r, std::string t, http::response f, http::responder res)
      : route(std::move(r)), target(std::move(t)), found(std::move(f)), respond(std::move(res)) {}
  order_route route;
  std::string target;
  /// The 200 to send: this instance's own, or the one of the instance that found it.
  http::response found;
  http::responder respond;
  bool answered = false;
};

}  // namespace

http::response unavailable(std::string_view reason, std::string_view detail) {
  auto res =
      http::json_response(bh::status::service_unavailable, {{"error", detail}, {"reason", reason}});
  res.set(bh::field::retry_after, "1");
  return res;
}

order_router::order_router(boost::asio::io_context& io, owners_watch& owners, std::string self,
                           std::chrono::milliseconds timeout, observability::registry& metrics)
    : io_(io),
      owners_(owners),
      self_(std::move(self)),
      timeout_(timeout),
      found_elsewhere_(metrics.counter(routed_name, routed_help, {{"outcome", "found"}})),
      not_found_(metrics.counter(routed_name, routed_help, {{"outcome", "not_found"}})),
      unavailable_(metrics.counter(routed_name, routed_help, {{"outcome", "unavailable"}})) {}

void order_router::find(std::string_view id, std::int32_t partition, local_answer mine,
                        http::response found, http::responder respond) {
  auto search = std::make_shared<order_search>(
      order_route(owners_.owners(), partition, self_, std::move(mine)),
      "/orders/" + std::string(id), std::move(found), std::move(respond));
  // Each answer moves the search on; it ends with exactly one response to the client.
  const auto step = [this](const std::shared_ptr<order_search>& s, const auto& self_ref) -> void {
    if (s->answered) return;
    // Ask whoever is next; only once nobody is left to ask or awaited is the outcome known.
    const auto ask = s->route.next();
    for (const auto& instance : ask) {
      http::get(io_, instance, s->target, {{std::string(forwarded_header), self_}}, timeout_,
                [s, instance, self_ref](http::client_result&& r) {
                  const auto answer = classify(r);
                  if (answer.what == local_answer::kind::found && !s->answered) {
                    s->found = std::move(r.message);
                    if (s->found.count(instance_header) == 0)
                      s->found.set(instance_header, instance);
                    // Hop-by-hop fields of the owner's response are not ours to pass on.
                    s->found.erase(bh::field::connection);
                    s->found.erase(bh::field::server);
                  }
                  s->route.answered(instance, answer);
                  self_ref(s, self_ref);
                });
    }
    if (!ask.empty()) return;
    const auto outcome = s->route.outcome();
    if (!outcome) return;  // answers are on their way
    s->answered = true;
    switch (outcome->what) {
      case route_outcome::kind::found:
        found_elsewhere_.inc();
        if (s->found.count(instance_header) == 0) s->found.set(instance_header, outcome->instance);
        return s->respond(std::move(s->found));
      case route_outcome::kind::absent: {
        not_found_.inc();
        auto res = http::json_error(bh::status::not_found,
                                    "no such order on any partition of the group", "order_id");
        res.set(instance_header, self_);
        return s->respond(std::move(res));
      }
      case route_outcome::kind::unavailable: {
        unavailable_.inc();
        if (outcome->reason != "owner_unavailable") owners_.refresh_soon();
        auto res = unavailable(outcome->reason, outcome->detail);
        res.set(instance_header, self_);
        return s->respond(std::move(res));
      }
    }
  };
  step(search, step);
}

void order_router::group_stats(json::object local, http::responder respond) {
  struct merge {
    json::object merged;
    http::responder respond;
    std::size_t waiting = 0;
    std::map<std::string, std::string> failed;
    std::int32_t partition_count = 0;
  };
  const auto& owners = owners_.owners();
  if (!owners.known()) {
    auto res = unavailable("owner_unknown", "the group's members are not known yet");
    res.set(instance_header, self_);
    return respond(std::move(res));
  }
  auto m = std::make_shared<merge>(
      merge{std::move(local), std::move(respond), 0, {}, owners.partition_count()});
  const auto done = [me = self_](merge& s) {
    const auto send = [&](http::response res) {
      res.set(instance_header, me);
      s.respond(std::move(res));
    };
    if (!s.failed.empty()) {
      std::string who;
      for (const auto& [instance, why] : s.failed)
        who += (who.empty() ? "" : "; ") + instance + ": " + why;
      return send(unavailable("owner_unavailable", "members did not answer: " + who));
    }
    if (auto why = check_partitions(s.merged, s.partition_count); !why.empty())
      return send(unavailable("rebalancing", why));
    send(http::json_response(bh::status::ok, s.merged));
  };
  for (const auto& instance : owners.members()) {
    if (instance == self_) continue;
    ++m->waiting;
    http::get(io_, instance, "/stats", {{std::string(forwarded_header), self_}}, timeout_,
              [m, instance, done](http::client_result&& r) {
                if (r.error) {
                  m->failed[instance] = r.error.message();
                } else if (r.message.result() != bh::status::ok) {
                  m->failed[instance] = "status " + std::to_string(r.message.result_int());
                } else {
                  boost::system::error_code ec;
                  const auto v = json::parse(r.message.body(), ec);
                  if (ec || !v.is_object()) {
                    m->failed[instance] = "not a JSON object";
                  } else {
                    add_stats(m->merged, v.get_object());
                  }
                }
                if (--m->waiting == 0) done(*m);
              });
  }
  if (m->waiting == 0) done(*m);
}

}  // namespace order_tracker::tracker
