#include "common/kafka/consumer.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <map>

#include "common/kafka/client_config.hpp"
#include "common/kafka/error.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/queue_waker.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::kafka {
namespace {

// librdkafka evicts a member that has not polled for max.poll.interval.ms, and a consumer that
// polls only on wake-ups may look idle (librdkafka issue #3344): poll at least this often.
constexpr std::chrono::milliseconds keepalive_interval{1000};
constexpr std::chrono::milliseconds close_check_interval{20};
constexpr std::size_t batch_size = 1024;
constexpr std::chrono::milliseconds final_commit_retry{100};

detail::partition_list_ptr to_list(const std::vector<topic_partition>& parts) {
  detail::partition_list_ptr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const auto& p : parts) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  return list;
}

std::vector<topic_partition> to_vector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& p = list->elems[i];
    out.push_back({p.topic, p.partition, p.offset});
  }
  return out;
}

bool is_classic_only(std::string_view name) {
  return name == "partition.assignment.strategy" || name == "session.timeout.ms" ||
         name == "heartbeat.interval.ms" || name == "group.protocol.type";
}

/// The group.protocol in effect: the user's -X if given (the last one wins), else the defaults'.
std::string group_protocol(const config::kafka_options& options,
                           const std::vector<config::property>& defaults) {
  std::string chosen = "classic";
  for (const auto* list : {&defaults, &options.properties}) {
    for (const auto& p : *list) {
      if (p.first == "group.protocol") chosen = p.second;
    }
  }
  return chosen;
}

}  // namespace

// ---- message ----------------------------------------------------------------------------------

message& message::operator=(message&& other) noexcept {
  if (this != &other) {
    if (m_ != nullptr) rd_kafka_message_destroy(m_);
    m_ = std::exchange(other.m_, nullptr);
  }
  return *this;
}

message::~message() {
  if (m_ != nullptr) rd_kafka_message_destroy(m_);
}

std::string_view message::topic() const {
  return rd_kafka_topic_name(m_->rkt);
}
std::int32_t message::partition() const {
  return m_->partition;
}
std::int64_t message::offset() const {
  return m_->offset;
}
std::string_view message::key() const {
  return m_->key == nullptr ? std::string_view{}
                            : std::string_view(static_cast<const char*>(m_->key), m_->key_len);
}
std::string_view message::payload() const {
  return m_->payload == nullptr ? std::string_view{}
                                : std::string_view(static_cast<const char*>(m_->payload), m_->len);
}
std::int64_t message::timestamp_ms() const {
  return rd_kafka_message_timestamp(m_, nullptr);
}

std::optional<std::string_view> message::header(std::string_view name) const {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m_, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const std::string key(name);
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, key.c_str(), &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), size);
}

// ---- consumer ---------------------------------------------------------------------------------

struct consumer::impl {
  detail::handle_ptr handle;  // destroyed last: joins librdkafka's threads
  detail::queue_ptr queue;
  std::unique_ptr<detail::queue_waker> waker;
  detail::queue_ptr admin_queue;  // committed-offset lookups, apart from the consumer queue
  std::unique_ptr<detail::queue_waker> admin_waker;
  // The handlers of requests answered on admin_queue, by the id passed to librdkafka as opaque.
  // Owned here, not by librdkafka: a request still inside it when the consumer is destroyed is
  // answered into a queue nobody reads, and its handler must not leak.
  std::map<std::uintptr_t, committed_handler> admin_handlers;
  std::uintptr_t next_admin_id = 1;
  void* keep(committed_handler h) {
    const auto id = next_admin_id++;
    admin_handlers.emplace(id, std::move(h));
    return reinterpret_cast<void*>(id);
  }
  detail::partition_list_ptr pending_stores{rd_kafka_topic_partition_list_new(8)};
  consumer* owner = nullptr;
  bool cooperative = false;
};

// librdkafka calls these from inside rd_kafka_consume_batch_queue(), i.e. on the io thread. An
// exception must not unwind through librdkafka's C frames (std::terminate at best): each callback
// catches, and a failed handler is reported like a failed message handler, as fatal.
struct consumer_callbacks {
  template <typename F>
  static void guarded(consumer& self, std::string_view where, F&& f) noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      self.report_handler_failure(fmt::format("{} handler failed: {}", where, e.what()));
    } catch (...) {
      self.report_handler_failure(fmt::format("{} handler failed", where));
    }
  }

  static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto& self = *static_cast<consumer*>(opaque);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    auto moved = to_vector(partitions);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::vector<assigned_partition> plan;
      plan.reserve(moved.size());
      for (auto& p : moved)
        plan.push_back({std::move(p), false});
      // Whatever the handler does, the assignment itself must happen: librdkafka's rebalance
      // state machine waits for it.
      if (self.events_.on_assigned)
        guarded(self, "assignment", [&] { self.events_.on_assigned(plan); });
      std::vector<topic_partition> starts, paused;
      for (const auto& a : plan) {
        starts.push_back(a.where);
        if (a.start_paused) paused.push_back(a.where);
      }
      const auto list = to_list(starts);
      detail::error_ptr e;
      if (cooperative) {
        e.reset(rd_kafka_incremental_assign(rk, list.get()));
      } else if (auto code = rd_kafka_assign(rk, list.get()); code != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log::error("kafka", "assign failed: {}", rd_kafka_err2str(code));
      }
      if (e) log::error("kafka", "incremental assign failed: {}", rd_kafka_error_string(e.get()));
      // Paused before the first fetch is issued: fetching starts on librdkafka's thread later.
      if (!paused.empty()) self.pause(paused);
      return;
    }
    const bool lost = rd_kafka_assignment_lost(rk) != 0;
    if (self.events_.on_revoked) {
      guarded(self, "revocation", [&] { self.events_.on_revoked(moved, lost); });
    }
    if (!lost) {
      // What was processed on these partitions is committed before another member takes them.
      self.flush_stores();
      rd_kafka_commit(rk, nullptr, 1);
    } else {
      // Another member owns them now: a stale store would pull its commit backwards.
      for (const auto& p : moved) {
        rd_kafka_topic_partition_list_del(self.impl_->pending_stores.get(), p.topic.c_str(),
                                          p.partition);
      }
    }
    if (cooperative) {
      detail::error_ptr e(rd_kafka_incremental_unassign(rk, partitions));
      if (e) log::error("kafka", "incremental unassign failed: {}", rd_kafka_error_string(e.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  static void commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                     void* opaque) {
    auto& self = *static_cast<consumer*>(opaque);
    // _NO_OFFSET: nothing new to commit, which is not worth reporting.
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    if (self.events_.on_commit) {
      guarded(self, "commit", [&] {
        self.events_.on_commit(
            err == RD_KAFKA_RESP_ERR_NO_ERROR ? boost::system::error_code{} : make_error(err),
            to_vector(offsets));
      });
    }
  }

  static void error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto& self = *static_cast<consumer*>(opaque);
    const bool fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    std::string text = reason;
    int code = err;
    if (fatal) {
      std::array<char, 512> buf{};
      code = rd_kafka_fatal_error(rk, buf.data(), buf.size());
      text = buf.data();
    }
    if (self.events_.on_error) {
      guarded(self, "error", [&] { self.events_.on_error(make_error(code), text, fatal); });
    }
  }

  static int stats(rd_kafka_t*, char* json, size_t len, void* opaque) {
    auto& self = *static_cast<consumer*>(opaque);
    if (self.events_.on_stats) {
      guarded(self, "statistics", [&] { self.events_.on_stats(std::string_view(json, len)); });
    }
    return 0;  // librdkafka frees the JSON
  }
};

consumer::consumer(boost::asio::io_context& io, const config::kafka_options& options,
                   std::string group_id, std::vector<config::property> defaults,
                   consumer_events events)
    : impl_(std::make_unique<impl>()),
      events_(std::move(events)),
      keepalive_(io),
      close_timer_(io),
      continue_(io),
      commit_retry_(io),
      group_id_(group_id) {
  std::vector<config::property> base{
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"auto.offset.reset", "earliest"},
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "1000"},
  };
  base.insert(base.end(), defaults.begin(), defaults.end());
  if (group_protocol(options, base) == "consumer") {
    // KIP-848: the broker assigns partitions and times sessions (group.consumer.* broker
    // settings); librdkafka refuses these classic-only properties under group.protocol=consumer.
    // A user's own -X of one of them still reaches librdkafka and gets its error.
    std::erase_if(base, [](const config::property& p) { return is_classic_only(p.first); });
  }
  // Enforced: only offsets the service stored after processing may be committed.
  auto conf = detail::make_conf(client_kind::consumer, options, base,
                                {{"group.id", group_id}, {"enable.auto.offset.store", "false"}});
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &consumer_callbacks::rebalance);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &consumer_callbacks::commit);
  rd_kafka_conf_set_error_cb(conf.get(), &consumer_callbacks::error);
  rd_kafka_conf_set_stats_cb(conf.get(), &consumer_callbacks::stats);
  impl_->handle = detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  // Everything (messages, rebalances, errors, commits, stats) now comes through one queue.
  rd_kafka_poll_set_consumer(impl_->handle.get());
  impl_->queue.reset(rd_kafka_queue_get_consumer(impl_->handle.get()));
  impl_->waker = std::make_unique<detail::queue_waker>(io, impl_->queue.get(), [this] { drain(); });
  impl_->admin_queue.reset(rd_kafka_queue_new(impl_->handle.get()));
  impl_->admin_waker = std::make_unique<detail::queue_waker>(io, impl_->admin_queue.get(),
                                                             [this] { drain_admin(); });
  impl_->admin_waker->start();
}

consumer::~consumer() {
  impl_->waker->stop();
  impl_->admin_waker->stop();
  // Answers not handled yet are dropped unread; their handlers go with admin_handlers.
  while (detail::event_ptr ev{rd_kafka_queue_poll(impl_->admin_queue.get(), 0)}) {
  }
  impl_->admin_queue.reset();
  keepalive_.cancel();
  close_timer_.cancel();
  continue_.cancel();
  commit_retry_.cancel();
  impl_->queue.reset();
  if (!rd_kafka_consumer_closed(impl_->handle.get())) {
    // A blocking close here could wait session.timeout.ms for a broker that is gone.
    rd_kafka_destroy_flags(impl_->handle.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
}

boost::system::error_code consumer::subscribe(const std::vector<std::string>& topics) {
  detail::partition_list_ptr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics)
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (const auto err = rd_kafka_subscribe(impl_->handle.get(), list.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(err);
  }
  impl_->waker->start();
  arm_keepalive();
  return {};
}

void consumer::store_offset(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  // Called for every message: a batch's few partitions are found without building a C string.
  rd_kafka_topic_partition_list_t* list = impl_->pending_stores.get();
  rd_kafka_topic_partition_t* p = nullptr;
  for (int i = 0; i < list->cnt && p == nullptr; ++i) {
    auto& e = list->elems[i];
    if (e.partition == partition && topic == e.topic) p = &e;
  }
  if (p == nullptr)
    p = rd_kafka_topic_partition_list_add(list, std::string(topic).c_str(), partition);
  // The committed offset is the next one to read.
  p->offset = std::max(p->offset, offset + 1);
}

void consumer::flush_stores() {
  rd_kafka_topic_partition_list_t* list = impl_->pending_stores.get();
  if (list->cnt == 0) return;
  // Errors here are per partition (e.g. no longer assigned after a revoke) and harmless: the
  // new owner re-reads from the last commit.
  rd_kafka_offsets_store(impl_->handle.get(), list);
  impl_->pending_stores.reset(rd_kafka_topic_partition_list_new(8));
}

void consumer::commit() {
  flush_stores();
  rd_kafka_commit(impl_->handle.get(), nullptr, 1);
}

void consumer::fetch_committed(const std::vector<topic_partition>& parts,
                               std::chrono::milliseconds timeout, committed_handler done) {
  const auto list = to_list(parts);
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group_id_.c_str(), list.get());
  detail::admin_options_ptr options(
      rd_kafka_AdminOptions_new(impl_->handle.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  std::array<char, 256> err{};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                            err.data(), err.size());
  // Offsets committed by a member that just gave these partitions up must be visible.
  detail::error_ptr e(rd_kafka_AdminOptions_set_require_stable_offsets(options.get(), 1));
  rd_kafka_AdminOptions_set_opaque(options.get(), impl_->keep(std::move(done)));
  rd_kafka_ListConsumerGroupOffsets(impl_->handle.get(), &request, 1, options.get(),
                                    impl_->admin_queue.get());
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
}

void consumer::drain_admin() {
  while (detail::event_ptr ev{rd_kafka_queue_poll(impl_->admin_queue.get(), 0)}) {
    auto entry = impl_->admin_handlers.extract(
        reinterpret_cast<std::uintptr_t>(rd_kafka_event_opaque(ev.get())));
    if (!entry) continue;
    const committed_handler handler = std::move(entry.mapped());
    boost::system::error_code ec;
    std::vector<topic_partition> offsets;
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ec = make_error(rd_kafka_event_error(ev.get()));
    } else if (rd_kafka_event_type(ev.get()) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
      if (const auto* parts = rd_kafka_event_topic_partition_list(ev.get())) {
        offsets = to_vector(parts);
      }
    } else if (const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get())) {
      std::size_t n = 0;
      const rd_kafka_group_result_t** groups =
          rd_kafka_ListConsumerGroupOffsets_result_groups(result, &n);
      for (std::size_t i = 0; i < n; ++i) {
        if (const rd_kafka_error_t* ge = rd_kafka_group_result_error(groups[i])) {
          ec = make_error(rd_kafka_error_code(ge));
          continue;
        }
        const auto* parts = rd_kafka_group_result_partitions(groups[i]);
        for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
          if (parts->elems[j].err != RD_KAFKA_RESP_ERR_NO_ERROR)
            ec = make_error(parts->elems[j].err);
        }
        offsets = to_vector(parts);
      }
    }
    try {
      handler(ec, offsets);
    } catch (const std::exception& ex) {
      log::error("kafka", "committed-offsets handler threw: {}", ex.what());
    }
  }
}

void consumer::seek(const std::vector<topic_partition>& parts) {
  const auto list = to_list(parts);
  // Timeout 0: librdkafka seeks asynchronously and never blocks the io thread.
  detail::error_ptr e(rd_kafka_seek_partitions(impl_->handle.get(), list.get(), 0));
  if (e) log::warn("kafka", "seek failed: {}", rd_kafka_error_string(e.get()));
}

void consumer::pause(const std::vector<topic_partition>& parts) {
  const auto list = to_list(parts);
  rd_kafka_pause_partitions(impl_->handle.get(), list.get());
}

void consumer::resume(const std::vector<topic_partition>& parts) {
  const auto list = to_list(parts);
  rd_kafka_resume_partitions(impl_->handle.get(), list.get());
}

std::optional<std::pair<std::int64_t, std::int64_t>> consumer::cached_watermarks(
    const std::string& topic, std::int32_t partition) const {
  std::int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(impl_->handle.get(), topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      low < 0 || high < 0) {
    return std::nullopt;
  }
  return std::pair{low, high};
}

std::vector<topic_partition> consumer::assignment() const {
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (rd_kafka_assignment(impl_->handle.get(), &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  detail::partition_list_ptr owned(list);
  return to_vector(list);
}

void consumer::report_handler_failure(const std::string& what) noexcept {
  // Skipping the work and going on would let a later store commit past it: stop handing out
  // messages and let the service treat it as fatal.
  handler_failed_ = true;
  log::error("kafka", "{}", what);
  if (!events_.on_error || reporting_failure_) return;
  reporting_failure_ = true;
  try {
    events_.on_error(make_error(RD_KAFKA_RESP_ERR__FAIL), what, true);
  } catch (...) {
    // The error handler itself failed: the log line above is all that can be done here.
  }
  reporting_failure_ = false;
}

void consumer::drain() {
  // One bounded batch per loop turn: timers, signals and HTTP run between batches, and the
  // batch's offsets are stored (once per partition) before the next one is taken.
  std::array<rd_kafka_message_t*, batch_size> batch{};
  const ssize_t n = rd_kafka_consume_batch_queue(impl_->queue.get(), 0, batch.data(), batch.size());
  if (n > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      message m(batch[static_cast<std::size_t>(i)]);
      const rd_kafka_message_t* raw = batch[static_cast<std::size_t>(i)];
      if (raw->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        if (events_.on_error) {
          events_.on_error(make_error(raw->err), rd_kafka_message_errstr(raw), false);
        }
        continue;
      }
      // Not processed, so not stored: this member or the next owner reads it again.
      if (closing_ || handler_failed_) continue;
      const auto partition = raw->partition;
      const auto offset = raw->offset;
      try {
        events_.on_message(std::move(m));
      } catch (const std::exception& e) {
        report_handler_failure(fmt::format("message handler failed at partition {} offset {}: {}",
                                           partition, offset, e.what()));
      }
    }
  }
  flush_stores();
  // A full batch means more is probably queued. librdkafka writes the eventfd again only once the
  // queue went empty, so the rest is ours to take: on a later turn, not now.
  if (static_cast<std::size_t>(n) == batch.size()) schedule_drain();
  if (closing_) check_closed();
}

void consumer::schedule_drain() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  continue_.expires_at(std::chrono::steady_clock::time_point::min());
  continue_.async_wait([this](const boost::system::error_code& ec) {
    // Cancelled by the destructor: this consumer may be gone.
    if (ec == boost::asio::error::operation_aborted) return;
    drain_scheduled_ = false;
    drain();
  });
}

void consumer::arm_keepalive() {
  keepalive_.expires_after(keepalive_interval);
  keepalive_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted || closing_) return;
    drain();
    arm_keepalive();
  });
}

void consumer::close(std::chrono::milliseconds timeout, std::function<void()> done) {
  if (closing_) return;
  closing_ = true;
  close_done_ = std::move(done);
  close_deadline_ = std::chrono::steady_clock::now() + timeout;
  commit_deadline_ = std::chrono::steady_clock::now() + timeout / 2;
  keepalive_.cancel();
  flush_stores();
  impl_->waker->start();  // in case close comes before subscribe
  // Commit first, while this member is still a stable part of the group, and leave only once the
  // broker has the offsets: a commit sent during the group exit can be refused (illegal
  // generation) and the next owner would process again what we did. Paused, nothing new is
  // processed (and left uncommitted) meanwhile.
  detail::partition_list_ptr assigned;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(impl_->handle.get(), &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    assigned.reset(raw);
    rd_kafka_pause_partitions(impl_->handle.get(), assigned.get());
  }
  final_commit();
  check_closed();
}

void consumer::final_commit() {
  const auto err = rd_kafka_commit_queue(
      impl_->handle.get(), nullptr, impl_->admin_queue.get(), nullptr,
      impl_->keep([this](const boost::system::error_code& ec, const std::vector<topic_partition>&) {
        if (leaving_) return;
        // Classic protocol: a commit sent while another member joins or leaves is refused
        // for the member's old generation. librdkafka rejoins by itself, and the same commit
        // with the new generation succeeds for the partitions this member still owns: try
        // again until the commit deadline rather than leave the next owner to redo our work.
        if ((ec == make_error(RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION) ||
             ec == make_error(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)) &&
            std::chrono::steady_clock::now() + final_commit_retry < commit_deadline_) {
          log::info("kafka", "final offset commit refused during a rebalance ({}): retrying",
                    ec.message());
          commit_retry_.expires_after(final_commit_retry);
          commit_retry_.async_wait([this](const boost::system::error_code& wait) {
            if (wait == boost::asio::error::operation_aborted || leaving_) return;
            final_commit();
          });
          return;
        }
        if (ec && ec != make_error(RD_KAFKA_RESP_ERR__NO_OFFSET))
          log::warn("kafka", "final offset commit: {}", ec.message());
        leave_group();
      }));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) leave_group();
}

void consumer::leave_group() {
  if (leaving_) return;
  leaving_ = true;
  detail::error_ptr e(rd_kafka_consumer_close_queue(impl_->handle.get(), impl_->queue.get()));
  if (e) log::warn("kafka", "consumer close: {}", rd_kafka_error_string(e.get()));
}

void consumer::check_closed() {
  if (!close_done_) return;
  if (!leaving_ && std::chrono::steady_clock::now() >= commit_deadline_) {
    log::warn("kafka", "final offset commit not confirmed in time: leaving the group anyway");
    leave_group();
  }
  const bool closed = leaving_ && rd_kafka_consumer_closed(impl_->handle.get()) != 0;
  if (closed || std::chrono::steady_clock::now() >= close_deadline_) {
    if (!closed) log::warn("kafka", "consumer close timed out: leaving without a clean group exit");
    close_timer_.cancel();
    commit_retry_.cancel();
    impl_->waker->stop();
    impl_->admin_waker->stop();
    auto done = std::move(close_done_);
    close_done_ = nullptr;
    done();
    return;
  }
  // Closing produces events (revoke, final commit) that wake us; the timer bounds the wait.
  close_timer_.expires_after(close_check_interval);
  close_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    drain();
    check_closed();
  });
}

}  // namespace order_tracker::kafka
