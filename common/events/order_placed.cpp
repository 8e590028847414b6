#include "common/events/order_placed.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>
#include <charconv>
#include <exception>
#include <limits>
#include <string>
#include <utility>

namespace order_tracker::events {
namespace {

namespace json = boost::json;

class decode_category_impl final : public boost::system::error_category {
 public:
  // A fixed id so codes compare equal across shared-library boundaries.
  constexpr decode_category_impl() noexcept : error_category(0x6f7264657270'6c63ULL) {}

  const char* name() const noexcept override { return "order_placed"; }

  // The enumerator names: stable tokens for logs, metrics labels and dead-letter headers, as the
  // header's decode_error::message() example promises.
  const char* message(int ev, char*, std::size_t) const noexcept override {
    switch (static_cast<decode_errc>(ev)) {
      case decode_errc::too_large:
        return "too_large";
      case decode_errc::not_json:
        return "not_json";
      case decode_errc::not_an_object:
        return "not_an_object";
      case decode_errc::missing_field:
        return "missing_field";
      case decode_errc::wrong_type:
        return "wrong_type";
      case decode_errc::invalid_value:
        return "invalid_value";
      case decode_errc::unknown_version:
        return "unknown_version";
    }
    return "unknown order_placed error";
  }

  std::string message(int ev) const override { return message(ev, nullptr, 0); }
};

// Constant-initialized, so usable from other translation units' static initializers.
constinit const decode_category_impl the_decode_category;

decode_error fail(decode_errc e, std::string_view field, std::string detail) {
  return decode_error{make_error_code(e), std::string(field), std::move(detail)};
}

// Strict UTF-8 (Unicode table 3-7): no overlong forms, no surrogates, nothing above U+10FFFF.
// validate() runs it because an order can be built from anything; encode() relies on it to emit
// valid JSON while copying non-ASCII bytes as they are.
bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p != end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) {
        lo = 0xA0;
      } else if (c == 0xED) {
        hi = 0x9F;
      }
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) {
        lo = 0x90;
      } else if (c == 0xF4) {
        hi = 0x8F;
      }
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) {
      return false;
    }
    if (p[1] < lo || p[1] > hi) {
      return false;
    }
    for (std::size_t i = 2; i <= n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) {
        return false;
      }
    }
    p += n + 1;
  }
  return true;
}

boost::system::result<void, decode_error> validate_text(std::string_view field,
                                                        std::string_view text) {
  if (text.empty()) {
    return fail(decode_errc::invalid_value, field, "must not be empty");
  }
  if (text.size() > max_text_bytes) {
    return fail(decode_errc::invalid_value, field,
                "must be at most " + std::to_string(max_text_bytes) + " bytes, got " +
                    std::to_string(text.size()));
  }
  if (!is_valid_utf8(text)) {
    return fail(decode_errc::invalid_value, field, "must be valid UTF-8");
  }
  return {};
}

std::string quantity_range_detail() {
  return "must be an integer from 1 to " + std::to_string(max_quantity);
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Exactly 8-4-4-4-12 hex digits, nothing around them. Either case is accepted (RFC 4122 input is
// case-insensitive); encode() writes lowercase.
bool parse_uuid(std::string_view s, boost::uuids::uuid& out) noexcept {
  if (s.size() != 36) {
    return false;
  }
  auto byte = out.begin();
  for (std::size_t i = 0; i < s.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return false;
      }
      ++i;
      continue;
    }
    const int high = hex_value(s[i]);
    const int low = hex_value(s[i + 1]);
    if (high < 0 || low < 0) {
      return false;
    }
    *byte++ = static_cast<std::uint8_t>(high << 4 | low);
    i += 2;
  }
  return true;
}

const char* json_type_name(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "an unknown JSON type";
}

decode_error wrong_type(std::string_view field, const char* expected, const json::value& got) {
  return fail(decode_errc::wrong_type, field,
              std::string("must be ") + expected + ", got " + json_type_name(got));
}

boost::system::result<const json::value*, decode_error> required(const json::object& object,
                                                                 std::string_view field) {
  const json::value* v = object.if_contains(field);
  if (v == nullptr) {
    return fail(decode_errc::missing_field, field, "is required");
  }
  return v;
}

boost::system::result<std::string, decode_error> required_string(const json::object& object,
                                                                 std::string_view field) {
  auto v = required(object, field);
  if (!v) {
    return std::move(v).error();
  }
  const json::string* s = (*v)->if_string();
  if (s == nullptr) {
    return wrong_type(field, "a string", **v);
  }
  return std::string(s->data(), s->size());
}

// Boost.JSON holds an integer literal as int64 or uint64 when it fits in 64 bits, and as a double
// otherwise (a fraction, an exponent, or more bits). Only the integer kinds are integers here, so
// 2.0, 1e30 and 2^64 are wrong_type, while 0, -1 and 2^63 are invalid_value.
decode_error not_an_integer(std::string_view field, const json::value& v) {
  if (v.is_double()) {
    return fail(decode_errc::wrong_type, field,
                "must be an integer, got a number with a fraction, an exponent or more than 64 "
                "bits");
  }
  return wrong_type(field, "an integer", v);
}

std::string integer_text(const json::value& v) {
  return v.is_uint64() ? std::to_string(v.get_uint64()) : std::to_string(v.get_int64());
}

boost::system::result<order_placed, decode_error> decode_object(const json::object& object) {
  // The version first: a later version may rename fields, and "unknown_version" tells the
  // operator more than "missing_field" would.
  if (const json::value* v = object.if_contains("schema_version")) {
    if (!v->is_int64() && !v->is_uint64()) {
      return not_an_integer("schema_version", *v);
    }
    if (!v->is_int64() || v->get_int64() != schema_version) {
      return fail(decode_errc::unknown_version, "schema_version",
                  "must be " + std::to_string(schema_version) + ", got " + integer_text(*v));
    }
  }

  order_placed order;

  auto id = required(object, "order_id");
  if (!id) {
    return std::move(id).error();
  }
  const json::string* id_text = (*id)->if_string();
  if (id_text == nullptr) {
    return wrong_type("order_id", "a UUID string", **id);
  }
  if (!parse_uuid(*id_text, order.order_id)) {
    return fail(decode_errc::invalid_value, "order_id",
                "must be a UUID as 36 characters: 8-4-4-4-12 hex digits");
  }

  auto user = required_string(object, "user");
  if (!user) {
    return std::move(user).error();
  }
  order.user = std::move(*user);

  auto item = required_string(object, "item");
  if (!item) {
    return std::move(item).error();
  }
  order.item = std::move(*item);

  auto quantity_value = required(object, "quantity");
  if (!quantity_value) {
    return std::move(quantity_value).error();
  }
  const json::value& quantity = **quantity_value;
  if (const std::int64_t* i = quantity.if_int64()) {
    order.quantity = *i;  // range checked by validate()
  } else if (quantity.is_uint64()) {
    // The parser only uses uint64 above INT64_MAX: out of range whatever max_quantity is.
    return fail(decode_errc::invalid_value, "quantity",
                quantity_range_detail() + ", got " + integer_text(quantity));
  } else {
    return not_an_integer("quantity", quantity);
  }

  if (auto valid = validate(order); !valid) {
    return std::move(valid).error();
  }
  return order;
}

boost::system::result<order_placed, decode_error> decode_payload(std::string_view payload) {
  if (payload.size() > max_payload_bytes) {
    return fail(decode_errc::too_large, {},
                "payload is " + std::to_string(payload.size()) + " bytes, the limit is " +
                    std::to_string(max_payload_bytes));
  }

  // Per Kafka message, so no heap on the common path: the parser's scratch space and the DOM
  // both live in stack buffers sized for a typical order, spilling to the heap only for big ones.
  unsigned char parser_buffer[2048];
  unsigned char value_buffer[4096];
  json::monotonic_resource resource(value_buffer, sizeof value_buffer);
  json::parser parser(json::storage_ptr(), json::parse_options(), parser_buffer,
                      sizeof parser_buffer);
  parser.reset(&resource);

  boost::system::error_code ec;
  const std::size_t used = parser.write(payload.data(), payload.size(), ec);
  if (ec) {
    return fail(decode_errc::not_json, {}, ec.message() + " at byte " + std::to_string(used));
  }
  const json::value document = parser.release();
  const json::object* object = document.if_object();
  if (object == nullptr) {
    return fail(decode_errc::not_an_object, {},
                std::string("the payload must be a JSON object, got ") + json_type_name(document));
  }
  return decode_object(*object);
}

decode_error last_resort(const std::exception& e) noexcept {
  decode_error error{make_error_code(decode_errc::not_json), {}, {}};
  try {
    error.detail = std::string("could not be decoded: ") + e.what();
  } catch (...) {
    // Out of memory again: the code alone has to do.
  }
  return error;
}

std::size_t escaped_size(std::string_view s) noexcept {
  std::size_t n = s.size();
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 1;
    } else if (c < 0x20) {
      n += 5;
    }
  }
  return n;
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending bytes that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default:
        out.append("u00", 3);
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
        break;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_uuid(std::string& out, const boost::uuids::uuid& id) {
  const auto text = uuid_chars(id);
  out.append(text.data(), text.size());
}

}  // namespace

const boost::system::error_category& decode_category() noexcept {
  return the_decode_category;
}

boost::system::error_code make_error_code(decode_errc e) noexcept {
  return {static_cast<int>(e), the_decode_category};
}

std::string decode_error::message() const {
  std::string text = code.message();
  if (!field.empty()) {
    text += ": ";
    text += field;
  }
  if (!detail.empty()) {
    text += ": ";
    text += detail;
  }
  return text;
}

void throw_exception_from_error(const decode_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.message()), loc);
}

boost::system::result<void, decode_error> validate(const order_placed& order) {
  if (order.order_id.is_nil()) {
    return fail(decode_errc::invalid_value, "order_id", "must not be the nil UUID");
  }
  if (auto r = validate_text("user", order.user); !r) {
    return r;
  }
  if (auto r = validate_text("item", order.item); !r) {
    return r;
  }
  if (order.quantity < 1 || order.quantity > max_quantity) {
    return fail(decode_errc::invalid_value, "quantity",
                quantity_range_detail() + ", got " + std::to_string(order.quantity));
  }
  return {};
}

boost::system::result<order_placed, decode_error> decode(std::string_view payload) noexcept {
  try {
    return decode_payload(payload);
  } catch (const std::exception& e) {
    // Only allocation failures reach here; a consumer loop must get a value, not an exception.
    return last_resort(e);
  }
}

std::array<char, 36> uuid_chars(const boost::uuids::uuid& id) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  std::array<char, 36> text{};
  char* p = text.data();
  std::size_t i = 0;
  for (const std::uint8_t byte : id) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = hex[byte >> 4];
    *p++ = hex[byte & 0xF];
    ++i;
  }
  return text;
}

void encode(const order_placed& order, std::string& out) {
  static constexpr std::string_view head = R"({"order_id":")";
  static constexpr std::string_view user_key = R"(","user":)";
  static constexpr std::string_view item_key = R"(,"item":)";
  static constexpr std::string_view quantity_key = R"(,"quantity":)";
  static constexpr std::string_view tail = R"(,"schema_version":1})";

  char quantity[std::numeric_limits<std::int64_t>::digits10 + 2];
  const auto [quantity_end, ec] =
      std::to_chars(quantity, quantity + sizeof quantity, order.quantity);
  (void)ec;  // the buffer holds any int64
  const auto quantity_size = static_cast<std::size_t>(quantity_end - quantity);

  out.reserve(out.size() + head.size() + 36 + user_key.size() + escaped_size(order.user) + 2 +
              item_key.size() + escaped_size(order.item) + 2 + quantity_key.size() + quantity_size +
              tail.size());
  out.append(head);
  append_uuid(out, order.order_id);
  out.append(user_key);
  append_escaped(out, order.user);
  out.append(item_key);
  append_escaped(out, order.item);
  out.append(quantity_key);
  out.append(quantity, quantity_size);
  out.append(tail);
}

std::string encode(const order_placed& order) {
  std::string out;
  encode(order, out);
  return out;
}

}  // namespace order_tracker::events
