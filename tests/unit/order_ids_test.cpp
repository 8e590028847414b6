#include "services/order/order_ids.hpp"

#define BOOST_TEST_MODULE order_ids
#include <boost/test/unit_test.hpp>

// Helpers for counting distinct ids and bits.
#include <boost/uuid/uuid_io.hpp>
#include <cstddef>
#include <set>
#include <string>

namespace order = order_tracker::order;

BOOST_AUTO_TEST_CASE(ids_are_version_4_variant_rfc_4122) {
  order::order_ids ids;
  for (int i = 0; i < 1000; ++i) {
    const auto id = ids();
    BOOST_TEST(static_cast<int>(id.version()) == 4);
    BOOST_TEST(static_cast<int>(id.variant()) ==
               static_cast<int>(boost::uuids::uuid::variant_rfc_4122));
  }
}

BOOST_AUTO_TEST_CASE(ids_do_not_repeat_across_many_blocks) {
  // 10,000 ids span about 40 reads of the OS's randomness.
  order::order_ids ids;
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i)
    seen.insert(boost::uuids::to_string(ids()));
  BOOST_TEST(seen.size() == 10'000u);
}

BOOST_AUTO_TEST_CASE(two_generators_give_different_ids) {
  // Each reads the OS, so two instances (two processes, two restarts) never share a sequence.
  order::order_ids a, b;
  BOOST_TEST(a() != b());
}

BOOST_AUTO_TEST_CASE(every_random_bit_varies) {
  // 122 of the 128 bits are random: over 256 ids each of them is seen both set and clear (the
  // odds of a fair bit staying put are 2^-255).
  order::order_ids ids;
  unsigned char all_or[16] = {}, all_and[16];
  for (auto& b : all_and)
    b = 0xFF;
  for (int i = 0; i < 256; ++i) {
    const auto id = ids();
    for (std::size_t j = 0; j < 16; ++j) {
      all_or[j] |= id.data[j];
      all_and[j] &= id.data[j];
    }
  }
  for (std::size_t j = 0; j < 16; ++j) {
    const unsigned fixed_mask = j == 6 ? 0xF0 : j == 8 ? 0xC0 : 0x00;
    BOOST_TEST((all_or[j] | fixed_mask) == 0xFF, "byte " << j);
    BOOST_TEST((all_and[j] & ~fixed_mask & 0xFF) == 0, "byte " << j);
  }
}
