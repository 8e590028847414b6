#include "services/tracker/snapshot_reader.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <utility>
#include <vector>

#include "common/kafka/client_config.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/queue_waker.hpp"
#include "common/observability/log.hpp"
#include "services/tracker/snapshot_codec.hpp"

namespace order_tracker::tracker {
namespace {

constexpr std::size_t batch_size = 256;

}  // namespace

struct snapshot_reader::impl {
  kafka::detail::handle_ptr handle;  // destroyed last: joins librdkafka's threads
  kafka::detail::queue_ptr queue;
  std::unique_ptr<kafka::detail::queue_waker> waker;
};

struct snapshot_reader::lookup {
  lookup(boost::asio::io_context& io, handler h, std::string k)
      : done(std::move(h)), key(std::move(k)), timer(io) {}
  handler done;
  std::string key;
  snapshot_lookup found;
  bool state_end = false;
  bool orders_end = false;
  std::int64_t state_target = -1;  // the state partition's high watermark when first read
  boost::asio::steady_timer timer;
};

snapshot_reader::snapshot_reader(boost::asio::io_context& io, const config::kafka_options& options,
                                 std::string state_topic, std::string group)
    : impl_(std::make_unique<impl>()),
      io_(io),
      state_topic_(std::move(state_topic)),
      orders_topic_(options.topic),
      group_(std::move(group)),
      continue_(io) {
  // Outside any group: assign() only, nothing committed, so it never joins. librdkafka has a
  // consumer queue only for a client with a group.id, hence one of its own. The classic protocol
  // is the one librdkafka runs an assign-only consumer with, whatever the user chose.
  auto conf = kafka::detail::make_conf(kafka::client_kind::consumer, options,
                                       {{"client.id", "tracker-service-state"}},
                                       {{"group.id", group_ + ".state-reader"},
                                        {"group.protocol", "classic"},
                                        {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"},
                                        {"enable.partition.eof", "true"},
                                        {"auto.offset.reset", "earliest"}});
  impl_->handle = kafka::detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(impl_->handle.get());
  impl_->queue.reset(rd_kafka_queue_get_consumer(impl_->handle.get()));
  impl_->waker =
      std::make_unique<kafka::detail::queue_waker>(io, impl_->queue.get(), [this] { drain(); });
  impl_->waker->start();
}

snapshot_reader::~snapshot_reader() {
  stop();
  impl_->waker.reset();
  impl_->queue.reset();
  // Never in a group: nothing to leave, and a close could wait for brokers that are gone.
  rd_kafka_destroy_flags(impl_->handle.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

void snapshot_reader::stop() {
  if (stopped_) return;
  stopped_ = true;
  pending_.clear();
  continue_.cancel();
  impl_->waker->stop();
}

void snapshot_reader::read(std::int32_t p, std::chrono::milliseconds timeout, handler done) {
  if (stopped_) return;
  cancel(p);
  auto& l = *pending_
                 .emplace(p, std::make_unique<lookup>(io_, std::move(done),
                                                      snapshot_key(group_, orders_topic_, p)))
                 .first->second;
  kafka::detail::partition_list_ptr list(rd_kafka_topic_partition_list_new(2));
  rd_kafka_topic_partition_list_add(list.get(), state_topic_.c_str(), p)->offset =
      RD_KAFKA_OFFSET_TAIL(tail_records);
  rd_kafka_topic_partition_list_add(list.get(), orders_topic_.c_str(), p)->offset =
      RD_KAFKA_OFFSET_END;
  if (kafka::detail::error_ptr e{rd_kafka_incremental_assign(impl_->handle.get(), list.get())}) {
    l.found.failed = true;
    l.found.error = rd_kafka_error_string(e.get());
    l.state_end = l.orders_end = true;
    // Answered from a handler of its own, never from inside read().
    boost::asio::post(io_, [this, p] { finish(p); });
    return;
  }
  l.timer.expires_after(timeout);
  l.timer.async_wait([this, p, timeout](const boost::system::error_code& ec) {
    if (ec) return;
    const auto it = pending_.find(p);
    if (it == pending_.end()) return;
    it->second->found.failed = true;
    it->second->found.error =
        "no answer within " + std::to_string(timeout.count()) + " ms (does the topic exist?)";
    it->second->state_end = it->second->orders_end = true;
    finish(p);
  });
}

void snapshot_reader::cancel(std::int32_t p) {
  if (pending_.erase(p) > 0) unassign(p);
}

void snapshot_reader::unassign(std::int32_t p) {
  kafka::detail::partition_list_ptr list(rd_kafka_topic_partition_list_new(2));
  rd_kafka_topic_partition_list_add(list.get(), state_topic_.c_str(), p);
  rd_kafka_topic_partition_list_add(list.get(), orders_topic_.c_str(), p);
  kafka::detail::error_ptr e{rd_kafka_incremental_unassign(impl_->handle.get(), list.get())};
  if (e) log::debug("tracker", "state lookup unassign: {}", rd_kafka_error_string(e.get()));
}

void snapshot_reader::drain() {
  if (stopped_) return;
  std::array<rd_kafka_message_t*, batch_size> batch{};
  const ssize_t n = rd_kafka_consume_batch_queue(impl_->queue.get(), 0, batch.data(), batch.size());
  std::vector<std::int32_t> answered;
  for (ssize_t i = 0; i < n; ++i) {
    kafka::detail::message_ptr m(batch[static_cast<std::size_t>(i)]);
    if (m->rkt == nullptr) continue;  // a client-level error: the lookup's timeout covers it
    const auto it = pending_.find(m->partition);
    if (it == pending_.end()) continue;  // a lookup cancelled or replaced meanwhile
    lookup& l = *it->second;
    const bool state = state_topic_ == rd_kafka_topic_name(m->rkt);
    // A side that is done ignores the rest, so that a lookup is answered once, as it was found.
    if (state ? l.state_end : l.orders_end) continue;
    // librdkafka reports EOF only for a fetch that comes back empty. A partition written all
    // the time may never give one (each long poll returns with the newest records), so either
    // side is also done once it has read what was there when it began.
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      (state ? l.state_end : l.orders_end) = true;
      if (!state) l.found.log_end = m->offset;
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (state) {
        l.found.failed = true;
        l.found.error = rd_kafka_message_errstr(m.get());
        l.state_end = true;
      } else {
        l.orders_end = true;  // its watermarks stay unknown: the plan does without them
      }
    } else if (state) {
      const std::string_view key(static_cast<const char*>(m->key), m->key_len);
      // The last one wins: records are in offset order, and compaction keeps the newest.
      if (key == l.key) l.found.record.emplace(static_cast<const char*>(m->payload), m->len);
      if (l.state_target < 0) l.state_target = watermarks(state_topic_, m->partition).second;
      if (l.state_target >= 0 && m->offset + 1 >= l.state_target) l.state_end = true;
    } else {
      // Fetched from the end: the first record's offset is where the log ended at the lookup.
      // The watermark covers a fetch that was reset to the log start (a truncated log).
      l.orders_end = true;
      l.found.log_end = std::max(m->offset, watermarks(orders_topic_, m->partition).second);
    }
    if (l.state_end && l.orders_end) answered.push_back(m->partition);
  }
  for (const auto p : answered)
    finish(p);
  // More may be queued: take it on a later loop turn (the eventfd is not written again).
  if (static_cast<std::size_t>(n) == batch_size) {
    continue_.expires_at(std::chrono::steady_clock::time_point::min());
    continue_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) drain();
    });
  }
}

std::pair<std::int64_t, std::int64_t> snapshot_reader::watermarks(const std::string& topic,
                                                                  std::int32_t p) const {
  // Cached from the fetch response that carried the message being read, or from a later one;
  // -1 where unknown.
  std::int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(impl_->handle.get(), topic.c_str(), p, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    return {-1, -1};
  return {low, high};
}

void snapshot_reader::finish(std::int32_t p) {
  const auto it = pending_.find(p);
  if (it == pending_.end()) return;
  auto l = std::move(it->second);
  pending_.erase(it);
  l->timer.cancel();
  unassign(p);
  if (const auto low = watermarks(orders_topic_, p).first; low >= 0) l->found.log_start = low;
  kafka::detail::call_guarded("snapshot lookup handler", [&] { l->done(l->found); });
}

}  // namespace order_tracker::tracker
