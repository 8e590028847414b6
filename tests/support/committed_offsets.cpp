#include "tests/support/committed_offsets.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <stdexcept>

namespace order_tracker::test {

committed_offsets::committed_offsets(const std::string& bootstrap, std::string group)
    : group_(std::move(group)) {
  std::array<char, 512> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(err.data());
  }
  // A consumer handle that never subscribes, so it never joins the group. Not a producer handle:
  // librdkafka 2.14.2 answers NOT_COORDINATOR to this request by asking the handle's own group
  // for a coordinator, and a producer has none (a null dereference, seen in this test).
  if (rd_kafka_conf_set(conf, "group.id", group_.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(err.data());
  }
  handle_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  if (handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(err.data());
  }
}

committed_offsets::~committed_offsets() {
  // Never subscribed: nothing to leave, and no close that could wait for a broker.
  rd_kafka_destroy_flags(handle_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

std::optional<std::map<std::int32_t, std::int64_t>> committed_offsets::of(
    const std::string& topic, int partitions, std::chrono::milliseconds timeout) {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  // The partitions named (librdkafka's mock cluster does not answer "all partitions").
  rd_kafka_topic_partition_list_t* asked = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(asked, topic.c_str(), p);
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group_.c_str(), asked);
  rd_kafka_topic_partition_list_destroy(asked);
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(handle_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  std::array<char, 256> err{};
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), err.data(),
                                            err.size());
  rd_kafka_ListConsumerGroupOffsets(handle_, &request, 1, options, queue);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  rd_kafka_AdminOptions_destroy(options);

  std::optional<std::map<std::int32_t, std::int64_t>> out;
  // The request's own timeout bounds the answer; the margin covers its delivery to the queue.
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
  if (ev != nullptr && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev)) {
      std::size_t n = 0;
      const rd_kafka_group_result_t** groups =
          rd_kafka_ListConsumerGroupOffsets_result_groups(result, &n);
      if (n == 1 && rd_kafka_group_result_error(groups[0]) == nullptr) {
        out.emplace();
        const auto* parts = rd_kafka_group_result_partitions(groups[0]);
        for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
          const auto& p = parts->elems[i];
          if (topic == p.topic && p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0)
            (*out)[p.partition] = p.offset;
        }
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  return out;
}

std::optional<std::int64_t> committed_offsets::sum(const std::string& topic, int partitions,
                                                   std::chrono::milliseconds timeout) {
  const auto offsets = of(topic, partitions, timeout);
  if (!offsets) return std::nullopt;
  std::int64_t total = 0;
  for (const auto& [p, o] : *offsets)
    total += o;
  return total;
}

}  // namespace order_tracker::test
