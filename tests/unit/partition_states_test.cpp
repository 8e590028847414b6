#include "services/tracker/partition_states.hpp"

#define BOOST_TEST_MODULE partition_states
#include <boost/test/unit_test.hpp>

// Printers for checked values.
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <vector>

namespace tracker = order_tracker::tracker;
using tracker::partition_states;
using route = partition_states::route;
using offset = std::optional<std::int64_t>;

namespace order_tracker::tracker {
std::ostream& boost_test_print_type(std::ostream& os, partition_states::route r) {
  switch (r) {
    case partition_states::route::hold:
      return os << "hold";
    case partition_states::route::restore:
      return os << "restore";
    case partition_states::route::live:
      return os << "live";
    case partition_states::route::drop:
      return os << "drop";
  }
  return os << "route " << static_cast<int>(r);
}
}  // namespace order_tracker::tracker

// std::optional has no stream operator; Boost.Test's documented hook for types it cannot touch.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<std::optional<std::int64_t>> {
  void operator()(std::ostream& os, const std::optional<std::int64_t>& v) {
    if (v) {
      os << *v;
    } else {
      os << "nullopt";
    }
  }
};
}  // namespace boost::test_tools::tt_detail

namespace {

const offset none = std::nullopt;

/// A partition_states owning partition `p`, live with nothing committed.
partition_states live_partition(std::int32_t p) {
  partition_states s;
  s.committed_known(p, s.assigned(p), -1);
  return s;
}

/// A partition_states owning partition `p`, restoring below `committed`.
partition_states restoring_partition(std::int32_t p, std::int64_t committed) {
  partition_states s;
  s.committed_known(p, s.assigned(p), committed);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(assignment)

BOOST_AUTO_TEST_CASE(an_assigned_partition_holds_messages_until_its_committed_offset_is_known) {
  partition_states s;
  s.assigned(0);
  BOOST_TEST(s.owns(0));
  BOOST_TEST(s.route_of(0, 0) == route::hold);
  BOOST_TEST(s.route_of(0, 57) == route::hold);
  BOOST_TEST(!s.all_live());
  BOOST_TEST(s.not_live() == std::vector<std::int32_t>{0}, boost::test_tools::per_element());
  BOOST_TEST(s.committed_of(0) == -1);
}

BOOST_AUTO_TEST_CASE(nothing_committed_makes_the_partition_live_at_once) {
  for (const std::int64_t committed : {-1, 0}) {
    BOOST_TEST_CONTEXT("committed " << committed) {
      partition_states s;
      BOOST_TEST(s.committed_known(3, s.assigned(3), committed));
      BOOST_TEST(s.all_live());
      BOOST_TEST(s.not_live().empty());
      BOOST_TEST(s.route_of(3, 0) == route::live);
      BOOST_TEST(s.committed_of(3) == committed);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_committed_offset_for_a_partition_not_owned_is_ignored) {
  partition_states s;
  BOOST_TEST(!s.committed_known(4, 1, 10));
  BOOST_TEST(!s.owns(4));
  BOOST_TEST(s.committed_of(4) == -1);
  BOOST_TEST(s.all_live());
}

BOOST_AUTO_TEST_CASE(a_second_committed_offset_does_not_restart_the_restore) {
  partition_states s;
  const auto a = s.assigned(0);
  BOOST_TEST(s.committed_known(0, a, 10));
  BOOST_TEST(s.route_of(0, 9) == route::restore);
  BOOST_TEST(s.all_live());
  BOOST_TEST(!s.committed_known(0, a, 20));
  BOOST_TEST(s.all_live());
  BOOST_TEST(s.committed_of(0) == 10);
  BOOST_TEST(s.route_of(0, 10) == route::live);
}

BOOST_AUTO_TEST_CASE(a_message_of_a_partition_not_owned_is_left_to_its_owner) {
  partition_states s;
  BOOST_TEST(s.route_of(9, 5) == route::drop);
}

BOOST_AUTO_TEST_CASE(re_assignment_starts_over_from_holding) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 5, false) == offset(5));
  const auto a = s.assigned(0);
  BOOST_TEST(s.route_of(0, 6) == route::hold);
  s.committed_known(0, a, 6);
  BOOST_TEST(s.route_of(0, 5) == route::restore);
  BOOST_TEST(s.route_of(0, 6) == route::live);
  // Nothing was stored yet in this assignment, so offset 6 is reported again.
  BOOST_TEST(s.processed(0, 6, false) == offset(6));
}

// Revoked and assigned again while the first assignment's lookup was on its way: the committed
// offset it brings back predates what the owner in between committed.
BOOST_AUTO_TEST_CASE(a_committed_offset_looked_up_for_an_earlier_assignment_is_ignored) {
  partition_states s;
  const auto first = s.assigned(0);
  s.revoked(0);
  const auto second = s.assigned(0);
  BOOST_TEST(first != second);
  BOOST_TEST(!s.current(0, first));
  BOOST_TEST(s.current(0, second));
  // The first lookup answers late with the offset from before the other owner's commits.
  BOOST_TEST(!s.committed_known(0, first, 10));
  BOOST_TEST(s.route_of(0, 10) == route::hold);
  BOOST_TEST(s.not_live() == std::vector<std::int32_t>{0}, boost::test_tools::per_element());
  // The current lookup's answer decides: offsets 10..24 were processed by the other owner.
  BOOST_TEST(s.committed_known(0, second, 25));
  BOOST_TEST(s.committed_of(0) == 25);
  BOOST_TEST(s.route_of(0, 10) == route::restore);
  BOOST_TEST(s.route_of(0, 24) == route::restore);
  BOOST_TEST(s.route_of(0, 25) == route::live);
  BOOST_TEST(s.processed(0, 25, false) == offset(25));
}

BOOST_AUTO_TEST_CASE(a_late_answer_for_an_earlier_assignment_does_not_undo_the_current_one) {
  partition_states s;
  const auto first = s.assigned(0);
  s.revoked(0);
  const auto second = s.assigned(0);
  BOOST_TEST(s.committed_known(0, second, 25));
  BOOST_TEST(!s.committed_known(0, first, 10));
  BOOST_TEST(s.committed_of(0) == 25);
  BOOST_TEST(s.route_of(0, 24) == route::restore);
}

BOOST_AUTO_TEST_CASE(assignment_ids_are_never_reused_across_partitions) {
  partition_states s;
  const auto a0 = s.assigned(0);
  const auto a1 = s.assigned(1);
  BOOST_TEST(a0 != a1);
  BOOST_TEST(!s.current(1, a0));
  BOOST_TEST(!s.committed_known(1, a0, 5));
  BOOST_TEST(s.route_of(1, 5) == route::hold);
  BOOST_TEST(!s.current(2, a0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(restore)

BOOST_AUTO_TEST_CASE(messages_below_the_committed_offset_restore_the_view) {
  auto s = restoring_partition(0, 5);
  BOOST_TEST(!s.all_live());
  BOOST_TEST(s.committed_of(0) == 5);
  for (std::int64_t o = 0; o < 4; ++o) {
    BOOST_TEST(s.route_of(0, o) == route::restore);
    BOOST_TEST(!s.all_live());
  }
}

BOOST_AUTO_TEST_CASE(the_message_just_below_the_committed_offset_ends_the_restore) {
  auto s = restoring_partition(0, 5);
  BOOST_TEST(s.route_of(0, 3) == route::restore);
  BOOST_TEST(s.route_of(0, 4) == route::restore);
  BOOST_TEST(s.all_live());
  BOOST_TEST(s.not_live().empty());
  BOOST_TEST(s.route_of(0, 5) == route::live);
}

BOOST_AUTO_TEST_CASE(a_message_at_or_past_the_committed_offset_goes_live_and_ends_the_restore) {
  // Compaction or retention can leave no message at C - 1.
  for (const std::int64_t first : {5, 6, 100}) {
    BOOST_TEST_CONTEXT("first message at " << first) {
      auto s = restoring_partition(0, 5);
      BOOST_TEST(s.route_of(0, first) == route::live);
      BOOST_TEST(s.all_live());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_log_start_at_or_past_the_committed_offset_ends_the_restore) {
  for (const std::int64_t low : {5, 8}) {
    BOOST_TEST_CONTEXT("log start " << low) {
      auto s = restoring_partition(0, 5);
      s.log_start(0, low);
      BOOST_TEST(s.all_live());
      BOOST_TEST(s.route_of(0, low) == route::live);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_log_start_below_the_committed_offset_leaves_the_restore_running) {
  auto s = restoring_partition(0, 5);
  s.log_start(0, 4);
  BOOST_TEST(!s.all_live());
  BOOST_TEST(s.route_of(0, 4) == route::restore);
}

BOOST_AUTO_TEST_CASE(a_log_start_while_the_committed_offset_is_unknown_changes_nothing) {
  partition_states s;
  s.assigned(0);
  s.log_start(0, 100);
  BOOST_TEST(s.route_of(0, 100) == route::hold);
}

BOOST_AUTO_TEST_CASE(not_live_lists_holding_and_restoring_partitions_in_order) {
  partition_states s;
  std::map<std::int32_t, partition_states::assignment> a;
  for (const std::int32_t p : {4, 0, 2, 1, 3})
    a[p] = s.assigned(p);
  s.committed_known(0, a[0], 10);  // restoring
  s.committed_known(1, a[1], 0);   // live
  s.committed_known(2, a[2], 7);   // restoring
  s.committed_known(4, a[4], -1);  // live; 3 still holding
  BOOST_TEST(s.not_live() == (std::vector<std::int32_t>{0, 2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(!s.all_live());
  s.route_of(2, 6);
  BOOST_TEST(s.not_live() == (std::vector<std::int32_t>{0, 3}), boost::test_tools::per_element());
  s.log_start(0, 10);
  s.committed_known(3, a[3], 0);
  BOOST_TEST(s.not_live().empty());
  BOOST_TEST(s.all_live());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(storable_offsets)

BOOST_AUTO_TEST_CASE(each_processed_message_makes_its_offset_storable_in_order) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, false) == offset(0));
  BOOST_TEST(s.processed(0, 1, false) == offset(1));
  BOOST_TEST(s.processed(0, 2, false) == offset(2));
}

BOOST_AUTO_TEST_CASE(live_messages_after_a_restore_are_storable_from_the_committed_offset) {
  auto s = restoring_partition(0, 5);
  s.route_of(0, 4);
  BOOST_TEST(s.route_of(0, 5) == route::live);
  BOOST_TEST(s.processed(0, 5, false) == offset(5));
  BOOST_TEST(s.processed(0, 6, false) == offset(6));
}

BOOST_AUTO_TEST_CASE(an_offset_already_stored_is_not_reported_again) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 7, false) == offset(7));
  BOOST_TEST(s.processed(0, 7, false) == none);
  BOOST_TEST(s.processed(0, 3, false) == none);  // a redelivered older message
}

BOOST_AUTO_TEST_CASE(partitions_are_independent) {
  partition_states s;
  for (const std::int32_t p : {0, 1})
    s.committed_known(p, s.assigned(p), -1);
  BOOST_TEST(s.processed(0, 9, false) == offset(9));
  BOOST_TEST(s.processed(0, 10, true) == none);
  BOOST_TEST(s.processed(1, 20, false) == offset(20));
  BOOST_TEST(s.processed(1, 21, false) == offset(21));
  BOOST_TEST(s.dead_lettered(0, 10) == offset(10));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dead_letters)

BOOST_AUTO_TEST_CASE(a_pending_dead_letter_holds_back_itself_and_every_later_offset) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, false) == offset(0));
  BOOST_TEST(s.processed(0, 1, true) == none);
  BOOST_TEST(s.processed(0, 2, false) == none);
  BOOST_TEST(s.processed(0, 3, false) == none);
  BOOST_TEST(s.dead_lettered(0, 1) == offset(3));
  BOOST_TEST(s.processed(0, 4, false) == offset(4));
}

BOOST_AUTO_TEST_CASE(a_dead_letter_as_the_first_message_holds_back_everything) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, true) == none);
  BOOST_TEST(s.processed(0, 1, false) == none);
  BOOST_TEST(s.dead_lettered(0, 0) == offset(1));
}

BOOST_AUTO_TEST_CASE(a_dead_letter_as_the_first_live_message_lets_the_offsets_before_it_be_stored) {
  // Everything below it was restored or is gone from the log: committing up to it loses nothing.
  auto s = restoring_partition(0, 10);
  BOOST_TEST(s.route_of(0, 9) == route::restore);
  BOOST_TEST(s.route_of(0, 10) == route::live);
  BOOST_TEST(s.processed(0, 10, true) == offset(9));
  BOOST_TEST(s.processed(0, 11, false) == none);
  BOOST_TEST(s.dead_lettered(0, 10) == offset(11));
}

BOOST_AUTO_TEST_CASE(messages_before_a_pending_dead_letter_are_storable) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 10, false) == offset(10));
  BOOST_TEST(s.processed(0, 11, false) == offset(11));
  BOOST_TEST(s.processed(0, 12, true) == none);
  BOOST_TEST(s.dead_lettered(0, 12) == offset(12));
}

BOOST_AUTO_TEST_CASE(two_dead_letters_released_in_order) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, false) == offset(0));
  BOOST_TEST(s.processed(0, 1, true) == none);
  BOOST_TEST(s.processed(0, 2, false) == none);
  BOOST_TEST(s.processed(0, 3, true) == none);
  BOOST_TEST(s.processed(0, 4, false) == none);
  BOOST_TEST(s.dead_lettered(0, 1) == offset(2));
  BOOST_TEST(s.dead_lettered(0, 3) == offset(4));
}

BOOST_AUTO_TEST_CASE(two_dead_letters_released_out_of_order) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, false) == offset(0));
  BOOST_TEST(s.processed(0, 1, true) == none);
  BOOST_TEST(s.processed(0, 2, false) == none);
  BOOST_TEST(s.processed(0, 3, true) == none);
  BOOST_TEST(s.processed(0, 4, false) == none);
  // The later one first: offset 1 still holds everything back.
  BOOST_TEST(s.dead_lettered(0, 3) == none);
  BOOST_TEST(s.processed(0, 5, false) == none);
  BOOST_TEST(s.dead_lettered(0, 1) == offset(5));
}

BOOST_AUTO_TEST_CASE(a_dead_letter_confirmed_twice_changes_nothing_the_second_time) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, true) == none);
  BOOST_TEST(s.dead_lettered(0, 0) == offset(0));
  BOOST_TEST(s.dead_lettered(0, 0) == none);
}

BOOST_AUTO_TEST_CASE(a_dead_letter_of_a_revoked_partition_stores_nothing) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, false) == offset(0));
  BOOST_TEST(s.processed(0, 1, true) == none);
  s.revoked(0);
  BOOST_TEST(!s.owns(0));
  BOOST_TEST(s.dead_lettered(0, 1) == none);
  BOOST_TEST(!s.owns(0));
}

BOOST_AUTO_TEST_CASE(a_dead_letter_from_before_a_re_assignment_stores_nothing_new) {
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 4, false) == offset(4));
  BOOST_TEST(s.processed(0, 5, true) == none);
  s.revoked(0);
  s.committed_known(0, s.assigned(0), 5);
  BOOST_TEST(s.dead_lettered(0, 5) == none);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(revocation)

BOOST_AUTO_TEST_CASE(a_revoked_partition_is_no_longer_owned_nor_waited_for) {
  auto s = restoring_partition(0, 10);
  s.revoked(0);
  BOOST_TEST(!s.owns(0));
  BOOST_TEST(s.all_live());
  BOOST_TEST(s.not_live().empty());
  BOOST_TEST(s.committed_of(0) == -1);
}

BOOST_AUTO_TEST_CASE(a_message_of_a_revoked_partition_processed_late_does_not_adopt_it) {
  // A message already fetched when the partition was revoked is dropped (the new owner processes
  // it); even if handed over, it must not make this Tracker the partition's owner again, nor
  // report an offset to store for a partition it gave away.
  auto s = live_partition(0);
  BOOST_TEST(s.processed(0, 0, false) == offset(0));
  s.revoked(0);
  BOOST_TEST(s.route_of(0, 1) == route::drop);
  BOOST_TEST(s.processed(0, 1, false) == none);
  BOOST_TEST(!s.owns(0));
}

BOOST_AUTO_TEST_SUITE_END()
