#include "services/order/idempotency_cache.hpp"

#define BOOST_TEST_MODULE idempotency_cache
#include <boost/test/unit_test.hpp>

// Helpers for recording what waiters were told.
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace order = order_tracker::order;
using cache = order::idempotency_cache;
using outcome = cache::outcome;
using ending = cache::ending;
using namespace std::literals;

namespace order_tracker::order {
std::ostream& boost_test_print_type(std::ostream& os, idempotency_cache::outcome o) {
  switch (o) {
    case idempotency_cache::outcome::first:
      return os << "first";
    case idempotency_cache::outcome::waiting:
      return os << "waiting";
    case idempotency_cache::outcome::replayed:
      return os << "replayed";
    case idempotency_cache::outcome::conflict:
      return os << "conflict";
    case idempotency_cache::outcome::full:
      return os << "full";
  }
  return os << "outcome " << static_cast<int>(o);
}
std::ostream& boost_test_print_type(std::ostream& os, const idempotency_cache::started& s) {
  return boost_test_print_type(os, s.result) << " (attempt " << s.attempt << ")";
}
}  // namespace order_tracker::order

namespace {

const cache::clock::time_point t0 = cache::clock::time_point{} + 1000h;
const std::chrono::seconds window = 60s;

const std::uint64_t body_a = order::fingerprint(R"({"user":"alice","item":"Shoes","quantity":1})");
const std::uint64_t body_b = order::fingerprint(R"({"user":"alice","item":"Shoes","quantity":2})");

cache::answer created(std::string body = R"({"order_id":"1"})") {
  return {201, std::move(body), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};
}

/// What one waiter was told: nothing yet, "failed", "unknown", or an answer.
struct told {
  int calls = 0;
  bool failed = false;
  bool unknown = false;
  std::optional<cache::answer> answer;

  cache::waiter waiter() {
    return [this](ending how, const cache::answer* a) {
      ++calls;
      failed = failed || how == ending::failed;
      unknown = unknown || how == ending::unknown;
      if (how == ending::answered) {
        BOOST_TEST_REQUIRE(a != nullptr);
        answer = *a;
      }
    };
  }
};

/// A waiter that must not be called.
cache::waiter never() {
  return [](ending, const cache::answer*) { BOOST_ERROR("a waiter ran that should not have"); };
}

const std::string order_id = "6f1d4a52-9a43-4c1e-8c3b-2c1f0e7a9b10";

}  // namespace

BOOST_AUTO_TEST_SUITE(outcomes)

BOOST_AUTO_TEST_CASE(a_new_key_is_first_and_its_waiter_is_not_called) {
  cache c(10, window);
  BOOST_TEST(c.start("k", body_a, t0, never()) == outcome::first);
  BOOST_TEST(c.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_retry_while_the_first_is_in_flight_waits) {
  cache c(10, window);
  BOOST_TEST(c.start("k", body_a, t0, never()) == outcome::first);
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + 1s, retry.waiter()) == outcome::waiting);
  BOOST_TEST(retry.calls == 0);
}

BOOST_AUTO_TEST_CASE(complete_answers_every_waiting_retry_once) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  told r1, r2;
  BOOST_TEST(c.start("k", body_a, t0 + 1s, r1.waiter()) == outcome::waiting);
  BOOST_TEST(c.start("k", body_a, t0 + 2s, r2.waiter()) == outcome::waiting);
  c.complete("k", first.attempt, created());
  for (const auto* r : {&r1, &r2}) {
    BOOST_TEST(r->calls == 1);
    BOOST_TEST_REQUIRE(r->answer.has_value());
    BOOST_TEST(r->answer->status == 201u);
    BOOST_TEST(r->answer->body == created().body);
    BOOST_TEST(r->answer->traceparent == created().traceparent);
  }
}

BOOST_AUTO_TEST_CASE(a_retry_after_complete_is_replayed_at_once_with_the_first_answer) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.complete("k", first.attempt, created(R"({"order_id":"first"})"));
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + 5s, retry.waiter()) == outcome::replayed);
  BOOST_TEST(retry.calls == 1);
  BOOST_TEST_REQUIRE(retry.answer.has_value());
  BOOST_TEST(retry.answer->status == 201u);
  BOOST_TEST(retry.answer->body == R"({"order_id":"first"})");
  told again;
  BOOST_TEST(c.start("k", body_a, t0 + 6s, again.waiter()) == outcome::replayed);
  BOOST_TEST(again.calls == 1);
  BOOST_TEST(c.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_key_reused_with_another_body_is_a_conflict_while_pending_or_done) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  BOOST_TEST(c.start("k", body_b, t0 + 1s, never()) == outcome::conflict);
  c.complete("k", first.attempt, created());
  BOOST_TEST(c.start("k", body_b, t0 + 2s, never()) == outcome::conflict);
  // The conflict did not disturb the remembered answer.
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + 3s, retry.waiter()) == outcome::replayed);
  BOOST_TEST(retry.answer.has_value());
}

BOOST_AUTO_TEST_CASE(different_keys_are_independent) {
  cache c(10, window);
  const auto k1 = c.start("k1", body_a, t0, never());
  BOOST_TEST(k1 == outcome::first);
  BOOST_TEST(c.start("k2", body_a, t0, never()) == outcome::first);
  c.complete("k1", k1.attempt, created());
  told w;
  BOOST_TEST(c.start("k2", body_a, t0 + 1s, w.waiter()) == outcome::waiting);
  BOOST_TEST(w.calls == 0);
}

BOOST_AUTO_TEST_CASE(complete_or_abandon_of_an_unknown_key_does_nothing) {
  cache c(10, window);
  c.complete("nobody", 1, created());
  c.abandon("nobody", 1);
  c.uncertain("nobody", 1, order_id);
  BOOST_TEST(c.size() == 0u);
}

BOOST_AUTO_TEST_CASE(each_first_request_gets_an_attempt_of_its_own) {
  cache c(10, window);
  const auto a = c.start("a", body_a, t0, never());
  const auto b = c.start("b", body_a, t0, never());
  BOOST_TEST(a.attempt != 0u);
  BOOST_TEST(b.attempt != 0u);
  BOOST_TEST(a.attempt != b.attempt);
}

BOOST_AUTO_TEST_CASE(a_late_answer_of_an_earlier_attempt_does_not_land_on_a_re_created_key) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.uncertain("k", first.attempt, order_id);
  // The uncertain key is forgotten with its window; a new request re-creates it.
  const auto second = c.start("k", body_b, t0 + window, never());
  BOOST_TEST(second == outcome::first);
  told waiting;
  BOOST_TEST(c.start("k", body_b, t0 + window, waiting.waiter()) == outcome::waiting);
  // The first attempt's report arrives at last: it is not the second order's answer.
  c.complete("k", first.attempt, created("first"));
  c.abandon("k", first.attempt);
  BOOST_TEST(waiting.calls == 0);
  c.complete("k", second.attempt, created("second"));
  BOOST_TEST_REQUIRE(waiting.answer.has_value());
  BOOST_TEST(waiting.answer->body == "second");
}

BOOST_AUTO_TEST_CASE(a_late_answer_of_a_retried_attempt_does_not_end_the_retry) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.uncertain("k", first.attempt, order_id);
  const auto retry = c.start("k", body_a, t0 + 1s, never());
  told waiting;
  BOOST_TEST(c.start("k", body_a, t0 + 2s, waiting.waiter()) == outcome::waiting);
  c.abandon("k", first.attempt);
  c.complete("k", first.attempt, created("first"));
  BOOST_TEST(waiting.calls == 0);
  c.complete("k", retry.attempt, created("retry"));
  BOOST_TEST_REQUIRE(waiting.answer.has_value());
  BOOST_TEST(waiting.answer->body == "retry");
}

BOOST_AUTO_TEST_CASE(a_late_success_of_an_uncertain_attempt_is_remembered) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.uncertain("k", first.attempt, order_id);
  c.complete("k", first.attempt, created("late"));
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + 1s, retry.waiter()) == outcome::replayed);
  BOOST_TEST_REQUIRE(retry.answer.has_value());
  BOOST_TEST(retry.answer->body == "late");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(answers_alone)

BOOST_AUTO_TEST_CASE(is_true_for_a_stored_answer_a_pending_key_or_a_conflict_only) {
  cache c(10, window);
  BOOST_TEST(!c.answers_alone("k", body_a, t0));
  const auto first = c.start("k", body_a, t0, never());
  BOOST_TEST(c.answers_alone("k", body_a, t0 + 1s));  // would wait
  BOOST_TEST(c.answers_alone("k", body_b, t0 + 1s));  // would conflict
  c.uncertain("k", first.attempt, order_id);
  BOOST_TEST(!c.answers_alone("k", body_a, t0 + 2s));  // would send again
  const auto retry = c.start("k", body_a, t0 + 2s, never());
  c.complete("k", retry.attempt, created());
  BOOST_TEST(c.answers_alone("k", body_a, t0 + 3s));  // would replay
  BOOST_TEST(!c.answers_alone("k", body_a, t0 + window));
  BOOST_TEST(c.size() == 1u, "answers_alone changes nothing");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(abandon)

BOOST_AUTO_TEST_CASE(tells_the_waiting_retries_it_failed) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  told r1, r2;
  c.start("k", body_a, t0 + 1s, r1.waiter());
  c.start("k", body_a, t0 + 1s, r2.waiter());
  c.abandon("k", first.attempt);
  for (const auto* r : {&r1, &r2}) {
    BOOST_TEST(r->calls == 1);
    BOOST_TEST(r->failed);
    BOOST_TEST(!r->answer.has_value());
  }
}

BOOST_AUTO_TEST_CASE(forgets_the_key_so_the_next_request_is_first_again) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.abandon("k", first.attempt);
  BOOST_TEST(c.size() == 0u);
  const auto second = c.start("k", body_a, t0 + 1s, never());
  BOOST_TEST(second == outcome::first);
  // Even with another body: the failed attempt is not remembered.
  c.abandon("k", second.attempt);
  BOOST_TEST(c.start("k", body_b, t0 + 2s, never()) == outcome::first);
}

BOOST_AUTO_TEST_CASE(of_a_retry_keeps_the_pinned_order_id_of_an_uncertain_attempt) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.uncertain("k", first.attempt, order_id);
  const auto retry = c.start("k", body_a, t0 + 1s, never());
  told waiting;
  c.start("k", body_a, t0 + 1s, waiting.waiter());
  // The retry was not taken, but the first attempt may still be on the broker.
  c.abandon("k", retry.attempt);
  BOOST_TEST(waiting.unknown);
  BOOST_TEST(!waiting.failed);
  BOOST_TEST(c.start("k", body_a, t0 + 2s, never()) == outcome::first);
  BOOST_TEST(c.pinned("k") == order_id);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(uncertain)

BOOST_AUTO_TEST_CASE(an_unknown_outcome_lets_the_retry_go_ahead_with_the_same_order_id) {
  cache c(10, window);
  BOOST_TEST(c.pinned("k").empty());
  const auto first = c.start("k", body_a, t0, never());
  told waiting;
  c.start("k", body_a, t0 + 1s, waiting.waiter());
  c.uncertain("k", first.attempt, order_id);
  BOOST_TEST(waiting.calls == 1);

  const auto retry = c.start("k", body_a, t0 + 2s, never());
  BOOST_TEST(retry == outcome::first);
  BOOST_TEST(c.pinned("k") == order_id);
  // While that retry is in flight, a third request waits for it, and gets its answer.
  told third;
  BOOST_TEST(c.start("k", body_a, t0 + 3s, third.waiter()) == outcome::waiting);
  c.complete("k", retry.attempt, created());
  BOOST_TEST(third.answer.has_value());
  told later;
  BOOST_TEST(c.start("k", body_a, t0 + 4s, later.waiter()) == outcome::replayed);
  BOOST_TEST(later.answer.has_value());
}

BOOST_AUTO_TEST_CASE(its_waiters_hear_unknown_not_failed) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  told waiting;
  c.start("k", body_a, t0 + 1s, waiting.waiter());
  c.uncertain("k", first.attempt, order_id);
  BOOST_TEST(waiting.calls == 1);
  BOOST_TEST(waiting.unknown);
  BOOST_TEST(!waiting.failed);
}

BOOST_AUTO_TEST_CASE(an_uncertain_key_still_refuses_another_body) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.uncertain("k", first.attempt, order_id);
  BOOST_TEST(c.start("k", body_b, t0 + 1s, never()) == outcome::conflict);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(expiry)

BOOST_AUTO_TEST_CASE(an_answer_is_replayed_until_just_before_the_window_ends) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.complete("k", first.attempt, created());
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + window - 1ns, retry.waiter()) == outcome::replayed);
}

BOOST_AUTO_TEST_CASE(a_key_is_forgotten_once_the_window_has_passed) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.complete("k", first.attempt, created());
  BOOST_TEST(c.start("k", body_b, t0 + window, never()) == outcome::first);
  BOOST_TEST(c.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_pending_key_outlives_its_window_until_its_attempt_ends) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  told retry;
  c.start("k", body_a, t0 + 1s, retry.waiter());
  BOOST_TEST(c.start("other", body_a, t0 + window, never()) == outcome::first);
  BOOST_TEST(retry.calls == 0);
  BOOST_TEST(c.size() == 2u);
  told late;
  BOOST_TEST(c.start("k", body_a, t0 + window + 1s, late.waiter()) == outcome::waiting);
  c.complete("k", first.attempt, created());
  BOOST_TEST(retry.answer.has_value());
  BOOST_TEST(late.answer.has_value());
  // Settled after its window: forgotten at the next look.
  BOOST_TEST(c.start("k", body_b, t0 + window + 2s, never()) == outcome::first);
}

BOOST_AUTO_TEST_CASE(only_keys_older_than_the_window_are_forgotten) {
  cache c(10, window);
  const auto old = c.start("old", body_a, t0, never());
  c.complete("old", old.attempt, created());
  const auto young = c.start("young", body_a, t0 + 30s, never());
  c.complete("young", young.attempt, created());
  BOOST_TEST(c.start("new", body_a, t0 + window + 1s, never()) == outcome::first);
  BOOST_TEST(c.size() == 2u);
  told y;
  BOOST_TEST(c.start("young", body_a, t0 + window + 1s, y.waiter()) == outcome::replayed);
  BOOST_TEST(c.start("old", body_a, t0 + window + 1s, never()) == outcome::first);
}

BOOST_AUTO_TEST_CASE(a_key_re_created_after_abandon_is_not_expired_by_its_older_generation) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.abandon("k", first.attempt);
  const auto second = c.start("k", body_a, t0 + 40s, never());
  BOOST_TEST(second == outcome::first);
  c.complete("k", second.attempt, created());
  // The first generation's window ends at t0 + 60s; the second's at t0 + 100s.
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + 70s, retry.waiter()) == outcome::replayed);
  BOOST_TEST(retry.answer.has_value());
  BOOST_TEST(c.start("k", body_a, t0 + 100s, never()) == outcome::first);
}

BOOST_AUTO_TEST_CASE(a_key_re_created_after_expiry_lives_for_its_own_window) {
  cache c(10, window);
  const auto first = c.start("k", body_a, t0, never());
  c.complete("k", first.attempt, created("one"));
  const auto second = c.start("k", body_a, t0 + 60s, never());
  BOOST_TEST(second == outcome::first);
  c.complete("k", second.attempt, created("two"));
  told retry;
  BOOST_TEST(c.start("k", body_a, t0 + 119s, retry.waiter()) == outcome::replayed);
  BOOST_TEST_REQUIRE(retry.answer.has_value());
  BOOST_TEST(retry.answer->body == "two");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(capacity)

BOOST_AUTO_TEST_CASE(holds_at_most_capacity_keys_and_evicts_the_oldest_first) {
  cache c(3, window);
  for (const auto* k : {"k1", "k2", "k3"}) {
    const auto s = c.start(k, body_a, t0, never());
    c.complete(k, s.attempt, created(k));
  }
  BOOST_TEST(c.size() == 3u);
  BOOST_TEST(c.start("k4", body_a, t0 + 1s, never()) == outcome::first);
  BOOST_TEST(c.size() == 3u);
  told k2, k3;
  BOOST_TEST(c.start("k2", body_a, t0 + 2s, k2.waiter()) == outcome::replayed);
  BOOST_TEST(c.start("k3", body_a, t0 + 2s, k3.waiter()) == outcome::replayed);
  // k1 was evicted; k4 is still pending, so the oldest settled key (k2) makes room.
  BOOST_TEST(c.start("k1", body_b, t0 + 2s, never()) == outcome::first);
  BOOST_TEST(c.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_pending_key_is_never_evicted_to_make_room) {
  cache c(2, window);
  const auto k1 = c.start("k1", body_a, t0, never());
  told waiting;
  BOOST_TEST(c.start("k1", body_a, t0, waiting.waiter()) == outcome::waiting);
  const auto k2 = c.start("k2", body_a, t0, never());
  c.complete("k2", k2.attempt, created("k2"));
  // The settled k2 makes room; the pending k1 stays.
  BOOST_TEST(c.start("k3", body_a, t0, never()) == outcome::first);
  BOOST_TEST(waiting.calls == 0);
  BOOST_TEST(c.size() == 2u);
  c.complete("k1", k1.attempt, created("k1"));
  BOOST_TEST_REQUIRE(waiting.answer.has_value());
  BOOST_TEST(waiting.answer->body == "k1");
}

BOOST_AUTO_TEST_CASE(a_cache_full_of_pending_keys_refuses_new_ones_until_one_settles) {
  cache c(2, window);
  const auto k1 = c.start("k1", body_a, t0, never());
  c.start("k2", body_a, t0, never());
  BOOST_TEST(c.start("k3", body_a, t0, never()) == outcome::full);
  BOOST_TEST(c.size() == 2u);
  // Keys already held are still served.
  told waiting;
  BOOST_TEST(c.start("k1", body_a, t0, waiting.waiter()) == outcome::waiting);
  c.complete("k1", k1.attempt, created());
  BOOST_TEST(waiting.answer.has_value());
  BOOST_TEST(c.start("k3", body_a, t0, never()) == outcome::first);
  BOOST_TEST(c.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_key_settled_over_and_over_stays_one_key) {
  cache c(2, window);
  for (int i = 0; i < 10'000; ++i) {
    const auto s = c.start("k", body_a, t0 + std::chrono::milliseconds(i), never());
    BOOST_TEST_REQUIRE(s == outcome::first);
    c.uncertain("k", s.attempt, order_id);
  }
  BOOST_TEST(c.size() == 1u);
  const auto other = c.start("other", body_a, t0 + 20s, never());
  c.complete("other", other.attempt, created());
  BOOST_TEST(c.start("k", body_a, t0 + 20s, never()) == outcome::first);
  BOOST_TEST(c.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_key_re_created_after_abandon_counts_as_new_when_evicting) {
  cache c(2, window);
  const auto k_old = c.start("k", body_a, t0, never());
  c.abandon("k", k_old.attempt);
  const auto k2 = c.start("k2", body_a, t0 + 1s, never());
  c.complete("k2", k2.attempt, created("k2"));
  const auto k = c.start("k", body_a, t0 + 2s, never());
  c.complete("k", k.attempt, created("k"));
  // Over capacity: the oldest live key is k2, not k's abandoned first generation.
  c.start("k3", body_a, t0 + 3s, never());
  BOOST_TEST(c.size() == 2u);
  told kt;
  BOOST_TEST(c.start("k", body_a, t0 + 4s, kt.waiter()) == outcome::replayed);
  BOOST_TEST_REQUIRE(kt.answer.has_value());
  BOOST_TEST(kt.answer->body == "k");
}

BOOST_AUTO_TEST_CASE(an_abandoned_key_frees_its_place) {
  cache c(2, window);
  const auto k1 = c.start("k1", body_a, t0, never());
  c.complete("k1", k1.attempt, created());
  const auto k2 = c.start("k2", body_a, t0, never());
  c.abandon("k2", k2.attempt);
  c.start("k3", body_a, t0, never());
  told k1t;
  BOOST_TEST(c.start("k1", body_a, t0, k1t.waiter()) == outcome::replayed);
  BOOST_TEST(c.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fingerprint)

BOOST_AUTO_TEST_CASE(is_the_same_for_the_same_body) {
  BOOST_TEST(order::fingerprint("{\"quantity\":1}") == order::fingerprint("{\"quantity\":1}"));
}

BOOST_AUTO_TEST_CASE(differs_for_different_bodies) {
  BOOST_TEST(body_a != body_b);
  BOOST_TEST(order::fingerprint("") != order::fingerprint(" "));
  BOOST_TEST(order::fingerprint("ab") != order::fingerprint("ba"));
  BOOST_TEST(order::fingerprint("{}") != order::fingerprint("{} "));
}

BOOST_AUTO_TEST_CASE(is_64_bit_fnv_1a) {
  // Published FNV-1a test vectors.
  BOOST_TEST(order::fingerprint("") == 0xcbf29ce484222325ULL);
  BOOST_TEST(order::fingerprint("a") == 0xaf63dc4c8601ec8cULL);
  BOOST_TEST(order::fingerprint("foobar") == 0x85944171f73967e8ULL);
}

BOOST_AUTO_TEST_SUITE_END()
