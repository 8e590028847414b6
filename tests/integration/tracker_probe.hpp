#pragma once
/// Looking at a tracker-service process from a test: its HTTP API and its /stats.

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/services.hpp"
#include "tests/support/http_client.hpp"

namespace order_tracker::test {

/// Polls `predicate` until it holds or `timeout` passes; returns its last answer.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(200)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    std::this_thread::sleep_for(every);
  }
  return true;
}

/// A tracker-service process and the port of its HTTP API.
struct tracker_process {
  std::uint16_t port = 0;
  std::unique_ptr<child_process> process;

  http_result get(std::string_view target) const {
    return http_request(port, beast_http::verb::get, target, {}, {}, std::chrono::seconds(5));
  }
  std::string output() const { return process->output(); }
  /// GET /stats as JSON, or null when there is no 200 answer.
  boost::json::value stats() const {
    const auto r = get("/stats");
    if (r.status() != 200) return nullptr;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body(), ec);
    return ec ? boost::json::value(nullptr) : v;
  }
  bool ready() const { return get("/readyz").status() == 200; }
};

inline std::uint64_t uint_field(const boost::json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  if (o == nullptr) return 0;
  const auto* f = o->if_contains(key);
  if (f == nullptr) return 0;
  if (f->is_uint64()) return f->get_uint64();
  if (f->is_int64() && f->get_int64() >= 0) return static_cast<std::uint64_t>(f->get_int64());
  return 0;
}

/// The partitions a /stats answer lists as owned.
inline std::set<std::int64_t> owned_partitions(const boost::json::value& stats) {
  std::set<std::int64_t> parts;
  if (const auto* o = stats.if_object()) {
    if (const auto* p = o->if_contains("partitions"); p && p->is_array()) {
      for (const auto& e : p->get_array()) {
        if (e.is_int64()) parts.insert(e.get_int64());
      }
    }
  }
  return parts;
}

/// Whether the group has settled: every Tracker is ready and owns exactly one partition, and
/// together they own as many partitions as there are Trackers.
inline bool one_partition_each(const std::vector<tracker_process>& trackers) {
  std::set<std::int64_t> all;
  for (const auto& t : trackers) {
    if (!t.ready()) return false;
    const auto parts = owned_partitions(t.stats());
    if (parts.size() != 1) return false;
    all.insert(parts.begin(), parts.end());
  }
  return all.size() == trackers.size();
}

/// The sum of "orders" over /stats "by_item": every order the view counts for its partitions.
inline std::uint64_t orders_by_item(const boost::json::value& stats) {
  std::uint64_t sum = 0;
  if (const auto* o = stats.if_object()) {
    if (const auto* by_item = o->if_contains("by_item"); by_item && by_item->is_object()) {
      for (const auto& [item, totals] : by_item->get_object())
        sum += uint_field(totals, "orders");
    }
  }
  return sum;
}

}  // namespace order_tracker::test
