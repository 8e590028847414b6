#include "services/tracker/tracker_service.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <csignal>
#include <string>

#include "common/events/order_placed.hpp"
#include "common/kafka/error.hpp"
#include "common/kafka/statistics.hpp"
#include "common/observability/log.hpp"
#include "services/tracker/live_routes.hpp"
#include "services/tracker/partition_owners.hpp"

namespace order_tracker::tracker {
namespace {

constexpr std::chrono::seconds tick_interval{1};
constexpr std::chrono::seconds summary_interval{10};
constexpr std::chrono::milliseconds retry_backoff{1000};
constexpr std::chrono::milliseconds admin_timeout{10'000};
// After a fatal dead-letter producer error: how long writes in flight get before the instance is
// replaced (they are retried on the new one).
constexpr std::chrono::milliseconds renew_flush_timeout{2000};
// A snapshot lookup reads a few records: a broker that does not answer in this time is treated
// like a missing snapshot (full replay), rather than keep the partition waiting.
constexpr std::chrono::milliseconds snapshot_lookup_timeout{5000};
// At stop, how long the last snapshots (written on revoke) get to reach the broker.
constexpr std::chrono::milliseconds snapshot_flush_timeout{2000};

std::string describe(const std::vector<kafka::topic_partition>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}-{}", p.topic, p.partition);
  }
  return out.empty() ? "none" : out;
}

// The client.id this member joins the group with; its owner map names itself the same way.
std::string member_client_id(const std::string& advertised_address) {
  return advertising_client_id("tracker-service", advertised_address);
}

std::vector<config::property> consumer_defaults(const std::string& advertised_address) {
  return {
      // The group's description reports each member's client.id: the other members learn from
      // it where this one answers HTTP (order routing).
      {"client.id", member_client_id(advertised_address)},
      // KIP-848 (Kafka 4.0+, librdkafka 2.12+): the broker assigns, each member reconciles on its
      // own, and a member's commit is never refused for a rebalance elsewhere in the group. In
      // the rolling restart: 0 redeliveries and stops of at most 0.83 s, where classic needs its
      // final commit retried after a refusal and took up to 2.3 s (RELIABILITY.md).
      // -X group.protocol=classic for brokers before 4.0.
      {"group.protocol", "consumer"},
      // Readiness and lag metrics follow the statistics, so they come often.
      {"statistics.interval.ms", "1000"},
      // A topic created after we subscribed is noticed within seconds, not minutes.
      {"topic.metadata.refresh.interval.ms", "5000"},
      {"reconnect.backoff.max.ms", "2000"},
      // Prefetch bounded by bytes and by messages per partition: librdkafka's defaults (64 MiB,
      // 100,000 messages) would dominate the service's memory. On a 500k backlog, peak RSS went
      // from 73 MiB (8 MiB bound alone) to 49 MiB with 10,000 messages per partition.
      {"queued.max.messages.kbytes", "8192"},
      {"queued.min.messages", "10000"},
      // Once a partition's prefetch is at a bound, librdkafka waits this long before its next
      // fetch (default 1,000 ms; 2.0.2 waited ~1 s with no setting, which throttled these bounds
      // tenfold). 10 ms keeps the queue fed; 1 and 100 ms drained no faster in the same run.
      {"fetch.queue.backoff.ms", "10"},
  };
}

}  // namespace

tracker_service::tracker_service(boost::asio::io_context& io, tracker_options options)
    : io_(io),
      options_(std::move(options)),
      view_(options_.max_orders, options_.id_window),
      dlq_producer_(
          io, options_.common.kafka, {{"client.id", "tracker-service-dlq"}, {"linger.ms", "5"}},
          kafka::producer_events{
              .on_progress = nullptr,
              .on_error = [this](const boost::system::error_code& ec, std::string_view reason,
                                 bool fatal) { on_dlq_error(ec, reason, fatal); },
              .on_stats = nullptr,
              .on_unowned_delivery = nullptr,
          }),
      admin_(io, dlq_producer_),
      consumer_(
          io, options_.common.kafka, options_.group_id,
          consumer_defaults(options_.advertised_address),
          kafka::consumer_events{
              .on_message = [this](kafka::message&& m) { on_message(std::move(m)); },
              .on_assigned =
                  [this](std::vector<kafka::assigned_partition>& parts) { on_assigned(parts); },
              .on_revoked = [this](const std::vector<kafka::topic_partition>& parts,
                                   bool lost) { on_revoked(parts, lost); },
              .on_error = [this](const boost::system::error_code& ec, std::string_view reason,
                                 bool fatal) { on_kafka_error(ec, reason, fatal); },
              .on_commit =
                  [this](const boost::system::error_code& ec,
                         const std::vector<kafka::topic_partition>& offsets) {
                    on_offsets_committed(ec, offsets);
                  },
              .on_stats = [this](std::string_view json) { on_stats(json); },
          }),
      snapshot_reader_(io, options_.common.kafka, options_.state_topic, options_.group_id),
      snapshot_writer_(dlq_producer_, options_.state_topic, options_.group_id, metrics_),
      dead_letter_(
          io, dlq_producer_, options_.dlq_topic,
          [this](std::int32_t p, bool stuck) {
            // The partition waits while its poison cannot be parked, rather than skip it.
            const std::vector<kafka::topic_partition> part{{options_.common.kafka.topic, p}};
            if (stuck) {
              log::warn("tracker", "partition {} paused until its dead-letter write succeeds", p);
              consumer_.pause(part);
            } else {
              log::info("tracker", "partition {} resumed", p);
              consumer_.resume(part);
            }
          }),
      owners_(
          io, admin_, options_.group_id, options_.common.kafka.topic,
          [this] { return brokers_.up() && every_broker_up_; },
          [this](std::int32_t p) { return partitions_.owns(p); },
          member_client_id(options_.advertised_address), metrics_),
      router_(io, owners_, options_.advertised_address, options_.route_timeout, metrics_),
      api_(
          view_, metrics_, [this] { return not_ready_reason(); },
          [this] { return partitions_.live(); }, router_),
      stream_(io, options_.stream, metrics_),
      signals_(io, SIGINT, SIGTERM),
      tick_timer_(io),
      topic_{kafka::make_topic_spec(options_.common.kafka.topic, options_.topic),
             boost::asio::steady_timer(io)},
      dlq_topic_{kafka::make_topic_spec(options_.dlq_topic, options_.topic),
                 boost::asio::steady_timer(io)},
      state_topic_{kafka::make_topic_spec(options_.state_topic, options_.topic),
                   boost::asio::steady_timer(io)},
      dead_lettered_(metrics_.counter("tracker_dead_lettered_total",
                                      "Poison messages written to the dead-letter topic")),
      rebalances_(
          metrics_.counter("tracker_rebalances_total", "Partition assignments and revocations")),
      invalid_(metrics_.counter("tracker_invalid_messages_total",
                                "Messages that were not a valid OrderPlaced v1")),
      // 0.1 ms to ~6 s in steps of 20%: fine enough for p99.9 in the benchmarks.
      end_to_end_(
          metrics_.histogram("tracker_end_to_end_latency_seconds",
                             "From the event's Kafka timestamp (producer create time, ms) to "
                             "the Tracker having processed it",
                             observability::exponential_buckets(0.0001, 1.2, 60))),
      dlq_renewals_(
          metrics_.counter("kafka_producer_renewals_total",
                           "Dead-letter producer instances replaced after a fatal error")),
      snapshot_fallbacks_(metrics_.counter(
          "tracker_snapshot_fallbacks_total",
          "Restores that read the partition from its log start because its snapshot was missing, "
          "unreadable or inconsistent")),
      snapshot_restores_(metrics_.counter("tracker_snapshot_restores_total",
                                          "Restores that started from a partition snapshot")) {
  // One record per key is all a lookup needs; the state partition of partition p holds p's.
  state_topic_.spec.configs.emplace_back("cleanup.policy", "compact");
  const auto counter_of = [this](std::string_view name, std::string_view help, auto field) {
    metrics_.gauge_callback(name, help,
                            [this, field] { return static_cast<double>(view_.counters().*field); });
  };
  metrics_.gauge_callback("log_dropped_lines_total",
                          "Log lines lost because stderr did not keep up",
                          [] { return static_cast<double>(log::dropped_lines()); });
  counter_of("tracker_orders_processed_total", "New orders tracked (live, not restored)",
             &view_counters::orders);
  counter_of("tracker_duplicates_total",
             "Redelivered orders recognised by order_id and not counted again",
             &view_counters::duplicates);
  counter_of("tracker_restored_total",
             "Orders rebuilt into the view from the log after an assignment",
             &view_counters::restored);
  counter_of("tracker_view_evicted_total",
             "Orders whose detail was evicted to respect --max-orders", &view_counters::evicted);
  metrics_.gauge_callback("tracker_view_orders", "Orders whose detail the view holds",
                          [this] { return static_cast<double>(view_.counters().tracked); });
  metrics_.gauge_callback("tracker_dead_letter_pending", "Dead-letter writes not yet confirmed",
                          [this] { return static_cast<double>(dead_letter_.pending()); });
  http::limits limits;
  http_.emplace(
      io,
      [this](http::request&& req, http::responder respond) {
        if (route_live(req, respond, stream_)) return;
        api_.handle(std::move(req), std::move(respond));
      },
      limits, [](std::string_view line) { log::warn("http", "{}", line); });
}

void tracker_service::start() {
  const auto endpoint = http::parse_endpoint(options_.http_listen);
  if (!endpoint) {
    throw config::config_error("--http-listen " + options_.http_listen + ": " +
                               endpoint.error().message());
  }
  if (const auto ec = http_->listen(*endpoint)) {
    throw config::config_error("--http-listen " + options_.http_listen + ": " + ec.message());
  }
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (!ec) shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
  });
  log::info("tracker",
            "starting: brokers {}, topic {}, group {}, dead letters to {}, HTTP on {} "
            "(advertised to the group as {})",
            options_.common.kafka.bootstrap_servers, options_.common.kafka.topic, options_.group_id,
            options_.dlq_topic, options_.http_listen, options_.advertised_address);
  // The seed's producer writes to the topic without creating it, and it may run before any Order
  // service has: the consumer side makes sure of it too.
  ensure_topic(topic_);
  ensure_topic(dlq_topic_);
  ensure_topic(state_topic_);
  if (const auto ec = consumer_.subscribe({options_.common.kafka.topic})) {
    log::error("tracker", "cannot subscribe to {}: {}", options_.common.kafka.topic, ec.message());
    exit_code_ = 1;
    return shutdown("subscribe failed");
  }
  last_summary_ = std::chrono::steady_clock::now();
  arm_tick();
  owners_.start();
}

void tracker_service::ensure_topic(ensured_topic& t) {
  t.in_flight = true;
  admin_.ensure_topic(t.spec, admin_timeout,
                      [this, &t](const boost::system::error_code& ec, const std::string& detail) {
                        t.in_flight = false;
                        if (stopping_) return;
                        if (!ec) return log::info("tracker", "topic {} is ready", t.spec.name);
                        log::warn("tracker", "cannot make sure topic {} exists: {} ({}); retrying",
                                  t.spec.name, detail, ec.message());
                        t.retry.expires_after(retry_backoff);
                        t.retry.async_wait([this, &t](const boost::system::error_code& e) {
                          if (!e && !stopping_) ensure_topic(t);
                        });
                      });
}

void tracker_service::on_message(kafka::message&& m) {
  const auto p = m.partition();
  switch (partitions_.route_of(p, m.offset())) {
    case partition_states::route::hold:
      held_[p].push_back(std::move(m));
      return;
    case partition_states::route::restore:
      // Processed (and counted, logged, dead-lettered) before this instance took over.
      if (events::decode(m.payload(), decoded_)) {
        const auto created_ms = m.timestamp_ms();
        view_.apply(decoded_, {p, m.offset(),
                               created_ms > 0 ? std::chrono::system_clock::time_point(
                                                    std::chrono::milliseconds(created_ms))
                                              : batch_now(),
                               m.header("traceparent").value_or(std::string_view{}),
                               origin::restore, created_ms > 0});
      }
      if (partitions_.committed_of(p) == m.offset() + 1) {
        log::info("tracker", "partition {} restored up to offset {}", p, m.offset() + 1);
      }
      return;
    case partition_states::route::live:
      return process_live(std::move(m));
    case partition_states::route::drop:
      return;
  }
}

void tracker_service::process_live(kafka::message&& m) {
  const auto p = m.partition();
  const auto offset = m.offset();
  const auto decoded = events::decode(m.payload(), decoded_);
  if (!decoded) {
    invalid_.inc();
    const auto& e = decoded.error();
    log::warn("tracker", "poison message at {}-{}@{}: {}; writing it to {}", m.topic(), p, offset,
              e.message(), options_.dlq_topic);
    store(p, partitions_.processed(p, offset, true));
    dead_letter_.send(std::move(m), e.code.message(), e.message(), [this, p, offset] {
      dead_lettered_.inc();
      store(p, partitions_.dead_lettered(p, offset));
    });
    return;
  }
  const auto& order = decoded_;
  const auto trace = m.header("traceparent").value_or(std::string_view{});
  const auto now = batch_now();
  const auto created_ms = m.timestamp_ms();
  // The event's own time, so that a restore elsewhere gives the order the same received_at.
  const auto received =
      created_ms > 0 ? std::chrono::system_clock::time_point(std::chrono::milliseconds(created_ms))
                     : now;
  const auto result =
      view_.apply(order, {p, offset, received, trace, origin::live, created_ms > 0});
  if (created_ms > 0 && result == apply_result::added) {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    end_to_end_.observe(static_cast<double>(now_ms - created_ms) / 1000.0);
  }
  if (result == apply_result::added) {
    if (const auto* tracked = view_.find(order.order_id)) {
      stream_.publish(*tracked);
    } else {  // --max-orders 0 keeps no detail; the stream still shows the order
      stream_.publish({order.order_id, order.user, order.item, order.quantity, p, offset, received,
                       created_ms > 0, std::string(trace)});
    }
    if (options_.log_orders) {
      const auto id = events::uuid_chars(order.order_id);
      log::info("tracker", "Received order {}: {} x {} from {} (partition {}, offset {}){}{}",
                std::string_view(id.data(), id.size()), order.quantity, order.item, order.user, p,
                offset, trace.empty() ? "" : " trace ", trace);
    }
  } else if (log::enabled(log::level::debug)) {
    const auto id = events::uuid_chars(order.order_id);
    log::debug("tracker", "duplicate order {} at partition {}, offset {}",
               std::string_view(id.data(), id.size()), p, offset);
  }
  store(p, partitions_.processed(p, offset, false));
}

std::chrono::system_clock::time_point tracker_service::batch_now() {
  // The consumer hands over a batch of up to 1,024 messages in one handler: the clock is read
  // for its first message, and a handler posted behind the batch lets the next batch read it
  // again. Each message's receive time is then at most one batch (about a millisecond) early.
  if (!batch_clock_) {
    batch_clock_ = std::chrono::system_clock::now();
    boost::asio::post(io_, [this] { batch_clock_.reset(); });
  }
  return *batch_clock_;
}

void tracker_service::store(std::int32_t partition, std::optional<std::int64_t> offset) {
  if (offset) consumer_.store_offset(options_.common.kafka.topic, partition, *offset);
}

void tracker_service::on_assigned(std::vector<kafka::assigned_partition>& parts) {
  joined_ = true;
  topic_missing_ = false;
  rebalances_.inc();
  std::vector<kafka::topic_partition> added;
  lookup asked;
  for (auto& a : parts) {
    asked[a.where.partition] = partitions_.assigned(a.where.partition);
    view_.assign_partition(a.where.partition);
    // Read from the start: what lies below the committed offset rebuilds the view; the rest is new.
    a.where.offset = kafka::offset_beginning;
    a.start_paused = true;
    added.push_back(a.where);
  }
  log::info("tracker", "assigned {}", describe(added));
  owners_.refresh_soon();
  if (!asked.empty()) fetch_committed(std::move(asked));
}

void tracker_service::fetch_committed(lookup asked) {
  std::vector<kafka::topic_partition> parts;
  for (const auto& [p, a] : asked)
    parts.push_back({options_.common.kafka.topic, p});
  consumer_.fetch_committed(
      parts, admin_timeout,
      [this, parts, asked = std::move(asked)](const boost::system::error_code& ec,
                                              const std::vector<kafka::topic_partition>& offsets) {
        if (stopping_) return;
        if (!ec) return on_committed(asked, offsets);
        log::warn("tracker", "cannot read committed offsets of {}: {}; retrying", describe(parts),
                  ec.message());
        auto timer = std::make_shared<boost::asio::steady_timer>(io_, retry_backoff);
        timer->async_wait([this, asked, timer](const boost::system::error_code& e) {
          if (e || stopping_) return;
          lookup still;
          for (const auto& [p, a] : asked) {
            if (partitions_.current(p, a)) still.emplace(p, a);
          }
          if (!still.empty()) fetch_committed(std::move(still));
        });
      });
}

void tracker_service::on_committed(const lookup& asked,
                                   const std::vector<kafka::topic_partition>& offsets) {
  std::vector<kafka::topic_partition> resume;
  for (const auto& c : offsets) {
    const auto it = asked.find(c.partition);
    const std::int64_t committed = c.offset >= 0 ? c.offset : -1;
    // Revoked, or revoked and assigned again, while the lookup was on its way: the answer is
    // stale, and the lookup made for the current assignment (if any) decides.
    if (c.topic != options_.common.kafka.topic || it == asked.end() ||
        !partitions_.current(c.partition, it->second)) {
      continue;
    }
    if (committed > 0) {
      // Where the restore starts depends on the partition's snapshot: it stays on hold until
      // the lookup answers, and start_restore() records the committed offset.
      read_snapshot(c.partition, it->second, committed);
      continue;
    }
    if (!partitions_.committed_known(c.partition, it->second, committed)) continue;
    log::info("tracker", "partition {}: nothing committed, every order is new", c.partition);
    if (auto held = held_.extract(c.partition)) {
      for (auto& m : held.mapped())
        on_message(std::move(m));
    }
    resume.push_back({c.topic, c.partition});
  }
  consumer_.resume(resume);
}

void tracker_service::read_snapshot(std::int32_t p, partition_states::assignment a,
                                    std::int64_t committed) {
  snapshot_reader_.read(p, snapshot_lookup_timeout,
                        [this, p, a, committed](const snapshot_lookup& found) {
                          on_snapshot(p, a, committed, found);
                        });
}

void tracker_service::on_snapshot(std::int32_t p, partition_states::assignment a,
                                  std::int64_t committed, const snapshot_lookup& found) {
  if (stopping_ || !partitions_.current(p, a)) return;
  const auto plan = plan_restore(found, options_.common.kafka.topic, p, committed, view_.window());
  if (!plan.fallback.empty()) {
    snapshot_fallbacks_.inc();
    log::warn("tracker", "partition {}: {}; restoring from the log start instead", p,
              plan.fallback);
  }
  start_restore(p, a, committed, plan);
}

void tracker_service::start_restore(std::int32_t p, partition_states::assignment a,
                                    std::int64_t committed, const restore_plan& plan) {
  if (!partitions_.committed_known(p, a, committed)) return;
  const auto& topic = options_.common.kafka.topic;
  if (plan.start) {
    snapshot_restores_.inc();
    view_.start_from(*plan.start);
    log::info("tracker",
              "partition {}: restoring from the snapshot at offset {}, reading offsets {} to {}", p,
              plan.start->offset, plan.read_from, committed);
  } else {
    log::info("tracker", "partition {}: restoring the view from offsets below {}", p, committed);
  }
  if (plan.read_from > 0) {
    // Whatever was fetched from the log start before is not handed out after the seek.
    held_.erase(p);
    consumer_.seek({{topic, p, plan.read_from}});
  } else if (auto held = held_.extract(p)) {
    for (auto& m : held.mapped())
      on_message(std::move(m));
  }
  const auto w = consumer_.cached_watermarks(topic, p);
  partitions_.log_start(p, std::max(plan.read_from, w ? w->first : 0));
  consumer_.resume({{topic, p}});
}

void tracker_service::on_offsets_committed(const boost::system::error_code& ec,
                                           const std::vector<kafka::topic_partition>& offsets) {
  if (ec) return log::warn("tracker", "offset commit failed: {}", ec.message());
  // Written once the commit is confirmed: a snapshot is then at or ahead of the committed
  // offset, and either way a restore from it gives the totals a full replay gives.
  for (const auto& c : offsets) {
    if (c.topic != options_.common.kafka.topic || c.offset < 0 || !partitions_.owns(c.partition))
      continue;
    if (!partitions_.is_live(c.partition)) continue;
    if (auto s = view_.snapshot(c.partition, options_.common.kafka.topic))
      snapshot_writer_.write(*s);
  }
}

void tracker_service::on_revoked(const std::vector<kafka::topic_partition>& parts, bool lost) {
  rebalances_.inc();
  for (const auto& p : parts) {
    // The next owner restores from here. A lost partition may have moved on elsewhere already.
    if (!lost && partitions_.is_live(p.partition)) {
      if (auto s = view_.snapshot(p.partition, options_.common.kafka.topic))
        snapshot_writer_.write(*s);
    }
    snapshot_writer_.forget(p.partition);
    snapshot_reader_.cancel(p.partition);
    partitions_.revoked(p.partition);
    view_.drop_partition(p.partition);
    held_.erase(p.partition);
  }
  log::info("tracker", "{} {}", lost ? "lost" : "revoked", describe(parts));
  owners_.refresh_soon();
}

void tracker_service::on_kafka_error(const boost::system::error_code& ec, std::string_view reason,
                                     bool fatal) {
  if (kafka::is_unknown_topic(ec)) {
    topic_missing_ = true;
  }
  brokers_.on_error(ec, reason);
  if (fatal) {
    log::error("kafka", "fatal Kafka error: {} ({})", reason, ec.message());
    exit_code_ = 1;
    return shutdown("fatal Kafka error");
  }
  log::warn("kafka", "{} ({})", reason, ec.message());
}

void tracker_service::on_dlq_error(const boost::system::error_code& ec, std::string_view reason,
                                   bool fatal) {
  if (!fatal) return on_kafka_error(ec, reason, false);
  // E.g. an idempotence sequence the broker lost in a crash: the instance is done, the Tracker
  // is not. Poison waits (its partition paused) until the new instance has written it.
  log::error("kafka", "fatal dead-letter producer error: {} ({}): renewing the producer", reason,
             ec.message());
  renew_dlq_producer();
}

void tracker_service::renew_dlq_producer() {
  if (renewing_dlq_ || stopping_) return;
  renewing_dlq_ = true;
  // Every write in flight gets its report first (the failed instance purges what it holds), and
  // dead_letter retries the failures on the new instance.
  dlq_producer_.flush(renew_flush_timeout, [this](std::size_t unfinished) {
    // The flush completes inside the producer's own drain or timer (or inside this call, with
    // nothing in flight): the instance is replaced from a handler of its own.
    boost::asio::post(io_, [this, unfinished] {
      if (stopping_) return;
      admin_.detach();
      dlq_producer_.renew();
      renewing_dlq_ = false;
      dlq_renewals_.inc();
      log::info("kafka", "dead-letter producer renewed ({} writes were left without a report)",
                unfinished);
      // detach() dropped the requests in flight unanswered.
      for (auto* t : {&topic_, &dlq_topic_, &state_topic_}) {
        if (t->in_flight) ensure_topic(*t);
      }
    });
  });
}

void tracker_service::on_stats(std::string_view json) {
  const auto stats = kafka::parse_statistics(json);
  if (!stats) return;
  if (brokers_.on_statistics(*stats)) {
    log::info("tracker", "{}", brokers_.up() ? "broker reachable again" : "no broker reachable");
  }
  const bool was_up = every_broker_up_;
  every_broker_up_ = !stats->brokers.empty() &&
                     std::all_of(stats->brokers.begin(), stats->brokers.end(),
                                 [](const kafka::broker_statistics& b) { return b.up; });
  // Rebalances while a broker was down may have gone unseen by the owner map.
  if (every_broker_up_ && !was_up) owners_.refresh_soon();
  metrics_.clear_family("kafka_consumer_lag");
  for (const auto& p : stats->partitions) {
    if (p.consumer_lag < 0) continue;
    metrics_
        .gauge("kafka_consumer_lag", "Messages between the committed offset and the high watermark",
               {{"topic", p.topic}, {"partition", std::to_string(p.partition)}})
        .set(static_cast<double>(p.consumer_lag));
  }
}

std::string tracker_service::not_ready_reason() const {
  if (stopping_) return "shutting down";
  if (!brokers_.up()) return brokers_.down_reason();
  if (topic_missing_) return "topic " + options_.common.kafka.topic + " does not exist (yet)";
  if (!joined_) return "waiting for the consumer group to assign partitions";
  if (!partitions_.all_live()) {
    std::string parts;
    for (const auto p : partitions_.not_live())
      parts += (parts.empty() ? "" : ", ") + std::to_string(p);
    return "restoring the view of partitions " + parts;
  }
  return {};
}

void tracker_service::arm_tick() {
  tick_timer_.expires_after(tick_interval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    // Retention may have removed everything below a committed offset: then nothing is restored.
    for (const auto p : partitions_.not_live()) {
      if (const auto w = consumer_.cached_watermarks(options_.common.kafka.topic, p))
        partitions_.log_start(p, w->first);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_summary_ >= summary_interval) {
      const auto c = view_.counters();
      const std::chrono::duration<double> elapsed = now - last_summary_;
      log::info(
          "tracker",
          "processed {:.1f}/s, total {}, duplicates {}, dead-lettered {}, restored {}, tracked {}",
          static_cast<double>(c.orders - orders_at_last_summary_) / elapsed.count(), c.orders,
          c.duplicates, dead_lettered_.value(), c.restored, c.tracked);
      orders_at_last_summary_ = c.orders;
      last_summary_ = now;
    }
    arm_tick();
  });
}

void tracker_service::shutdown(std::string_view why) {
  if (stopping_) return;
  stopping_ = true;
  log::info("tracker", "stopping ({}): committing what was processed and leaving the group", why);
  signals_.cancel();
  tick_timer_.cancel();
  topic_.retry.cancel();
  dlq_topic_.retry.cancel();
  state_topic_.retry.cancel();
  snapshot_reader_.stop();
  owners_.stop();
  dead_letter_.stop();
  stream_.stop();
  http_drained_ = false;
  http_->shutdown([this] {
    http_drained_ = true;
    maybe_finish();
  });
  consumer_.close(options_.shutdown_timeout, [this] {
    consumer_closed_ = true;
    maybe_finish();
  });
}

void tracker_service::maybe_finish() {
  if (!consumer_closed_ || !http_drained_) return;
  held_.clear();
  const auto c = view_.counters();
  log::info("tracker", "stopped: processed {}, duplicates {}, dead-lettered {}, restored {}",
            c.orders, c.duplicates, dead_lettered_.value(), c.restored);
  admin_.stop();
  // The snapshots written on revoke get a short while to reach the broker.
  dlq_producer_.flush(std::min(snapshot_flush_timeout, options_.shutdown_timeout),
                      [this](std::size_t) { dlq_producer_.stop(); });
}

}  // namespace order_tracker::tracker
