#pragma once
/// Makes any Tracker answer for any order: GET /orders/{id} goes to the owner of the order's
/// partition (a proxy, one hop), and then, for an order written without a key, to every other
/// member; GET /stats?scope=group merges every member's /stats. The instances it asks answer
/// from their own view only (the `Tracker-Forwarded-By` header), so a request makes one hop at
/// most and never loops.

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/response.hpp"
#include "common/http/server.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/order_route.hpp"
#include "services/tracker/owners_watch.hpp"

namespace order_tracker::tracker {

/// Sent with a request one instance makes to another: the receiver answers from its own view.
inline constexpr std::string_view forwarded_header = "Tracker-Forwarded-By";
/// On every response: the advertised address of the instance whose view gave the answer.
inline constexpr std::string_view instance_header = "Tracker-Instance";
/// On a local-only 404: the partitions the instance owns and has restored, so that the asking
/// instance knows which partitions that 404 speaks for.
inline constexpr std::string_view live_partitions_header = "Tracker-Live-Partitions";

class order_router {
 public:
  /// `self`: this instance's advertised address; `timeout`: how long another instance may take
  /// to answer one request.
  order_router(boost::asio::io_context& io, owners_watch& owners, std::string self,
               std::chrono::milliseconds timeout, observability::registry& metrics);

  /// Answers GET /orders/`id` of `partition` (from the id's murmur2): with `found` if this
  /// instance's view had it (`mine` says found), else by asking the others.
  void find(std::string_view id, std::int32_t partition, local_answer mine, http::response found,
            http::responder respond);

  /// Answers GET /stats?scope=group: `local` (this instance's /stats) plus every other member's.
  void group_stats(boost::json::object local, http::responder respond);

  const std::string& self() const { return self_; }
  /// The topic's partition count as last described (0 while unknown).
  std::int32_t partition_count() const { return owners_.owners().partition_count(); }

 private:
  boost::asio::io_context& io_;
  owners_watch& owners_;
  std::string self_;
  std::chrono::milliseconds timeout_;
  /// GET /orders/{id} that this instance's view could not answer, by how they ended.
  observability::counter& found_elsewhere_;
  observability::counter& not_found_;
  observability::counter& unavailable_;
};

/// 503 with `Retry-After: 1`, {"error": detail, "reason": reason}.
http::response unavailable(std::string_view reason, std::string_view detail);

}  // namespace order_tracker::tracker
