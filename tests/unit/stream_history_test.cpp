#define BOOST_TEST_MODULE stream_history
#include "services/tracker/stream_history.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

using order_tracker::tracker::stream_history;
using order_tracker::tracker::tracked_order;

namespace {

int renders = 0;

void render_quantity(const tracked_order& o, std::string& out) {
  ++renders;
  out.append(R"({"n":)").append(std::to_string(o.quantity)).append("}");
}

tracked_order order(std::int64_t n) {
  tracked_order o;
  o.quantity = n;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(formats_each_event_with_its_id_and_one_data_line) {
  stream_history h(4, "abc", render_quantity);
  BOOST_TEST(h.append(order(0)) == 0u);
  BOOST_TEST(h.append(order(1)) == 1u);
  BOOST_TEST(h.text(1) == "id: abc-1\ndata: {\"n\":1}\n\n");
  BOOST_TEST(h.id_of(1) == "abc-1");
}

BOOST_AUTO_TEST_CASE(without_an_id_a_client_starts_with_what_comes_next) {
  stream_history h(4, "abc", render_quantity);
  h.append(order(0));
  const auto r = h.resume_after("");
  BOOST_TEST(r.from == 1u);
  BOOST_TEST(r.exact);
}

BOOST_AUTO_TEST_CASE(resumes_right_after_a_known_id_while_the_history_holds_the_rest) {
  stream_history h(4, "abc", render_quantity);
  for (int i = 0; i < 6; ++i)
    h.append(order(i));  // holds 2..5
  const auto r = h.resume_after("abc-1");
  BOOST_TEST(r.from == 2u);
  BOOST_TEST(r.exact);
  BOOST_TEST(*r.missed == 0u);
  BOOST_TEST(h.resume_after("abc-5").from == 6u);
}

BOOST_AUTO_TEST_CASE(an_id_older_than_the_history_says_how_many_were_lost) {
  stream_history h(4, "abc", render_quantity);
  for (int i = 0; i < 10; ++i)
    h.append(order(i));  // holds 6..9
  const auto r = h.resume_after("abc-2");
  BOOST_TEST(r.from == 6u);
  BOOST_TEST(!r.exact);
  BOOST_TEST(*r.missed == 3u);  // 3, 4 and 5
  BOOST_TEST(h.text(6).starts_with("id: abc-6\n"));
}

BOOST_AUTO_TEST_CASE(an_id_of_another_epoch_or_garbage_replays_everything_with_an_unknown_gap) {
  stream_history h(4, "abc", render_quantity);
  for (int i = 0; i < 3; ++i)
    h.append(order(i));
  for (const auto* id : {"xyz-1", "abc-", "abc-1x", "abc-99", "garbage", "-1"}) {
    const auto r = h.resume_after(id);
    BOOST_TEST(r.from == 0u, id);
    BOOST_TEST(!r.exact, id);
    BOOST_TEST(!r.missed.has_value(), id);
  }
}

BOOST_AUTO_TEST_CASE(renders_an_event_once_and_only_when_its_text_is_asked_for) {
  renders = 0;
  stream_history h(4, "abc", render_quantity);
  for (int i = 0; i < 6; ++i)
    h.append(order(i));  // holds 2..5; 0 and 1 went unrendered
  BOOST_TEST(renders == 0);
  BOOST_TEST(h.text(3) == "id: abc-3\ndata: {\"n\":3}\n\n");
  BOOST_TEST(h.text(3) == "id: abc-3\ndata: {\"n\":3}\n\n");
  BOOST_TEST(renders == 1);
}

BOOST_AUTO_TEST_CASE(a_reused_slot_shows_its_new_event_not_the_text_of_the_old_one) {
  stream_history h(2, "abc", render_quantity);
  h.append(order(0));
  BOOST_TEST(h.text(0) == "id: abc-0\ndata: {\"n\":0}\n\n");
  h.append(order(1));
  h.append(order(2));  // the slot of 0
  BOOST_TEST(h.text(2) == "id: abc-2\ndata: {\"n\":2}\n\n");
}
