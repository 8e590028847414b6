#include "services/tracker/order_stream.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <random>

#include "services/tracker/order_view.hpp"

namespace order_tracker::tracker {
namespace {

namespace bh = http::beast_http;

std::string random_epoch() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint32_t> dist;
  char text[9];
  std::snprintf(text, sizeof text, "%08x", dist(rd));
  return text;
}

// `retry`: EventSource reconnects after a second (its default is about three), with
// Last-Event-ID, and so resumes from the history.
constexpr std::string_view preamble = "retry: 1000\n: orders as this Tracker tracks them\n\n";
constexpr std::string_view heartbeat_line = ": keep-alive\n\n";

// An event's data is GET /orders/{id}'s body for the order.
void render_order(const tracked_order& order, std::string& out) {
  out.append(boost::json::serialize(to_json(order)));
}

}  // namespace

order_stream::order_stream(boost::asio::io_context& io, stream_options options,
                           observability::registry& metrics)
    : options_(options),
      history_(options.history, random_epoch(), render_order),
      flush_timer_(io),
      heartbeat_timer_(io),
      dropped_(metrics.counter("tracker_streams_dropped_total",
                               "Order streams closed because their client fell behind")),
      missed_(metrics.counter("tracker_stream_missed_orders_total",
                              "Orders not sent to streams that fell behind")),
      refused_(metrics.counter("tracker_streams_refused_total",
                               "Order streams refused with 503 at the --max-streams cap")),
      opened_(metrics.counter("tracker_streams_opened_total", "Order streams opened")) {
  metrics.gauge_callback("tracker_streams_open", "Order streams open now",
                         [this] { return static_cast<double>(clients_.size()); });
  arm_heartbeat();
}

void order_stream::open(const http::request& req, const http::responder& respond) {
  if (stopped_ || clients_.size() >= options_.max_streams) {
    if (!stopped_) refused_.inc();
    auto res = http::json_error(bh::status::service_unavailable,
                                stopped_ ? "shutting down" : "too many streams open");
    res.set(bh::field::retry_after, "1");
    return respond(std::move(res));
  }
  http::response header{bh::status::ok, 11};
  header.set(bh::field::content_type, "text/event-stream; charset=utf-8");
  header.set(bh::field::cache_control, "no-cache");
  // Tells a buffering reverse proxy (nginx) to pass events on at once.
  header.set("X-Accel-Buffering", "no");
  const auto key = next_key_++;
  auto out =
      respond.start_stream(std::move(header), {.on_closed = [this, key] { clients_.erase(key); }});
  if (!out.open()) return;
  opened_.inc();
  const auto& last = req["Last-Event-ID"];
  const auto resume = history_.resume_after(std::string_view(last.data(), last.size()));
  std::string hello(preamble);
  if (!resume.exact) {
    // The client is told that the replay may not be all it missed.
    boost::json::object gap;
    if (resume.missed)
      gap["missed"] = *resume.missed;
    else
      gap["missed"] = nullptr;
    gap["reason"] =
        resume.missed ? "older than the stream's history" : "Last-Event-ID not from this instance";
    hello += "event: gap\ndata: " + boost::json::serialize(gap) + "\n\n";
  }
  for (auto seq = resume.from; seq < flushed_; ++seq)
    hello += history_.text(seq);
  out.write(hello);
  clients_.emplace(key, client{.out = std::move(out),
                               .next = std::max(resume.from, flushed_),
                               .behind = false,
                               .missed = 0,
                               .active = true});
}

void order_stream::publish(const tracked_order& order) {
  // The history must not overwrite an event not yet written to the streams.
  if (history_.next() - flushed_ >= history_.capacity()) flush();
  history_.append(order);
  if (clients_.empty()) {
    flushed_ = history_.next();
    return;
  }
  arm_flush();
}

void order_stream::arm_flush() {
  if (flush_armed_ || stopped_) return;
  flush_armed_ = true;
  // At most one flush per interval, but not a wait for nothing: the first order after a quiet
  // interval goes out on the next turn of the loop (after the rest of its consumer batch), so a
  // trickle of orders is seen at once and a flood is batched.
  flush_timer_.expires_at(
      std::max(std::chrono::steady_clock::now(), last_flush_ + options_.flush_interval));
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    flush_armed_ = false;
    if (!ec) flush();
  });
}

void order_stream::flush() {
  const auto end = history_.next();
  if (flushed_ == end) return;
  last_flush_ = std::chrono::steady_clock::now();
  batch_.clear();
  for (auto seq = flushed_; seq < end; ++seq)
    batch_ += history_.text(seq);
  for (auto& [key, c] : clients_) {
    if (c.behind) {
      c.missed += end - std::max(c.next, flushed_);
      c.next = end;
      continue;
    }
    if (c.next >= end) continue;
    std::string_view bytes = batch_;
    std::string suffix;
    if (c.next > flushed_) {
      // Resumed from an id inside this batch: only what follows it.
      for (auto seq = c.next; seq < end; ++seq)
        suffix += history_.text(seq);
      bytes = suffix;
    }
    const auto count = end - std::max(c.next, flushed_);
    c.next = end;
    // A client whose queue is empty takes any batch (a backlog drained in one turn can exceed
    // the bound on its own); one that still has bytes queued must fit the batch beside them.
    const auto queued = c.out.queued();
    if (queued > 0 && queued + bytes.size() > options_.buffer_bytes) {
      fall_behind(key, c, count);
      continue;
    }
    c.out.write(bytes);
    c.active = true;
  }
  flushed_ = end;
}

void order_stream::fall_behind(std::uint64_t key, client& c, std::uint64_t count) {
  c.behind = true;
  c.missed = count;
  // What it has in its queue is the last it gets; the events after it are in the history.
  c.resume_from = c.next - count;
  dropped_.inc();
  c.out.when_flushed([this, key] { tell_dropped(key); });
}

void order_stream::tell_dropped(std::uint64_t key) {
  const auto it = clients_.find(key);
  if (it == clients_.end()) return;
  auto& c = it->second;
  missed_.inc(static_cast<double>(c.missed));
  boost::json::object body;
  body["missed"] = c.missed;
  if (c.resume_from > 0)
    body["last_event_id"] = history_.id_of(c.resume_from - 1);
  else
    body["last_event_id"] = nullptr;
  c.out.write("event: dropped\ndata: " + boost::json::serialize(body) + "\n\n");
  c.out.end();
}

void order_stream::arm_heartbeat() {
  heartbeat_timer_.expires_after(options_.heartbeat);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    for (auto& [key, c] : clients_) {
      if (!c.behind && !c.active) c.out.write(heartbeat_line);
      c.active = false;
    }
    arm_heartbeat();
  });
}

void order_stream::stop() {
  if (stopped_) return;
  flush();
  stopped_ = true;
  flush_timer_.cancel();
  heartbeat_timer_.cancel();
  for (auto& [key, c] : clients_)
    c.out.end();
}

}  // namespace order_tracker::tracker
