#include "services/tracker/group_stats.hpp"

#include <algorithm>
#include <boost/json/value_from.hpp>
#include <vector>

namespace order_tracker::tracker {
namespace json = boost::json;

namespace {

bool is_integer(const json::value& v) {
  return v.is_int64() || v.is_uint64();
}

json::value sum(const json::value& a, const json::value& b) {
  if (is_integer(a) && is_integer(b)) {
    return a.to_number<std::int64_t>() + b.to_number<std::int64_t>();
  }
  return a.to_number<double>() + b.to_number<double>();
}

}  // namespace

void add_stats(json::object& into, const json::object& from) {
  for (const auto& [key, value] : from) {
    auto* mine = into.if_contains(key);
    if (mine == nullptr) {
      into.emplace(key, value);
    } else if (mine->is_number() && value.is_number()) {
      *mine = sum(*mine, value);
    } else if (mine->is_object() && value.is_object()) {
      add_stats(mine->get_object(), value.get_object());
    } else if (mine->is_array() && value.is_array()) {
      auto& a = mine->get_array();
      a.insert(a.end(), value.get_array().begin(), value.get_array().end());
    }
  }
}

std::string check_partitions(json::object& merged, std::int32_t partition_count) {
  std::vector<std::int64_t> parts;
  if (auto* p = merged.if_contains("partitions"); p != nullptr && p->is_array()) {
    for (const auto& e : p->get_array()) {
      if (is_integer(e)) parts.push_back(e.to_number<std::int64_t>());
    }
  }
  std::sort(parts.begin(), parts.end());
  merged["partitions"] = json::value_from(parts);
  std::string missing, twice;
  for (std::int64_t p = 0; p < partition_count; ++p) {
    const auto n = std::count(parts.begin(), parts.end(), p);
    if (n == 0) missing += (missing.empty() ? "" : ", ") + std::to_string(p);
    if (n > 1) twice += (twice.empty() ? "" : ", ") + std::to_string(p);
  }
  if (!missing.empty()) return "partitions " + missing + " are owned by no member that answered";
  if (!twice.empty()) return "partitions " + twice + " are counted by two members";
  return {};
}

}  // namespace order_tracker::tracker
