#include "common/observability/metrics.hpp"

#define BOOST_TEST_MODULE metrics
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace obs = order_tracker::observability;
namespace tt = boost::test_tools;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double quiet_nan = std::numeric_limits<double>::quiet_NaN();

// The sample line a lone, unlabelled gauge set to `v` renders as.
std::string rendered_gauge_line(double v) {
  obs::registry reg;
  reg.gauge("g", "h").set(v);
  const std::string text = reg.render();
  const auto start = text.find("\ng ");
  BOOST_TEST_REQUIRE(start != std::string::npos);
  return text.substr(start + 1, text.size() - start - 2);  // without the final '\n'
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rendering)

BOOST_AUTO_TEST_CASE(an_empty_registry_renders_nothing) {
  const obs::registry reg;
  BOOST_TEST(reg.render().empty());
}

BOOST_AUTO_TEST_CASE(a_counter_renders_one_help_line_one_type_line_and_its_total) {
  obs::registry reg;
  auto& published = reg.counter("orders_published_total", "Orders the broker acknowledged.");
  published.inc();
  published.inc(2);

  BOOST_TEST(published.value() == 3.0);
  BOOST_TEST(reg.render() ==
             "# HELP orders_published_total Orders the broker acknowledged.\n"
             "# TYPE orders_published_total counter\n"
             "orders_published_total 3\n");
}

BOOST_AUTO_TEST_CASE(a_labelled_gauge_renders_its_labels_sorted_by_name) {
  obs::registry reg;
  auto& lag = reg.gauge("consumer_lag", "Messages behind the high watermark.",
                        {{"topic", "orders"}, {"partition", "0"}});
  lag.set(40);
  lag.inc(5);
  lag.dec(3);

  BOOST_TEST(lag.value() == 42.0);
  BOOST_TEST(reg.render() ==
             "# HELP consumer_lag Messages behind the high watermark.\n"
             "# TYPE consumer_lag gauge\n"
             "consumer_lag{partition=\"0\",topic=\"orders\"} 42\n");
}

BOOST_AUTO_TEST_CASE(a_histogram_renders_cumulative_buckets_then_inf_sum_and_count) {
  obs::registry reg;
  auto& latency =
      reg.histogram("delivery_latency_seconds", "Produce to delivery report.", {0.25, 0.5, 1});
  latency.observe(0.125);
  latency.observe(0.25);  // bounds are inclusive: this one is counted under le="0.25"
  latency.observe(0.375);
  latency.observe(2);  // above every bound: only +Inf counts it

  BOOST_TEST(reg.render() ==
             "# HELP delivery_latency_seconds Produce to delivery report.\n"
             "# TYPE delivery_latency_seconds histogram\n"
             "delivery_latency_seconds_bucket{le=\"0.25\"} 2\n"
             "delivery_latency_seconds_bucket{le=\"0.5\"} 3\n"
             "delivery_latency_seconds_bucket{le=\"1\"} 3\n"
             "delivery_latency_seconds_bucket{le=\"+Inf\"} 4\n"
             "delivery_latency_seconds_sum 2.75\n"
             "delivery_latency_seconds_count 4\n");
}

BOOST_AUTO_TEST_CASE(a_labelled_histogram_puts_le_after_its_own_labels) {
  obs::registry reg;
  reg.histogram("h", "x", {1}, {{"topic", "orders"}}).observe(1);

  BOOST_TEST(reg.render() ==
             "# HELP h x\n"
             "# TYPE h histogram\n"
             "h_bucket{topic=\"orders\",le=\"1\"} 1\n"
             "h_bucket{topic=\"orders\",le=\"+Inf\"} 1\n"
             "h_sum{topic=\"orders\"} 1\n"
             "h_count{topic=\"orders\"} 1\n");
}

BOOST_AUTO_TEST_CASE(a_nan_observation_counts_in_the_inf_bucket_and_makes_the_sum_nan) {
  obs::registry reg;
  auto& h = reg.histogram("h", "x", {1});
  h.observe(quiet_nan);

  BOOST_TEST(h.bucket_counts() == (std::vector<std::uint64_t>{0, 1}), tt::per_element());
  BOOST_TEST(reg.render() ==
             "# HELP h x\n# TYPE h histogram\n"
             "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum NaN\nh_count 1\n");
}

BOOST_AUTO_TEST_CASE(families_and_series_render_in_registration_order) {
  obs::registry reg;
  reg.gauge("b_second", "s", {{"p", "1"}});
  reg.counter("a_first", "f");
  reg.gauge("b_second", "s", {{"p", "0"}});

  BOOST_TEST(reg.render() ==
             "# HELP b_second s\n# TYPE b_second gauge\n"
             "b_second{p=\"1\"} 0\nb_second{p=\"0\"} 0\n"
             "# HELP a_first f\n# TYPE a_first counter\na_first 0\n");
}

BOOST_AUTO_TEST_CASE(render_to_appends_to_the_callers_buffer) {
  obs::registry reg;
  reg.counter("c", "h").inc();
  std::string body = "already here\n";
  reg.render_to(body);
  BOOST_TEST(body == "already here\n# HELP c h\n# TYPE c counter\nc 1\n");
}

BOOST_AUTO_TEST_CASE(label_values_escape_backslash_quote_and_newline) {
  obs::registry reg;
  reg.gauge("g", "h", {{"path", "C:\\tmp \"x\"\nnext"}}).set(1);
  BOOST_TEST(reg.render() ==
             "# HELP g h\n# TYPE g gauge\n"
             "g{path=\"C:\\\\tmp \\\"x\\\"\\nnext\"} 1\n");
}

BOOST_AUTO_TEST_CASE(help_text_escapes_backslash_and_newline_but_not_quotes) {
  obs::registry reg;
  reg.counter("c", "Reads \"C:\\in\"\nline two").inc();
  BOOST_TEST(reg.render() == "# HELP c Reads \"C:\\\\in\"\\nline two\n# TYPE c counter\nc 1\n");
}

BOOST_AUTO_TEST_CASE(integral_values_print_without_exponent_and_fractions_round_trip) {
  BOOST_TEST(rendered_gauge_line(0) == "g 0");
  BOOST_TEST(rendered_gauge_line(-0.0) == "g 0");
  BOOST_TEST(rendered_gauge_line(-3) == "g -3");
  BOOST_TEST(rendered_gauge_line(1e6) == "g 1000000");
  BOOST_TEST(rendered_gauge_line(9007199254740992.0) == "g 9007199254740992");
  BOOST_TEST(rendered_gauge_line(0.5) == "g 0.5");
  BOOST_TEST(rendered_gauge_line(0.1) == "g 0.1");
  BOOST_TEST(rendered_gauge_line(1e20) == "g 1e+20");
  BOOST_TEST(rendered_gauge_line(1e-7) == "g 1e-07");
}

BOOST_AUTO_TEST_CASE(nan_and_infinities_render_as_prometheus_spells_them) {
  BOOST_TEST(rendered_gauge_line(quiet_nan) == "g NaN");
  BOOST_TEST(rendered_gauge_line(infinity) == "g +Inf");
  BOOST_TEST(rendered_gauge_line(-infinity) == "g -Inf");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(registration)

BOOST_AUTO_TEST_CASE(asking_again_for_the_same_name_and_labels_returns_the_same_series) {
  obs::registry reg;
  BOOST_TEST(&reg.counter("c", "h") == &reg.counter("c", "h"));
  BOOST_TEST(&reg.gauge("g", "h", {{"a", "1"}, {"b", "2"}}) ==
             &reg.gauge("g", "h", {{"b", "2"}, {"a", "1"}}));
  BOOST_TEST(&reg.histogram("h", "h", {1, 2}) == &reg.histogram("h", "h", {1, 2}));
}

BOOST_AUTO_TEST_CASE(other_label_values_make_another_series_of_the_same_family) {
  obs::registry reg;
  auto& p0 = reg.gauge("lag", "h", {{"partition", "0"}});
  auto& p1 = reg.gauge("lag", "h", {{"partition", "1"}});
  BOOST_TEST(&p0 != &p1);
}

BOOST_AUTO_TEST_CASE(references_stay_valid_while_many_more_series_are_added) {
  obs::registry reg;
  auto& first = reg.counter("c", "h", {{"i", "first"}});
  for (int i = 0; i < 1000; ++i) {
    reg.counter("c", "h", {{"i", std::to_string(i)}});
    // Appending rather than "g" + std::to_string(i) sidesteps a false -Wrestrict in GCC 12 -O2.
    std::string name = "g";
    name += std::to_string(i);
    reg.gauge(name, "h");
  }
  first.inc();
  BOOST_TEST(reg.counter("c", "h", {{"i", "first"}}).value() == 1.0);
}

BOOST_AUTO_TEST_CASE(reusing_a_name_with_another_type_is_a_logic_error) {
  obs::registry reg;
  reg.counter("x", "h");
  BOOST_CHECK_THROW(reg.gauge("x", "h"), std::logic_error);
  BOOST_CHECK_THROW(reg.histogram("x", "h", {1}), std::logic_error);
  BOOST_CHECK_THROW(reg.gauge_callback("x", "h", [] { return 1.0; }), std::logic_error);
}

BOOST_AUTO_TEST_CASE(reusing_a_name_with_other_help_or_other_bounds_is_a_logic_error) {
  obs::registry reg;
  reg.counter("c", "one");
  BOOST_CHECK_THROW(reg.counter("c", "two"), std::logic_error);
  reg.histogram("h", "x", {1, 2});
  BOOST_CHECK_THROW(reg.histogram("h", "x", {1, 3}, {{"a", "b"}}), std::logic_error);
}

BOOST_AUTO_TEST_CASE(a_series_cannot_be_both_a_plain_gauge_and_a_callback) {
  obs::registry reg;
  reg.gauge("g", "h", {{"q", "a"}});
  BOOST_CHECK_THROW(reg.gauge_callback("g", "h", [] { return 1.0; }, {{"q", "a"}}),
                    std::logic_error);
  reg.gauge_callback("g", "h", [] { return 2.0; }, {{"q", "b"}});
  BOOST_CHECK_THROW(reg.gauge("g", "h", {{"q", "b"}}), std::logic_error);
}

BOOST_AUTO_TEST_CASE(invalid_metric_names_are_rejected) {
  obs::registry reg;
  for (const char* name : {"", "1abc", "a-b", "a b", "a.b", "é"}) {
    BOOST_TEST_CONTEXT("name \"" << name << "\"") {
      BOOST_CHECK_THROW(reg.counter(name, "h"), std::invalid_argument);
    }
  }
  BOOST_CHECK_NO_THROW(reg.counter("_a:b_c9", "h"));
  BOOST_CHECK_NO_THROW(reg.counter(":colon_first", "h"));
}

BOOST_AUTO_TEST_CASE(invalid_label_names_are_rejected_and_colons_are_not_allowed_in_them) {
  obs::registry reg;
  for (const char* name : {"", "1x", "a-b", "a:b", "__reserved"}) {
    BOOST_TEST_CONTEXT("label \"" << name << "\"") {
      BOOST_CHECK_THROW(reg.gauge("g", "h", {{name, "v"}}), std::invalid_argument);
    }
  }
  BOOST_CHECK_NO_THROW(reg.gauge("g", "h", {{"_ok9", "any value: é, \"}\n"}}));
}

BOOST_AUTO_TEST_CASE(a_label_given_twice_is_rejected) {
  obs::registry reg;
  BOOST_CHECK_THROW(reg.gauge("g", "h", {{"a", "1"}, {"b", "2"}, {"a", "3"}}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_histogram_cannot_have_an_le_label) {
  obs::registry reg;
  BOOST_CHECK_THROW(reg.histogram("h", "x", {1}, {{"le", "1"}}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(histogram_bounds_must_be_finite_strictly_increasing_and_not_empty) {
  obs::registry reg;
  BOOST_CHECK_THROW(reg.histogram("h", "x", {}), std::invalid_argument);
  BOOST_CHECK_THROW(reg.histogram("h", "x", {2, 1}), std::invalid_argument);
  BOOST_CHECK_THROW(reg.histogram("h", "x", {1, 1}), std::invalid_argument);
  BOOST_CHECK_THROW(reg.histogram("h", "x", {1, quiet_nan}), std::invalid_argument);
  BOOST_CHECK_THROW(reg.histogram("h", "x", {1, infinity}), std::invalid_argument);
  BOOST_CHECK_THROW(obs::histogram({-infinity, 1}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_rejected_registration_leaves_the_registry_unchanged) {
  obs::registry reg;
  BOOST_CHECK_THROW(reg.gauge("g", "h", {{"bad-label", "v"}}), std::invalid_argument);
  BOOST_CHECK_THROW(reg.histogram("h", "x", {}), std::invalid_argument);
  BOOST_TEST(reg.render().empty());
  // Nothing was locked in by the failed calls either.
  BOOST_CHECK_NO_THROW(reg.counter("g", "other help"));
  BOOST_CHECK_NO_THROW(reg.counter("h", "other help"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(callbacks_and_removal)

BOOST_AUTO_TEST_CASE(a_callback_gauge_is_read_at_each_render) {
  obs::registry reg;
  int depth = 3;
  reg.gauge_callback("queue_depth", "Messages waiting.",
                     [&depth] { return static_cast<double>(depth); }, {{"queue", "out"}});
  BOOST_TEST(reg.render() ==
             "# HELP queue_depth Messages waiting.\n# TYPE queue_depth gauge\n"
             "queue_depth{queue=\"out\"} 3\n");
  depth = 7;
  BOOST_TEST(reg.render().ends_with("queue_depth{queue=\"out\"} 7\n"));
}

BOOST_AUTO_TEST_CASE(registering_a_callback_again_replaces_the_function) {
  obs::registry reg;
  reg.gauge_callback("g", "h", [] { return 1.0; });
  reg.gauge_callback("g", "h", [] { return 2.0; });
  BOOST_TEST(reg.render() == "# HELP g h\n# TYPE g gauge\ng 2\n");
}

BOOST_AUTO_TEST_CASE(an_empty_callback_is_rejected) {
  obs::registry reg;
  BOOST_CHECK_THROW(reg.gauge_callback("g", "h", {}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(removing_a_labelled_series_drops_it_and_keeps_its_siblings) {
  obs::registry reg;
  reg.gauge("lag", "h", {{"partition", "0"}}).set(5);
  auto& p1 = reg.gauge("lag", "h", {{"partition", "1"}});
  p1.set(6);

  BOOST_TEST(reg.remove("lag", {{"partition", "0"}}));
  p1.inc();  // the sibling's reference is still good
  BOOST_TEST(reg.render() == "# HELP lag h\n# TYPE lag gauge\nlag{partition=\"1\"} 7\n");

  BOOST_TEST(!reg.remove("lag", {{"partition", "0"}}));
  BOOST_TEST(!reg.remove("no_such_metric", {}));
  BOOST_TEST(!reg.remove("lag", {{"bad-label", "0"}}));
}

BOOST_AUTO_TEST_CASE(a_removed_series_comes_back_from_zero) {
  obs::registry reg;
  reg.counter("c", "h", {{"p", "0"}}).inc(5);
  reg.remove("c", {{"p", "0"}});
  BOOST_TEST(reg.counter("c", "h", {{"p", "0"}}).value() == 0.0);
}

BOOST_AUTO_TEST_CASE(clearing_a_family_drops_all_its_series_but_remembers_its_type) {
  obs::registry reg;
  reg.gauge("lag", "h", {{"partition", "0"}});
  reg.gauge("lag", "h", {{"partition", "1"}});
  reg.counter("kept", "h");

  reg.clear_family("lag");
  reg.clear_family("no_such_metric");
  BOOST_TEST(reg.render() == "# HELP kept h\n# TYPE kept counter\nkept 0\n");
  BOOST_CHECK_THROW(reg.counter("lag", "h"), std::logic_error);

  reg.gauge("lag", "h", {{"partition", "2"}}).set(1);
  // The family keeps its place: registration order, not re-population order.
  BOOST_TEST(reg.render() ==
             "# HELP lag h\n# TYPE lag gauge\nlag{partition=\"2\"} 1\n"
             "# HELP kept h\n# TYPE kept counter\nkept 0\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(quantile_estimates)

// With bounds {1, 2, 4, 8}: 10 observations in (0, 1], 10 in (1, 2], 80 in (2, 4], none above.
const std::vector<double> known_bounds{1, 2, 4, 8};
void observe_known_distribution(obs::histogram& h) {
  for (int i = 0; i < 10; ++i) {
    h.observe(0.5);
    h.observe(1.5);
  }
  for (int i = 0; i < 80; ++i) {
    h.observe(3);
  }
}

BOOST_AUTO_TEST_CASE(a_quantile_interpolates_linearly_within_its_bucket) {
  obs::histogram h(known_bounds);
  observe_known_distribution(h);
  BOOST_TEST(obs::quantile(h, 0.05) == 0.5, tt::tolerance(1e-12));    // rank 5 of 10 in (0, 1]
  BOOST_TEST(obs::quantile(h, 0.1) == 1.0, tt::tolerance(1e-12));     // top of the first bucket
  BOOST_TEST(obs::quantile(h, 0.15) == 1.5, tt::tolerance(1e-12));    // rank 15: 5 of 10 in (1, 2]
  BOOST_TEST(obs::quantile(h, 0.5) == 2.75, tt::tolerance(1e-12));    // 2 + 2 * 30/80
  BOOST_TEST(obs::quantile(h, 0.99) == 3.975, tt::tolerance(1e-12));  // 2 + 2 * 79/80
  BOOST_TEST(obs::quantile(h, 1.0) == 4.0, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_quantile_in_the_inf_bucket_is_the_highest_finite_bound) {
  obs::histogram h({1, 2});
  h.observe(0.5);
  h.observe(100);
  h.observe(1000);
  BOOST_TEST(obs::quantile(h, 0.99) == 2.0);
}

BOOST_AUTO_TEST_CASE(a_quantile_in_a_first_bucket_bounded_at_or_below_zero_is_that_bound) {
  obs::histogram h({-1, 0, 1});
  h.observe(-5);
  BOOST_TEST(obs::quantile(h, 0.5) == -1.0);
}

BOOST_AUTO_TEST_CASE(quantile_zero_is_the_lower_edge_of_the_first_nonempty_bucket) {
  obs::histogram h({1, 2, 4});
  h.observe(3);
  BOOST_TEST(obs::quantile(h, 0.0) == 2.0);
}

BOOST_AUTO_TEST_CASE(quantiles_of_nothing_or_out_of_range_follow_promql) {
  const obs::histogram empty({1, 2});
  BOOST_TEST(std::isnan(obs::quantile(empty, 0.5)));

  obs::histogram h(known_bounds);
  observe_known_distribution(h);
  BOOST_TEST(obs::quantile(h, -0.1) == -infinity);
  BOOST_TEST(obs::quantile(h, 1.1) == infinity);
  BOOST_TEST(std::isnan(obs::quantile(h, quiet_nan)));
}

BOOST_AUTO_TEST_CASE(a_quantile_reads_a_registered_histogram) {
  obs::registry reg;
  auto& latency = reg.histogram("latency", "h", obs::exponential_buckets(0.001, 2, 4));
  for (int i = 0; i < 100; ++i) {
    latency.observe(0.003);  // all in (0.002, 0.004]
  }
  BOOST_TEST(obs::quantile(latency, 0.5) == 0.003, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bucket_helpers)

BOOST_AUTO_TEST_CASE(exponential_buckets_multiply_by_the_factor) {
  BOOST_TEST(
      obs::exponential_buckets(0.001, 2, 4) == (std::vector<double>{0.001, 0.002, 0.004, 0.008}),
      tt::per_element());
  BOOST_CHECK_THROW(obs::exponential_buckets(0, 2, 4), std::invalid_argument);
  BOOST_CHECK_THROW(obs::exponential_buckets(1, 1, 4), std::invalid_argument);
  BOOST_CHECK_THROW(obs::exponential_buckets(1, 2, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(linear_buckets_add_the_width) {
  BOOST_TEST(obs::linear_buckets(0, 0.25, 3) == (std::vector<double>{0, 0.25, 0.5}),
             tt::per_element());
  BOOST_CHECK_THROW(obs::linear_buckets(0, 0, 3), std::invalid_argument);
  BOOST_CHECK_THROW(obs::linear_buckets(0, 1, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
