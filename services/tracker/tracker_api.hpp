#pragma once
/// The Tracker's HTTP API: GET /orders/{id}, /stats, /healthz, /readyz, /metrics. Reads only.

#include <functional>
#include <string>

#include "common/http/response.hpp"
#include "common/http/server.hpp"
#include "common/observability/metrics.hpp"
#include "services/tracker/order_view.hpp"

namespace order_tracker::tracker {

class tracker_api {
 public:
  /// Why the Tracker is not ready, or empty when it is.
  using readiness_fn = std::function<std::string()>;

  tracker_api(const order_view& view, observability::registry& metrics,
              readiness_fn not_ready_reason);

  void handle(http::request&& req, http::responder respond) const;

 private:
  const order_view& view_;
  observability::registry& metrics_;
  readiness_fn not_ready_reason_;
};

}  // namespace order_tracker::tracker
