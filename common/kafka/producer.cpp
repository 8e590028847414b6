#include "common/kafka/producer.hpp"

#include <array>
#include <boost/asio/post.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/client_config.hpp"
#include "common/kafka/error.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/queue_waker.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::kafka {
namespace {

// How often a flush looks at the queue length besides after each batch of reports: the last
// thing to finish may be a request that produces no event.
constexpr std::chrono::milliseconds flush_check_interval{20};
// After purging at the flush deadline, how long to wait for the purge reports.
constexpr std::chrono::milliseconds purge_grace{2000};

persistence to_persistence(rd_kafka_msg_status_t s) {
  switch (s) {
    case RD_KAFKA_MSG_STATUS_PERSISTED:
      return persistence::persisted;
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED:
      return persistence::possibly_persisted;
    default:
      return persistence::not_persisted;
  }
}

bool explicitly_unsafe(const config::kafka_options& options) {
  for (const auto& [key, value] : options.properties) {
    if ((key == "enable.idempotence" && value == "false") ||
        ((key == "acks" || key == "request.required.acks") && value != "all" && value != "-1")) {
      return true;
    }
  }
  return false;
}

}  // namespace

/// A message's own handler. librdkafka carries it as the message's opaque; until the report comes
/// it is also linked into the producer's list, so that a renewal can answer it.
struct producer::owned {
  delivery_handler handler;
  owned* prev = nullptr;
  owned* next = nullptr;
};

struct producer::impl {
  detail::handle_ptr handle;  // destroyed last: joins librdkafka's threads
  detail::queue_ptr main_queue;
  std::unique_ptr<detail::queue_waker> waker;
  // Topic handles by name: naming the topic on every send costs a lookup under librdkafka's lock.
  std::vector<std::pair<std::string, detail::topic_ptr>> topics;

  rd_kafka_topic_t* topic(std::string_view name) {
    for (const auto& [n, t] : topics) {
      if (n == name) return t.get();
    }
    const std::string owned(name);
    detail::topic_ptr t(rd_kafka_topic_new(handle.get(), owned.c_str(), nullptr));
    if (!t) return nullptr;
    return topics.emplace_back(owned, std::move(t)).second.get();
  }
};

producer::producer(boost::asio::io_context& io, const config::kafka_options& options,
                   std::vector<config::property> defaults, producer_events events)
    : impl_(std::make_unique<impl>()),
      events_(std::move(events)),
      io_(io),
      options_(options),
      flush_timer_(io) {
  // Before the service's defaults, so that they and then -X can refine these.
  base_ = {{"enable.idempotence", "true"}, {"acks", "all"}};
  base_.insert(base_.end(), defaults.begin(), defaults.end());
  if (explicitly_unsafe(options)) {
    log::warn("kafka",
              "producer runs without idempotence or acks=all: acknowledged orders may be lost");
  }
  open();
}

void producer::open() {
  auto conf = detail::make_conf(client_kind::producer, options_, base_);
  // Event mode: reports, errors and statistics arrive on the main queue, which we drain on wake-up.
  rd_kafka_conf_set_events(conf.get(),
                           RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS);
  impl_->handle = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
  impl_->main_queue.reset(rd_kafka_queue_get_main(impl_->handle.get()));
  impl_->waker =
      std::make_unique<detail::queue_waker>(io_, impl_->main_queue.get(), [this] { drain(); });
  impl_->waker->start();
  failed_ = false;
}

void producer::renew() {
  impl_->waker->stop();
  // The last reports (flush() first, so that every message has one). From one of our own
  // callbacks a drain is under way: it stops at the renewal and the list below answers the rest.
  if (!draining_) drain();
  const auto left = rd_kafka_outq_len(impl_->handle.get());
  if (left > 0) log::warn("kafka", "renewing the producer with {} messages unreported", left);
  ++instance_;
  // The caller may be a callback whose frames still use the old waker, queue and handle: they are
  // destroyed from a handler of their own, after those frames are gone. Destroying the handle
  // joins the old instance's threads there.
  boost::asio::post(io_, [old = std::move(impl_)] {});
  impl_ = std::make_unique<impl>();
  open();
  // The old instance's messages that had no report will never get one from librdkafka, which
  // drops them with its handle (without reading their opaques): their owners hear it now.
  report_unreported();
}

void producer::report_unreported() {
  owned* next = std::exchange(unreported_, nullptr);
  while (next != nullptr) {
    std::unique_ptr<owned> h(next);
    next = h->next;
    delivery_report report;
    report.error = make_error(RD_KAFKA_RESP_ERR__DESTROY);
    report.status = persistence::possibly_persisted;
    detail::call_guarded("delivery handler", [&] { h->handler(report); });
  }
}

producer::~producer() {
  impl_->waker->stop();
  impl_->topics.clear();  // before the handle they belong to
  const auto left = rd_kafka_outq_len(impl_->handle.get());
  if (left > 0)
    log::warn("kafka", "producer destroyed with {} messages or reports outstanding", left);
  // Handlers still waiting belong to owners that are being torn down with us: free them unheard.
  for (owned* next = unreported_; next != nullptr;) {
    const std::unique_ptr<owned> h(next);
    next = h->next;
  }
}

rd_kafka_s* producer::native_handle() const {
  return impl_->handle.get();
}

std::size_t producer::queue_length() const {
  return static_cast<std::size_t>(rd_kafka_outq_len(impl_->handle.get()));
}

void producer::stop() {
  impl_->waker->stop();
  flush_timer_.cancel();
}

boost::system::error_code producer::send(std::string_view topic, std::string_view key,
                                         std::string_view value, std::span<const header> headers,
                                         delivery_handler on_delivered, std::int32_t partition) {
  detail::headers_ptr hdrs;
  if (!headers.empty()) {
    hdrs.reset(rd_kafka_headers_new(headers.size()));
    for (const auto& h : headers) {
      rd_kafka_header_add(hdrs.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                          h.value.data(), static_cast<ssize_t>(h.value.size()));
    }
  }
  rd_kafka_topic_t* rkt = impl_->topic(topic);
  if (rkt == nullptr) return make_error(rd_kafka_last_error());
  std::unique_ptr<owned> handler;
  if (on_delivered) handler = std::make_unique<owned>(owned{std::move(on_delivered)});
  const rd_kafka_resp_err_t err =
      rd_kafka_producev(impl_->handle.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                        RD_KAFKA_V_KEY(key.data(), key.size()),
                        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs.get()),
                        RD_KAFKA_V_OPAQUE(handler.get()), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) failed_ = true;
    return make_error(err);
  }
  // Both now belong to librdkafka; the handler comes back as the report's _private.
  (void)hdrs.release();
  if (handler) {
    owned* h = handler.release();
    h->next = unreported_;
    if (unreported_ != nullptr) unreported_->prev = h;
    unreported_ = h;
  }
  return {};
}

void producer::drain() {
  // Never re-entered: a callback that renews the producer leaves the rest to the drain under way.
  if (draining_) return;
  // A pass ends early when a callback renewed the producer; the new instance's queue may already
  // hold events that no wake-up will announce, so it gets a pass too.
  while (drain_pass()) {
  }
}

bool producer::drain_pass() {
  draining_ = true;
  struct reset {
    bool& flag;
    ~reset() { flag = false; }
  } const guard{draining_};
  // Every callback below may renew this producer; after that the old queue and its messages'
  // opaques are no longer ours to touch.
  const auto instance = instance_;
  rd_kafka_queue_t* q = impl_->main_queue.get();
  bool delivered_any = false;
  while (instance == instance_) {
    const detail::event_ptr ev{rd_kafka_queue_poll(q, 0)};
    if (!ev) break;
    switch (rd_kafka_event_type(ev.get())) {
      case RD_KAFKA_EVENT_DR: {
        delivered_any = true;
        const rd_kafka_message_t* m = nullptr;
        while (instance == instance_ && (m = rd_kafka_event_message_next(ev.get())) != nullptr) {
          std::unique_ptr<owned> handler(static_cast<owned*>(m->_private));
          if (handler) {
            if (handler->prev != nullptr)
              handler->prev->next = handler->next;
            else
              unreported_ = handler->next;
            if (handler->next != nullptr) handler->next->prev = handler->prev;
          }
          const auto& sink = handler ? handler->handler : events_.on_unowned_delivery;
          if (!sink) continue;
          delivery_report report;
          if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) report.error = make_error(m->err);
          report.partition = m->partition;
          report.offset = m->offset;
          report.latency = std::chrono::microseconds(rd_kafka_message_latency(m));
          report.status = to_persistence(rd_kafka_message_status(m));
          report.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
          detail::call_guarded("delivery handler", [&] { sink(report); });
        }
        break;
      }
      case RD_KAFKA_EVENT_ERROR: {
        const bool fatal = rd_kafka_event_error_is_fatal(ev.get()) != 0;
        auto code = make_error(rd_kafka_event_error(ev.get()));
        std::string reason = rd_kafka_event_error_string(ev.get());
        if (fatal) {
          failed_ = true;
          std::array<char, 512> buf{};
          code = make_error(rd_kafka_fatal_error(impl_->handle.get(), buf.data(), buf.size()));
          reason = buf.data();
        }
        if (events_.on_error) {
          detail::call_guarded("producer error handler",
                               [&] { events_.on_error(code, reason, fatal); });
        }
        break;
      }
      case RD_KAFKA_EVENT_STATS:
        if (events_.on_stats) {
          detail::call_guarded("producer statistics handler",
                               [&] { events_.on_stats(rd_kafka_event_stats(ev.get())); });
        }
        break;
      default:
        break;
    }
  }
  if (instance != instance_) return true;
  if (delivered_any && events_.on_progress)
    detail::call_guarded("producer progress handler", events_.on_progress);
  if (flush_done_) finish_flush_if_empty();
  return false;
}

void producer::flush(std::chrono::milliseconds timeout, std::function<void(std::size_t)> done) {
  flush_done_ = std::move(done);
  flush_deadline_ = std::chrono::steady_clock::now() + timeout;
  purged_ = false;
  // Timeout 0: only cuts linger.ms short. A blocking flush would not serve our event queue.
  rd_kafka_flush(impl_->handle.get(), 0);
  if (!finish_flush_if_empty()) arm_flush_check();
}

bool producer::finish_flush_if_empty() {
  const std::size_t left = queue_length();
  if (!flush_done_ || (left != 0 && !(purged_ && std::chrono::steady_clock::now() >=
                                                     flush_deadline_ + purge_grace))) {
    return false;
  }
  flush_timer_.cancel();
  auto done = std::move(flush_done_);
  flush_done_ = nullptr;
  // Posted, never called from here: this runs inside flush() and drains, and the completion may
  // renew or stop this producer (issue 12).
  boost::asio::post(io_, [done = std::move(done), left] {
    detail::call_guarded("flush completion", [&] { done(left); });
  });
  return true;
}

void producer::arm_flush_check() {
  flush_timer_.expires_after(flush_check_interval);
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted || !flush_done_) return;
    drain();
    if (finish_flush_if_empty()) return;
    if (std::chrono::steady_clock::now() >= flush_deadline_ && !purged_) {
      purged_ = true;
      log::warn("kafka", "flush deadline reached with {} messages outstanding: purging them",
                queue_length());
      // Purged messages get failure reports through the usual queue, so their owners hear of it.
      rd_kafka_purge(impl_->handle.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    arm_flush_check();
  });
}

}  // namespace order_tracker::kafka
