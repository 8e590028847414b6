#include "services/order/order_ids.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace order_tracker::order {

boost::uuids::uuid order_ids::operator()() {
  if (next_ == block_.size()) refill();
  boost::uuids::uuid id;
  std::memcpy(id.data, block_.data() + next_, sizeof(id.data));
  // Each byte is used once: a later id never repeats an earlier one's bits.
  std::memset(block_.data() + next_, 0, sizeof(id.data));
  next_ += sizeof(id.data);
  // RFC 4122 version 4 (random) and variant 10xx, as boost::uuids::random_generator sets them.
  id.data[6] = static_cast<std::uint8_t>((id.data[6] & 0x0F) | 0x40);
  id.data[8] = static_cast<std::uint8_t>((id.data[8] & 0x3F) | 0x80);
  return id;
}

void order_ids::refill() {
  std::size_t got = 0;
  while (got < block_.size()) {
    const auto n = ::getrandom(block_.data() + got, block_.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  next_ = 0;
}

}  // namespace order_tracker::order
