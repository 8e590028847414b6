#include "common/events/order_placed.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/kind.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>
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

// `utf8_checked`: the text comes from Boost.JSON's parser, which refuses invalid UTF-8 already.
boost::system::result<void, decode_error> validate_text(std::string_view field,
                                                        std::string_view text, bool utf8_checked) {
  if (text.empty()) {
    return fail(decode_errc::invalid_value, field, "must not be empty");
  }
  if (text.size() > max_text_bytes) {
    return fail(decode_errc::invalid_value, field,
                "must be at most " + std::to_string(max_text_bytes) + " bytes, got " +
                    std::to_string(text.size()));
  }
  if (!utf8_checked && !is_valid_utf8(text)) {
    return fail(decode_errc::invalid_value, field, "must be valid UTF-8");
  }
  return {};
}

boost::system::result<void, decode_error> validate_fields(const order_placed& order,
                                                          bool utf8_checked);

std::string quantity_range_detail() {
  return "must be an integer from 1 to " + std::to_string(max_quantity);
}

// The value of each hex digit, -1 for any other byte.
constexpr std::array<signed char, 256> hex_values = [] {
  std::array<signed char, 256> values{};
  values.fill(-1);
  for (int i = 0; i < 10; ++i) {
    values['0' + i] = static_cast<signed char>(i);
  }
  for (int i = 0; i < 6; ++i) {
    values['a' + i] = static_cast<signed char>(10 + i);
    values['A' + i] = static_cast<signed char>(10 + i);
  }
  return values;
}();

// Exactly 8-4-4-4-12 hex digits, nothing around them. Either case is accepted (RFC 4122 input is
// case-insensitive); encode() writes lowercase. A table and no early exit: this runs per message.
bool parse_uuid(std::string_view s, boost::uuids::uuid& out) noexcept {
  // Where each byte's two digits start.
  static constexpr std::array<unsigned char, 16> digits_at{0,  2,  4,  6,  9,  11, 14, 16,
                                                           19, 21, 24, 26, 28, 30, 32, 34};
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
    return false;
  }
  int invalid = 0;  // negative once any digit is not hex
  for (std::size_t i = 0; i < digits_at.size(); ++i) {
    const int high = hex_values[static_cast<unsigned char>(s[digits_at[i]])];
    const int low = hex_values[static_cast<unsigned char>(s[digits_at[i] + 1])];
    invalid |= high | low;
    out.data[i] = static_cast<std::uint8_t>((high & 0xF) << 4 | (low & 0xF));
  }
  return invalid >= 0;
}

const char* json_type_name(json::kind kind) noexcept {
  switch (kind) {
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

/// The top-level keys the schema reads; `other` for the rest, which are ignored.
enum class key : unsigned char { order_id, user, item, quantity, schema_version, other };

key key_of(std::string_view name) noexcept {
  if (name == "order_id") return key::order_id;
  if (name == "user") return key::user;
  if (name == "item") return key::item;
  if (name == "quantity") return key::quantity;
  if (name == "schema_version") return key::schema_version;
  return key::other;
}

/// What the top-level object last held under one of the schema's keys: of duplicate keys the last
/// wins, as in Python's json.loads. The text of a string is kept by the handler, not here.
struct seen_value {
  bool present = false;
  json::kind kind = json::kind::null;
  std::int64_t int64 = 0;    ///< when kind is int64
  std::uint64_t uint64 = 0;  ///< when kind is uint64
};

/// A basic_parser handler that keeps, as the parse goes, only what the schema reads: no DOM. The
/// user and item text goes straight into the caller's order, whose strings keep their capacity from
/// one payload to the next. It never stops the parse: the fields are checked once the whole payload
/// has parsed, so that malformed JSON is not_json wherever the fault lies.
class order_handler {
 public:
  // The DOM parser's limits (boost/json/detail/handler.hpp), so the same payloads parse.
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit order_handler(order_placed& order) noexcept : order_(order) {}

  bool on_document_begin(boost::system::error_code&) noexcept { return true; }
  bool on_document_end(boost::system::error_code&) noexcept { return true; }

  bool on_object_begin(boost::system::error_code&) noexcept {
    begin(json::kind::object);
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) noexcept {
    --depth_;
    return true;
  }
  bool on_array_begin(boost::system::error_code&) noexcept {
    begin(json::kind::array);
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) noexcept {
    --depth_;
    return true;
  }

  bool on_key_part(json::string_view part, std::size_t size, boost::system::error_code&) noexcept {
    key_part(part, size);
    return true;
  }
  bool on_key(json::string_view part, std::size_t size, boost::system::error_code&) noexcept {
    key_part(part, size);
    if (depth_ == 1) {
      key_ =
          size <= key_text_.size() ? key_of(std::string_view(key_text_.data(), size)) : key::other;
    }
    return true;
  }

  bool on_string_part(json::string_view part, std::size_t size, boost::system::error_code&) {
    string_part(part, size);
    return true;
  }
  bool on_string(json::string_view part, std::size_t size, boost::system::error_code&) {
    string_part(part, size);
    value(json::kind::string);
    return true;
  }

  bool on_number_part(json::string_view, boost::system::error_code&) noexcept { return true; }
  bool on_int64(std::int64_t i, json::string_view, boost::system::error_code&) noexcept {
    if (seen_value* v = value(json::kind::int64)) v->int64 = i;
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, boost::system::error_code&) noexcept {
    if (seen_value* v = value(json::kind::uint64)) v->uint64 = u;
    return true;
  }
  bool on_double(double, json::string_view, boost::system::error_code&) noexcept {
    value(json::kind::double_);
    return true;
  }
  bool on_bool(bool, boost::system::error_code&) noexcept {
    value(json::kind::bool_);
    return true;
  }
  bool on_null(boost::system::error_code&) noexcept {
    value(json::kind::null);
    return true;
  }

  // Comments are refused by the default parse_options; the handler must still declare them.
  bool on_comment_part(json::string_view, boost::system::error_code&) noexcept { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) noexcept { return true; }

  /// After a successful parse: the kind of the top-level value.
  json::kind document_kind() const noexcept { return document_kind_; }
  const seen_value& seen(key k) const noexcept { return seen_[static_cast<std::size_t>(k)]; }
  /// The order_id text, cut after 37 bytes: enough to tell a 36-character UUID from the rest.
  std::string_view id_text() const noexcept {
    return std::string_view(id_text_.data(), std::min(id_size_, id_text_.size()));
  }

 private:
  void begin(json::kind kind) noexcept {
    value(kind);
    ++depth_;
  }

  // A value starts (a container) or ends (a scalar) at the current depth: 0 is the document,
  // 1 a member of the top-level object, deeper ones are ignored.
  seen_value* value(json::kind kind) noexcept {
    if (depth_ == 0) {
      document_kind_ = kind;
      return nullptr;
    }
    if (depth_ != 1 || key_ == key::other) return nullptr;
    seen_value& v = seen_[static_cast<std::size_t>(key_)];
    v = seen_value{true, kind};
    return &v;
  }

  // Keys and strings come in parts when they hold escapes; `size` counts the parts so far.
  void key_part(json::string_view part, std::size_t size) noexcept {
    if (depth_ != 1 || size > key_text_.size()) return;
    std::copy(part.begin(), part.end(), key_text_.begin() + (size - part.size()));
  }

  void string_part(json::string_view part, std::size_t size) {
    if (depth_ != 1) return;
    const bool first = size == part.size();
    switch (key_) {
      case key::user:
        append(order_.user, part, first);
        return;
      case key::item:
        append(order_.item, part, first);
        return;
      case key::order_id: {
        const std::size_t at = size - part.size();
        if (at < id_text_.size()) {
          const std::size_t n = std::min(part.size(), id_text_.size() - at);
          std::copy_n(part.begin(), n, id_text_.begin() + at);
        }
        id_size_ = size;
        return;
      }
      default:
        return;
    }
  }

  static void append(std::string& text, json::string_view part, bool first) {
    if (first) text.clear();
    text.append(part.data(), part.size());
  }

  order_placed& order_;
  std::size_t depth_ = 0;
  json::kind document_kind_ = json::kind::null;
  key key_ = key::other;              ///< the key of the top-level member being parsed
  std::array<char, 14> key_text_{};   ///< "schema_version", the longest key the schema reads
  std::array<seen_value, 5> seen_{};  ///< by key, other excepted
  std::array<char, 37> id_text_{};
  std::size_t id_size_ = 0;
};

decode_error wrong_type(std::string_view field, const char* expected, json::kind got) {
  return fail(decode_errc::wrong_type, field,
              std::string("must be ") + expected + ", got " + json_type_name(got));
}

decode_error missing(std::string_view field) {
  return fail(decode_errc::missing_field, field, "is required");
}

// Boost.JSON holds an integer literal as int64 or uint64 when it fits in 64 bits, and as a double
// otherwise (a fraction, an exponent, or more bits). Only the integer kinds are integers here, so
// 2.0, 1e30 and 2^64 are wrong_type, while 0, -1 and 2^63 are invalid_value.
decode_error not_an_integer(std::string_view field, const seen_value& v) {
  if (v.kind == json::kind::double_) {
    return fail(decode_errc::wrong_type, field,
                "must be an integer, got a number with a fraction, an exponent or more than 64 "
                "bits");
  }
  return wrong_type(field, "an integer", v.kind);
}

std::string integer_text(const seen_value& v) {
  return v.kind == json::kind::uint64 ? std::to_string(v.uint64) : std::to_string(v.int64);
}

boost::system::result<void, decode_error> check_text(const order_handler& h, key k,
                                                     std::string_view field) {
  const seen_value& v = h.seen(k);
  if (!v.present) {
    return missing(field);
  }
  if (v.kind != json::kind::string) {
    return wrong_type(field, "a string", v.kind);
  }
  return {};
}

// The fields in the order the schema checks them; the handler has put user and item in `order`.
boost::system::result<void, decode_error> check_fields(const order_handler& h,
                                                       order_placed& order) {
  // The version first: a later version may rename fields, and "unknown_version" tells the
  // operator more than "missing_field" would.
  if (const seen_value& v = h.seen(key::schema_version); v.present) {
    if (v.kind != json::kind::int64 && v.kind != json::kind::uint64) {
      return not_an_integer("schema_version", v);
    }
    if (v.kind != json::kind::int64 || v.int64 != schema_version) {
      return fail(decode_errc::unknown_version, "schema_version",
                  "must be " + std::to_string(schema_version) + ", got " + integer_text(v));
    }
  }

  if (const seen_value& id = h.seen(key::order_id); !id.present) {
    return missing("order_id");
  } else if (id.kind != json::kind::string) {
    return wrong_type("order_id", "a UUID string", id.kind);
  }
  if (!parse_uuid(h.id_text(), order.order_id)) {
    return fail(decode_errc::invalid_value, "order_id",
                "must be a UUID as 36 characters: 8-4-4-4-12 hex digits");
  }

  if (auto r = check_text(h, key::user, "user"); !r) {
    return r;
  }
  if (auto r = check_text(h, key::item, "item"); !r) {
    return r;
  }

  const seen_value& quantity = h.seen(key::quantity);
  if (!quantity.present) {
    return missing("quantity");
  }
  if (quantity.kind == json::kind::int64) {
    order.quantity = quantity.int64;  // range checked by validate()
  } else if (quantity.kind == json::kind::uint64) {
    // The parser only uses uint64 above INT64_MAX: out of range whatever max_quantity is.
    return fail(decode_errc::invalid_value, "quantity",
                quantity_range_detail() + ", got " + integer_text(quantity));
  } else {
    return not_an_integer("quantity", quantity);
  }

  return validate_fields(order, /*utf8_checked=*/true);
}

boost::system::result<void, decode_error> decode_payload(std::string_view payload,
                                                         order_placed& order) {
  if (payload.size() > max_payload_bytes) {
    return fail(decode_errc::too_large, {},
                "payload is " + std::to_string(payload.size()) + " bytes, the limit is " +
                    std::to_string(max_payload_bytes));
  }

  // No heap: with the whole payload at hand (more = false) the parser never suspends, so its
  // state stack stays empty, and text with escapes is unescaped in a buffer on the stack.
  json::basic_parser<order_handler> parser(json::parse_options(), order);
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(false, payload.data(), payload.size(), ec);
  if (!ec && used < payload.size()) {
    ec = json::error::extra_data;  // as json::parser::write does
  }
  if (ec) {
    return fail(decode_errc::not_json, {}, ec.message() + " at byte " + std::to_string(used));
  }
  const order_handler& h = parser.handler();
  if (h.document_kind() != json::kind::object) {
    return fail(
        decode_errc::not_an_object, {},
        std::string("the payload must be a JSON object, got ") + json_type_name(h.document_kind()));
  }
  return check_fields(h, order);
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

// The exact text encode() writes, when neither text needs an escape:
//   {"order_id":"<uuid>","user":"<text>","item":"<text>","quantity":<n>,"schema_version":1}
// That is nearly every message on the topic, and a straight scan recognises it for a fraction of
// the general tokeniser's cost. It accepts only what the general decoder accepts with the same
// result (valid JSON, the same fields, the same checks); anything else, valid or not, returns
// false and goes to the general decoder, which gives the order or the precise error.
bool decode_canonical(std::string_view p, order_placed& order) noexcept {
  std::size_t i = 0;
  const auto literal = [&](std::string_view text) {
    if (p.substr(i, text.size()) != text) return false;
    i += text.size();
    return true;
  };
  // Unescaped text up to its closing quote: no control character, valid UTF-8, 1 to
  // max_text_bytes bytes (a longer text is not an order: the general decoder says why).
  const auto text = [&](std::string& out) {
    const std::size_t start = i;
    const std::size_t limit = std::min(p.size(), start + max_text_bytes + 1);
    while (i < limit && p[i] != '"') {
      const auto c = static_cast<unsigned char>(p[i]);
      if (c < 0x20 || c == '\\') return false;
      ++i;
    }
    if (i == limit || i == start) return false;
    const std::string_view t = p.substr(start, i - start);
    if (!is_valid_utf8(t)) return false;
    out.assign(t);
    ++i;
    return true;
  };
  if (!literal(R"({"order_id":")") || p.size() < i + 36 ||
      !parse_uuid(p.substr(i, 36), order.order_id) || order.order_id.is_nil()) {
    return false;
  }
  i += 36;
  if (!literal(R"(","user":")") || !text(order.user) || !literal(R"(,"item":")") ||
      !text(order.item) || !literal(R"(,"quantity":)")) {
    return false;
  }
  // 1 to max_quantity as to_chars writes it: no sign, no leading zero, at most 7 digits.
  std::int64_t quantity = 0;
  const std::size_t digits_start = i;
  while (i < p.size() && i - digits_start < 8 && p[i] >= '0' && p[i] <= '9')
    quantity = quantity * 10 + (p[i++] - '0');
  if (i == digits_start || p[digits_start] == '0' || quantity > max_quantity) return false;
  order.quantity = quantity;
  return p.substr(i) == R"(,"schema_version":1})";
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

namespace {

boost::system::result<void, decode_error> validate_fields(const order_placed& order,
                                                          bool utf8_checked) {
  if (order.order_id.is_nil()) {
    return fail(decode_errc::invalid_value, "order_id", "must not be the nil UUID");
  }
  if (auto r = validate_text("user", order.user, utf8_checked); !r) {
    return r;
  }
  if (auto r = validate_text("item", order.item, utf8_checked); !r) {
    return r;
  }
  if (order.quantity < 1 || order.quantity > max_quantity) {
    return fail(decode_errc::invalid_value, "quantity",
                quantity_range_detail() + ", got " + std::to_string(order.quantity));
  }
  return {};
}

}  // namespace

boost::system::result<void, decode_error> validate(const order_placed& order) {
  return validate_fields(order, /*utf8_checked=*/false);
}

boost::system::result<void, decode_error> decode(std::string_view payload,
                                                 order_placed& order) noexcept {
  try {
    if (decode_canonical(payload, order)) return {};
    return decode_payload(payload, order);
  } catch (const std::exception& e) {
    // Only allocation failures reach here; a consumer loop must get a value, not an exception.
    return last_resort(e);
  }
}

boost::system::result<order_placed, decode_error> decode(std::string_view payload) noexcept {
  order_placed order;
  if (auto decoded = decode(payload, order); !decoded) {
    return std::move(decoded).error();
  }
  return order;
}

namespace detail {

bool decode_canonical_form(std::string_view payload, order_placed& order) noexcept {
  return decode_canonical(payload, order);
}

boost::system::result<void, decode_error> decode_general(std::string_view payload,
                                                         order_placed& order) noexcept {
  try {
    return decode_payload(payload, order);
  } catch (const std::exception& e) {
    return last_resort(e);
  }
}

}  // namespace detail

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
