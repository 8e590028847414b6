#include "services/tracker/snapshot_codec.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>
#include <stdexcept>

namespace order_tracker::tracker {
namespace {

namespace json = boost::json;
constexpr std::string_view format_name = "order-tracker.partition-snapshot";
// Larger than any snapshot we write (10,001 names of at most 256 bytes per map, twice).
constexpr std::size_t max_snapshot_bytes = 16 * 1024 * 1024;

json::object totals_json(const totals_by_name& by_name) {
  json::object out;
  out.reserve(by_name.size());
  for (const auto& [name, t] : by_name)
    out.emplace(name, json::array{t.orders, t.quantity});
  return out;
}

snapshot_error unreadable(std::string detail) {
  return {snapshot_error::kind::unreadable, std::move(detail)};
}

template <class T>
bool integer_of(const json::object& o, std::string_view field, T& out) {
  const auto* v = o.if_contains(field);
  if (v == nullptr) return false;
  if (const auto* i = v->if_int64()) {
    if (*i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        (*i > 0 && static_cast<std::uint64_t>(*i) > std::numeric_limits<T>::max()))
      return false;
    out = static_cast<T>(*i);
    return true;
  }
  if (const auto* u = v->if_uint64()) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
    out = static_cast<T>(*u);
    return true;
  }
  return false;
}

bool totals_of(const json::object& o, std::string_view field, totals_by_name& out) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || !v->is_object()) return false;
  for (const auto& [name, entry] : v->get_object()) {
    const auto* pair = entry.if_array();
    if (pair == nullptr || pair->size() != 2) return false;
    totals t;
    if (const auto* n = (*pair)[0].if_uint64()) {
      t.orders = *n;
    } else if (const auto* i = (*pair)[0].if_int64(); i != nullptr && *i >= 0) {
      t.orders = static_cast<std::uint64_t>(*i);
    } else {
      return false;
    }
    if (const auto* q = (*pair)[1].if_int64()) {
      t.quantity = *q;
    } else {
      return false;
    }
    out.emplace(std::string(name), t);
  }
  return true;
}

}  // namespace

void throw_exception_from_error(const snapshot_error& e, const boost::source_location&) {
  throw std::runtime_error("partition snapshot: " + e.detail);
}

std::string encode(const partition_snapshot& s) {
  json::object o;
  o.reserve(8);
  o.emplace("format", format_name);
  o.emplace("version", snapshot_version);
  o.emplace("topic", s.topic);
  o.emplace("partition", s.partition);
  o.emplace("offset", s.offset);
  o.emplace("window", s.window);
  o.emplace("by_item", totals_json(s.by_item));
  o.emplace("by_user", totals_json(s.by_user));
  return json::serialize(o);
}

boost::system::result<partition_snapshot, snapshot_error> decode_snapshot(
    std::string_view bytes) noexcept {
  try {
    if (bytes.size() > max_snapshot_bytes) return unreadable("larger than any snapshot written");
    boost::system::error_code ec;
    const json::value v = json::parse(bytes, ec);
    if (ec) return unreadable("not JSON: " + ec.message());
    const auto* o = v.if_object();
    if (o == nullptr) return unreadable("not a JSON object");
    const auto* format = o->if_contains("format");
    if (format == nullptr || !format->is_string() || format->get_string() != format_name)
      return unreadable("not a partition snapshot (format)");
    int version = 0;
    if (!integer_of(*o, "version", version)) return unreadable("no version");
    if (version != snapshot_version) {
      return snapshot_error{snapshot_error::kind::unknown_version,
                            "version " + std::to_string(version) + ", this Tracker reads " +
                                std::to_string(snapshot_version)};
    }
    partition_snapshot s;
    const auto* topic = o->if_contains("topic");
    if (topic == nullptr || !topic->is_string()) return unreadable("no topic");
    s.topic = std::string(topic->get_string());
    if (!integer_of(*o, "partition", s.partition) || s.partition < 0)
      return unreadable("no valid partition");
    if (!integer_of(*o, "offset", s.offset) || s.offset < 0) return unreadable("no valid offset");
    if (!integer_of(*o, "window", s.window)) return unreadable("no valid window");
    if (!totals_of(*o, "by_item", s.by_item)) return unreadable("by_item is not totals");
    if (!totals_of(*o, "by_user", s.by_user)) return unreadable("by_user is not totals");
    return s;
  } catch (const std::exception& e) {
    // Only std::bad_alloc can get here (the parser reports errors as values).
    return unreadable(std::string("cannot decode: ") + e.what());
  }
}

std::string snapshot_key(std::string_view group, std::string_view topic, std::int32_t partition) {
  std::string key;
  key.reserve(group.size() + topic.size() + 16);
  key.append(group).append("/").append(topic).append("/").append(std::to_string(partition));
  return key;
}

}  // namespace order_tracker::tracker
