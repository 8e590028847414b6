#pragma once
/// The Tracker's HTTP API: GET /orders/{id}, /stats, /healthz, /readyz, /metrics. Reads only.
/// An order or group totals this instance does not hold are looked up in the group through
/// `order_router`; a request forwarded by another instance is answered from this view alone.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/http/response.hpp"
#include "common/http/server.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/order_router.hpp"
#include "services/tracker/order_view.hpp"

namespace order_tracker::tracker {

class tracker_api {
 public:
  /// Why the Tracker is not ready, or empty when it is.
  using readiness_fn = std::function<std::string()>;
  /// The partitions this instance owns and has restored, ascending.
  using live_partitions_fn = std::function<std::vector<std::int32_t>()>;

  tracker_api(const order_view& view, observability::registry& metrics,
              readiness_fn not_ready_reason, live_partitions_fn live_partitions,
              order_router& router);

  void handle(http::request&& req, http::responder respond) const;

 private:
  void get_order(std::string_view id_text, bool forwarded, const http::responder& respond) const;
  void get_stats(std::string_view query, bool forwarded, const http::responder& respond) const;
  /// Sends `res` marked with this instance's name.
  void send(const http::responder& respond, http::response res) const;

  const order_view& view_;
  observability::registry& metrics_;
  readiness_fn not_ready_reason_;
  live_partitions_fn live_partitions_;
  order_router& router_;
};

}  // namespace order_tracker::tracker
