#include "services/tracker/order_view.hpp"

#define BOOST_TEST_MODULE tracker_view
#include <boost/test/unit_test.hpp>

// Helpers for building orders and checking JSON.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/string_generator.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace events = order_tracker::events;
namespace tracker = order_tracker::tracker;
using tracker::apply_result;
using tracker::order_view;
using tracker::origin;
using namespace std::literals;

namespace {

boost::uuids::uuid uuid_of(std::string_view text) {
  return boost::uuids::string_generator()(text.begin(), text.end());
}

/// A distinct, readable id per number: 00000000-0000-4000-8000-<n as 12 hex digits>.
boost::uuids::uuid id(std::uint64_t n) {
  boost::uuids::uuid u{};
  u.data[6] = 0x40;
  u.data[8] = 0x80;
  for (int i = 15; i >= 10; --i) {
    u.data[i] = static_cast<std::uint8_t>(n & 0xFF);
    n >>= 8;
  }
  return u;
}

events::order_placed order(std::uint64_t n, std::string user = "alice", std::string item = "Shoes",
                           std::int64_t quantity = 1) {
  return {id(n), std::move(user), std::move(item), quantity};
}

const std::chrono::system_clock::time_point t0 =
    std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 12h + 34min + 56s + 789ms + 123us;

tracker::tracked_meta live(std::int32_t partition, std::int64_t offset,
                           std::string_view traceparent = {}) {
  return {partition, offset, t0, traceparent, origin::live};
}

tracker::tracked_meta restore(std::int32_t partition, std::int64_t offset) {
  return {partition, offset, t0, {}, origin::restore};
}

tracker::totals tot(std::uint64_t orders, std::int64_t quantity) {
  return {orders, quantity};
}

}  // namespace

// The totals type has no stream operator; print it for failed checks.
namespace order_tracker::tracker {
std::ostream& boost_test_print_type(std::ostream& os, const totals& t) {
  return os << "{orders " << t.orders << ", quantity " << t.quantity << "}";
}
std::ostream& boost_test_print_type(std::ostream& os, apply_result r) {
  return os << (r == apply_result::added       ? "added"
                : r == apply_result::duplicate ? "duplicate"
                                               : "covered");
}
}  // namespace order_tracker::tracker

BOOST_AUTO_TEST_SUITE(applying_orders)

BOOST_AUTO_TEST_CASE(a_new_order_is_added_and_found_with_its_metadata) {
  order_view view(10, 100);
  const auto tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"sv;
  BOOST_TEST(view.apply(order(1, "bob", "Hat", 3), live(2, 40, tp)) == apply_result::added);

  const tracker::tracked_order* found = view.find(id(1));
  BOOST_TEST_REQUIRE(found != nullptr);
  BOOST_TEST(found->order_id == id(1));
  BOOST_TEST(found->user == "bob");
  BOOST_TEST(found->item == "Hat");
  BOOST_TEST(found->quantity == 3);
  BOOST_TEST(found->partition == 2);
  BOOST_TEST(found->offset == 40);
  BOOST_TEST((found->received_at == t0));
  BOOST_TEST(found->traceparent == tp);
  BOOST_TEST(view.contains(id(1)));
  BOOST_TEST(view.counters().orders == 1u);
}

BOOST_AUTO_TEST_CASE(an_unknown_order_is_not_found) {
  order_view view(10, 100);
  view.apply(order(1), live(0, 0));
  BOOST_TEST(view.find(id(2)) == nullptr);
  BOOST_TEST(!view.contains(id(2)));
}

BOOST_AUTO_TEST_CASE(an_order_id_seen_before_is_a_duplicate_that_changes_nothing_but_its_counter) {
  order_view view(10, 100);
  view.apply(order(1, "alice", "Shoes", 2), live(0, 7));
  const auto before = view.stats();

  BOOST_TEST(view.apply(order(1, "mallory", "Boat", 9), live(0, 8)) == apply_result::duplicate);

  const auto after = view.stats();
  BOOST_TEST(after.counters.orders == 1u);
  BOOST_TEST(after.counters.duplicates == 1u);
  BOOST_TEST((after.by_item == before.by_item));
  BOOST_TEST((after.by_user == before.by_user));
  BOOST_TEST(after.partitions == std::vector<std::int32_t>{0});
  BOOST_TEST(view.find(id(1))->user == "alice");  // the first delivery stands
  BOOST_TEST(view.find(id(1))->offset == 7);
}

BOOST_AUTO_TEST_CASE(totals_count_orders_and_sum_quantities_per_item_and_per_user) {
  order_view view(10, 100);
  view.apply(order(1, "alice", "Shoes", 2), live(0, 0));
  view.apply(order(2, "alice", "Hat", 1), live(1, 0));
  view.apply(order(3, "bob", "Shoes", 5), live(0, 1));
  view.apply(order(3, "bob", "Shoes", 5), live(0, 1));  // redelivered

  const auto s = view.stats();
  BOOST_TEST(s.by_item.size() == 2u);
  BOOST_TEST(s.by_item.at("Shoes") == tot(2, 7));
  BOOST_TEST(s.by_item.at("Hat") == tot(1, 1));
  BOOST_TEST(s.by_user.size() == 2u);
  BOOST_TEST(s.by_user.at("alice") == tot(2, 3));
  BOOST_TEST(s.by_user.at("bob") == tot(1, 5));
  BOOST_TEST(s.counters.orders == 3u);
  BOOST_TEST(s.counters.duplicates == 1u);
  BOOST_TEST(s.counters.tracked == 3u);
  BOOST_TEST(s.counters.remembered == 3u);
  BOOST_TEST((s.partitions == std::vector<std::int32_t>{0, 1}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounded_memory)

BOOST_AUTO_TEST_CASE(
    past_ten_thousand_distinct_users_in_a_partition_new_ones_are_totalled_as_others) {
  order_view view(0, 20'100);
  for (int i = 0; i < 10'000; ++i)
    view.apply(order(i, "user" + std::to_string(i), "Shoes", 1), live(0, i));
  view.apply(order(10'000, "late", "Shoes", 2), live(0, 10'000));
  view.apply(order(10'001, "later", "Shoes", 3), live(0, 10'001));
  view.apply(order(10'002, "user7", "Shoes", 4), live(0, 10'002));  // known: keeps its name
  view.apply(order(10'003, "elsewhere", "Shoes", 5), live(1, 0));   // another partition's budget

  const auto s = view.stats();
  BOOST_TEST(s.by_user.size() == 10'002u);
  BOOST_TEST(s.by_user.count("late") == 0u);
  BOOST_TEST(s.by_user.at(std::string(tracker::other_key)) == tot(2, 5));
  BOOST_TEST(s.by_user.at("user7") == tot(2, 5));
  BOOST_TEST(s.by_user.at("elsewhere") == tot(1, 5));
  BOOST_TEST(s.by_item.at("Shoes") == tot(10'004, 10'000 + 2 + 3 + 4 + 5));
}

BOOST_AUTO_TEST_CASE(at_the_cap_the_oldest_order_loses_its_detail_is_counted_and_stays_in_totals) {
  order_view view(3, 10);
  for (std::uint64_t n = 1; n <= 5; ++n) {
    view.apply(order(n, "alice", "Shoes", 1), live(0, static_cast<std::int64_t>(n)));
  }
  BOOST_TEST(view.find(id(1)) == nullptr);
  BOOST_TEST(view.find(id(2)) == nullptr);
  for (std::uint64_t n = 3; n <= 5; ++n) {
    BOOST_TEST(view.find(id(n)) != nullptr);
  }
  const auto s = view.stats();
  BOOST_TEST(s.counters.evicted == 2u);
  BOOST_TEST(s.counters.tracked == 3u);
  BOOST_TEST(s.counters.remembered == 5u);
  BOOST_TEST(s.counters.orders == 5u);
  BOOST_TEST(s.by_item.at("Shoes") == tot(5, 5));  // totals are all-time, not per detail held
}

BOOST_AUTO_TEST_CASE(
    a_redelivered_order_is_a_duplicate_after_its_detail_was_evicted_while_its_id_is_in_the_window) {
  order_view view(2, 10);
  view.apply(order(1, "alice", "Shoes", 4), live(0, 0));
  view.apply(order(2), live(0, 1));
  view.apply(order(3), live(0, 2));
  BOOST_TEST_REQUIRE(view.find(id(1)) == nullptr);
  BOOST_TEST(view.contains(id(1)));

  BOOST_TEST(view.apply(order(1, "alice", "Shoes", 4), live(0, 0)) == apply_result::duplicate);
  const auto s = view.stats();
  BOOST_TEST(s.counters.duplicates == 1u);
  BOOST_TEST(s.counters.orders == 3u);
  BOOST_TEST(s.by_user.at("alice") == tot(3, 6));
  BOOST_TEST(view.find(id(1)) == nullptr);  // a duplicate does not bring the detail back
}

BOOST_AUTO_TEST_CASE(an_id_seen_more_than_window_offsets_before_is_forgotten_and_counts_as_new) {
  order_view view(2, 3);
  view.apply(order(1), live(0, 10));
  view.apply(order(2), live(0, 12));
  BOOST_TEST(view.apply(order(1), live(0, 13)) == apply_result::duplicate);  // 13 - 10 <= 3
  view.apply(order(3), live(0, 17));  // forgets what was last seen before offset 14
  BOOST_TEST(!view.contains(id(1)));
  BOOST_TEST(!view.contains(id(2)));
  BOOST_TEST(view.counters().remembered == 1u);

  BOOST_TEST(view.apply(order(2), live(0, 18)) == apply_result::added);
  BOOST_TEST(view.counters().orders == 4u);
}

BOOST_AUTO_TEST_CASE(a_duplicate_keeps_its_id_remembered_from_its_latest_sighting) {
  order_view view(2, 3);
  view.apply(order(1), live(0, 0));
  view.apply(order(1), live(0, 3));
  view.apply(order(2), live(0, 6));  // the sighting at 3 is still within 3 offsets
  BOOST_TEST(view.apply(order(1), live(0, 6)) == apply_result::duplicate);
  BOOST_TEST(view.counters().duplicates == 2u);
}

BOOST_AUTO_TEST_CASE(dedup_is_per_partition) {
  order_view view(4, 100);
  view.apply(order(1), live(0, 0));
  BOOST_TEST(view.apply(order(1), live(1, 0)) == apply_result::added);
}

BOOST_AUTO_TEST_CASE(the_detail_budget_is_shared_evenly_by_the_partitions_owned) {
  order_view view(6, 100);
  BOOST_TEST(view.details_per_partition() == 6u);
  for (std::uint64_t n = 0; n < 6; ++n)
    view.apply(order(n), live(0, static_cast<std::int64_t>(n)));
  BOOST_TEST(view.counters().tracked == 6u);
  view.assign_partition(1);
  view.assign_partition(2);
  BOOST_TEST(view.details_per_partition() == 2u);
  // The oldest details go, counted; ids and totals stay.
  BOOST_TEST(view.counters().tracked == 2u);
  BOOST_TEST(view.counters().evicted == 4u);
  BOOST_TEST(view.find(id(3)) == nullptr);
  BOOST_TEST(view.find(id(4)) != nullptr);
  BOOST_TEST(view.find(id(5)) != nullptr);
  BOOST_TEST(view.contains(id(0)));
  // One partition's orders never evict another's detail.
  for (std::uint64_t n = 10; n < 20; ++n)
    view.apply(order(n), restore(1, static_cast<std::int64_t>(n)));
  BOOST_TEST(view.find(id(4)) != nullptr);
  BOOST_TEST(view.find(id(5)) != nullptr);
}

BOOST_AUTO_TEST_CASE(received_at_says_whether_it_is_the_event_time) {
  order_view view(4, 100);
  tracker::tracked_meta m = live(0, 0);
  m.event_time = true;
  view.apply(order(1), m);
  view.apply(order(2), live(0, 1));
  BOOST_TEST(tracker::to_json(*view.find(id(1))).at("received_at_source") == "event");
  BOOST_TEST(tracker::to_json(*view.find(id(2))).at("received_at_source") == "applied");
}

BOOST_AUTO_TEST_CASE(a_cap_of_zero_keeps_ids_and_totals_but_no_detail) {
  order_view view(0, 2);
  BOOST_TEST(view.apply(order(1), live(0, 0)) == apply_result::added);
  BOOST_TEST(view.find(id(1)) == nullptr);
  BOOST_TEST(view.apply(order(1), live(0, 0)) == apply_result::duplicate);
  BOOST_TEST(view.counters().tracked == 0u);
  BOOST_TEST(view.counters().evicted == 0u);
  BOOST_TEST(view.stats().by_item.at("Shoes") == tot(1, 1));
}

BOOST_AUTO_TEST_CASE(a_window_of_no_offsets_is_refused) {
  BOOST_CHECK_THROW(order_view(10, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(partition_ownership)

BOOST_AUTO_TEST_CASE(dropping_a_partition_forgets_its_orders_ids_and_totals_but_not_the_counters) {
  order_view view(10, 100);
  view.apply(order(1, "alice", "Shoes", 2), live(0, 0));
  view.apply(order(2, "bob", "Hat", 3), live(1, 0));
  view.apply(order(3, "alice", "Hat", 1), live(1, 1));

  BOOST_TEST(view.drop_partition(1) == 2u);

  BOOST_TEST(view.find(id(1)) != nullptr);
  BOOST_TEST(view.find(id(2)) == nullptr);
  BOOST_TEST(!view.contains(id(3)));
  const auto s = view.stats();
  BOOST_TEST(s.partitions == std::vector<std::int32_t>{0});
  BOOST_TEST(s.by_item.size() == 1u);
  BOOST_TEST(s.by_item.at("Shoes") == tot(1, 2));
  BOOST_TEST(s.by_user.size() == 1u);
  BOOST_TEST(s.by_user.at("alice") == tot(1, 2));
  BOOST_TEST(s.counters.orders == 3u);
  BOOST_TEST(s.counters.tracked == 1u);
  BOOST_TEST(s.counters.remembered == 1u);
}

BOOST_AUTO_TEST_CASE(
    dropping_a_partition_frees_its_room_so_nothing_is_evicted_until_the_cap_is_reached_again) {
  order_view view(4, 4);
  view.apply(order(1), live(0, 0));
  view.apply(order(2), live(1, 0));
  view.apply(order(3), live(0, 1));
  view.apply(order(4), live(1, 1));
  view.drop_partition(1);
  view.apply(order(5), live(0, 2));
  view.apply(order(6), live(0, 3));
  BOOST_TEST(view.counters().evicted == 0u);
  BOOST_TEST(view.find(id(1)) != nullptr);

  view.apply(order(7), live(0, 4));
  BOOST_TEST(view.counters().evicted == 1u);
  BOOST_TEST(view.find(id(1)) == nullptr);
  BOOST_TEST(view.find(id(3)) != nullptr);
}

BOOST_AUTO_TEST_CASE(an_assigned_partition_without_orders_is_listed_as_owned) {
  order_view view(10, 100);
  view.assign_partition(3);
  view.apply(order(1), live(1, 0));
  BOOST_TEST((view.stats().partitions == std::vector<std::int32_t>{1, 3}));
  view.drop_partition(3);
  BOOST_TEST(view.stats().partitions == std::vector<std::int32_t>{1});
}

BOOST_AUTO_TEST_CASE(dropping_a_partition_never_owned_changes_nothing) {
  order_view view(10, 100);
  view.apply(order(1), live(0, 0));
  BOOST_TEST(view.drop_partition(5) == 0u);
  BOOST_TEST(view.counters().remembered == 1u);
  BOOST_TEST(view.stats().partitions == std::vector<std::int32_t>{0});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(restore_mode)

BOOST_AUTO_TEST_CASE(restored_orders_are_tracked_and_in_totals_but_counted_as_restored_not_as_new) {
  order_view view(10, 100);
  BOOST_TEST(view.apply(order(1, "alice", "Shoes", 2), restore(0, 0)) == apply_result::added);
  BOOST_TEST(view.apply(order(2, "bob", "Shoes", 3), restore(0, 1)) == apply_result::added);

  BOOST_TEST(view.find(id(1)) != nullptr);
  const auto s = view.stats();
  BOOST_TEST(s.counters.restored == 2u);
  BOOST_TEST(s.counters.orders == 0u);
  BOOST_TEST(s.by_item.at("Shoes") == tot(2, 5));
}

BOOST_AUTO_TEST_CASE(a_live_redelivery_of_a_restored_order_is_a_duplicate) {
  order_view view(10, 100);
  view.apply(order(1, "alice", "Shoes", 2), restore(0, 0));
  BOOST_TEST(view.apply(order(1, "alice", "Shoes", 2), live(0, 0)) == apply_result::duplicate);
  const auto s = view.stats();
  BOOST_TEST(s.counters.duplicates == 1u);
  BOOST_TEST(s.counters.orders == 0u);
  BOOST_TEST(s.by_item.at("Shoes") == tot(1, 2));
}

BOOST_AUTO_TEST_CASE(a_duplicate_met_during_a_restore_is_absorbed_without_counting) {
  order_view view(10, 100);
  view.apply(order(1), restore(0, 0));
  BOOST_TEST(view.apply(order(1), restore(0, 1)) == apply_result::duplicate);
  BOOST_TEST(view.counters().duplicates == 0u);
  BOOST_TEST(view.counters().restored == 1u);
}

BOOST_AUTO_TEST_CASE(a_partition_dropped_and_assigned_again_is_rebuilt_by_its_restore) {
  order_view view(10, 100);
  view.apply(order(1, "alice", "Shoes", 2), live(0, 0));
  view.drop_partition(0);
  BOOST_TEST(view.apply(order(1, "alice", "Shoes", 2), restore(0, 0)) == apply_result::added);
  const auto s = view.stats();
  BOOST_TEST(s.counters.orders == 1u);
  BOOST_TEST(s.counters.restored == 1u);
  BOOST_TEST(s.by_item.at("Shoes") == tot(1, 2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_shapes)

BOOST_AUTO_TEST_CASE(an_order_is_served_with_every_field_in_order_and_its_traceparent) {
  order_view view(10, 100);
  const auto tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"sv;
  const auto oid = uuid_of("0f8fad5b-d9cb-469f-a165-70867728950e");
  view.apply({oid, "John \"JD\" Doe", "Shoes", 2}, live(1, 42, tp));

  BOOST_TEST(boost::json::serialize(tracker::to_json(*view.find(oid))) ==
             R"({"order_id":"0f8fad5b-d9cb-469f-a165-70867728950e","user":"John \"JD\" Doe",)"
             R"("item":"Shoes","quantity":2,"partition":1,"offset":42,)"
             R"("received_at":"2024-05-01T12:34:56.789Z","received_at_source":"applied",)"
             R"("traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})");
}

BOOST_AUTO_TEST_CASE(an_order_without_traceparent_has_no_traceparent_field) {
  order_view view(10, 100);
  view.apply(order(1), live(0, 0));
  const auto v = tracker::to_json(*view.find(id(1)));
  BOOST_TEST(v.as_object().size() == 8u);
  BOOST_TEST(!v.as_object().contains("traceparent"));
}

BOOST_AUTO_TEST_CASE(received_at_is_rfc3339_utc_with_milliseconds_truncated_toward_the_past) {
  using std::chrono::system_clock;
  BOOST_TEST(tracker::rfc3339_utc_ms(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(tracker::rfc3339_utc_ms(system_clock::time_point{} - 1us) ==
             "1969-12-31T23:59:59.999Z");
  BOOST_TEST(tracker::rfc3339_utc_ms(std::chrono::sys_days{std::chrono::year{2000} / 2 / 29} +
                                     7ms) == "2000-02-29T00:00:00.007Z");
}

BOOST_AUTO_TEST_CASE(stats_are_served_as_counters_totals_and_owned_partitions) {
  order_view view(3, 100);
  view.assign_partition(4);
  view.apply(order(1, "alice", "Shoes", 2), live(0, 0));
  view.apply(order(2, "bob", "Shoes", 1), live(0, 1));
  view.apply(order(3, "bob", "Hat", 5), restore(2, 0));
  view.apply(order(2, "bob", "Shoes", 1), live(0, 1));

  const auto expected = boost::json::parse(R"({
    "orders": 2, "duplicates": 1, "evicted": 1, "restored": 1, "tracked": 2, "remembered": 3,
    "by_item": {"Hat": {"orders": 1, "quantity": 5}, "Shoes": {"orders": 2, "quantity": 3}},
    "by_user": {"alice": {"orders": 1, "quantity": 2}, "bob": {"orders": 2, "quantity": 6}},
    "partitions": [0, 2, 4]
  })");
  BOOST_TEST(tracker::to_json(view.stats()) == expected);
}

BOOST_AUTO_TEST_CASE(stats_of_an_empty_view_have_empty_totals) {
  order_view view(10, 100);
  const auto expected = boost::json::parse(R"({
    "orders": 0, "duplicates": 0, "evicted": 0, "restored": 0, "tracked": 0, "remembered": 0,
    "by_item": {}, "by_user": {}, "partitions": []
  })");
  BOOST_TEST(tracker::to_json(view.stats()) == expected);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// The view's specified behaviour, written the obvious way: every sighting kept in a list per
/// partition, details in a deque, linear scans.
class reference_view {
 public:
  reference_view(std::size_t max_orders, std::uint64_t window)
      : max_orders_(max_orders), window_(window) {}

  apply_result apply(const events::order_placed& o, const tracker::tracked_meta& meta) {
    assign_partition(meta.partition);
    part& p = parts_.at(meta.partition);
    p.last = std::max(p.last, meta.offset);
    const bool dup = std::any_of(p.seen.begin(), p.seen.end(), [&](const auto& s) {
      return s.first == o.order_id && s.second >= meta.offset - static_cast<std::int64_t>(window_);
    });
    p.seen.emplace_back(o.order_id, meta.offset);
    if (dup) {
      if (meta.from == origin::live) ++counters_.duplicates;
      return apply_result::duplicate;
    }
    if (share() > 0) {
      if (p.details.size() == share()) {
        p.details.pop_front();
        ++counters_.evicted;
      }
      p.details.push_back({o.order_id, o.user, o.item, o.quantity, meta.partition, meta.offset,
                           meta.received_at, meta.event_time, std::string(meta.traceparent)});
    }
    add(p.items[o.item], o.quantity);
    add(p.users[o.user], o.quantity);
    ++(meta.from == origin::live ? counters_.orders : counters_.restored);
    return apply_result::added;
  }

  void assign_partition(std::int32_t p) {
    if (parts_.contains(p)) return;
    parts_[p];
    reshare();
  }

  std::size_t drop_partition(std::int32_t p) {
    if (!parts_.contains(p)) return 0;
    const std::size_t n = remembered(parts_.at(p)).size();
    parts_.erase(p);
    reshare();
    return n;
  }

  const tracker::tracked_order* find(const boost::uuids::uuid& u) const {
    for (const auto& [n, p] : parts_) {
      if (!remembered(p).contains(u)) continue;
      for (auto it = p.details.rbegin(); it != p.details.rend(); ++it) {
        if (it->order_id == u) return &*it;
      }
    }
    return nullptr;
  }

  bool contains(const boost::uuids::uuid& u) const {
    return std::any_of(parts_.begin(), parts_.end(),
                       [&](const auto& p) { return remembered(p.second).contains(u); });
  }

  tracker::view_counters counters() const {
    auto c = counters_;
    for (const auto& [n, p] : parts_) {
      c.tracked += p.details.size();
      c.remembered += remembered(p).size();
    }
    return c;
  }

  tracker::view_stats stats() const {
    tracker::view_stats s;
    s.counters = counters();
    for (const auto& [n, p] : parts_) {
      s.partitions.push_back(n);
      for (const auto& [k, t] : p.items) {
        s.by_item[k].orders += t.orders;
        s.by_item[k].quantity += t.quantity;
      }
      for (const auto& [k, t] : p.users) {
        s.by_user[k].orders += t.orders;
        s.by_user[k].quantity += t.quantity;
      }
    }
    return s;
  }

 private:
  struct part {
    std::vector<std::pair<boost::uuids::uuid, std::int64_t>> seen;
    std::deque<tracker::tracked_order> details;
    std::map<std::string, tracker::totals> items, users;
    std::int64_t last = -1;
  };

  /// Ids last seen within the window of the partition's newest offset.
  std::set<boost::uuids::uuid> remembered(const part& p) const {
    std::set<boost::uuids::uuid> ids;
    for (const auto& [u, o] : p.seen) {
      if (o >= p.last - static_cast<std::int64_t>(window_)) ids.insert(u);
    }
    return ids;
  }

  std::size_t share() const { return parts_.empty() ? max_orders_ : max_orders_ / parts_.size(); }

  void reshare() {
    for (auto& [n, p] : parts_) {
      while (p.details.size() > share()) {
        p.details.pop_front();
        ++counters_.evicted;
      }
    }
  }

  static void add(tracker::totals& t, std::int64_t quantity) {
    ++t.orders;
    t.quantity += quantity;
  }

  std::size_t max_orders_;
  std::uint64_t window_;
  std::map<std::int32_t, part> parts_;
  tracker::view_counters counters_;
};

void check_same(const order_view& view, const reference_view& ref,
                const std::vector<boost::uuids::uuid>& ids) {
  const auto s = view.stats();
  const auto r = ref.stats();
  BOOST_TEST_REQUIRE((s.counters == r.counters));
  BOOST_TEST_REQUIRE((s.by_item == r.by_item));
  BOOST_TEST_REQUIRE((s.by_user == r.by_user));
  BOOST_TEST_REQUIRE(s.partitions == r.partitions);
  for (const auto& u : ids) {
    BOOST_TEST_REQUIRE(view.contains(u) == ref.contains(u));
    const auto* a = view.find(u);
    const auto* b = ref.find(u);
    BOOST_TEST_REQUIRE((a == nullptr) == (b == nullptr));
    if (a != nullptr) {
      BOOST_TEST_REQUIRE((*a == *b));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_model)

BOOST_AUTO_TEST_CASE(random_applies_restores_and_drops_match_a_simple_reference_model) {
  struct limits {
    std::size_t max_orders;
    std::size_t id_window;
  };
  for (const limits l : {limits{40, 100}, limits{50, 50}, limits{0, 30}, limits{6, 1}}) {
    BOOST_TEST_CONTEXT("max_orders " << l.max_orders << ", id_window " << l.id_window) {
      std::mt19937_64 rng(20240501);
      boost::uuids::basic_random_generator<std::mt19937_64> make_id(rng);
      std::vector<boost::uuids::uuid> ids(120);
      for (auto& u : ids) {
        u = make_id();
      }
      const std::vector<std::string> users = {"alice", "bob", "carol", "a user with a long name"};
      const std::vector<std::string> items = {"Shoes", "Hat", "Boat", "an item with a long name"};
      auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
      };

      order_view view(l.max_orders, l.id_window);
      reference_view ref(l.max_orders, l.id_window);
      std::map<std::int32_t, std::int64_t> next_offset;  // each partition's log
      for (int step = 0; step < 3000; ++step) {
        const std::size_t what = pick(100);
        const auto partition = static_cast<std::int32_t>(pick(4));
        if (what < 3) {
          BOOST_TEST_REQUIRE(view.drop_partition(partition) == ref.drop_partition(partition));
        } else if (what < 5) {
          view.assign_partition(partition);
          ref.assign_partition(partition);
        } else {
          // Keyed by order id, an order always lands in the same partition.
          const auto n_id = static_cast<std::size_t>(partition) * 30 + pick(30);
          const events::order_placed o{ids[n_id], users[pick(users.size())],
                                       items[pick(items.size())],
                                       static_cast<std::int64_t>(1 + pick(10))};
          const std::string tp = pick(2) == 0 ? "" : "00-trace-" + std::to_string(step);
          const tracker::tracked_meta meta{partition, next_offset[partition]++,
                                           t0 + std::chrono::milliseconds(step), tp,
                                           what < 25 ? origin::restore : origin::live};
          BOOST_TEST_REQUIRE(view.apply(o, meta) == ref.apply(o, meta));
          BOOST_TEST_REQUIRE((view.counters() == ref.counters()));
        }
        if (step % 97 == 0) {
          check_same(view, ref, ids);
        }
      }
      check_same(view, ref, ids);
      // The run must have exercised what it is meant to check.
      const auto c = view.counters();
      BOOST_TEST(c.duplicates > 0u);
      BOOST_TEST(c.restored > 0u);
      if (l.max_orders > 0) {
        BOOST_TEST(c.evicted > 0u);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
