#include "common/kafka/statistics.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/kafka/error.hpp"

namespace order_tracker::kafka {
namespace {

std::int64_t int_of(const boost::json::object& o, std::string_view key, std::int64_t fallback = 0) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (const auto* i = v->if_int64()) return *i;
  if (const auto* u = v->if_uint64()) return static_cast<std::int64_t>(*u);
  return fallback;
}

}  // namespace

bool statistics::any_broker_up() const {
  return bootstrap_up ||
         std::any_of(brokers.begin(), brokers.end(), [](const auto& b) { return b.up; });
}

bool broker_reachability::on_error(const boost::system::error_code& ec, std::string_view reason) {
  last_error_ = std::string(reason.empty() ? ec.message() : reason);
  if (is_authentication_failure(ec)) {
    authentication_error_ = "authentication failed: " + last_error_;
  }
  if (!is_all_brokers_down(ec) || !up_) return false;
  up_ = false;
  return true;
}

bool broker_reachability::on_statistics(const statistics& s) {
  const bool up = s.any_broker_up();
  const bool changed = up != up_;
  up_ = up;
  if (up) authentication_error_.clear();
  return changed;
}

std::string broker_reachability::down_reason() const {
  const auto& why = authentication_error_.empty() ? last_error_ : authentication_error_;
  return "no broker reachable" + (why.empty() ? std::string() : ": " + why);
}

std::optional<statistics> parse_statistics(std::string_view json) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(json, ec);
  const auto* root = ec ? nullptr : doc.if_object();
  if (root == nullptr) return std::nullopt;
  statistics s;
  s.queued_messages = int_of(*root, "msg_cnt");
  s.queued_bytes = int_of(*root, "msg_size");
  s.tx_messages = int_of(*root, "txmsgs");
  s.rx_messages = int_of(*root, "rxmsgs");
  if (const auto* brokers = root->if_contains("brokers");
      brokers != nullptr && brokers->is_object()) {
    for (const auto& [name, value] : brokers->get_object()) {
      const auto* b = value.if_object();
      if (b == nullptr) continue;
      broker_statistics bs;
      bs.name = name;
      bs.node_id = static_cast<std::int32_t>(int_of(*b, "nodeid", -1));
      const auto* source = b->if_contains("source");
      const bool logical =
          source != nullptr && source->is_string() &&
          (source->get_string() == "logical" || source->get_string() == "internal");
      // Bootstrap placeholders (node -1) and logical handles such as "GroupCoordinator" (which
      // borrow a real broker's node id) are not brokers of their own. A configured bootstrap
      // broker that metadata identified keeps source "configured" and counts.
      if (logical) continue;
      const auto* state = b->if_contains("state");
      bs.up = state != nullptr && state->is_string() && state->get_string() == "UP";
      if (bs.node_id < 0) {
        s.bootstrap_up = s.bootstrap_up || bs.up;
        continue;
      }
      if (const auto* rtt = b->if_contains("rtt"); rtt != nullptr && rtt->is_object()) {
        bs.rtt_avg_seconds = static_cast<double>(int_of(rtt->get_object(), "avg")) / 1e6;
      }
      bs.outbuf_requests = int_of(*b, "outbuf_cnt");
      s.brokers.push_back(std::move(bs));
    }
  }
  if (const auto* topics = root->if_contains("topics"); topics != nullptr && topics->is_object()) {
    for (const auto& [topic, tv] : topics->get_object()) {
      const auto* t = tv.if_object();
      const auto* parts = t == nullptr ? nullptr : t->if_contains("partitions");
      if (parts == nullptr || !parts->is_object()) continue;
      for (const auto& [id, pv] : parts->get_object()) {
        const auto* p = pv.if_object();
        if (p == nullptr) continue;
        partition_statistics ps;
        ps.topic = topic;
        ps.partition = static_cast<std::int32_t>(int_of(*p, "partition", -1));
        if (ps.partition < 0) continue;  // the internal UA partition
        const auto* desired = p->if_contains("desired");
        const bool consumed = desired != nullptr && desired->is_bool() && desired->get_bool();
        if (!consumed) continue;
        ps.consumer_lag = int_of(*p, "consumer_lag", -1);
        ps.consumer_lag_stored = int_of(*p, "consumer_lag_stored", -1);
        ps.committed_offset = int_of(*p, "committed_offset", -1);
        ps.high_watermark = int_of(*p, "hi_offset", -1);
        s.partitions.push_back(std::move(ps));
      }
    }
  }
  if (const auto* cgrp = root->if_contains("cgrp"); cgrp != nullptr && cgrp->is_object()) {
    s.rebalances = int_of(cgrp->get_object(), "rebalance_cnt");
  }
  return s;
}

}  // namespace order_tracker::kafka
