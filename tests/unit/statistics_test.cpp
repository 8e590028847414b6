#include "common/kafka/statistics.hpp"

#define BOOST_TEST_MODULE statistics
#include <boost/test/unit_test.hpp>

#include "common/kafka/error.hpp"

// Helpers for finding entries by name.
#include <algorithm>
#include <string>
#include <string_view>

namespace kafka = order_tracker::kafka;
namespace tt = boost::test_tools;
using namespace std::literals;

namespace {

// Statistics documents shaped like librdkafka 2.0's (STATISTICS.md), trimmed of the window-stats
// fields nobody reads here but otherwise complete enough to exercise every path of the parser.

/// A producer: a bootstrap entry that is UP (skipped), one learned broker UP, one DOWN.
constexpr std::string_view producer_json = R"json({
  "name": "rdkafka#producer-1", "client_id": "order-service", "type": "producer",
  "ts": 5016483227792, "time": 1714566896, "age": 9061437, "replyq": 0,
  "msg_cnt": 3, "msg_size": 312, "msg_max": 100000, "msg_size_max": 1073741824,
  "simple_cnt": 0, "metadata_cache_cnt": 1,
  "brokers": {
    "localhost:9092/bootstrap": {
      "name": "localhost:9092/bootstrap", "nodeid": -1, "nodename": "localhost:9092",
      "source": "configured", "state": "UP", "stateage": 9057234,
      "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 0, "waitresp_msg_cnt": 0,
      "tx": 2, "txbytes": 130, "txerrs": 0, "txretries": 0, "txidle": 9000000,
      "req_timeouts": 0, "rx": 2, "rxbytes": 900, "rxerrs": 0, "rxcorriderrs": 0,
      "rxpartial": 0, "rxidle": 9000000, "zbuf_grow": 0, "buf_grow": 0, "wakeups": 12,
      "connects": 1, "disconnects": 0,
      "rtt": {"min": 900, "max": 1100, "avg": 1000, "sum": 2000, "stddev": 100, "p50": 1000,
              "p75": 1100, "p90": 1100, "p95": 1100, "p99": 1100, "p99_99": 1100,
              "outofrange": 0, "hdrsize": 13424, "cnt": 2},
      "toppars": {}
    },
    "kafka-1:9092/1": {
      "name": "kafka-1:9092/1", "nodeid": 1, "nodename": "kafka-1:9092",
      "source": "learned", "state": "UP", "stateage": 9057209,
      "outbuf_cnt": 2, "outbuf_msg_cnt": 3, "waitresp_cnt": 1, "waitresp_msg_cnt": 5,
      "tx": 320, "txbytes": 84283332, "txerrs": 0, "txretries": 0, "txidle": 1200,
      "req_timeouts": 0, "rx": 319, "rxbytes": 15708, "rxerrs": 0, "rxcorriderrs": 0,
      "rxpartial": 0, "rxidle": 1300, "zbuf_grow": 0, "buf_grow": 0, "wakeups": 591067,
      "connects": 1, "disconnects": 0,
      "req": {"Produce": 310, "Metadata": 9, "ApiVersion": 1},
      "int_latency": {"min": 86, "max": 59375, "avg": 23726, "sum": 5694616664, "stddev": 13982,
                      "p50": 28031, "p75": 36095, "p90": 39679, "p95": 43263, "p99": 48639,
                      "p99_99": 59391, "outofrange": 0, "hdrsize": 11376, "cnt": 240012},
      "rtt": {"min": 1580, "max": 3389, "avg": 2349, "sum": 79868, "stddev": 474, "p50": 2319,
              "p75": 2543, "p90": 3183, "p95": 3199, "p99": 3391, "p99_99": 3391,
              "outofrange": 0, "hdrsize": 13424, "cnt": 34},
      "throttle": {"min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0,
                   "p90": 0, "p95": 0, "p99": 0, "p99_99": 0, "outofrange": 0,
                   "hdrsize": 17520, "cnt": 34},
      "toppars": {"orders-0": {"topic": "orders", "partition": 0},
                  "orders-1": {"topic": "orders", "partition": 1}}
    },
    "kafka-2:9092/2": {
      "name": "kafka-2:9092/2", "nodeid": 2, "nodename": "kafka-2:9092",
      "source": "learned", "state": "DOWN", "stateage": 1500000,
      "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 0, "waitresp_msg_cnt": 0,
      "tx": 1, "txbytes": 25, "txerrs": 1, "txretries": 0, "txidle": -1,
      "req_timeouts": 0, "rx": 1, "rxbytes": 272, "rxerrs": 0, "rxcorriderrs": 0,
      "rxpartial": 0, "rxidle": -1, "zbuf_grow": 0, "buf_grow": 0, "wakeups": 4,
      "connects": 3, "disconnects": 2,
      "rtt": {"min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0,
              "p90": 0, "p95": 0, "p99": 0, "p99_99": 0, "outofrange": 0,
              "hdrsize": 13424, "cnt": 0},
      "toppars": {"orders-2": {"topic": "orders", "partition": 2}}
    }
  },
  "topics": {
    "orders": {
      "topic": "orders", "age": 9060, "metadata_age": 9060,
      "batchsize": {"min": 99, "max": 391805, "avg": 272593, "sum": 18808985, "cnt": 69},
      "batchcnt": {"min": 1, "max": 10000, "avg": 6956, "sum": 480028, "cnt": 69},
      "partitions": {
        "0": {"partition": 0, "broker": 1, "leader": 1, "desired": false, "unknown": false,
              "msgq_cnt": 1, "msgq_bytes": 104, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0,
              "fetchq_cnt": 0, "fetchq_size": 0, "fetch_state": "none", "query_offset": -1001,
              "next_offset": 0, "app_offset": -1001, "stored_offset": -1001,
              "commited_offset": -1001, "committed_offset": -1001, "eof_offset": -1001,
              "lo_offset": -1001, "hi_offset": -1001, "ls_offset": -1001,
              "consumer_lag": -1, "consumer_lag_stored": -1, "txmsgs": 700, "txbytes": 72800,
              "rxmsgs": 0, "rxbytes": 0, "msgs": 701, "rx_ver_drops": 0, "msgs_inflight": 2,
              "next_ack_seq": 0, "next_err_seq": 0, "acked_msgid": 0},
        "1": {"partition": 1, "broker": 1, "leader": 1, "desired": false, "unknown": false,
              "msgq_cnt": 2, "msgq_bytes": 208, "fetch_state": "none",
              "committed_offset": -1001, "hi_offset": -1001, "consumer_lag": -1,
              "txmsgs": 534, "msgs": 536},
        "-1": {"partition": -1, "broker": -1, "leader": -1, "desired": false, "unknown": false,
               "msgq_cnt": 0, "msgq_bytes": 0, "fetch_state": "none",
               "committed_offset": -1001, "hi_offset": -1001, "consumer_lag": -1,
               "txmsgs": 0, "msgs": 2}
      }
    }
  },
  "tx": 323, "tx_bytes": 84283487, "rx": 322, "rx_bytes": 16880,
  "txmsgs": 1234, "txmsg_bytes": 128336, "rxmsgs": 0, "rxmsg_bytes": 0
})json";

/// A consumer in a group: the internal and bootstrap entries and the GroupCoordinator logical
/// handle (which librdkafka gives the coordinator's node id) next to two learned brokers; an
/// assigned partition with a commit, one assigned with nothing committed, one known from metadata
/// only, the UA partition, and a second subscribed topic.
constexpr std::string_view consumer_json = R"json({
  "name": "rdkafka#consumer-1", "client_id": "order-tracker", "type": "consumer",
  "ts": 7016483227792, "time": 1714566900, "age": 60000000, "replyq": 0,
  "msg_cnt": 0, "msg_size": 0, "msg_max": 100000, "msg_size_max": 1073741824,
  "simple_cnt": 0, "metadata_cache_cnt": 2,
  "brokers": {
    ":0/internal": {
      "name": ":0/internal", "nodeid": -1, "nodename": "", "source": "internal",
      "state": "UP", "stateage": 60000000, "outbuf_cnt": 0, "waitresp_cnt": 0,
      "rtt": {"min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0}, "toppars": {}
    },
    "localhost:9092/bootstrap": {
      "name": "localhost:9092/bootstrap", "nodeid": -1, "nodename": "localhost:9092",
      "source": "configured", "state": "INIT", "stateage": 59000000, "outbuf_cnt": 0,
      "rtt": {"min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0}, "toppars": {}
    },
    "GroupCoordinator": {
      "name": "GroupCoordinator", "nodeid": 1, "nodename": "kafka-1:9092",
      "source": "logical", "state": "UP", "stateage": 58000000, "outbuf_cnt": 0,
      "waitresp_cnt": 1,
      "rtt": {"min": 800, "max": 2200, "avg": 1200, "sum": 60000, "cnt": 50},
      "toppars": {}
    },
    "kafka-1:9092/1": {
      "name": "kafka-1:9092/1", "nodeid": 1, "nodename": "kafka-1:9092",
      "source": "learned", "state": "UP", "stateage": 58000000,
      "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 1, "waitresp_msg_cnt": 0,
      "tx": 600, "rx": 599, "connects": 1, "disconnects": 0,
      "rtt": {"min": 700, "max": 510000, "avg": 1500, "sum": 900000, "cnt": 600},
      "toppars": {"orders-0": {"topic": "orders", "partition": 0}}
    },
    "kafka-2:9092/2": {
      "name": "kafka-2:9092/2", "nodeid": 2, "nodename": "kafka-2:9092",
      "source": "learned", "state": "UP", "stateage": 58000000,
      "outbuf_cnt": 1, "waitresp_cnt": 1,
      "rtt": {"min": 600, "max": 2500000, "avg": 1250000, "sum": 750000000, "cnt": 600},
      "toppars": {"orders-2": {"topic": "orders", "partition": 2},
                  "payments-0": {"topic": "payments", "partition": 0}}
    }
  },
  "topics": {
    "orders": {
      "topic": "orders", "age": 59000, "metadata_age": 4000,
      "partitions": {
        "0": {"partition": 0, "broker": 1, "leader": 1, "desired": true, "unknown": false,
              "msgq_cnt": 0, "msgq_bytes": 0, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0,
              "fetchq_cnt": 3, "fetchq_size": 312, "fetch_state": "active",
              "query_offset": -2, "next_offset": 100, "app_offset": 97, "stored_offset": 97,
              "commited_offset": 95, "committed_offset": 95, "eof_offset": 100,
              "lo_offset": 0, "hi_offset": 100, "ls_offset": 100,
              "consumer_lag": 5, "consumer_lag_stored": 3, "txmsgs": 0, "txbytes": 0,
              "rxmsgs": 100, "rxbytes": 10400, "msgs": 100, "rx_ver_drops": 0,
              "msgs_inflight": 0, "next_ack_seq": 0, "next_err_seq": 0, "acked_msgid": 0},
        "1": {"partition": 1, "broker": 2, "leader": 2, "desired": false, "unknown": false,
              "fetch_state": "none", "stored_offset": -1001, "committed_offset": -1001,
              "hi_offset": -1001, "consumer_lag": -1, "consumer_lag_stored": -1},
        "2": {"partition": 2, "broker": 2, "leader": 2, "desired": true, "unknown": false,
              "fetch_state": "active", "next_offset": 0, "app_offset": -1001,
              "stored_offset": -1001, "commited_offset": -1001, "committed_offset": -1001,
              "lo_offset": 0, "hi_offset": 0, "ls_offset": 0,
              "consumer_lag": -1, "consumer_lag_stored": -1, "rxmsgs": 0},
        "-1": {"partition": -1, "broker": -1, "leader": -1, "desired": false, "unknown": false,
               "fetch_state": "none", "committed_offset": -1001, "hi_offset": -1001,
               "consumer_lag": -1}
      }
    },
    "payments": {
      "topic": "payments", "age": 59000, "metadata_age": 4000,
      "partitions": {
        "0": {"partition": 0, "broker": 2, "leader": 2, "desired": true, "unknown": false,
              "fetch_state": "active", "committed_offset": 7, "stored_offset": 7,
              "hi_offset": 7, "consumer_lag": 0, "consumer_lag_stored": 0}
      }
    }
  },
  "cgrp": {
    "state": "up", "stateage": 58000, "join_state": "steady", "rebalance_age": 57000,
    "rebalance_cnt": 3, "rebalance_reason": "group rejoin", "assignment_size": 3
  },
  "tx": 620, "tx_bytes": 40000, "rx": 619, "rx_bytes": 1100000,
  "txmsgs": 0, "txmsg_bytes": 0, "rxmsgs": 107, "rxmsg_bytes": 11128
})json";

const kafka::broker_statistics* broker(const kafka::statistics& s, std::string_view name) {
  const auto it = std::find_if(s.brokers.begin(), s.brokers.end(),
                               [&](const auto& b) { return b.name == name; });
  return it == s.brokers.end() ? nullptr : &*it;
}

const kafka::partition_statistics* partition(const kafka::statistics& s, std::string_view topic,
                                             std::int32_t p) {
  const auto it = std::find_if(s.partitions.begin(), s.partitions.end(),
                               [&](const auto& x) { return x.topic == topic && x.partition == p; });
  return it == s.partitions.end() ? nullptr : &*it;
}

kafka::broker_statistics up_broker(bool up) {
  kafka::broker_statistics b;
  b.name = "kafka:9092/1";
  b.node_id = 1;
  b.up = up;
  return b;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(producer)

BOOST_AUTO_TEST_CASE(reads_the_queue_and_transmit_totals) {
  const auto s = kafka::parse_statistics(producer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->queued_messages == 3);
  BOOST_TEST(s->queued_bytes == 312);
  BOOST_TEST(s->tx_messages == 1234);
  BOOST_TEST(s->rx_messages == 0);
  BOOST_TEST(s->rebalances == 0);  // no cgrp section
}

BOOST_AUTO_TEST_CASE(lists_the_learned_brokers_and_skips_the_bootstrap_entry) {
  const auto s = kafka::parse_statistics(producer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST_REQUIRE(s->brokers.size() == 2u);
  BOOST_TEST(broker(*s, "localhost:9092/bootstrap") == nullptr);

  const auto* up = broker(*s, "kafka-1:9092/1");
  BOOST_TEST_REQUIRE(up != nullptr);
  BOOST_TEST(up->node_id == 1);
  BOOST_TEST(up->up);
  BOOST_TEST(up->rtt_avg_seconds == 0.002349, tt::tolerance(1e-12));
  BOOST_TEST(up->outbuf_requests == 2);

  const auto* down = broker(*s, "kafka-2:9092/2");
  BOOST_TEST_REQUIRE(down != nullptr);
  BOOST_TEST(down->node_id == 2);
  BOOST_TEST(!down->up);
  BOOST_TEST(down->rtt_avg_seconds == 0.0);
  BOOST_TEST(down->outbuf_requests == 0);
}

BOOST_AUTO_TEST_CASE(has_no_consumed_partitions) {
  const auto s = kafka::parse_statistics(producer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->partitions.empty());
}

BOOST_AUTO_TEST_CASE(counts_as_connected_with_one_learned_broker_up) {
  const auto s = kafka::parse_statistics(producer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->any_broker_up());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(consumer)

BOOST_AUTO_TEST_CASE(reads_the_receive_total_and_the_rebalance_count) {
  const auto s = kafka::parse_statistics(consumer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->rx_messages == 107);
  BOOST_TEST(s->tx_messages == 0);
  BOOST_TEST(s->queued_messages == 0);
  BOOST_TEST(s->rebalances == 3);
}

BOOST_AUTO_TEST_CASE(lists_only_desired_partitions_and_skips_the_ua_partition) {
  const auto s = kafka::parse_statistics(consumer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->partitions.size() == 3u);
  BOOST_TEST(partition(*s, "orders", 0) != nullptr);
  BOOST_TEST(partition(*s, "orders", 1) == nullptr);  // desired: false
  BOOST_TEST(partition(*s, "orders", 2) != nullptr);
  BOOST_TEST(partition(*s, "orders", -1) == nullptr);
  BOOST_TEST(partition(*s, "payments", 0) != nullptr);
}

BOOST_AUTO_TEST_CASE(reads_lag_and_offsets_of_a_partition_with_a_commit) {
  const auto s = kafka::parse_statistics(consumer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  const auto* p = partition(*s, "orders", 0);
  BOOST_TEST_REQUIRE(p != nullptr);
  BOOST_TEST(p->consumer_lag == 5);
  BOOST_TEST(p->consumer_lag_stored == 3);
  BOOST_TEST(p->committed_offset == 95);
  BOOST_TEST(p->high_watermark == 100);

  const auto* caught_up = partition(*s, "payments", 0);
  BOOST_TEST_REQUIRE(caught_up != nullptr);
  BOOST_TEST(caught_up->consumer_lag == 0);
  BOOST_TEST(caught_up->committed_offset == 7);
  BOOST_TEST(caught_up->high_watermark == 7);
}

BOOST_AUTO_TEST_CASE(keeps_an_unknown_lag_as_minus_one_and_librdkafka_s_invalid_offset) {
  const auto s = kafka::parse_statistics(consumer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  const auto* p = partition(*s, "orders", 2);
  BOOST_TEST_REQUIRE(p != nullptr);
  BOOST_TEST(p->consumer_lag == -1);
  BOOST_TEST(p->consumer_lag_stored == -1);
  BOOST_TEST(p->committed_offset == -1001);  // RD_KAFKA_OFFSET_INVALID: nothing committed
  BOOST_TEST(p->high_watermark == 0);
}

BOOST_AUTO_TEST_CASE(skips_the_internal_and_bootstrap_entries) {
  const auto s = kafka::parse_statistics(consumer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(broker(*s, ":0/internal") == nullptr);
  BOOST_TEST(broker(*s, "localhost:9092/bootstrap") == nullptr);
  const auto* b2 = broker(*s, "kafka-2:9092/2");
  BOOST_TEST_REQUIRE(b2 != nullptr);
  BOOST_TEST(b2->up);
  BOOST_TEST(b2->rtt_avg_seconds == 1.25, tt::tolerance(1e-12));
  BOOST_TEST(b2->outbuf_requests == 1);
  BOOST_TEST(s->any_broker_up());
}

BOOST_AUTO_TEST_CASE(lists_learned_brokers_only_not_the_logical_group_coordinator_handle) {
  // librdkafka copies the coordinator's node id onto its "GroupCoordinator" logical handle, so a
  // non-negative nodeid alone does not make an entry a cluster member of its own.
  const auto s = kafka::parse_statistics(consumer_json);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(broker(*s, "GroupCoordinator") == nullptr);
  BOOST_TEST(s->brokers.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(any_broker_up)

BOOST_AUTO_TEST_CASE(is_false_without_brokers) {
  BOOST_TEST(!kafka::statistics{}.any_broker_up());
}

BOOST_AUTO_TEST_CASE(is_false_when_every_learned_broker_is_down) {
  kafka::statistics s;
  s.brokers = {up_broker(false), up_broker(false)};
  BOOST_TEST(!s.any_broker_up());
}

BOOST_AUTO_TEST_CASE(is_true_when_one_broker_is_up) {
  kafka::statistics s;
  s.brokers = {up_broker(false), up_broker(true)};
  BOOST_TEST(s.any_broker_up());
}

// After every broker was down, librdkafka 2.10+ re-bootstraps: the open bootstrap connection is
// then the only one until the client has work for a learned broker (sparse connections).
BOOST_AUTO_TEST_CASE(counts_a_bootstrap_connection_that_is_up) {
  const auto s = kafka::parse_statistics(R"({
    "type": "producer",
    "brokers": {
      "localhost:9092/bootstrap": {"name": "localhost:9092/bootstrap", "nodeid": -1,
                                   "state": "UP"},
      "kafka-1:9092/1": {"name": "kafka-1:9092/1", "nodeid": 1, "state": "INIT"}
    }
  })");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->bootstrap_up);
  BOOST_TEST(s->brokers.size() == 1u);
  BOOST_TEST(s->any_broker_up());
}

BOOST_AUTO_TEST_CASE(is_false_when_the_bootstrap_connection_is_not_up_either) {
  const auto s = kafka::parse_statistics(R"({
    "brokers": {
      "localhost:9092/bootstrap": {"nodeid": -1, "state": "AUTH_REQ"},
      "kafka-1:9092/1": {"nodeid": 1, "state": "DOWN"}
    }
  })");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(!s->any_broker_up());
}

BOOST_AUTO_TEST_CASE(counts_only_the_state_up_as_connected) {
  for (const auto state :
       {"INIT"sv, "DOWN"sv, "TRY_CONNECT"sv, "CONNECT"sv, "SSL_HANDSHAKE"sv, "AUTH_LEGACY"sv,
        "APIVERSION_QUERY"sv, "AUTH_HANDSHAKE"sv, "AUTH_REQ"sv, "UPDATE"sv, "up"sv}) {
    BOOST_TEST_CONTEXT("state " << state) {
      const auto s = kafka::parse_statistics(
          R"({"brokers": {"k:9092/1": {"nodeid": 1, "state": ")" + std::string(state) + R"("}}})");
      BOOST_TEST_REQUIRE(s.has_value());
      BOOST_TEST(!s->any_broker_up());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(malformed_input)

BOOST_AUTO_TEST_CASE(text_that_is_not_a_json_object_gives_nothing) {
  for (const auto text : {""sv, "garbage"sv, "{"sv, R"({"msg_cnt": )"sv, "[]"sv, "42"sv, "null"sv,
                          R"("brokers")"sv, producer_json.substr(0, 400)}) {
    BOOST_TEST_CONTEXT("text " << text) {
      BOOST_TEST(!kafka::parse_statistics(text).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_object_gives_zeros_and_empty_lists) {
  const auto s = kafka::parse_statistics("{}");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->queued_messages == 0);
  BOOST_TEST(s->queued_bytes == 0);
  BOOST_TEST(s->tx_messages == 0);
  BOOST_TEST(s->rx_messages == 0);
  BOOST_TEST(s->rebalances == 0);
  BOOST_TEST(s->brokers.empty());
  BOOST_TEST(s->partitions.empty());
  BOOST_TEST(!s->any_broker_up());
}

BOOST_AUTO_TEST_CASE(sections_of_the_wrong_shape_are_skipped_without_failing) {
  const auto s = kafka::parse_statistics(R"({
    "msg_cnt": "many", "txmsgs": 1.5, "rxmsgs": 9,
    "brokers": {"odd": 7, "k:9092/1": {"nodeid": 1, "state": "UP", "rtt": [1, 2]}},
    "topics": {"t1": 3, "t2": {"partitions": []},
               "t3": {"partitions": {"0": "x", "1": {"partition": 1, "desired": "yes"},
                                     "2": {"partition": 2, "desired": true}}}},
    "cgrp": "up"
  })");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->queued_messages == 0);
  BOOST_TEST(s->tx_messages == 0);
  BOOST_TEST(s->rx_messages == 9);
  BOOST_TEST_REQUIRE(s->brokers.size() == 1u);
  BOOST_TEST(s->brokers[0].up);
  BOOST_TEST(s->brokers[0].rtt_avg_seconds == 0.0);
  BOOST_TEST_REQUIRE(s->partitions.size() == 1u);
  BOOST_TEST(s->partitions[0].topic == "t3");
  BOOST_TEST(s->partitions[0].partition == 2);
  BOOST_TEST(s->partitions[0].consumer_lag == -1);
  BOOST_TEST(s->partitions[0].committed_offset == -1);
  BOOST_TEST(s->rebalances == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(reachability_follows_all_brokers_down_and_the_next_statistics) {
  order_tracker::kafka::broker_reachability r;
  BOOST_TEST(r.up());
  BOOST_TEST(r.on_error(order_tracker::kafka::make_error(-187)));  // _ALL_BROKERS_DOWN
  BOOST_TEST(!r.up());
  BOOST_TEST(!r.on_error(order_tracker::kafka::make_error(-187)));  // no change, nothing to log
  order_tracker::kafka::statistics s;
  s.brokers.push_back({"127.0.0.1:9092/1", 1, true, 0, 0});
  BOOST_TEST(r.on_statistics(s));
  BOOST_TEST(r.up());
  s.brokers.front().up = false;
  BOOST_TEST(r.on_statistics(s));
  BOOST_TEST(!r.up());
}

BOOST_AUTO_TEST_CASE(the_down_reason_names_an_authentication_failure_over_brokers_down) {
  using order_tracker::kafka::make_error;
  order_tracker::kafka::broker_reachability r;
  // What librdkafka 2.14 reports for a wrong SASL password: the authentication failure, then
  // "1/1 brokers are down" over and over.
  r.on_error(make_error(-169),
             "sasl_plaintext://127.0.0.1:9092/bootstrap: SASL authentication "
             "error: Authentication failed: Invalid username or password");
  r.on_error(make_error(-187), "1/1 brokers are down");
  BOOST_TEST(!r.up());
  BOOST_TEST(r.down_reason() ==
             "no broker reachable: authentication failed: sasl_plaintext://127.0.0.1:9092/"
             "bootstrap: SASL authentication error: Authentication failed: Invalid username or "
             "password");
}

BOOST_AUTO_TEST_CASE(the_down_reason_forgets_an_authentication_failure_once_a_broker_was_up) {
  using order_tracker::kafka::make_error;
  order_tracker::kafka::broker_reachability r;
  r.on_error(make_error(-169), "bad password");
  order_tracker::kafka::statistics s;
  s.brokers.push_back({"127.0.0.1:9092/1", 1, true, 0, 0});
  r.on_statistics(s);
  r.on_error(make_error(-187), "1/1 brokers are down");
  BOOST_TEST(r.down_reason() == "no broker reachable: 1/1 brokers are down");
}
