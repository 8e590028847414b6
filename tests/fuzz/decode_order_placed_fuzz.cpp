// libFuzzer target: events::decode on arbitrary bytes, as the Tracker meets whatever is on the
// orders topic, and the encode/decode round trip that the Order service and the Tracker rely on.
#include "common/events/order_placed.hpp"

// What the target uses besides the header under test, which comes first to show it stands alone.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/require.hpp"

namespace events = order_tracker::events;
using order_tracker::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto decoded = events::decode(payload);
  // decode() takes a straight scan for the exact text encode() writes: what it accepts, the
  // general decoder must accept and read the same way.
  events::order_placed scanned;
  if (events::detail::decode_canonical_form(payload, scanned)) {
    events::order_placed general;
    require(events::detail::decode_general(payload, general).has_value(),
            "the general decoder accepts what the straight scan accepts");
    require(general == scanned, "the straight scan reads what the general decoder reads");
  }
  if (!decoded) {
    // The Tracker logs this and puts it in the dead-letter headers, so every failure must have one
    // of the documented codes and a message that starts with its token.
    const auto& error = decoded.error();
    require(error.code.category() == events::decode_category(), "decode fails in its category");
    require(error.code.value() >= static_cast<int>(events::decode_errc::too_large) &&
                error.code.value() <= static_cast<int>(events::decode_errc::unknown_version),
            "decode fails with a decode_errc");
    require(error.message().starts_with(error.code.message()), "message starts with the code");
    return 0;
  }
  const events::order_placed& order = *decoded;
  require(payload.size() <= events::max_payload_bytes, "decode refuses oversized payloads");
  require(events::validate(order).has_value(), "a decoded order is valid");

  // The Order service publishes encode(order) for orders like this one; the Tracker must decode
  // exactly that order back, or it would track an order nobody placed.
  const std::string wire = events::encode(order);
  const auto again = events::decode(wire);
  require(again.has_value(), "decode(encode(order)) succeeds");
  require(*again == order, "decode(encode(order)) == order");
  // encode depends on the order alone, whatever text it was decoded from.
  require(events::encode(*again) == wire, "encode is deterministic");
  return 0;
}
