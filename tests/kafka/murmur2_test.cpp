#include "common/kafka/murmur2.hpp"

#define BOOST_TEST_MODULE murmur2
#include <librdkafka/rdkafka.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <memory>
#include <string>

// The partitioner the Tracker routes with must be librdkafka's own murmur2 (the Order service
// produces with partitioner=murmur2_random), not a restatement of the formula: every key is
// checked against rd_kafka_msg_partitioner_murmur2 on a real topic handle.

using namespace order_tracker;

namespace {

struct librdkafka_partitioner {
  librdkafka_partitioner() {
    std::array<char, 256> err{};
    rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err.data(), err.size()));
    BOOST_REQUIRE(rk != nullptr);
    rkt.reset(rd_kafka_topic_new(rk.get(), "orders", nullptr));
    BOOST_REQUIRE(rkt != nullptr);
  }
  std::int32_t operator()(const std::string& key, std::int32_t partitions) const {
    return rd_kafka_msg_partitioner_murmur2(rkt.get(), key.data(), key.size(), partitions, nullptr,
                                            nullptr);
  }
  struct destroy_rk {
    void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  };
  struct destroy_rkt {
    void operator()(rd_kafka_topic_t* p) const { rd_kafka_topic_destroy(p); }
  };
  std::unique_ptr<rd_kafka_t, destroy_rk> rk;
  // Declared after the handle: destroyed before it.
  std::unique_ptr<rd_kafka_topic_t, destroy_rkt> rkt;
};

}  // namespace

BOOST_AUTO_TEST_CASE(order_ids_land_where_librdkafka_murmur2_puts_them) {
  const librdkafka_partitioner expected;
  boost::uuids::random_generator generate;
  for (int i = 0; i < 20'000; ++i) {
    const auto key = boost::uuids::to_string(generate());
    for (const std::int32_t n : {1, 2, 3, 7, 12, 64}) {
      BOOST_REQUIRE_MESSAGE(kafka::murmur2_partition(key, n) == expected(key, n),
                            key << " over " << n << " partitions");
    }
  }
}

BOOST_AUTO_TEST_CASE(every_tail_length_and_high_bytes_hash_as_librdkafka_does) {
  const librdkafka_partitioner expected;
  // Lengths 0 to 40 cover every remainder of the 4-byte blocks; bytes >= 0x80 catch a signed
  // char sneaking into the arithmetic.
  std::string key;
  for (int len = 0; len <= 40; ++len) {
    for (const int fill : {0x00, 0x41, 0x7f, 0x80, 0xff}) {
      key.assign(static_cast<std::size_t>(len), static_cast<char>(fill));
      for (std::size_t i = 0; i < key.size(); i += 3)
        key[i] = static_cast<char>(i * 37 + 0x90);
      BOOST_REQUIRE_MESSAGE(kafka::murmur2_partition(key, 1'000'003) == expected(key, 1'000'003),
                            "length " << len << " fill " << fill);
    }
  }
}

BOOST_AUTO_TEST_CASE(no_partitions_is_no_partition) {
  BOOST_TEST(kafka::murmur2_partition("x", 0) == -1);
}
