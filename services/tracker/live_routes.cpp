#include "services/tracker/live_routes.hpp"

#include "services/tracker/live_page.hpp"

namespace order_tracker::tracker {

bool route_live(const http::request& req, const http::responder& respond, order_stream& stream) {
  namespace bh = http::beast_http;
  const std::string_view target(req.target().data(), req.target().size());
  const auto path = target.substr(0, target.find('?'));
  if (path != "/" && path != "/index.html" && path != "/orders/stream") return false;
  if (req.method() != bh::verb::get && req.method() != bh::verb::head) {
    auto res = http::json_error(bh::status::method_not_allowed, "use GET");
    res.set(bh::field::allow, "GET");
    respond(std::move(res));
    return true;
  }
  if (path == "/orders/stream") {
    stream.open(req, respond);
  } else {
    respond(live_page());
  }
  return true;
}

}  // namespace order_tracker::tracker
