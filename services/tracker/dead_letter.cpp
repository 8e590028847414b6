#include "services/tracker/dead_letter.hpp"

#include <algorithm>
#include <memory>

#include "common/kafka/error.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::tracker {

dead_letter::dead_letter(boost::asio::io_context& io, kafka::producer& producer, std::string topic,
                         std::function<void(std::int32_t, bool)> on_stuck)
    : io_(io), producer_(producer), topic_(std::move(topic)), on_stuck_(std::move(on_stuck)) {}

void dead_letter::send(kafka::message&& m, std::string error, std::string reason,
                       std::function<void()> done) {
  pending_.push_back({std::move(m), std::move(error), std::move(reason), std::move(done)});
  write(std::prev(pending_.end()));
}

void dead_letter::stop() {
  stopped_ = true;
}

void dead_letter::write(std::list<item>::iterator it) {
  if (stopped_) return;
  const kafka::message& m = it->m;
  const std::string partition = std::to_string(m.partition());
  const std::string offset = std::to_string(m.offset());
  const std::string timestamp = std::to_string(m.timestamp_ms());
  std::vector<kafka::header> headers{
      {dlq_headers::reason, it->reason}, {dlq_headers::error, it->error},
      {dlq_headers::topic, m.topic()},   {dlq_headers::partition, partition},
      {dlq_headers::offset, offset},     {dlq_headers::timestamp, timestamp},
  };
  if (const auto trace = m.header("traceparent")) headers.push_back({"traceparent", *trace});
  const auto ec = producer_.send(
      topic_, m.key(), m.payload(), headers, [this, it](const kafka::delivery_report& r) {
        if (r.error) {
          log::warn("tracker", "dead-letter write of {}-{}@{} failed: {}; retrying", it->m.topic(),
                    it->m.partition(), it->m.offset(), r.error.message());
          return retry_later(it);
        }
        const auto p = it->m.partition();
        auto done = std::move(it->done);
        pending_.erase(it);
        done();
        // Another poison message of the partition may still be failing: it stays paused until
        // that one is written too, or the paused partition would deliver past it.
        if (stuck_.contains(p) && !waiting(p)) {
          stuck_.erase(p);
          if (on_stuck_) on_stuck_(p, false);
        }
      });
  if (ec) {
    log::warn("tracker", "dead-letter write of {}-{}@{} not queued: {}; retrying", m.topic(),
              m.partition(), m.offset(), ec.message());
    retry_later(it);
  }
}

void dead_letter::retry_later(std::list<item>::iterator it) {
  if (stopped_) return;
  if (stuck_.insert(it->m.partition()).second && on_stuck_) on_stuck_(it->m.partition(), true);
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, backoff_);
  timer->async_wait([this, it, timer](const boost::system::error_code& ec) {
    if (!ec) write(it);
  });
}

bool dead_letter::waiting(std::int32_t partition) const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [partition](const item& i) { return i.m.partition() == partition; });
}

}  // namespace order_tracker::tracker
