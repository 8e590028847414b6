#pragma once
/// A small metrics registry rendered in the Prometheus text exposition format, version 0.0.4.
///
/// Threading: every update and every render happens on the service's one io_context thread, so
/// the metric types are plain doubles and integers, with no atomics or mutexes. Do not share a
/// registry, or a handle from it, with another thread.
///
/// Cost: registration (validating names, escaping labels, a map lookup) happens once at setup.
/// The caller then keeps the returned reference, and an update is a plain add through it, with
/// no lookup and no string building.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace order_tracker::observability {

/// The Content-Type of what `registry::render` produces, for the GET /metrics response.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/// One label: (name, value). The value may be any UTF-8 text; it is escaped when rendered.
using label = std::pair<std::string, std::string>;

/// The labels of one series. Order does not matter: {a, b} and {b, a} name the same series.
using label_set = std::vector<label>;

/// A value that only goes up (requests served, orders published).
class counter {
 public:
  counter() = default;
  // Not copyable, so `auto c = registry.counter(...)` (a silent copy) does not compile.
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  /// Adds `v`, which must not be negative (a counter that goes down is a gauge).
  void inc(double v = 1) noexcept { value_ += v; }
  /// The current total.
  double value() const noexcept { return value_; }

 private:
  double value_ = 0;
};

/// A value that goes up and down (in-flight requests, consumer lag).
class gauge {
 public:
  gauge() = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  /// Replaces the value.
  void set(double v) noexcept { value_ = v; }
  /// Adds `v`.
  void inc(double v = 1) noexcept { value_ += v; }
  /// Subtracts `v`.
  void dec(double v = 1) noexcept { value_ -= v; }
  /// The current value.
  double value() const noexcept { return value_; }

 private:
  double value_ = 0;
};

/// Observations counted into buckets with fixed upper bounds (inclusive, as Prometheus' `le`),
/// plus an implicit +Inf bucket, their sum and their count.
class histogram {
 public:
  /// `bucket_bounds` must be non-empty, finite and strictly increasing; the +Inf bucket is
  /// implicit. Throws std::invalid_argument otherwise.
  explicit histogram(std::vector<double> bucket_bounds);
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Counts `v` into the first bucket whose bound is >= v. NaN goes to the +Inf bucket and makes
  /// the sum NaN, as the Go client does.
  void observe(double v) noexcept {
    // Written as !(bound >= v) rather than bound < v so that NaN, which compares false with
    // everything, passes every bound and lands in the +Inf bucket instead of the first one.
    const auto it = std::partition_point(bounds_.begin(), bounds_.end(),
                                         [v](double bound) { return !(bound >= v); });
    ++bucket_counts_[static_cast<std::size_t>(it - bounds_.begin())];
    sum_ += v;
    ++count_;
  }

  /// The finite upper bounds, ascending.
  const std::vector<double>& bucket_bounds() const noexcept { return bounds_; }
  /// Observations per bucket, not cumulative; one more element than `bucket_bounds()`, the
  /// last being the +Inf bucket.
  const std::vector<std::uint64_t>& bucket_counts() const noexcept { return bucket_counts_; }
  /// The sum of all observations.
  double sum() const noexcept { return sum_; }
  /// The number of observations.
  std::uint64_t count() const noexcept { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> bucket_counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

/// `count` bounds: start, start*factor, start*factor^2, ... Requires start > 0, factor > 1 and
/// count >= 1 (std::invalid_argument otherwise). E.g. exponential_buckets(0.0005, 2, 14) spans
/// 0.5 ms to about 4 s, a fit for delivery latency in seconds.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

/// `count` bounds: start, start+width, start+2*width, ... Requires width > 0 and count >= 1.
std::vector<double> linear_buckets(double start, double width, std::size_t count);

/// Estimates the q-quantile (0 <= q <= 1) of what `h` observed, interpolating linearly within
/// the bucket the rank falls in, as PromQL's histogram_quantile does: NaN when nothing was
/// observed, the highest finite bound when the rank falls in the +Inf bucket, -Inf/+Inf for q
/// below 0/above 1. For logs (e.g. "p99 delivery latency"), not a substitute for PromQL.
double quantile(const histogram& h, double q) noexcept;

/// Owns metric families and renders them. Families and series are heap-allocated and never
/// move, so the references it returns stay valid until the series is removed or the registry
/// is destroyed.
///
/// Errors are setup-time programming errors and throw: std::invalid_argument for a bad metric
/// or label name, duplicate label names, or bad histogram bounds; std::logic_error for a name
/// reused with another type, other help text or other histogram bounds.
class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;
  registry(registry&&) noexcept;
  registry& operator=(registry&&) noexcept;

  // The return types are qualified: unqualified, `counter` would change meaning inside the
  // class once the member function of that name is declared.

  /// The counter series `name{labels}`, created at 0 on first request; the same object for the
  /// same name and labels afterwards. Keep the reference; do not look it up per update.
  observability::counter& counter(std::string_view name, std::string_view help,
                                  const label_set& labels = {});

  /// The gauge series `name{labels}`, created at 0 on first request.
  observability::gauge& gauge(std::string_view name, std::string_view help,
                              const label_set& labels = {});

  /// The histogram series `name{labels}`, created empty on first request. Every series of one
  /// family has the same bounds; `le` is not allowed as a label name.
  observability::histogram& histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bucket_bounds,
                                      const label_set& labels = {});

  /// A gauge series whose value `read()` returns at render time (e.g. a queue depth owned by
  /// another object). Asking again with the same name and labels replaces the function.
  /// `read` runs inside render(), so on the io thread; it must not throw, and must not outlive
  /// what it captures: remove the series before its owner goes away. Callback and plain gauge
  /// series may share a family.
  void gauge_callback(std::string_view name, std::string_view help, std::function<double()> read,
                      const label_set& labels = {});

  /// Removes the series `name{labels}` (e.g. the lag of a partition this consumer lost).
  /// References to it dangle afterwards: drop them first. Returns whether a series was removed;
  /// an unknown name or label set is not an error.
  bool remove(std::string_view name, const label_set& labels);

  /// Removes every series of family `name` (e.g. all per-partition lags before a rebalance
  /// re-registers them). The family keeps its type and help, so a later clash still throws.
  /// References to its series dangle afterwards.
  void clear_family(std::string_view name);

  /// Appends the text exposition of every family with at least one series to `out`: one
  /// # HELP and # TYPE line per family, families and series in registration order.
  void render_to(std::string& out) const;

  /// The text exposition as a new string; see render_to.
  std::string render() const;

 private:
  enum class kind : unsigned char { counter, gauge, histogram };
  struct family;
  struct series;

  /// The shared path of the registration functions: validates everything first, so a failed
  /// registration changes nothing, then finds or creates the family and the series. A new
  /// series holds no value yet; the caller emplaces the one it wants.
  series& find_or_add(kind type, std::string_view name, std::string_view help,
                      const label_set& labels, const std::vector<double>* bucket_bounds);
  family* find_family(std::string_view name) const noexcept;

  /// In registration order, which is render order.
  std::vector<std::unique_ptr<family>> families_;
};

}  // namespace order_tracker::observability
