#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace order_tracker::http {

namespace beast_http = boost::beast::http;

/// A request as handlers see it: headers and the whole body, already read and size-checked.
using request = beast_http::request<beast_http::string_body>;
/// A response as handlers build it. The server fills in version, keep-alive, `Server` and
/// `Content-Length` when it writes it, so a handler only sets status, headers and body (and
/// `keep_alive(false)` if the connection should close after it).
using response = beast_http::response<beast_http::string_body>;

/// A response with `value` serialized as its body and `Content-Type: application/json`.
response json_response(beast_http::status status, const boost::json::value& value);

/// A JSON error body `{"error":"...","field":"..."}`; `field` is left out when empty.
response json_error(beast_http::status status, std::string_view error, std::string_view field = {});

/// A response with `body` as is, for `/metrics` text and the like.
response text_response(beast_http::status status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");

}  // namespace order_tracker::http
