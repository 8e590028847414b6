#include "common/kafka/admin.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>

#include "common/kafka/error.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/queue_waker.hpp"
#include "common/observability/log.hpp"

namespace order_tracker::kafka {

topic_spec make_topic_spec(std::string name, const config::topic_options& options) {
  topic_spec spec{std::move(name), options.partitions, options.replication_factor, {}};
  if (options.min_insync_replicas > 0) {
    spec.configs.emplace_back("min.insync.replicas", std::to_string(options.min_insync_replicas));
  }
  return spec;
}

struct admin::impl {
  rd_kafka_t* handle = nullptr;
  detail::queue_ptr queue;
  std::unique_ptr<detail::queue_waker> waker;
  // What to do with a request's result event (it also reads the event's error).
  using completion = std::function<void(rd_kafka_event_t*)>;
  // Completions of requests in flight, which travel as the requests' opaques. Owned here, not by
  // librdkafka: a request that never completes (a broker that does not answer) must not leak.
  std::vector<std::unique_ptr<completion>> pending;

  std::unique_ptr<completion> take(void* opaque) {
    const auto it = std::find_if(pending.begin(), pending.end(),
                                 [opaque](const auto& h) { return h.get() == opaque; });
    if (it == pending.end()) return nullptr;
    auto h = std::move(*it);
    pending.erase(it);
    return h;
  }

  /// Options of a request of `op` bounded by `timeout`, whose result goes to `on_result`.
  detail::admin_options_ptr request(rd_kafka_admin_op_t op, std::chrono::milliseconds timeout,
                                    completion on_result) {
    std::array<char, 512> err{};
    detail::admin_options_ptr options(rd_kafka_AdminOptions_new(handle, op));
    rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                              err.data(), err.size());
    auto& c = pending.emplace_back(std::make_unique<completion>(std::move(on_result)));
    rd_kafka_AdminOptions_set_opaque(options.get(), c.get());
    return options;
  }
};

namespace {

/// The error of a whole admin result event, if any.
boost::system::error_code event_error(rd_kafka_event_t* ev, std::string* detail) {
  if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  if (detail != nullptr) *detail = rd_kafka_event_error_string(ev);
  return make_error(rd_kafka_event_error(ev));
}

std::string_view group_state_name(rd_kafka_consumer_group_state_t s) {
  const char* name = rd_kafka_consumer_group_state_name(s);
  return name != nullptr ? name : "Unknown";
}

}  // namespace

admin::admin(boost::asio::io_context& io, producer& owner)
    : impl_(std::make_unique<impl>()), io_(io), owner_(owner) {
  attach();
}

admin::~admin() {
  if (!impl_->queue) return;
  // Synchronously: the producer may be destroyed next, and its handle must outlive our queue.
  impl_->waker->stop();
  drop_pending();
  impl_->waker.reset();
  impl_->queue.reset();
}

void admin::attach() {
  impl_->handle = owner_.native_handle();
  // A queue of our own, so admin results never mix with the producer's reports.
  impl_->queue.reset(rd_kafka_queue_new(impl_->handle));
  impl_->waker =
      std::make_unique<detail::queue_waker>(io_, impl_->queue.get(), [this] { drain(); });
  impl_->waker->start();
}

void admin::detach() {
  if (!impl_->queue) return;
  impl_->waker->stop();
  ++attachment_;
  drop_pending();
  // A drain of this queue may be under us (detach from a request's handler): the waker and the
  // queue go from a handler of their own, before the caller can renew the producer's handle.
  boost::asio::post(io_, [queue = std::move(impl_->queue), waker = std::move(impl_->waker)] {});
  impl_->handle = nullptr;
}

void admin::drop_pending() {
  // Requests still in flight are dropped with their handlers; a late result finds no handler.
  while (detail::event_ptr ev{rd_kafka_queue_poll(impl_->queue.get(), 0)}) {
  }
  impl_->pending.clear();
}

void admin::stop() {
  if (impl_->waker) impl_->waker->stop();
}

void admin::ensure_topic(const topic_spec& spec, std::chrono::milliseconds timeout,
                         topic_handler done) {
  if (!impl_->queue) attach();
  std::array<char, 512> err{};
  detail::new_topic_ptr topic(rd_kafka_NewTopic_new(
      spec.name.c_str(), spec.partitions, spec.replication_factor, err.data(), err.size()));
  if (!topic) {
    done(make_error(RD_KAFKA_RESP_ERR__INVALID_ARG), err.data());
    return;
  }
  for (const auto& [key, value] : spec.configs) {
    if (auto e = rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()); e != 0) {
      done(make_error(e), "topic config " + key);
      return;
    }
  }
  auto options = impl_->request(
      RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout, [done = std::move(done)](rd_kafka_event_t* ev) {
        std::string detail;
        auto ec = event_error(ev, &detail);
        if (const auto* result = rd_kafka_event_CreateTopics_result(ev); !ec && result) {
          std::size_t n = 0;
          const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(result, &n);
          for (std::size_t i = 0; i < n; ++i) {
            const auto e = rd_kafka_topic_result_error(topics[i]);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
              ec = make_error(e);
              const char* s = rd_kafka_topic_result_error_string(topics[i]);
              detail = s != nullptr ? s : "";
            }
          }
        }
        done(ec, detail);
      });
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()),
                                              err.data(), err.size());
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(impl_->handle, topics, 1, options.get(), impl_->queue.get());
}

void admin::drain() {
  rd_kafka_queue_t* q = impl_->queue.get();
  const auto attachment = attachment_;
  // A handler may detach: the queue is then no longer ours to poll.
  while (attachment == attachment_) {
    const detail::event_ptr ev{rd_kafka_queue_poll(q, 0)};
    if (!ev) break;
    const auto handler = impl_->take(rd_kafka_event_opaque(ev.get()));
    if (!handler) continue;
    detail::call_guarded("admin handler", [&] { (*handler)(ev.get()); });
  }
}

void admin::describe_group(const std::string& group, std::chrono::milliseconds timeout,
                           group_handler done) {
  if (!impl_->queue) attach();
  auto options = impl_->request(
      RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout,
      [done = std::move(done), group](rd_kafka_event_t* ev) {
        group_description out;
        auto ec = event_error(ev, nullptr);
        const auto* result = rd_kafka_event_DescribeConsumerGroups_result(ev);
        if (!ec && result == nullptr) ec = make_error(RD_KAFKA_RESP_ERR__BAD_MSG);
        if (ec) return done(ec, out);
        std::size_t n = 0;
        const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(result, &n);
        for (std::size_t i = 0; i < n; ++i) {
          const auto* g = groups[i];
          if (group != rd_kafka_ConsumerGroupDescription_group_id(g)) continue;
          if (const auto* e = rd_kafka_ConsumerGroupDescription_error(g);
              e != nullptr && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return done(make_error(rd_kafka_error_code(e)), out);
          }
          out.state = group_state_name(rd_kafka_ConsumerGroupDescription_state(g));
          const auto members = rd_kafka_ConsumerGroupDescription_member_count(g);
          for (std::size_t m = 0; m < members; ++m) {
            const auto* md = rd_kafka_ConsumerGroupDescription_member(g, m);
            group_member member;
            const char* id = rd_kafka_MemberDescription_client_id(md);
            const char* host = rd_kafka_MemberDescription_host(md);
            member.client_id = id != nullptr ? id : "";
            member.host = host != nullptr ? host : "";
            const auto* a = rd_kafka_MemberDescription_assignment(md);
            const auto* parts = a != nullptr ? rd_kafka_MemberAssignment_partitions(a) : nullptr;
            for (int k = 0; parts != nullptr && k < parts->cnt; ++k) {
              member.assignment.push_back({parts->elems[k].topic, parts->elems[k].partition});
            }
            out.members.push_back(std::move(member));
          }
        }
        done(ec, out);
      });
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(impl_->handle, groups, 1, options.get(), impl_->queue.get());
}

void admin::count_partitions(const std::string& topic, std::chrono::milliseconds timeout,
                             partition_count_handler done) {
  if (!impl_->queue) attach();
  auto options = impl_->request(
      RD_KAFKA_ADMIN_OP_DESCRIBETOPICS, timeout, [done = std::move(done)](rd_kafka_event_t* ev) {
        auto ec = event_error(ev, nullptr);
        const auto* result = rd_kafka_event_DescribeTopics_result(ev);
        if (!ec && result == nullptr) ec = make_error(RD_KAFKA_RESP_ERR__BAD_MSG);
        if (ec) return done(ec, 0);
        std::size_t n = 0;
        const auto** topics = rd_kafka_DescribeTopics_result_topics(result, &n);
        if (n != 1) return done(make_error(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), 0);
        if (const auto* e = rd_kafka_TopicDescription_error(topics[0]);
            e != nullptr && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return done(make_error(rd_kafka_error_code(e)), 0);
        }
        std::size_t count = 0;
        rd_kafka_TopicDescription_partitions(topics[0], &count);
        done({}, static_cast<int>(count));
      });
  const char* names[] = {topic.c_str()};
  const auto collection = rd_kafka_TopicCollection_of_topic_names(names, 1);
  rd_kafka_DescribeTopics(impl_->handle, collection, options.get(), impl_->queue.get());
  rd_kafka_TopicCollection_destroy(collection);
}

}  // namespace order_tracker::kafka
