#include "common/kafka/client_library.hpp"

#define BOOST_TEST_MODULE client_library
#include <boost/test/unit_test.hpp>

// The binaries are linked against the project's librdkafka build, but the soname is the same as
// Debian 12's 2.0.2: this fails when the loader hands any test (and so the services, built the same
// way) a library older than the project needs.

using namespace order_tracker;

BOOST_AUTO_TEST_CASE(the_loaded_librdkafka_is_at_least_2_12) {
  const auto loaded = kafka::loaded_client_library();
  BOOST_TEST_MESSAGE("loaded librdkafka " << loaded.text);
  BOOST_TEST(loaded.version >= kafka::minimum_client_version,
             "librdkafka " << loaded.text << " is older than 2.12.0");
  BOOST_TEST(!loaded.text.starts_with("2.0."));
}

BOOST_AUTO_TEST_CASE(a_supported_library_passes_the_start_up_check) {
  BOOST_CHECK_NO_THROW(kafka::require_supported_client_library("client_library_test"));
}
