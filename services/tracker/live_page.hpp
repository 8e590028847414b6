#pragma once
/// GET / on the Tracker: one page that follows /orders/stream and polls /stats and /metrics.
/// Plain HTML and JS with no external assets, compiled into the binary from
/// services/tracker/live/index.html (the build embeds it; there is no build step of its own).

#include <string_view>

#include "common/http/response.hpp"

namespace order_tracker::tracker {

/// The page's text, as checked in.
std::string_view live_page_html();

/// 200 with the page, `Cache-Control: no-cache`, and a Content-Security-Policy that allows only
/// this origin and the page's own inline script and style: no other site is ever contacted.
http::response live_page();

}  // namespace order_tracker::tracker
