#include "services/order/order_request.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace order_tracker::order {
namespace {

using boost::system::result;

request_error fail(std::string error, std::string field, std::string reason) {
  return {std::move(error), std::move(field), std::move(reason)};
}

result<std::string, request_error> text_field(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr)
    return fail(fmt::format("{} is required", name), std::string(name), "missing_field");
  const auto* s = v->if_string();
  if (s == nullptr)
    return fail(fmt::format("{} must be a string", name), std::string(name), "wrong_type");
  if (s->empty())
    return fail(fmt::format("{} must not be empty", name), std::string(name), "invalid_value");
  if (s->size() > events::max_text_bytes) {
    return fail(fmt::format("{} must be at most {} bytes", name, events::max_text_bytes),
                std::string(name), "invalid_value");
  }
  return result<std::string, request_error>(boost::system::in_place_value, *s);
}

boost::json::parse_options order_parse_options() {
  boost::json::parse_options options;
  options.max_depth = 8;  // an order is flat; deep nesting is hostile, stop early
  return options;
}

/// Everything after the JSON syntax: an object with exactly the three fields, each in range.
result<order_request, request_error> validate(const boost::json::value& doc) {
  const auto* o = doc.if_object();
  if (o == nullptr) return fail("body must be a JSON object", "", "invalid_json");
  for (const auto& kv : *o) {
    const auto key = kv.key();
    if (key != "user" && key != "item" && key != "quantity") {
      return fail(fmt::format("unknown field {}", std::string_view(key)), std::string(key),
                  "unknown_field");
    }
  }
  order_request r;
  auto user = text_field(*o, "user");
  if (!user) return user.error();
  r.user = std::move(*user);
  auto item = text_field(*o, "item");
  if (!item) return item.error();
  r.item = std::move(*item);

  const auto* q = o->if_contains("quantity");
  if (q == nullptr) return fail("quantity is required", "quantity", "missing_field");
  // Formatted only for a refusal: a valid order pays nothing for the message.
  const auto range = [] {
    return fmt::format("quantity must be an integer from 1 to {}", events::max_quantity);
  };
  if (const auto* i = q->if_int64()) {
    r.quantity = *i;
  } else if (q->is_uint64()) {
    return fail(range(), "quantity", "invalid_value");
  } else {
    return fail(range(), "quantity", "wrong_type");
  }
  if (r.quantity < 1 || r.quantity > events::max_quantity)
    return fail(range(), "quantity", "invalid_value");
  // Boost.JSON has already refused strings that are not valid UTF-8.
  return r;
}

result<order_request, request_error> invalid_json(const boost::system::error_code& ec) {
  return fail(fmt::format("body is not valid JSON: {}", ec.message()), "", "invalid_json");
}

}  // namespace

boost::system::result<order_request, request_error> parse_order_request(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(body, ec, {}, order_parse_options());
  if (ec) return invalid_json(ec);
  return validate(doc);
}

order_request_parser::order_request_parser()
    : memory_(storage_.data(), storage_.size()),
      parser_(boost::json::storage_ptr(), order_parse_options(), temp_.data(), temp_.size()) {}

boost::system::result<order_request, request_error> order_request_parser::parse(
    std::string_view body) {
  // What boost::json::parse does, on a parser and memory kept from one body to the next.
  memory_.release();
  parser_.reset(&memory_);
  boost::system::error_code ec;
  parser_.write(body.data(), body.size(), ec);
  if (ec) return invalid_json(ec);
  return validate(parser_.release());
}

events::order_placed make_order(order_request&& request, const boost::uuids::uuid& id) {
  events::order_placed o;
  o.order_id = id;
  o.user = std::move(request.user);
  o.item = std::move(request.item);
  o.quantity = request.quantity;
  return o;
}

}  // namespace order_tracker::order
