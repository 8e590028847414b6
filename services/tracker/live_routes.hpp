#pragma once
/// The Tracker's live endpoints: GET / (the page) and GET /orders/stream (Server-Sent Events).
/// Both read only, like the rest of the Tracker's API.

#include "common/http/server.hpp"
#include "services/tracker/order_stream.hpp"

namespace order_tracker::tracker {

/// Answers the request if it is for a live endpoint and returns true; false leaves it to the
/// rest of the API. Checked first, since /orders/stream would otherwise look like /orders/{id}.
bool route_live(const http::request& req, const http::responder& respond, order_stream& stream);

}  // namespace order_tracker::tracker
