#include "services/tracker/order_route.hpp"

#define BOOST_TEST_MODULE tracker_route
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "services/tracker/group_stats.hpp"
#include "services/tracker/partition_owners.hpp"

// Issue 15 item 3: which instance answers GET /orders/{id}, from the group's description, without
// sockets. The owner map, the routing decisions (local, proxied to the owner, searched across the
// group, 503) and the merge of /stats?scope=group.

using namespace order_tracker::tracker;

namespace {

using kind = local_answer::kind;
using outcome_kind = route_outcome::kind;

const std::string a = "10.0.0.1:8081";
const std::string b = "10.0.0.2:8081";
const std::string c = "tracker-3:8081";

member_partitions member(const std::string& address, std::vector<std::int32_t> parts) {
  return {advertising_client_id("tracker-service", address), std::move(parts)};
}

/// Three members, one partition each: a owns 0, b owns 1, c owns 2.
partition_owners three() {
  return {{member(a, {0}), member(b, {1}), member(c, {2})}, 3};
}

local_answer absent(std::vector<std::int32_t> live) {
  return {kind::absent, std::move(live), {}};
}
local_answer found() {
  return {kind::found, {}, {}};
}
local_answer silent(std::string why) {
  return {kind::no_answer, {}, std::move(why)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(owner_map)

BOOST_AUTO_TEST_CASE(a_member_advertises_its_http_address_in_its_client_id) {
  BOOST_TEST(advertising_client_id("tracker-service", "tracker-2:8081") ==
             "tracker-service@tracker-2:8081");
  BOOST_TEST(advertised_address("tracker-service@tracker-2:8081") == "tracker-2:8081");
  BOOST_TEST(advertised_address("my@client@127.0.0.1:9000") == "127.0.0.1:9000");
  BOOST_TEST(advertised_address("[::1]:8081").empty());
  BOOST_TEST(advertised_address("tracker-service").empty());
  BOOST_TEST(advertised_address("rdkafka@nohostport").empty());
  BOOST_TEST(advertised_address("x@host:").empty());
}

BOOST_AUTO_TEST_CASE(each_partition_has_the_member_that_holds_it_as_owner) {
  const auto owners = three();
  BOOST_TEST(owners.known());
  BOOST_TEST(owners.owner_of(0) == a);
  BOOST_TEST(owners.owner_of(1) == b);
  BOOST_TEST(owners.owner_of(2) == c);
  BOOST_TEST(owners.owner_of(3).empty());
  BOOST_TEST(owners.unowned().empty());
  BOOST_TEST((owners.members() == std::vector<std::string>{a, b, c}));
}

BOOST_AUTO_TEST_CASE(a_partition_held_by_no_one_or_by_two_or_by_a_silent_member_has_no_owner) {
  // Mid-rebalance: 1 is revoked from b but not yet taken; 2 is still held by c and already by a;
  // 3 is held by a member that does not advertise an address.
  const partition_owners owners(
      {member(a, {0, 2}), member(b, {}), member(c, {2}), {"rdkafka", {3}}}, 4);
  BOOST_TEST(owners.owner_of(0) == a);
  BOOST_TEST(owners.owner_of(1).empty());
  BOOST_TEST(owners.owner_of(2).empty());
  BOOST_TEST(owners.owner_of(3).empty());
  BOOST_TEST((owners.unowned() == std::vector<std::int32_t>{1, 2, 3}));
  BOOST_TEST((owners.members() == std::vector<std::string>{a, b, c}));
}

BOOST_AUTO_TEST_CASE(nothing_is_known_before_the_first_description) {
  const partition_owners owners;
  BOOST_TEST(!owners.known());
  BOOST_TEST(owners.owner_of(0).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(order_route_decisions)

BOOST_AUTO_TEST_CASE(an_order_in_the_own_view_is_answered_locally_without_asking_anyone) {
  order_route route(three(), 1, a, found());
  BOOST_TEST(route.next().empty());
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::found));
  BOOST_TEST(out->instance == a);
}

BOOST_AUTO_TEST_CASE(an_order_of_another_partition_is_proxied_to_its_owner_alone) {
  order_route route(three(), 2, a, absent({0}));
  BOOST_TEST((route.next() == std::vector<std::string>{c}));
  BOOST_TEST(!route.outcome().has_value());
  BOOST_TEST(route.next().empty());  // one request at a time while the owner answers
  route.answered(c, found());
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::found));
  BOOST_TEST(out->instance == c);
}

BOOST_AUTO_TEST_CASE(an_order_the_owner_does_not_have_is_searched_on_every_other_member) {
  // Written without a key (the seed's producer.py): it is on b's partition, not its id's (2).
  order_route route(three(), 2, a, absent({0}));
  BOOST_TEST((route.next() == std::vector<std::string>{c}));
  route.answered(c, absent({2}));
  BOOST_TEST(!route.outcome().has_value());
  BOOST_TEST((route.next() == std::vector<std::string>{b}));
  route.answered(b, found());
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::found));
  BOOST_TEST(out->instance == b);
}

BOOST_AUTO_TEST_CASE(an_order_of_the_own_partition_missing_locally_is_searched_everywhere_else) {
  order_route route(three(), 0, a, absent({0}));
  BOOST_TEST((route.next() == std::vector<std::string>{b, c}));
  route.answered(b, absent({1}));
  BOOST_TEST(!route.outcome().has_value());
  route.answered(c, absent({2}));
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::absent));
}

BOOST_AUTO_TEST_CASE(not_found_is_404_only_when_every_partition_was_searched_by_its_live_owner) {
  order_route route(three(), 1, a, absent({0}));
  BOOST_TEST((route.next() == std::vector<std::string>{b}));
  route.answered(b, absent({1}));
  BOOST_TEST((route.next() == std::vector<std::string>{c}));
  route.answered(c, absent({2}));
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::absent));
}

BOOST_AUTO_TEST_CASE(an_owner_that_does_not_answer_is_503_owner_unavailable) {
  order_route route(three(), 1, a, absent({0}));
  route.next();
  route.answered(b, silent("Connection timed out"));
  BOOST_TEST((route.next() == std::vector<std::string>{c}));
  route.answered(c, absent({2}));
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::unavailable));
  BOOST_TEST(out->reason == "owner_unavailable");
  BOOST_TEST(out->detail.find("Connection timed out") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_silent_owner_does_not_hide_an_order_another_member_has) {
  order_route route(three(), 1, a, absent({0}));
  route.next();
  route.answered(b, silent("Connection refused"));
  route.next();
  route.answered(c, found());
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::found));
  BOOST_TEST(out->instance == c);
}

BOOST_AUTO_TEST_CASE(a_partition_without_an_owner_is_503_rebalancing) {
  const partition_owners owners({member(a, {0}), member(b, {1})}, 3);
  order_route route(owners, 2, a, absent({0}));
  BOOST_TEST((route.next() == std::vector<std::string>{b}));
  route.answered(b, absent({1}));
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::unavailable));
  BOOST_TEST(out->reason == "rebalancing");
}

BOOST_AUTO_TEST_CASE(an_owner_still_restoring_its_partition_is_503_restoring) {
  order_route route(three(), 1, a, absent({0}));
  route.next();
  route.answered(b, absent({}));  // owns 1, but has not restored it yet
  route.next();
  route.answered(c, absent({2}));
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::unavailable));
  BOOST_TEST(out->reason == "restoring");
}

BOOST_AUTO_TEST_CASE(a_stale_owner_map_cannot_turn_into_a_false_404) {
  // The map says b owns 1, but b gave it away (to a newcomer the map does not know yet): b's
  // answer does not cover partition 1, so the route cannot claim the order does not exist.
  order_route route(three(), 1, a, absent({0}));
  route.next();
  route.answered(b, absent({}));
  route.next();
  route.answered(c, absent({2}));
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::unavailable));
}

BOOST_AUTO_TEST_CASE(unknown_owners_are_503_owner_unknown) {
  order_route route(partition_owners{}, -1, a, absent({0, 1, 2}));
  BOOST_TEST(route.next().empty());
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::unavailable));
  BOOST_TEST(out->reason == "owner_unknown");
}

BOOST_AUTO_TEST_CASE(a_single_member_owning_everything_answers_404_alone) {
  const partition_owners owners({member(a, {0, 1, 2})}, 3);
  order_route route(owners, 1, a, absent({0, 1, 2}));
  BOOST_TEST(route.next().empty());
  const auto out = route.outcome();
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST((out->what == outcome_kind::absent));
}

BOOST_AUTO_TEST_CASE(answers_from_instances_not_asked_are_ignored) {
  order_route route(three(), 1, a, absent({0}));
  route.answered(c, found());
  BOOST_TEST(!route.outcome().has_value());
  BOOST_TEST((route.next() == std::vector<std::string>{b}));
}

BOOST_AUTO_TEST_CASE(live_partitions_travel_as_a_comma_separated_header) {
  BOOST_TEST(format_partitions({0, 2, 11}) == "0,2,11");
  BOOST_TEST(format_partitions({}).empty());
  BOOST_TEST((parse_partitions("0,2,11") == std::vector<std::int32_t>{0, 2, 11}));
  BOOST_TEST(parse_partitions("").empty());
  BOOST_TEST((parse_partitions("1,x,-3,4") == std::vector<std::int32_t>{1, 4}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(group_stats)

BOOST_AUTO_TEST_CASE(the_totals_of_the_members_add_up_item_by_item) {
  auto merged = boost::json::parse(R"({"orders":3,"duplicates":1,"partitions":[2],
      "by_item":{"Shoes":{"orders":2,"quantity":5}},"by_user":{"Ann":{"orders":3,"quantity":5}}})")
                    .as_object();
  const auto other = boost::json::parse(R"({"orders":4,"duplicates":0,"partitions":[0,1],
      "by_item":{"Shoes":{"orders":1,"quantity":1},"Phone":{"orders":3,"quantity":3}},
      "by_user":{"Bob":{"orders":4,"quantity":4}}})")
                         .as_object();
  add_stats(merged, other);
  BOOST_TEST(check_partitions(merged, 3).empty());
  const auto expected = boost::json::parse(R"({"orders":7,"duplicates":1,"partitions":[0,1,2],
      "by_item":{"Shoes":{"orders":3,"quantity":6},"Phone":{"orders":3,"quantity":3}},
      "by_user":{"Ann":{"orders":3,"quantity":5},"Bob":{"orders":4,"quantity":4}}})");
  BOOST_TEST(boost::json::value(merged) == expected, boost::json::serialize(merged));
}

BOOST_AUTO_TEST_CASE(a_partition_missing_or_counted_twice_is_refused) {
  auto missing = boost::json::parse(R"({"partitions":[0,2]})").as_object();
  BOOST_TEST(check_partitions(missing, 3).find("1") != std::string::npos);
  auto twice = boost::json::parse(R"({"partitions":[0,1,1,2]})").as_object();
  BOOST_TEST(check_partitions(twice, 3).find("two members") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
