#include "services/order/order_request.hpp"

#define BOOST_TEST_MODULE order_request
#include <boost/test/unit_test.hpp>

// Helpers for building bodies and checking refusals.
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace order = order_tracker::order;
using namespace std::literals;

namespace {

/// `{"user": "<user>", "item": "Shoes", "quantity": 2}` with the user spelled out.
std::string body_with_user(std::string_view user) {
  return R"({"user": ")" + std::string(user) + R"(", "item": "Shoes", "quantity": 2})";
}

/// `{"user": "alice", "item": "Shoes", "quantity": <quantity>}` with the JSON text given.
std::string body_with_quantity(std::string_view quantity) {
  return R"({"user": "alice", "item": "Shoes", "quantity": )" + std::string(quantity) + "}";
}

/// The refusal of `body`; fails the test case if the body is accepted.
order::request_error refusal(std::string_view body) {
  auto r = order::parse_order_request(body);
  BOOST_TEST_REQUIRE(!r.has_value(), "accepted: " << body);
  return r.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(accepts)

BOOST_AUTO_TEST_CASE(a_body_with_user_item_and_quantity) {
  const auto r = order::parse_order_request(R"({"user": "alice", "item": "Shoes", "quantity": 2})");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->user == "alice");
  BOOST_TEST(r->item == "Shoes");
  BOOST_TEST(r->quantity == 2);
}

BOOST_AUTO_TEST_CASE(fields_in_any_order_and_with_surrounding_whitespace) {
  const auto r = order::parse_order_request(
      " \n{ \"quantity\" : 7 , \"item\" : \"Hat\", \"user\": \"bob\" }\n");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->user == "bob");
  BOOST_TEST(r->item == "Hat");
  BOOST_TEST(r->quantity == 7);
}

BOOST_AUTO_TEST_CASE(the_smallest_and_largest_quantities) {
  const auto one = order::parse_order_request(body_with_quantity("1"));
  BOOST_TEST_REQUIRE(one.has_value());
  BOOST_TEST(one->quantity == 1);
  const auto most = order::parse_order_request(body_with_quantity("1000000"));
  BOOST_TEST_REQUIRE(most.has_value());
  BOOST_TEST(most->quantity == 1'000'000);
}

BOOST_AUTO_TEST_CASE(a_user_of_exactly_256_bytes) {
  const std::string user(256, 'u');
  const auto r = order::parse_order_request(body_with_user(user));
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->user == user);
}

BOOST_AUTO_TEST_CASE(a_user_of_256_bytes_in_two_byte_characters) {
  std::string user;
  for (int i = 0; i < 128; ++i)
    user += "\xc3\xa9";  // é
  const auto r = order::parse_order_request(body_with_user(user));
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->user == user);
}

BOOST_AUTO_TEST_CASE(escaped_characters_and_decodes_them) {
  const auto r = order::parse_order_request(
      R"({"user": "a\"b\\c \u00e9 \ud83d\ude00", "item": "Shoes", "quantity": 1})");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->user == "a\"b\\c \xc3\xa9 \xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refuses_unknown_fields)

BOOST_AUTO_TEST_CASE(a_misspelt_field_is_refused_and_named) {
  const auto e = refusal(R"({"user": "alice", "item": "Shoes", "quantitiy": 2, "quantity": 2})");
  BOOST_TEST(e.reason == "unknown_field");
  BOOST_TEST(e.field == "quantitiy");
  BOOST_TEST(e.error.find("quantitiy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_order_id_is_the_service_s_to_assign_and_is_refused) {
  const auto e = refusal(
      R"({"order_id": "7f0e7d3c-2a44-4c1e-9a57-0d5d3f1e8b11", "user": "alice", "item": "Shoes", "quantity": 2})");
  BOOST_TEST(e.reason == "unknown_field");
  BOOST_TEST(e.field == "order_id");
}

BOOST_AUTO_TEST_CASE(an_unknown_field_is_refused_even_when_the_others_are_missing) {
  const auto e = refusal(R"({"colour": "red"})");
  BOOST_TEST(e.reason == "unknown_field");
  BOOST_TEST(e.field == "colour");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refuses_missing_fields)

BOOST_AUTO_TEST_CASE(a_missing_user) {
  const auto e = refusal(R"({"item": "Shoes", "quantity": 2})");
  BOOST_TEST(e.reason == "missing_field");
  BOOST_TEST(e.field == "user");
}

BOOST_AUTO_TEST_CASE(a_missing_item) {
  const auto e = refusal(R"({"user": "alice", "quantity": 2})");
  BOOST_TEST(e.reason == "missing_field");
  BOOST_TEST(e.field == "item");
}

BOOST_AUTO_TEST_CASE(a_missing_quantity) {
  const auto e = refusal(R"({"user": "alice", "item": "Shoes"})");
  BOOST_TEST(e.reason == "missing_field");
  BOOST_TEST(e.field == "quantity");
}

BOOST_AUTO_TEST_CASE(an_empty_object_names_the_first_required_field) {
  const auto e = refusal("{}");
  BOOST_TEST(e.reason == "missing_field");
  BOOST_TEST(e.field == "user");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refuses_wrong_types)

BOOST_AUTO_TEST_CASE(a_number_for_user) {
  const auto e = refusal(R"({"user": 42, "item": "Shoes", "quantity": 2})");
  BOOST_TEST(e.reason == "wrong_type");
  BOOST_TEST(e.field == "user");
}

BOOST_AUTO_TEST_CASE(null_or_an_object_for_item) {
  for (const auto item : {"null"sv, "{}"sv, "[\"Shoes\"]"sv}) {
    BOOST_TEST_CONTEXT("item " << item) {
      const auto e =
          refusal(R"({"user": "alice", "item": )" + std::string(item) + R"(, "quantity": 2})");
      BOOST_TEST(e.reason == "wrong_type");
      BOOST_TEST(e.field == "item");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_quantity_that_is_not_an_integer) {
  for (const auto quantity : {R"("2")"sv, "2.5"sv, "2.0"sv, "true"sv, "null"sv, "[2]"sv}) {
    BOOST_TEST_CONTEXT("quantity " << quantity) {
      const auto e = refusal(body_with_quantity(quantity));
      BOOST_TEST(e.reason == "wrong_type");
      BOOST_TEST(e.field == "quantity");
      BOOST_TEST(e.error == "quantity must be an integer from 1 to 1000000");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refuses_invalid_values)

BOOST_AUTO_TEST_CASE(a_quantity_out_of_range) {
  for (const auto quantity :
       {"0"sv, "-1"sv, "1000001"sv, "-9223372036854775808"sv, "9223372036854775807"sv,
        "9223372036854775808"sv /* 2^63: only fits a uint64 */, "18446744073709551615"sv}) {
    BOOST_TEST_CONTEXT("quantity " << quantity) {
      const auto e = refusal(body_with_quantity(quantity));
      BOOST_TEST(e.reason == "invalid_value");
      BOOST_TEST(e.field == "quantity");
      BOOST_TEST(e.error == "quantity must be an integer from 1 to 1000000");
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_user) {
  const auto e = refusal(body_with_user(""));
  BOOST_TEST(e.reason == "invalid_value");
  BOOST_TEST(e.field == "user");
}

BOOST_AUTO_TEST_CASE(an_empty_item) {
  const auto e = refusal(R"({"user": "alice", "item": "", "quantity": 2})");
  BOOST_TEST(e.reason == "invalid_value");
  BOOST_TEST(e.field == "item");
}

BOOST_AUTO_TEST_CASE(a_user_of_257_bytes) {
  const auto e = refusal(body_with_user(std::string(257, 'u')));
  BOOST_TEST(e.reason == "invalid_value");
  BOOST_TEST(e.field == "user");
  BOOST_TEST(e.error == "user must be at most 256 bytes");
}

BOOST_AUTO_TEST_CASE(a_user_of_129_two_byte_characters_counts_bytes_not_characters) {
  std::string user;
  for (int i = 0; i < 129; ++i)
    user += "\xc3\xa9";  // é: 258 bytes
  const auto e = refusal(body_with_user(user));
  BOOST_TEST(e.reason == "invalid_value");
  BOOST_TEST(e.field == "user");
}

BOOST_AUTO_TEST_CASE(an_item_of_257_bytes) {
  const auto e =
      refusal(R"({"user": "alice", "item": ")" + std::string(257, 'i') + R"(", "quantity": 2})");
  BOOST_TEST(e.reason == "invalid_value");
  BOOST_TEST(e.field == "item");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refuses_bodies_that_are_not_a_json_object)

BOOST_AUTO_TEST_CASE(text_that_is_not_json_or_is_cut_short) {
  for (const auto body : {""sv, "   "sv, "user=alice&item=Shoes&quantity=2"sv,
                          R"({"user": "alice", "item": "Shoes", "quantity": 2)"sv,
                          R"({"user": "alice", "item": "Sho)"sv, "{"sv,
                          R"({"user": "alice", "item": "Shoes", "quantity": 2} trailing)"sv,
                          R"({'user': 'alice'})"sv, R"({"user": "alice",})"sv}) {
    BOOST_TEST_CONTEXT("body " << body) {
      const auto e = refusal(body);
      BOOST_TEST(e.reason == "invalid_json");
      BOOST_TEST(e.field.empty());
      BOOST_TEST(e.error.starts_with("body is not valid JSON"));
    }
  }
}

BOOST_AUTO_TEST_CASE(json_values_other_than_an_object) {
  for (const auto body : {R"([{"user": "alice", "item": "Shoes", "quantity": 2}])"sv, "[]"sv,
                          "null"sv, "2"sv, R"("alice")"sv}) {
    BOOST_TEST_CONTEXT("body " << body) {
      const auto e = refusal(body);
      BOOST_TEST(e.reason == "invalid_json");
      BOOST_TEST(e.field.empty());
      BOOST_TEST(e.error == "body must be a JSON object");
    }
  }
}

BOOST_AUTO_TEST_CASE(deeply_nested_brackets_quickly_without_exhausting_the_stack) {
  const std::string brackets(100'000, '[');
  const std::string nested_values = body_with_quantity(std::string(100'000, '[')) + "]";
  for (const auto& body : {brackets, nested_values}) {
    const auto started = std::chrono::steady_clock::now();
    const auto e = refusal(body);
    const auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(e.reason == "invalid_json");
    BOOST_TEST(e.field.empty());
    BOOST_TEST(took < 1s);
  }
}

BOOST_AUTO_TEST_CASE(a_field_nested_deeper_than_the_limit_even_when_closed_properly) {
  const std::string deep = std::string(20, '[') + std::string(20, ']');
  const auto e = refusal(body_with_quantity(deep));
  BOOST_TEST(e.reason == "invalid_json");
  BOOST_TEST(e.field.empty());
}

BOOST_AUTO_TEST_CASE(strings_that_are_not_valid_utf8) {
  for (const auto user :
       {"\xff"sv, "al\x80ice"sv, "\xc3"sv /* cut short */, "\xc0\xaf"sv /* overlong '/' */,
        "\xed\xa0\x80"sv /* a surrogate */, "\xf4\x90\x80\x80"sv /* above U+10FFFF */}) {
    BOOST_TEST_CONTEXT("user bytes " << user.size()) {
      const auto e = refusal(body_with_user(user));
      BOOST_TEST(e.reason == "invalid_json");
      BOOST_TEST(e.field.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_key_that_is_not_valid_utf8) {
  const auto e = refusal("{\"us\xffr\": \"alice\", \"item\": \"Shoes\", \"quantity\": 2}");
  BOOST_TEST(e.reason == "invalid_json");
}

BOOST_AUTO_TEST_CASE(an_escaped_lone_surrogate_that_cannot_become_utf8) {
  const auto e = refusal(body_with_user(R"(\ud800)"));
  BOOST_TEST(e.reason == "invalid_json");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(make_order)

BOOST_AUTO_TEST_CASE(keeps_the_request_s_fields_and_takes_the_given_id) {
  const auto id = boost::uuids::string_generator()("7f0e7d3c-2a44-4c1e-9a57-0d5d3f1e8b11");
  auto r = order::parse_order_request(R"({"user": "alice", "item": "Shoes", "quantity": 3})");
  BOOST_TEST_REQUIRE(r.has_value());
  const auto o = order::make_order(std::move(*r), id);
  BOOST_TEST(o.order_id == id);
  BOOST_TEST(o.user == "alice");
  BOOST_TEST(o.item == "Shoes");
  BOOST_TEST(o.quantity == 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(a_reused_parser)

BOOST_AUTO_TEST_CASE(answers_each_body_as_a_fresh_parse_does) {
  // The service keeps one parser for every request: what one body leaves behind (a half-parsed
  // document, an error, a large string beyond its first memory block) must not change the next.
  const std::string big(4000, 'x');
  const std::string bodies[] = {
      R"({"user": "alice", "item": "Shoes", "quantity": 3})",
      R"({"user": "alice", "item": "Shoes", "quantity": )",
      R"({"user": "alice", "item": "Shoes", "quantity": 3} trailing)",
      body_with_user(std::string(200, 'u')),
      R"({"user": ")" + big + R"(", "item": "Shoes", "quantity": 1})",
      R"([[[[[[[[[[[[1]]]]]]]]]]]])",
      body_with_quantity("1000001"),
      body_with_quantity("18446744073709551615"),
      R"({"user": "bob", "item": "Hat", "quantity": 1, "extra": true})",
      R"({"user": "bob", "item": "Hat", "quantity": 1})",
      "",
      R"({"user": "carol", "item": "Socks", "quantity": 1000000})",
  };
  order::order_request_parser reused;
  for (int round = 0; round < 2; ++round) {
    for (const auto& body : bodies) {
      const auto fresh = order::parse_order_request(body);
      const auto again = reused.parse(body);
      BOOST_TEST_REQUIRE(fresh.has_value() == again.has_value(), body);
      if (fresh.has_value()) {
        BOOST_TEST(fresh->user == again->user);
        BOOST_TEST(fresh->item == again->item);
        BOOST_TEST(fresh->quantity == again->quantity);
      } else {
        BOOST_TEST(fresh.error().error == again.error().error);
        BOOST_TEST(fresh.error().field == again.error().field);
        BOOST_TEST(fresh.error().reason == again.error().reason);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
