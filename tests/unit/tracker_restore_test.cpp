// Checkpointed restore against a full replay: whatever sequence of orders, duplicates, poison,
// commits, snapshots, crashes, rebalances and damaged snapshots a partition goes through, its
// totals equal those of a full replay of its log, and a restore that has a usable snapshot reads
// only the offsets the dedup window needs.
#include "services/tracker/order_view.hpp"
#include "services/tracker/restore_plan.hpp"
#include "services/tracker/snapshot_codec.hpp"

#define BOOST_TEST_MODULE tracker_restore
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace events = order_tracker::events;
namespace tracker = order_tracker::tracker;
using tracker::apply_result;
using tracker::order_view;
using tracker::origin;
using tracker::partition_snapshot;

namespace {

constexpr std::string_view topic = "orders";
constexpr std::int32_t partition = 1;

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

tracker::tracked_meta meta(std::int64_t offset, origin from) {
  return {partition, offset, std::chrono::system_clock::time_point{}, {}, from};
}

/// One record of the partition: an order, or poison (nothing the view sees).
using record = std::optional<events::order_placed>;

/// The totals a full replay of log[0, end) gives.
tracker::view_stats full_replay(const std::vector<record>& log, std::int64_t end,
                                std::uint64_t window) {
  order_view view(10, window);
  view.assign_partition(partition);
  for (std::int64_t o = 0; o < end; ++o) {
    if (log[static_cast<std::size_t>(o)])
      view.apply(*log[static_cast<std::size_t>(o)], meta(o, origin::live));
  }
  return view.stats();
}

/// A Tracker's handling of one partition, reduced to what decides its totals: live processing,
/// commits, snapshots written to a (compacted: latest only) state topic, and restores that follow
/// the plan exactly as the service does.
struct instance {
  std::uint64_t window;
  std::unique_ptr<order_view> view;
  std::int64_t position = 0;  ///< the next offset to process live
  std::uint64_t read = 0;     ///< offsets read by the last restore

  void restore(const std::vector<record>& log, std::int64_t committed,
               const tracker::snapshot_lookup& found, std::string* fallback) {
    const auto plan = tracker::plan_restore(found, topic, partition, committed, window);
    if (fallback != nullptr) *fallback = plan.fallback;
    view = std::make_unique<order_view>(10, window);
    view->assign_partition(partition);
    if (plan.start) view->start_from(*plan.start);
    std::int64_t o = plan.read_from;
    read = 0;
    for (; o < committed; ++o, ++read) {
      if (log[static_cast<std::size_t>(o)])
        view->apply(*log[static_cast<std::size_t>(o)], meta(o, origin::restore));
    }
    position = std::max<std::int64_t>(committed, 0);
  }

  void process(const std::vector<record>& log, std::int64_t upto) {
    for (; position < upto; ++position) {
      const auto& r = log[static_cast<std::size_t>(position)];
      if (r) view->apply(*r, meta(position, origin::live));
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(restore_against_full_replay)

BOOST_AUTO_TEST_CASE(random_crashes_rebalances_and_snapshots_never_change_the_totals) {
  std::uint64_t snapshots_used = 0, fallbacks = 0, ahead = 0, behind = 0;
  for (const std::uint64_t window : {1u, 5u, 17u, 64u}) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      BOOST_TEST_CONTEXT("window " << window << ", seed " << seed) {
        std::mt19937_64 rng(seed * 7919 + window);
        const auto pick = [&](std::uint64_t n) {
          return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
        };
        const std::vector<std::string> names = {"alice", "bob", "carol", "dave"};
        std::vector<record> log;
        std::uint64_t next_id = 0;
        instance t{window, std::make_unique<order_view>(10, window)};
        t.view->assign_partition(partition);
        std::int64_t committed = -1;
        std::optional<std::string> state;  // the latest snapshot record (compaction keeps it)

        for (int step = 0; step < 400; ++step) {
          const auto what = pick(100);
          if (what < 35) {
            // New records: mostly new orders, some redelivered ids (near and far), some poison.
            for (auto n = pick(6) + 1; n > 0; --n) {
              const auto kind = pick(20);
              if (kind == 0) {
                log.emplace_back(std::nullopt);
              } else if (kind < 6 && next_id > 0) {
                const auto back = pick(std::min<std::uint64_t>(next_id, 3 * window + 3)) + 1;
                const auto n_id = next_id - back;
                log.emplace_back(events::order_placed{id(n_id), names[n_id % 4],
                                                      names[(n_id / 4) % 4],
                                                      static_cast<std::int64_t>(n_id % 7 + 1)});
              } else {
                const auto n_id = next_id++;
                log.emplace_back(events::order_placed{id(n_id), names[n_id % 4],
                                                      names[(n_id / 4) % 4],
                                                      static_cast<std::int64_t>(n_id % 7 + 1)});
              }
            }
          } else if (what < 60) {
            t.process(log, std::min<std::int64_t>(static_cast<std::int64_t>(log.size()),
                                                  t.position + static_cast<std::int64_t>(pick(8))));
          } else if (what < 70) {
            committed = t.position;  // every processed offset is stored and committed
          } else if (what < 80) {
            state = tracker::encode(*t.view->snapshot(partition, std::string(topic)));
          } else if (what < 96) {
            // A crash (kill -9: neither commit nor snapshot), or a graceful rebalance (both).
            if (pick(2) == 0) {
              committed = t.position;
              state = tracker::encode(*t.view->snapshot(partition, std::string(topic)));
            }
            tracker::snapshot_lookup found{
                false, {}, state, 0, static_cast<std::int64_t>(log.size())};
            std::string fallback;
            const auto decoded =
                state ? tracker::decode_snapshot(*state) : tracker::snapshot_error{};
            const std::int64_t snapshot_offset = decoded ? decoded->offset : -1;
            t.restore(log, committed, found, &fallback);
            if (committed > 0 && fallback.empty()) {
              ++snapshots_used;
              ahead += snapshot_offset > committed ? 1 : 0;
              behind += snapshot_offset < committed ? 1 : 0;
              // The bound the snapshot buys: only the window before it, and what it lags behind.
              BOOST_TEST(t.read <= window + static_cast<std::uint64_t>(std::max<std::int64_t>(
                                                committed - snapshot_offset, 0)));
            } else if (committed > 0) {
              ++fallbacks;
              BOOST_TEST(t.read == static_cast<std::uint64_t>(committed));
            }
          } else {
            // The state topic damaged: deleted or compacted away, garbage, an older format, or
            // totals counted with another window.
            switch (pick(4)) {
              case 0:
                state.reset();
                break;
              case 1:
                state = "{not json";
                break;
              case 2:
                state = R"({"format":"order-tracker.partition-snapshot","version":0})";
                break;
              default:
                if (auto d = state ? tracker::decode_snapshot(*state) : tracker::snapshot_error{}) {
                  d->window += 1;
                  state = tracker::encode(*d);
                }
            }
          }
          // A snapshot ahead of the committed offset covers offsets not yet processed again.
          const auto covered =
              std::max(t.position, t.view->snapshot(partition, std::string(topic))->offset);
          const auto expected = full_replay(log, covered, window);
          const auto got = t.view->stats();
          BOOST_TEST_REQUIRE((got.by_item == expected.by_item), "step " << step);
          BOOST_TEST_REQUIRE((got.by_user == expected.by_user), "step " << step);
        }
        t.process(log, static_cast<std::int64_t>(log.size()));
        const auto expected = full_replay(log, static_cast<std::int64_t>(log.size()), window);
        BOOST_TEST_REQUIRE((t.view->stats().by_item == expected.by_item));
      }
    }
  }
  // The runs must have exercised every path they are meant to check.
  BOOST_TEST(snapshots_used > 100u);
  BOOST_TEST(fallbacks > 50u);
  BOOST_TEST(ahead > 10u);
  BOOST_TEST(behind > 10u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(snapshot_format)

partition_snapshot sample() {
  return {"orders",           2, 1234, 50'000, {{"Shoes", {3, 7}}, {"a \"quoted\" hat", {1, 1}}},
          {{"alice", {4, 8}}}};
}

BOOST_AUTO_TEST_CASE(a_snapshot_decodes_to_what_was_encoded) {
  const auto s = sample();
  const auto decoded = tracker::decode_snapshot(tracker::encode(s));
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST((*decoded == s));
}

BOOST_AUTO_TEST_CASE(a_snapshot_names_its_format_and_version) {
  const auto v = boost::json::parse(tracker::encode(sample()));
  BOOST_TEST(v.at("format") == "order-tracker.partition-snapshot");
  BOOST_TEST(v.at("version") == 1);
  BOOST_TEST(boost::json::serialize(v.at("by_item").at("Shoes")) == "[3,7]");
}

BOOST_AUTO_TEST_CASE(another_version_is_refused_as_unknown_not_guessed_at) {
  auto v = boost::json::parse(tracker::encode(sample()));
  v.as_object()["version"] = 2;
  const auto decoded = tracker::decode_snapshot(boost::json::serialize(v));
  BOOST_TEST_REQUIRE(!decoded.has_value());
  BOOST_TEST((decoded.error().what == tracker::snapshot_error::kind::unknown_version));
}

BOOST_AUTO_TEST_CASE(damaged_bytes_are_unreadable_never_a_snapshot) {
  const auto good = tracker::encode(sample());
  // Every truncation, and a few wrong shapes.
  for (std::size_t n = 0; n < good.size(); ++n)
    BOOST_TEST(!tracker::decode_snapshot(std::string_view(good).substr(0, n)).has_value());
  for (const auto* bad :
       {"[]", "{}", R"({"format":"something else","version":1})",
        R"({"format":"order-tracker.partition-snapshot","version":1,"topic":"orders",
            "partition":0,"offset":-5,"window":1,"by_item":{},"by_user":{}})",
        R"({"format":"order-tracker.partition-snapshot","version":1,"topic":"orders",
            "partition":0,"offset":5,"window":1,"by_item":{"x":[1]},"by_user":{}})"}) {
    BOOST_TEST(!tracker::decode_snapshot(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(restore_plans)

tracker::snapshot_lookup found_with(const partition_snapshot& s, std::int64_t log_start = 0,
                                    std::int64_t log_end = 1'000'000) {
  return {false, {}, tracker::encode(s), log_start, log_end};
}

partition_snapshot at(std::int64_t offset, std::uint64_t window = 100) {
  return {"orders", 1, offset, window, {{"Shoes", {1, 1}}}, {}};
}

BOOST_AUTO_TEST_CASE(nothing_committed_needs_no_snapshot) {
  const auto plan = tracker::plan_restore({}, topic, partition, -1, 100);
  BOOST_TEST(!plan.start.has_value());
  BOOST_TEST(plan.fallback.empty());
}

BOOST_AUTO_TEST_CASE(a_snapshot_behind_the_commit_reads_its_window_and_the_gap) {
  const auto plan = tracker::plan_restore(found_with(at(5000)), topic, partition, 6000, 100);
  BOOST_TEST_REQUIRE(plan.start.has_value());
  BOOST_TEST(plan.read_from == 4900);
  BOOST_TEST(plan.fallback.empty());
}

BOOST_AUTO_TEST_CASE(a_snapshot_ahead_of_the_commit_reads_the_window_before_the_commit) {
  const auto plan = tracker::plan_restore(found_with(at(6100)), topic, partition, 6000, 100);
  BOOST_TEST_REQUIRE(plan.start.has_value());
  BOOST_TEST(plan.read_from == 5900);
}

BOOST_AUTO_TEST_CASE(the_read_never_starts_before_the_log_start) {
  const auto plan = tracker::plan_restore(found_with(at(50), 20), topic, partition, 60, 100);
  BOOST_TEST(plan.read_from == 20);
}

BOOST_AUTO_TEST_CASE(a_missing_unreadable_or_inconsistent_snapshot_falls_back_to_a_full_replay) {
  const auto check = [](const tracker::snapshot_lookup& found, std::string_view why) {
    const auto plan = tracker::plan_restore(found, topic, partition, 6000, 100);
    BOOST_TEST(!plan.start.has_value(), why);
    BOOST_TEST(plan.read_from == 0, why);
    BOOST_TEST(plan.fallback.find(why) != std::string::npos, plan.fallback);
  };
  check({true, "timed out", std::nullopt, -1, -1}, "timed out");
  check({false, {}, std::nullopt, 0, 10'000}, "no snapshot");
  check({false, {}, std::string("garbage"), 0, 10'000}, "not JSON");
  check(found_with(at(5000, 99)), "window");
  auto other = at(5000);
  other.partition = 2;
  check(found_with(other), "orders-2");
  check(found_with(at(5000), 0, 4000), "past the log end");  // topic created again
  check(found_with(at(5000), 5500, 9000), "log start");      // retention went past it
}

BOOST_AUTO_TEST_SUITE_END()
