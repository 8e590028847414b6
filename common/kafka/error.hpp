#pragma once
/// librdkafka's error codes as boost::system::error_code values.

#include <boost/system/error_code.hpp>

namespace order_tracker::kafka {

/// The category whose values are rd_kafka_resp_err_t codes; message() is rd_kafka_err2str.
const boost::system::error_category& error_category() noexcept;

/// Wraps an rd_kafka_resp_err_t (passed as int so callers need not include rdkafka.h).
boost::system::error_code make_error(int rd_kafka_resp_err) noexcept;

/// The local producer queue is full: back off and retry later (backpressure, not failure).
bool is_queue_full(const boost::system::error_code& ec) noexcept;

/// No broker connection is up (librdkafka's _ALL_BROKERS_DOWN).
bool is_all_brokers_down(const boost::system::error_code& ec) noexcept;

/// The topic does not exist (broker's UNKNOWN_TOPIC_OR_PART or librdkafka's _UNKNOWN_TOPIC).
bool is_unknown_topic(const boost::system::error_code& ec) noexcept;

/// The broker refused this client's credentials (SASL) or its TLS identity.
bool is_authentication_failure(const boost::system::error_code& ec) noexcept;

/// The client instance can no longer work (e.g. idempotent producer fenced); it must be replaced.
bool is_fatal(const boost::system::error_code& ec) noexcept;

}  // namespace order_tracker::kafka
