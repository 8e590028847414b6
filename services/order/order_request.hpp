#pragma once
/// The body of POST /orders, parsed and validated. Pure: no I/O.

#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "common/events/order_placed.hpp"

namespace order_tracker::order {

/// A request the API refuses, said so that a client can fix it.
struct request_error {
  std::string error;  ///< a sentence, e.g. "quantity must be an integer from 1 to 1000000"
  std::string field;  ///< the field at fault; empty when about the whole body
  std::string
      reason;  ///< a short metric label: invalid_json, missing_field, wrong_type, invalid_value
};

/// The client's part of an order; the service adds the order_id.
struct order_request {
  std::string user;
  std::string item;
  std::int64_t quantity = 0;
};

/// Parses `{"user": "...", "item": "...", "quantity": N}`. Unknown fields are refused, so that a
/// typo ("quantitiy") is not silently dropped; "order_id" is the service's to assign.
boost::system::result<order_request, request_error> parse_order_request(std::string_view body);

/// The same parse with its JSON parser and memory kept from one body to the next: a body up to a
/// few hundred bytes is parsed without touching the heap (only the strings of the result are).
class order_request_parser {
 public:
  order_request_parser();
  order_request_parser(const order_request_parser&) = delete;
  order_request_parser& operator=(const order_request_parser&) = delete;

  /// As parse_order_request(body), with the same answers.
  boost::system::result<order_request, request_error> parse(std::string_view body);

 private:
  /// The parser's stack of open values (an order is flat, so little of it is used).
  std::array<unsigned char, 1024> temp_{};
  /// The parsed document's memory; released before each body.
  std::array<unsigned char, 2048> storage_{};
  boost::json::monotonic_resource memory_;
  boost::json::parser parser_;
};

/// The event for `request` under `id`.
events::order_placed make_order(order_request&& request, const boost::uuids::uuid& id);

}  // namespace order_tracker::order
