#include "common/events/order_placed.hpp"

#define BOOST_TEST_MODULE order_placed
#include <boost/test/unit_test.hpp>

// Helpers for building and checking payloads.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>
#include <boost/uuid/string_generator.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace events = order_tracker::events;
using events::decode_errc;
using namespace std::literals;

namespace {

constexpr std::string_view valid_id = "0f8fad5b-d9cb-469f-a165-70867728950e";

boost::uuids::uuid uuid_of(std::string_view text) {
  return boost::uuids::string_generator()(text.begin(), text.end());
}

events::order_placed sample_order() {
  return {uuid_of(valid_id), "John Doe", "Shoes", 2};
}

/// A payload as the seed producer writes it, with `key` set to the raw JSON `value`, or removed
/// when `value` is empty. Keys not in the seed payload are appended.
std::string payload_with(std::string_view key, std::optional<std::string_view> value) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"order_id", "\"" + std::string(valid_id) + "\""},
      {"user", R"("John Doe")"},
      {"item", R"("Shoes")"},
      {"quantity", "2"},
  };
  bool found = false;
  for (auto it = fields.begin(); it != fields.end();) {
    if (it->first == key) {
      found = true;
      if (!value) {
        it = fields.erase(it);
        continue;
      }
      it->second = *value;
    }
    ++it;
  }
  if (!found && value) {
    fields.emplace_back(key, *value);
  }
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1) {
      out += ", ";
    }
    out += "\"" + k + "\": " + v;
  }
  return out + "}";
}

std::string payload_without(std::string_view key) {
  return payload_with(key, std::nullopt);
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

void check_error(std::string_view payload, decode_errc expected, std::string_view field) {
  BOOST_TEST_CONTEXT("payload: " << payload.substr(0, 200)) {
    const auto result = events::decode(payload);
    BOOST_TEST_REQUIRE(result.has_error());
    BOOST_TEST(result.error().code == events::make_error_code(expected));
    BOOST_TEST(result.error().field == field);
    BOOST_TEST(!result.error().detail.empty());
  }
}

events::order_placed check_decodes(std::string_view payload) {
  const auto result = events::decode(payload);
  BOOST_TEST_CONTEXT("payload: " << payload.substr(0, 200)) {
    if (result.has_error()) {
      BOOST_FAIL("expected an order, got " << result.error().message());
    }
  }
  return *result;
}

std::string round_trip_failure(const events::order_placed& order) {
  const auto decoded = events::decode(events::encode(order));
  if (decoded.has_error()) {
    return decoded.error().message();
  }
  return *decoded == order ? "" : "decoded to a different order";
}

/// Invariants of any decode result, whatever the input.
void check_total(std::string_view payload) {
  static const std::set<std::string> field_names = {"order_id", "user", "item", "quantity",
                                                    "schema_version"};
  const auto result = events::decode(payload);
  if (result.has_value()) {
    BOOST_TEST(events::validate(*result).has_value());
    BOOST_TEST(round_trip_failure(*result) == "");
    return;
  }
  const auto& error = result.error();
  BOOST_TEST_REQUIRE(&error.code.category() == &events::decode_category());
  const auto code = static_cast<decode_errc>(error.code.value());
  BOOST_TEST((code >= decode_errc::too_large && code <= decode_errc::unknown_version));
  const bool about_payload = code == decode_errc::too_large || code == decode_errc::not_json ||
                             code == decode_errc::not_an_object;
  if (about_payload) {
    BOOST_TEST(error.field.empty());
  } else {
    BOOST_TEST(field_names.count(error.field) == 1);
  }
  BOOST_TEST(!error.message().empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(error_codes)

BOOST_AUTO_TEST_CASE(the_category_is_named_order_placed_and_names_each_code) {
  BOOST_TEST(events::decode_category().name() == std::string("order_placed"));
  const std::vector<std::pair<decode_errc, std::string>> names = {
      {decode_errc::too_large, "too_large"},
      {decode_errc::not_json, "not_json"},
      {decode_errc::not_an_object, "not_an_object"},
      {decode_errc::missing_field, "missing_field"},
      {decode_errc::wrong_type, "wrong_type"},
      {decode_errc::invalid_value, "invalid_value"},
      {decode_errc::unknown_version, "unknown_version"},
  };
  for (const auto& [code, name] : names) {
    const boost::system::error_code ec = code;  // through is_error_code_enum
    BOOST_TEST(&ec.category() == &events::decode_category());
    BOOST_TEST(ec.message() == name);
    BOOST_TEST(static_cast<bool>(ec));
  }
}

BOOST_AUTO_TEST_CASE(an_error_message_reads_code_then_field_then_detail) {
  const events::decode_error error{events::make_error_code(decode_errc::invalid_value), "quantity",
                                   "must be an integer from 1 to 1000000"};
  BOOST_TEST(error.message() == "invalid_value: quantity: must be an integer from 1 to 1000000");
}

BOOST_AUTO_TEST_CASE(an_error_message_omits_an_empty_field) {
  const events::decode_error error{events::make_error_code(decode_errc::not_json), "",
                                   "syntax error at byte 0"};
  BOOST_TEST(error.message() == "not_json: syntax error at byte 0");
}

BOOST_AUTO_TEST_CASE(the_decoded_message_names_the_limit_an_operator_must_respect) {
  const auto result = events::decode(payload_with("quantity", "0"));
  BOOST_TEST_REQUIRE(result.has_error());
  BOOST_TEST(result.error().message() ==
             "invalid_value: quantity: must be an integer from 1 to 1000000, got 0");
}

BOOST_AUTO_TEST_CASE(value_of_a_failed_result_throws_system_error_with_the_code_and_message) {
  const auto result = events::decode("[]");
  try {
    (void)result.value();
    BOOST_FAIL("value() did not throw");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(e.code() == events::make_error_code(decode_errc::not_an_object));
    BOOST_TEST(std::string(e.what()).find("not_an_object") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(decode_is_declared_noexcept) {
  BOOST_TEST(noexcept(events::decode(std::string_view())));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(encoding)

BOOST_AUTO_TEST_CASE(encode_writes_compact_json_with_schema_version_1) {
  BOOST_TEST(events::encode(sample_order()) ==
             R"({"order_id":"0f8fad5b-d9cb-469f-a165-70867728950e","user":"John Doe",)"
             R"("item":"Shoes","quantity":2,"schema_version":1})");
}

BOOST_AUTO_TEST_CASE(encode_appends_to_what_the_buffer_already_holds) {
  std::string out = "prefix:";
  events::encode(sample_order(), out);
  BOOST_TEST(out == "prefix:" + events::encode(sample_order()));
}

BOOST_AUTO_TEST_CASE(encode_writes_the_uuid_in_lowercase) {
  auto order = sample_order();
  order.order_id = uuid_of("ABCDEF01-2345-6789-ABCD-EF0123456789");
  BOOST_TEST(events::encode(order).find(R"("abcdef01-2345-6789-abcd-ef0123456789")") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(encode_escapes_quotes_backslashes_and_control_characters) {
  auto order = sample_order();
  order.user = std::string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f", 14) + std::string(1, '\0');
  order.item = "caf\xc3\xa9 \xf0\x9f\x91\x9f";  // UTF-8 is copied as it is
  const std::string encoded = events::encode(order);
  BOOST_TEST(encoded.find(R"("user":"q\"b\\s/\b\f\n\r\t\u0001\u001f)"
                          "\x7f"
                          R"(\u0000")") != std::string::npos);
  BOOST_TEST(encoded.find("\"item\":\"caf\xc3\xa9 \xf0\x9f\x91\x9f\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(encoded_output_is_json_with_exactly_the_expected_keys_and_types) {
  auto order = sample_order();
  order.user = "a \"quoted\" \\ name\n\twith\x02 controls";
  order.item = "\xe6\x97\xa5\xe6\x9c\xac";
  order.quantity = events::max_quantity;
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(events::encode(order), ec);
  BOOST_TEST_REQUIRE(!ec, ec.message());
  BOOST_TEST_REQUIRE(parsed.is_object());
  const auto& object = parsed.get_object();
  std::set<std::string> keys;
  for (const auto& entry : object) {
    keys.insert(std::string(entry.key()));
  }
  BOOST_TEST(
      (keys == std::set<std::string>{"order_id", "user", "item", "quantity", "schema_version"}));
  BOOST_TEST(object.at("order_id").as_string() == valid_id);
  BOOST_TEST(object.at("user").as_string() == order.user);
  BOOST_TEST(object.at("item").as_string() == order.item);
  BOOST_TEST(object.at("quantity").as_int64() == events::max_quantity);
  BOOST_TEST(object.at("schema_version").as_int64() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(round_trip)

BOOST_AUTO_TEST_CASE(encoded_orders_decode_to_the_same_order) {
  const std::vector<events::order_placed> orders = {
      sample_order(),
      {uuid_of("ffffffff-ffff-ffff-ffff-ffffffffffff"), "Jos\xc3\xa9 M\xc3\xbcller",
       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x91\x9f", 1},
      {uuid_of("00000000-0000-0000-0000-000000000001"), R"(say "hi")", R"(C:\path\to\file)",
       events::max_quantity},
      {uuid_of(valid_id), "tab\tnl\ncr\rnul\0end"s, "\x01\x02\x1b\x1f\x7f", 3},
      {uuid_of(valid_id), std::string(events::max_text_bytes, 'u'),
       std::string(events::max_text_bytes, 'i'), 42},
      {uuid_of(valid_id), "/", "\xe2\x80\xa8 line separator", 7},
  };
  for (const auto& order : orders) {
    BOOST_TEST_CONTEXT("order: " << events::encode(order)) {
      BOOST_TEST_REQUIRE(events::validate(order).has_value());
      BOOST_TEST(round_trip_failure(order) == "");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seed_compatibility)

BOOST_AUTO_TEST_CASE(decodes_exactly_what_the_seed_producer_writes) {
  // json.dumps(order1).encode("utf-8") in seed/producer.py
  const auto order =
      check_decodes(R"({"order_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "user": "John Doe", )"
                    R"("item": "Shoes", "quantity": 2})");
  BOOST_TEST((order == sample_order()));
}

BOOST_AUTO_TEST_CASE(decodes_the_ascii_escapes_python_writes_for_non_ascii_text) {
  // json.dumps escapes non-ASCII by default (ensure_ascii=True), astral characters as pairs.
  const auto order =
      check_decodes(R"({"order_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "user": "Jos\u00e9", )"
                    R"("item": "\ud83d\udc5f", "quantity": 2})");
  BOOST_TEST(order.user == "Jos\xc3\xa9");
  BOOST_TEST(order.item == "\xf0\x9f\x91\x9f");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
  const auto order = check_decodes(
      payload_with("created_at", R"("2024-05-01T12:00:00Z")").insert(1, R"("note": null, )"));
  BOOST_TEST((order == sample_order()));
  check_decodes(payload_with("extra", R"({"nested": [1, 2.5, {"deep": true}], "x": "y"})"));
}

BOOST_AUTO_TEST_CASE(field_order_and_whitespace_do_not_matter) {
  const auto order = check_decodes(
      "\r\n\t {  \"quantity\":2 ,\"item\"\n:\"Shoes\",\"user\":\"John Doe\", "
      "\"order_id\" : \"0f8fad5b-d9cb-469f-a165-70867728950e\"}  \n");
  BOOST_TEST((order == sample_order()));
}

BOOST_AUTO_TEST_CASE(with_duplicate_keys_the_last_one_wins_as_in_python_json_loads) {
  const auto order = check_decodes(payload_with("quantity", "2").insert(1, R"("quantity": 0, )"));
  BOOST_TEST(order.quantity == 2);
  check_error(payload_with("quantity", "0").insert(1, R"("quantity": 2, )"),
              decode_errc::invalid_value, "quantity");
}

BOOST_AUTO_TEST_CASE(an_order_id_in_uppercase_hex_is_accepted) {
  const auto order =
      check_decodes(payload_with("order_id", R"("0F8FAD5B-D9CB-469F-A165-70867728950E")"));
  BOOST_TEST((order.order_id == uuid_of(valid_id)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(schema_version)

BOOST_AUTO_TEST_CASE(an_absent_schema_version_means_version_1) {
  BOOST_TEST((check_decodes(payload_without("schema_version")) == sample_order()));
}

BOOST_AUTO_TEST_CASE(schema_version_1_is_accepted) {
  BOOST_TEST((check_decodes(payload_with("schema_version", "1")) == sample_order()));
}

BOOST_AUTO_TEST_CASE(any_other_integer_version_is_unknown_version) {
  for (const char* version : {"2", "0", "-1", "9223372036854775807", "18446744073709551615"}) {
    check_error(payload_with("schema_version", version), decode_errc::unknown_version,
                "schema_version");
  }
}

BOOST_AUTO_TEST_CASE(a_non_integer_version_is_wrong_type) {
  for (const char* version : {R"("1")", "1.0", "1.5", "true", "null", "[1]", "{}"}) {
    check_error(payload_with("schema_version", version), decode_errc::wrong_type, "schema_version");
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_version_is_reported_before_missing_fields) {
  check_error(R"({"schema_version": 2, "id": "x"})", decode_errc::unknown_version,
              "schema_version");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(malformed_payloads)

BOOST_AUTO_TEST_CASE(empty_bytes_are_not_json) {
  check_error("", decode_errc::not_json, "");
}

BOOST_AUTO_TEST_CASE(text_that_is_not_json_is_not_json) {
  for (const char* text : {"hello", "{order_id: 1}", "{'user': 'x'}", R"({"a": 1,})", "/* c */ {}",
                           R"({"a" 1})", "{\"a\": NaN}", "   "}) {
    check_error(text, decode_errc::not_json, "");
  }
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_valid_payload_is_not_json) {
  const std::string payload = payload_with("schema_version", "1");
  for (std::size_t n = 0; n < payload.size(); ++n) {
    check_error(std::string_view(payload).substr(0, n), decode_errc::not_json, "");
  }
}

BOOST_AUTO_TEST_CASE(bytes_after_the_object_are_not_json) {
  check_error(payload_without("x") + " {}", decode_errc::not_json, "");
  check_error(payload_without("x") + "x", decode_errc::not_json, "");
  check_error(payload_without("x") + std::string(1, '\0'), decode_errc::not_json, "");
}

BOOST_AUTO_TEST_CASE(random_binary_bytes_are_not_json) {
  check_error(std::string("\x00\x01\x02\xff\xfe\x80\x7f", 7), decode_errc::not_json, "");
  check_error("\x89PNG\r\n\x1a\n", decode_errc::not_json, "");
  check_error("\xef\xbb\xbf{}", decode_errc::not_json, "");  // a UTF-8 byte order mark
}

BOOST_AUTO_TEST_CASE(invalid_utf8_anywhere_is_not_json) {
  for (const char* bad : {"\xff", "\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xc3",
                          "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80"}) {
    check_error(payload_with("user", quoted(std::string("a") + bad + "b")), decode_errc::not_json,
                "");
    check_error(payload_with("created_at", quoted(bad)), decode_errc::not_json, "");
    check_error("{" + quoted(bad) + ": 1, " + payload_without("x").substr(1), decode_errc::not_json,
                "");
  }
}

BOOST_AUTO_TEST_CASE(a_lone_utf16_surrogate_escape_is_not_json) {
  check_error(payload_with("user", R"("\ud800")"), decode_errc::not_json, "");
  check_error(payload_with("user", R"("\udc00")"), decode_errc::not_json, "");
}

BOOST_AUTO_TEST_CASE(a_top_level_value_other_than_an_object_is_not_an_object) {
  for (const char* text :
       {"[]", R"([{"order_id": "x"}])", R"("order")", "42", "-1.5", "null", "true", "false"}) {
    check_error(text, decode_errc::not_an_object, "");
  }
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_32_levels_is_not_json_even_in_unknown_fields) {
  check_error(payload_with("extra", std::string(40, '[') + std::string(40, ']')),
              decode_errc::not_json, "");
  check_decodes(payload_with("extra", std::string(30, '[') + std::string(30, ']')));
}

BOOST_AUTO_TEST_CASE(a_payload_over_max_payload_bytes_is_too_large_before_parsing) {
  const std::string base = payload_without("x");
  std::string exact = base;
  exact.insert(1, events::max_payload_bytes - base.size(), ' ');
  BOOST_TEST_REQUIRE(exact.size() == events::max_payload_bytes);
  check_decodes(exact);

  check_error(" " + exact, decode_errc::too_large, "");
  // Not parsed: the same size of garbage gives the same answer.
  check_error(std::string(events::max_payload_bytes + 1, '\xff'), decode_errc::too_large, "");
}

BOOST_AUTO_TEST_CASE(a_one_mebibyte_user_makes_the_payload_too_large) {
  check_error(payload_with("user", quoted(std::string(1024 * 1024, 'u'))), decode_errc::too_large,
              "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(required_fields)

BOOST_AUTO_TEST_CASE(each_missing_field_is_named) {
  for (const char* field : {"order_id", "user", "item", "quantity"}) {
    check_error(payload_without(field), decode_errc::missing_field, field);
  }
  check_error("{}", decode_errc::missing_field, "order_id");
}

BOOST_AUTO_TEST_CASE(field_names_are_case_sensitive) {
  auto payload = payload_without("quantity");
  payload.insert(1, R"("Quantity": 2, )");
  check_error(payload, decode_errc::missing_field, "quantity");
}

BOOST_AUTO_TEST_CASE(a_text_field_holding_another_type_is_wrong_type) {
  for (const char* field : {"order_id", "user", "item"}) {
    for (const char* value : {"1", "1.5", "true", "null", "[]", R"(["x"])", "{}"}) {
      check_error(payload_with(field, value), decode_errc::wrong_type, field);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_quantity_that_is_not_an_integer_is_wrong_type) {
  for (const char* value :
       {R"("2")", "2.0", "2.5", "1e2", "-0.0", "true", "false", "null", "[2]", "{}"}) {
    check_error(payload_with("quantity", value), decode_errc::wrong_type, "quantity");
  }
}

BOOST_AUTO_TEST_CASE(a_quantity_beyond_64_bits_is_wrong_type_as_json_holds_it_as_a_double) {
  for (const char* value :
       {"1e30", "18446744073709551616", "-9223372036854775809", "99999999999999999999999"}) {
    check_error(payload_with("quantity", value), decode_errc::wrong_type, "quantity");
  }
}

BOOST_AUTO_TEST_CASE(a_64_bit_quantity_outside_1_to_max_quantity_is_invalid_value) {
  const std::string over = std::to_string(events::max_quantity + 1);
  for (const char* value : {"0", "-0", "-1", over.c_str(), "9223372036854775807",
                            "9223372036854775808",  // 2^63, held as uint64
                            "18446744073709551615", "-9223372036854775808"}) {
    check_error(payload_with("quantity", value), decode_errc::invalid_value, "quantity");
  }
}

BOOST_AUTO_TEST_CASE(quantities_1_and_max_quantity_are_accepted) {
  BOOST_TEST(check_decodes(payload_with("quantity", "1")).quantity == 1);
  BOOST_TEST(
      check_decodes(payload_with("quantity", std::to_string(events::max_quantity))).quantity ==
      events::max_quantity);
}

BOOST_AUTO_TEST_CASE(an_order_id_that_is_not_a_canonical_uuid_is_invalid_value) {
  for (const char* id : {
           "",
           "0f8fad5b-d9cb-469f-a165-70867728950",    // too short
           "0f8fad5b-d9cb-469f-a165-70867728950e0",  // too long
           "0f8fad5b-d9cb-469f-a165-70867728950g",   // not hex
           "{0f8fad5b-d9cb-469f-a165-70867728950e}",
           "0f8fad5bd9cb469fa16570867728950e",  // no dashes
           "0f8fad5b-d9cb469f-a165-70867728950e-",
           "0f8fad5bd-9cb-469f-a165-70867728950e",  // dash misplaced
           "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
           " 0f8fad5b-d9cb-469f-a165-70867728950e",
           "0f8fad5b-d9cb-469f-a165-70867728950e ",
           "0f8fad5b+d9cb-469f-a165-70867728950e",
           "+f8fad5b-d9cb-469f-a165-70867728950e",
           "order-1",
       }) {
    check_error(payload_with("order_id", quoted(id)), decode_errc::invalid_value, "order_id");
  }
}

BOOST_AUTO_TEST_CASE(the_nil_uuid_is_invalid_value) {
  check_error(payload_with("order_id", R"("00000000-0000-0000-0000-000000000000")"),
              decode_errc::invalid_value, "order_id");
}

BOOST_AUTO_TEST_CASE(an_empty_user_or_item_is_invalid_value) {
  check_error(payload_with("user", R"("")"), decode_errc::invalid_value, "user");
  check_error(payload_with("item", R"("")"), decode_errc::invalid_value, "item");
}

BOOST_AUTO_TEST_CASE(text_over_max_text_bytes_is_invalid_value) {
  check_error(payload_with("item", quoted(std::string(300, 'i'))), decode_errc::invalid_value,
              "item");
  check_error(payload_with("user", quoted(std::string(events::max_text_bytes + 1, 'u'))),
              decode_errc::invalid_value, "user");
  BOOST_TEST(check_decodes(payload_with("user", quoted(std::string(events::max_text_bytes, 'u'))))
                 .user.size() == events::max_text_bytes);
}

BOOST_AUTO_TEST_CASE(the_text_limit_counts_utf8_bytes_not_characters) {
  std::string two_byte_chars;
  for (std::size_t i = 0; i < events::max_text_bytes / 2; ++i) {
    two_byte_chars += "\xc3\xa9";
  }
  check_decodes(payload_with("user", quoted(two_byte_chars)));
  check_error(payload_with("user", quoted(two_byte_chars + "\xc3\xa9")), decode_errc::invalid_value,
              "user");
  // Six escaped characters in the payload, one byte once decoded.
  check_decodes(
      payload_with("user", quoted(std::string(events::max_text_bytes - 1, 'u') + R"(\u0041)")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(a_well_formed_order_is_valid) {
  BOOST_TEST(events::validate(sample_order()).has_value());
}

BOOST_AUTO_TEST_CASE(validate_names_the_field_at_fault) {
  const auto check = [](events::order_placed order, std::string_view field) {
    const auto result = events::validate(order);
    BOOST_TEST_REQUIRE(result.has_error());
    BOOST_TEST(result.error().code == events::make_error_code(decode_errc::invalid_value));
    BOOST_TEST(result.error().field == field);
  };
  auto order = sample_order();
  order.order_id = boost::uuids::uuid{};
  check(order, "order_id");

  for (const std::string& bad :
       {std::string(), std::string(events::max_text_bytes + 1, 'x'), std::string("\xff"),
        std::string("\xc3"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    order = sample_order();
    order.user = bad;
    check(order, "user");
    order = sample_order();
    order.item = bad;
    check(order, "item");
  }

  for (const std::int64_t quantity : {std::int64_t{0}, std::int64_t{-1}, events::max_quantity + 1,
                                      std::numeric_limits<std::int64_t>::min()}) {
    order = sample_order();
    order.quantity = quantity;
    check(order, "quantity");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(totality)

BOOST_AUTO_TEST_CASE(decode_gives_a_value_or_an_error_for_pseudo_random_bytes) {
  std::mt19937 random(20240501);  // fixed: the same inputs on every run and platform
  std::uniform_int_distribution<int> length(0, 200);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> coin(0, 1);
  constexpr std::string_view json_alphabet = "{}[]\":,0123456789-+.eE tfnulrsa\\u\x7f\xc3\xa9";
  std::uniform_int_distribution<std::size_t> symbol(0, json_alphabet.size() - 1);
  for (int i = 0; i < 4000; ++i) {
    std::string bytes(static_cast<std::size_t>(length(random)), '\0');
    const bool json_like = coin(random) == 1;  // biased towards getting past the first byte
    for (char& c : bytes) {
      c = json_like ? json_alphabet[symbol(random)] : static_cast<char>(byte(random));
    }
    if (json_like) {
      bytes.insert(0, "{");
    }
    check_total(bytes);
  }
}

BOOST_AUTO_TEST_CASE(decode_gives_a_value_or_an_error_for_mutations_of_a_valid_payload) {
  const std::string valid = payload_with("schema_version", "1");
  constexpr std::string_view interesting = "{}[]\":,\\0129-.eE \x00\x1f\x7f\x80\xff"sv;
  std::mt19937 random(1717);
  std::uniform_int_distribution<int> edits(1, 4);
  std::uniform_int_distribution<int> kind(0, 4);
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> special(0, interesting.size() - 1);
  int decoded = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string bytes = valid;
    for (int e = edits(random); e > 0; --e) {
      std::uniform_int_distribution<std::size_t> at(0, bytes.empty() ? 0 : bytes.size() - 1);
      const std::size_t pos = at(random);
      const char c =
          coin(random) == 1 ? interesting[special(random)] : static_cast<char>(byte(random));
      switch (kind(random)) {
        case 0:
          if (!bytes.empty()) {
            bytes[pos] = c;
          }
          break;
        case 1:
          bytes.insert(pos, 1, c);
          break;
        case 2:
          if (!bytes.empty()) {
            bytes.erase(pos, 1);
          }
          break;
        case 3:
          bytes.resize(pos);
          break;
        default:
          if (!bytes.empty()) {
            bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (byte(random) % 8)));
          }
          break;
      }
    }
    check_total(bytes);
    decoded += events::decode(bytes).has_value() ? 1 : 0;
  }
  BOOST_TEST_MESSAGE(decoded << " of 4000 mutations still decoded");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(nesting_and_keys)

BOOST_AUTO_TEST_CASE(a_field_name_nested_in_another_value_is_not_the_field) {
  auto payload = payload_without("user");
  payload.insert(1, R"("extra": {"user": "John Doe", "list": [{"user": "x"}]}, )");
  check_error(payload, decode_errc::missing_field, "user");
  const auto order = check_decodes(payload_with("extra", R"({"quantity": 0, "item": 5})"));
  BOOST_TEST((order == sample_order()));
}

BOOST_AUTO_TEST_CASE(a_key_with_escapes_names_the_field_it_spells) {
  auto payload = payload_without("user");
  payload.insert(1, R"("\u0075s\u0065r": "John Doe", )");
  BOOST_TEST((check_decodes(payload) == sample_order()));
}

BOOST_AUTO_TEST_CASE(with_duplicate_text_keys_the_last_text_replaces_the_first) {
  const auto order = check_decodes(
      payload_with("user", R"("Bo")").insert(1, R"("user": "Alexandra the Great", )"));
  BOOST_TEST(order.user == "Bo");
  check_error(payload_with("user", "5").insert(1, R"("user": "John Doe", )"),
              decode_errc::wrong_type, "user");
  BOOST_TEST((check_decodes(payload_with("user", R"("John Doe")").insert(1, R"("user": 5, )")) ==
              sample_order()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(decoding_into_a_reused_order)

BOOST_AUTO_TEST_CASE(decode_into_an_order_is_declared_noexcept) {
  events::order_placed order;
  BOOST_TEST(noexcept(events::decode(std::string_view(), order)));
}

BOOST_AUTO_TEST_CASE(gives_the_order_that_decode_gives) {
  events::order_placed order;
  for (const std::string& payload :
       {payload_without("x"), payload_with("schema_version", "1"), events::encode(sample_order()),
        std::string(R"({"order_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "user": "Jos\u00e9", )"
                    R"("item": "\ud83d\udc5f", "quantity": 2})")}) {
    BOOST_TEST_CONTEXT("payload: " << payload) {
      const auto decoded = events::decode(payload, order);
      BOOST_TEST_REQUIRE(decoded.has_value(), decoded.error().message());
      BOOST_TEST((order == check_decodes(payload)));
    }
  }
}

BOOST_AUTO_TEST_CASE(gives_the_error_that_decode_gives) {
  events::order_placed order;
  for (const std::string& payload :
       {std::string(), std::string("[]"), payload_without("item"), payload_with("user", "[1]"),
        payload_with("quantity", "0"), payload_with("quantity", "2.5"),
        payload_with("schema_version", "2"), payload_with("order_id", R"("order-1")"),
        " " + std::string(events::max_payload_bytes, ' ')}) {
    BOOST_TEST_CONTEXT("payload: " << payload.substr(0, 200)) {
      const auto expected = events::decode(payload);
      const auto decoded = events::decode(payload, order);
      BOOST_TEST_REQUIRE(decoded.has_error());
      BOOST_TEST(decoded.error().code == expected.error().code);
      BOOST_TEST(decoded.error().field == expected.error().field);
      BOOST_TEST(decoded.error().detail == expected.error().detail);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_good_message_after_a_bad_one_decodes_whole_with_nothing_left_over) {
  const events::order_placed second{uuid_of("00000000-0000-0000-0000-000000000001"), "Al", "Pen",
                                    5};
  // Each bad payload gets some way before failing, leaving text in the order.
  const std::vector<std::string> bad = {
      payload_with("user", R"("Alexandra the Great")") + "x",  // not JSON at the end
      R"({"user": "Alexandra the Great", "item": "Shoes", "quantity": 2})",
      R"({"order_id": ")" + std::string(valid_id) +
          R"(", "user": "Alexandra the Great", "item": "a long item name", "quantity": "2"})",
      payload_with("quantity", "0"),
      payload_with("user", quoted(std::string(events::max_text_bytes + 1, 'u'))),
  };
  for (const auto& payload : bad) {
    BOOST_TEST_CONTEXT("bad payload: " << payload.substr(0, 200)) {
      events::order_placed order;
      BOOST_TEST_REQUIRE(events::decode(events::encode(sample_order()), order).has_value());
      BOOST_TEST_REQUIRE(events::decode(payload, order).has_error());
      const auto decoded = events::decode(events::encode(second), order);
      BOOST_TEST_REQUIRE(decoded.has_value(), decoded.error().message());
      BOOST_TEST((order == second));
    }
  }
}

BOOST_AUTO_TEST_CASE(shorter_text_replaces_longer_text_from_the_previous_message) {
  events::order_placed order;
  auto longer = sample_order();
  longer.user = std::string(events::max_text_bytes, 'u');
  longer.item = "A rather long item name";
  BOOST_TEST_REQUIRE(events::decode(events::encode(longer), order).has_value());
  BOOST_TEST_REQUIRE(events::decode(events::encode(sample_order()), order).has_value());
  BOOST_TEST((order == sample_order()));
}

BOOST_AUTO_TEST_CASE(the_order_keeps_the_capacity_of_its_text_from_one_message_to_the_next) {
  events::order_placed order;
  auto longer = sample_order();
  longer.user = std::string(100, 'u');
  longer.item = std::string(100, 'i');
  BOOST_TEST_REQUIRE(events::decode(events::encode(longer), order).has_value());
  const char* const user_text = order.user.data();
  const char* const item_text = order.item.data();
  BOOST_TEST_REQUIRE(events::decode(events::encode(sample_order()), order).has_value());
  BOOST_TEST_REQUIRE(events::decode(events::encode(longer), order).has_value());
  BOOST_TEST(static_cast<const void*>(order.user.data()) == static_cast<const void*>(user_text));
  BOOST_TEST(static_cast<const void*>(order.item.data()) == static_cast<const void*>(item_text));
}

BOOST_AUTO_TEST_CASE(agrees_with_decode_for_mutations_of_a_valid_payload_in_one_reused_order) {
  const std::string valid = payload_with("schema_version", "1").insert(1, R"("user": "x", )");
  constexpr std::string_view interesting = "{}[]\":,\\0129-.eEu \x00\x1f\x7f\x80\xff"sv;
  std::mt19937 random(4242);
  std::uniform_int_distribution<int> edits(1, 3);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> special(0, interesting.size() - 1);
  events::order_placed order;
  int decoded = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string bytes = valid;
    for (int e = edits(random); e > 0; --e) {
      std::uniform_int_distribution<std::size_t> at(0, bytes.size());
      const std::size_t pos = at(random);
      const char c =
          byte(random) < 128 ? interesting[special(random)] : static_cast<char>(byte(random));
      if (byte(random) < 128 && pos < bytes.size()) {
        bytes[pos] = c;
      } else {
        bytes.insert(pos, 1, c);
      }
    }
    const auto expected = events::decode(bytes);
    const auto result = events::decode(bytes, order);
    BOOST_TEST_CONTEXT("payload: " << bytes) {
      BOOST_TEST_REQUIRE(result.has_value() == expected.has_value());
      if (expected.has_value()) {
        ++decoded;
        BOOST_TEST((order == *expected));
      } else {
        BOOST_TEST(result.error().code == expected.error().code);
        BOOST_TEST(result.error().field == expected.error().field);
        BOOST_TEST(result.error().detail == expected.error().detail);
      }
    }
  }
  BOOST_TEST_MESSAGE(decoded << " of 4000 mutations decoded");
  BOOST_TEST(decoded > 0);
}

BOOST_AUTO_TEST_SUITE_END()

// decode() first tries a straight scan of the exact text encode() writes, then the general
// decoder. The scan must never accept what the general decoder would refuse or read differently.
BOOST_AUTO_TEST_SUITE(canonical_form)

BOOST_AUTO_TEST_CASE(what_encode_writes_without_escapes_takes_the_straight_scan) {
  const std::vector<events::order_placed> orders = {
      sample_order(),
      {uuid_of("ffffffff-ffff-ffff-ffff-ffffffffffff"), "Jos\xc3\xa9 M\xc3\xbcller",
       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x91\x9f", 1},
      {uuid_of(valid_id), std::string(events::max_text_bytes, 'u'), "\x7f", events::max_quantity},
  };
  for (const auto& order : orders) {
    const std::string wire = events::encode(order);
    BOOST_TEST_CONTEXT("payload: " << wire) {
      events::order_placed scanned;
      BOOST_TEST_REQUIRE(events::detail::decode_canonical_form(wire, scanned));
      BOOST_TEST((scanned == order));
    }
  }
}

BOOST_AUTO_TEST_CASE(anything_else_goes_to_the_general_decoder) {
  const std::string canonical = events::encode(sample_order());
  const std::string id(valid_id);
  const std::vector<std::string> others = {
      // Escaped text, as encode() writes a quote; the seed's spacing; another field order.
      events::encode({uuid_of(valid_id), R"(say "hi")", "Shoes", 2}),
      R"({"order_id": ")" + id + R"(", "user": "John Doe", "item": "Shoes", "quantity": 2})",
      R"({"user":"John Doe","order_id":")" + id +
          R"(","item":"Shoes","quantity":2,"schema_version":1})",
      // Valid orders in a form encode() never writes.
      R"({"order_id":")" + id + R"(","user":"John Doe","item":"Shoes","quantity":2})",
      R"({"order_id":")" + id +
          R"(","user":"John Doe","item":"Shoes","quantity":2,"schema_version":1,"x":0})",
      // Not orders: each must get the general decoder's precise error.
      R"({"order_id":")" + id +
          R"(","user":"John Doe","item":"Shoes","quantity":02,"schema_version":1})",
      R"({"order_id":")" + id +
          R"(","user":"John Doe","item":"Shoes","quantity":0,"schema_version":1})",
      R"({"order_id":")" + id +
          R"(","user":"John Doe","item":"Shoes","quantity":1000001,"schema_version":1})",
      R"({"order_id":")" + id + R"(","user":"","item":"Shoes","quantity":2,"schema_version":1})",
      R"({"order_id":"00000000-0000-0000-0000-000000000000","user":"a","item":"b","quantity":2,"schema_version":1})",
      R"({"order_id":")" + id + R"(","user":")" + std::string(events::max_text_bytes + 1, 'u') +
          R"(","item":"Shoes","quantity":2,"schema_version":1})",
      canonical + " ",
      canonical.substr(0, canonical.size() - 1),
      "{\"order_id\":\"" + id +
          "\",\"user\":\"a\xc0\xaf\",\"item\":\"b\",\"quantity\":2,\"schema_version\":1}",
      "{\"order_id\":\"" + id +
          "\",\"user\":\"a\tb\",\"item\":\"b\",\"quantity\":2,\"schema_version\":1}",
  };
  for (const auto& payload : others) {
    BOOST_TEST_CONTEXT("payload: " << payload) {
      events::order_placed scanned;
      BOOST_TEST(!events::detail::decode_canonical_form(payload, scanned));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_scan_accepts_only_what_the_general_decoder_reads_the_same_way) {
  // Every single-byte change of canonical payloads, at every position, to bytes that matter to
  // the scan; then decode(), which takes either way, against the general decoder alone.
  const std::vector<events::order_placed> orders = {
      sample_order(),
      {uuid_of(valid_id), "Jos\xc3\xa9", "\xf0\x9f\x91\x9f", 999999},
  };
  const std::string bytes = "\"\\\x00\x1f 0129aAf-,:{}\x7f\x80\xbf\xc3\xe6\xf0\xff"s;
  std::size_t scanned_count = 0;
  for (const auto& order : orders) {
    const std::string wire = events::encode(order);
    for (std::size_t pos = 0; pos < wire.size(); ++pos) {
      for (const char b : bytes) {
        std::string mutated = wire;
        mutated[pos] = b;
        events::order_placed scanned;
        events::order_placed general;
        const bool took_scan = events::detail::decode_canonical_form(mutated, scanned);
        const auto reference = events::detail::decode_general(mutated, general);
        events::order_placed via_decode;
        const auto result = events::decode(mutated, via_decode);
        BOOST_TEST_CONTEXT("payload: " << mutated) {
          if (took_scan) {
            ++scanned_count;
            BOOST_TEST_REQUIRE(reference.has_value());
            BOOST_TEST((scanned == general));
          }
          BOOST_TEST_REQUIRE(result.has_value() == reference.has_value());
          if (reference.has_value()) {
            BOOST_TEST((via_decode == general));
          } else {
            BOOST_TEST(result.error().code == reference.error().code);
            BOOST_TEST(result.error().detail == reference.error().detail);
          }
        }
      }
    }
  }
  BOOST_TEST_MESSAGE(scanned_count << " mutations took the straight scan");
  BOOST_TEST(scanned_count > 0);
}

BOOST_AUTO_TEST_SUITE_END()
