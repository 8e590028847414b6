#include "common/observability/traceparent.hpp"

#define BOOST_TEST_MODULE traceparent
#include <boost/test/unit_test.hpp>

// Helpers for taking traceparents apart.
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace observability = order_tracker::observability;
using observability::is_valid_traceparent;
using observability::trace_ids;
using namespace std::literals;

namespace {

// The example from the W3C Trace Context recommendation.
constexpr std::string_view valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

std::string_view version_of(std::string_view t) {
  return t.substr(0, 2);
}
std::string_view trace_id_of(std::string_view t) {
  return t.substr(3, 32);
}
std::string_view parent_id_of(std::string_view t) {
  return t.substr(36, 16);
}
std::string_view flags_of(std::string_view t) {
  return t.substr(53, 2);
}

/// `valid` with the characters at `pos` replaced by `with`.
std::string valid_with(std::size_t pos, std::string_view with) {
  std::string t(valid);
  t.replace(pos, with.size(), with);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(accepts_a_well_formed_version_00_value) {
  BOOST_TEST(is_valid_traceparent(valid));
  BOOST_TEST(is_valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"));
  BOOST_TEST(is_valid_traceparent("00-00000000000000000000000000000001-0000000000000001-ff"));
}

BOOST_AUTO_TEST_CASE(rejects_a_value_of_the_wrong_length) {
  BOOST_TEST(!is_valid_traceparent(""));
  BOOST_TEST(!is_valid_traceparent(valid.substr(0, valid.size() - 1)));
  BOOST_TEST(!is_valid_traceparent(std::string(valid) + "0"));
  BOOST_TEST(!is_valid_traceparent(std::string(valid) + "-extra"));
  BOOST_TEST(!is_valid_traceparent(" "s + std::string(valid)));
}

BOOST_AUTO_TEST_CASE(rejects_versions_other_than_00) {
  BOOST_TEST(!is_valid_traceparent(valid_with(0, "ff")));
  BOOST_TEST(!is_valid_traceparent(valid_with(0, "01")));
  BOOST_TEST(!is_valid_traceparent(valid_with(0, "0x")));
}

BOOST_AUTO_TEST_CASE(rejects_uppercase_hex) {
  BOOST_TEST(!is_valid_traceparent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"));
  BOOST_TEST(!is_valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01"));
  BOOST_TEST(!is_valid_traceparent(valid_with(53, "0A")));
}

BOOST_AUTO_TEST_CASE(rejects_characters_that_are_not_hex) {
  BOOST_TEST(!is_valid_traceparent(valid_with(3, "g")));
  BOOST_TEST(!is_valid_traceparent(valid_with(36, "z")));
  BOOST_TEST(!is_valid_traceparent(valid_with(54, "-")));
  BOOST_TEST(!is_valid_traceparent(valid_with(10, " ")));
}

BOOST_AUTO_TEST_CASE(rejects_an_all_zero_trace_id) {
  BOOST_TEST(!is_valid_traceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01"));
}

BOOST_AUTO_TEST_CASE(rejects_an_all_zero_parent_id) {
  BOOST_TEST(!is_valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"));
}

BOOST_AUTO_TEST_CASE(rejects_a_value_with_a_missing_or_misplaced_dash) {
  BOOST_TEST(!is_valid_traceparent(valid_with(2, "0")));
  BOOST_TEST(!is_valid_traceparent(valid_with(35, "0")));
  BOOST_TEST(!is_valid_traceparent(valid_with(52, "0")));
  BOOST_TEST(!is_valid_traceparent("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"));
  // Right length, but the dashes shifted by one.
  BOOST_TEST(!is_valid_traceparent("000-af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(child_of)

BOOST_AUTO_TEST_CASE(a_valid_parent_keeps_its_trace_id_and_flags_and_gets_a_new_parent_id) {
  trace_ids ids(42);
  const auto child = ids.child_of(valid);
  BOOST_TEST(is_valid_traceparent(child), child);
  BOOST_TEST(version_of(child) == "00");
  BOOST_TEST(trace_id_of(child) == trace_id_of(valid));
  BOOST_TEST(flags_of(child) == flags_of(valid));
  BOOST_TEST(parent_id_of(child) != parent_id_of(valid));
}

BOOST_AUTO_TEST_CASE(keeps_flags_other_than_sampled) {
  trace_ids ids(42);
  const auto child = ids.child_of("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"sv);
  BOOST_TEST(is_valid_traceparent(child), child);
  BOOST_TEST(flags_of(child) == "00");
}

BOOST_AUTO_TEST_CASE(an_invalid_parent_starts_a_new_valid_trace) {
  trace_ids ids(42);
  for (const auto incoming :
       {"garbage"sv, "00-00000000000000000000000000000000-b7ad6b7169203331-01"sv,
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"sv,
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"sv}) {
    BOOST_TEST_CONTEXT("incoming " << incoming) {
      const auto child = ids.child_of(incoming);
      BOOST_TEST(is_valid_traceparent(child), child);
      BOOST_TEST(trace_id_of(child) != "0af7651916cd43dd8448eb211c80319c");
      BOOST_TEST(flags_of(child) == "01");
    }
  }
}

BOOST_AUTO_TEST_CASE(no_or_an_empty_parent_starts_a_new_valid_trace) {
  trace_ids ids(42);
  const auto none = ids.child_of(std::nullopt);
  const auto empty = ids.child_of(""sv);
  BOOST_TEST(is_valid_traceparent(none), none);
  BOOST_TEST(is_valid_traceparent(empty), empty);
  BOOST_TEST(trace_id_of(none) != trace_id_of(empty));
}

BOOST_AUTO_TEST_CASE(two_children_of_one_parent_get_different_parent_ids) {
  trace_ids ids(42);
  const auto a = ids.child_of(valid);
  const auto b = ids.child_of(valid);
  BOOST_TEST(trace_id_of(a) == trace_id_of(b));
  BOOST_TEST(parent_id_of(a) != parent_id_of(b));
}

BOOST_AUTO_TEST_CASE(many_new_traces_are_all_distinct_and_valid) {
  trace_ids ids;  // seeded from std::random_device
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    const auto t = ids.child_of(std::nullopt);
    BOOST_TEST_REQUIRE(is_valid_traceparent(t), t);
    traces.emplace(trace_id_of(t));
    spans.emplace(parent_id_of(t));
  }
  BOOST_TEST(traces.size() == 1000u);
  BOOST_TEST(spans.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(generators_with_different_seeds_make_different_ids) {
  trace_ids one(1), two(2);
  BOOST_TEST(one.child_of(std::nullopt) != two.child_of(std::nullopt));
}

BOOST_AUTO_TEST_SUITE_END()
