#include "common/http/response.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

namespace order_tracker::http {

namespace {

response make_response(beast_http::status status, std::string body, std::string_view content_type) {
  response res{status, 11};
  res.set(beast_http::field::content_type, content_type);
  res.body() = std::move(body);
  // The server prepares the payload again when it writes; doing it here too keeps a response
  // built by these helpers complete on its own, which is what tests and callers inspect.
  res.prepare_payload();
  return res;
}

}  // namespace

response json_response(beast_http::status status, const boost::json::value& value) {
  return make_response(status, boost::json::serialize(value), "application/json");
}

response json_error(beast_http::status status, std::string_view error, std::string_view field) {
  boost::json::object body;
  body["error"] = error;
  if (!field.empty()) {
    body["field"] = field;
  }
  return json_response(status, body);
}

response text_response(beast_http::status status, std::string body, std::string_view content_type) {
  return make_response(status, std::move(body), content_type);
}

}  // namespace order_tracker::http
