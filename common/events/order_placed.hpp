#pragma once
/// The OrderPlaced event (schema version 1): what the Order service publishes on the orders topic
/// and the Tracker consumes. JSON on the wire, compatible with the seed tutorial's producer.py and
/// consumer.py: {"order_id": "<uuid>", "user": "...", "item": "...", "quantity": N}. Fields beyond
/// these are ignored; "schema_version", when present, must be 1.

#include <array>
#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/uuid/uuid.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace order_tracker::events {

/// Limits that make a payload poison rather than an order.
inline constexpr std::size_t max_payload_bytes = 64 * 1024;
inline constexpr std::size_t max_text_bytes = 256;  ///< for `user` and `item`
inline constexpr std::int64_t max_quantity = 1'000'000;
inline constexpr std::int64_t schema_version = 1;

struct order_placed {
  boost::uuids::uuid order_id{};
  std::string user;
  std::string item;
  std::int64_t quantity = 0;

  friend bool operator==(const order_placed&, const order_placed&) = default;
};

/// Why a payload is not an OrderPlaced v1.
enum class decode_errc {
  too_large = 1,    ///< payload over max_payload_bytes
  not_json,         ///< not valid UTF-8 JSON text
  not_an_object,    ///< JSON, but not an object
  missing_field,    ///< a required field is absent
  wrong_type,       ///< a field has the wrong JSON type
  invalid_value,    ///< right type, unacceptable value (empty, too long, out of range, bad uuid)
  unknown_version,  ///< schema_version other than 1
};

const boost::system::error_category& decode_category() noexcept;
boost::system::error_code make_error_code(decode_errc e) noexcept;

/// A decode failure that names the problem: the kind, the field (empty when not about one) and a
/// sentence for logs, HTTP answers and dead-letter headers.
struct decode_error {
  boost::system::error_code code;
  std::string field;
  std::string detail;

  /// e.g. "invalid_value: quantity: must be an integer from 1 to 1000000"
  std::string message() const;
};

/// Lets result<T, decode_error>::value() throw: boost::system::system_error(code, message()).
[[noreturn]] void throw_exception_from_error(const decode_error& e,
                                             const boost::source_location& loc);

/// Checks the fields an order must have whatever its source (HTTP body or Kafka payload).
/// Returns the failure or an empty optional-like success.
boost::system::result<void, decode_error> validate(const order_placed& order);

/// Decodes and validates one payload. Total: any bytes give an order or a decode_error; it never
/// throws.
boost::system::result<order_placed, decode_error> decode(std::string_view payload) noexcept;

/// The same decoding into an order the caller keeps from one payload to the next: its `user` and
/// `item` keep their capacity, so once they have grown to the longest text seen, decoding
/// allocates nothing (an error still allocates its message). Same checks and errors as
/// decode(payload). On failure `order` holds unspecified values; the next call overwrites them.
boost::system::result<void, decode_error> decode(std::string_view payload,
                                                 order_placed& order) noexcept;

/// The two ways decode() takes, for the tests that prove them equal: the straight scan of the
/// exact text encode() writes (false: not that text, `order` unspecified), and the general decoder
/// that handles any payload.
namespace detail {
bool decode_canonical_form(std::string_view payload, order_placed& order) noexcept;
boost::system::result<void, decode_error> decode_general(std::string_view payload,
                                                         order_placed& order) noexcept;
}  // namespace detail

/// The canonical text of an order id (lowercase 8-4-4-4-12), without allocating.
std::array<char, 36> uuid_chars(const boost::uuids::uuid& id) noexcept;

/// Encodes as compact JSON with "schema_version": 1, appended to `out` (no intermediate DOM).
/// Does not validate: text bytes are copied as they are, so only a validate()d order is sure to
/// give valid JSON.
void encode(const order_placed& order, std::string& out);
std::string encode(const order_placed& order);

}  // namespace order_tracker::events

template <>
struct boost::system::is_error_code_enum<order_tracker::events::decode_errc> : std::true_type {};
