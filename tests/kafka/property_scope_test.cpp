#include "common/kafka/property_scope.hpp"

#define BOOST_TEST_MODULE property_scope
#include <boost/test/unit_test.hpp>

// -X passthrough reaches the Tracker's consumer and its dead-letter producer alike; each property
// must reach only the clients librdkafka documents it for.

using namespace order_tracker::kafka;

BOOST_AUTO_TEST_CASE(consumer_properties_are_for_consumers_only) {
  for (const auto* name : {"group.protocol", "fetch.queue.backoff.ms", "queued.min.messages",
                           "auto.offset.reset", "partition.assignment.strategy"}) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(property_applies_to(name, client_kind::consumer));
      BOOST_TEST(!property_applies_to(name, client_kind::producer));
    }
  }
}

BOOST_AUTO_TEST_CASE(producer_properties_are_for_producers_only) {
  for (const auto* name :
       {"linger.ms", "enable.idempotence", "acks", "batch.num.messages", "message.timeout.ms"}) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(property_applies_to(name, client_kind::producer));
      BOOST_TEST(!property_applies_to(name, client_kind::consumer));
    }
  }
}

BOOST_AUTO_TEST_CASE(shared_and_unknown_properties_reach_both) {
  // Unknown names pass so that librdkafka rejects a typo with its own message.
  for (const auto* name : {"bootstrap.servers", "security.protocol", "sasl.mechanisms",
                           "statistics.interval.ms", "no.such.property"}) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(property_applies_to(name, client_kind::producer));
      BOOST_TEST(property_applies_to(name, client_kind::consumer));
    }
  }
}
