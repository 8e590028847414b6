#pragma once
/// Which kind of client each librdkafka property belongs to, read from the loaded librdkafka's own
/// property table (the C/P column of CONFIGURATION.md), so -X passthrough reaches only the clients
/// a property is for: `-X group.protocol=consumer` goes to the Tracker's consumer, not to its
/// dead-letter producer, where librdkafka would warn that it is ignored.

#include <string_view>

namespace order_tracker::kafka {

enum class client_kind { producer, consumer };

/// False only when librdkafka documents `name` as a property of the other kind of client; unknown
/// names pass, so librdkafka itself rejects a typo with its own message.
bool property_applies_to(std::string_view name, client_kind kind);

}  // namespace order_tracker::kafka
