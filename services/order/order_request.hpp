#pragma once
/// The body of POST /orders, parsed and validated. Pure: no I/O.

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

/// The event for `request` under `id`.
events::order_placed make_order(order_request&& request, const boost::uuids::uuid& id);

}  // namespace order_tracker::order
