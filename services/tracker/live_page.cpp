#include "services/tracker/live_page.hpp"

#include <string>

namespace order_tracker::tracker {

http::response live_page() {
  namespace bh = http::beast_http;
  auto res = http::text_response(bh::status::ok, std::string(live_page_html()),
                                 "text/html; charset=utf-8");
  res.set(bh::field::cache_control, "no-cache");
  // Defence in depth behind textContent: even injected markup could not load or run anything.
  res.set("Content-Security-Policy",
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "img-src 'none'; connect-src 'self'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  return res;
}

}  // namespace order_tracker::tracker
