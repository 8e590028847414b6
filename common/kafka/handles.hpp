#pragma once
/// RAII holders for librdkafka objects. Internal: included by .cpp files only, so that rdkafka.h
/// stays out of the public headers.

#include <librdkafka/rdkafka.h>

#include <memory>

namespace order_tracker::kafka::detail {

template <typename T, void (*Destroy)(T*)>
struct destroyer {
  void operator()(T* p) const noexcept {
    if (p != nullptr) Destroy(p);
  }
};

template <typename T, void (*Destroy)(T*)>
using holder = std::unique_ptr<T, destroyer<T, Destroy>>;

using conf_ptr = holder<rd_kafka_conf_t, rd_kafka_conf_destroy>;
using event_ptr = holder<rd_kafka_event_t, rd_kafka_event_destroy>;
using queue_ptr = holder<rd_kafka_queue_t, rd_kafka_queue_destroy>;
using message_ptr = holder<rd_kafka_message_t, rd_kafka_message_destroy>;
using partition_list_ptr =
    holder<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>;
using error_ptr = holder<rd_kafka_error_t, rd_kafka_error_destroy>;
using new_topic_ptr = holder<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>;
using admin_options_ptr = holder<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>;
using headers_ptr = holder<rd_kafka_headers_t, rd_kafka_headers_destroy>;
using topic_ptr = holder<rd_kafka_topic_t, rd_kafka_topic_destroy>;

/// The client handle. Destroying it joins librdkafka's threads, so it is destroyed last, after
/// every queue and event that refers to it.
using handle_ptr = holder<rd_kafka_t, rd_kafka_destroy>;

}  // namespace order_tracker::kafka::detail
