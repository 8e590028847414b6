#pragma once
/// GET /stats?scope=group: the /stats of every member merged into one, as if one instance owned
/// every partition. Pure JSON arithmetic.

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

namespace order_tracker::tracker {

/// Adds `from` into `into`: numbers are summed, objects merged key by key (the totals per item
/// and per user), arrays concatenated (the partitions), anything else kept from `into`.
void add_stats(boost::json::object& into, const boost::json::object& from);

/// Why merged stats do not describe the whole topic of `partition_count` partitions exactly once
/// (a partition missing or listed by two members), or empty when they do. Sorts "partitions".
std::string check_partitions(boost::json::object& merged, std::int32_t partition_count);

}  // namespace order_tracker::tracker
