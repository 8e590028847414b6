#include "tests/integration/services.hpp"

#include <regex>

namespace order_tracker::test {

std::vector<std::string> received_order_ids(const std::string& log) {
  static const std::regex line("Received order ([0-9a-f-]{36}):");
  std::vector<std::string> ids;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    ids.push_back((*it)[1].str());
  }
  return ids;
}

}  // namespace order_tracker::test
