#include "tests/support/kafka_broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <stdexcept>

#include "tests/support/child_process.hpp"

namespace order_tracker::test {
namespace {

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return {};
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

std::filesystem::path source_dir() {
  return ORDER_TRACKER_SOURCE_DIR;
}
std::filesystem::path bin_dir() {
  return ORDER_TRACKER_BIN_DIR;
}

std::filesystem::path scratch_dir(const std::string& name) {
  static std::mt19937 rng(std::random_device{}());
  auto dir = std::filesystem::path(ORDER_TRACKER_TEST_SCRATCH) /
             (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 100000));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

int free_port_range(int count) {
  std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  // Below Linux's ephemeral range (32768+), where client sockets could take a port we picked.
  std::uniform_int_distribution<int> base(20000, 32000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int p = base(rng);
    bool ok = true;
    for (int i = 0; i < count && ok; ++i)
      ok = port_free(p + i);
    if (ok) return p;
  }
  throw std::runtime_error("no free port range on 127.0.0.1");
}

kafka_broker::kafka_broker(int nodes, bool sasl) : dir_(scratch_dir("broker")) {
  port_ = free_port_range(2 * nodes);
  std::string args =
      "start --fresh --nodes " + std::to_string(nodes) + " --port " + std::to_string(port_);
  if (sasl) args += " --sasl";
  bootstrap_ = last_line(script(args));
}

kafka_broker::~kafka_broker() {
  try {
    script("stop");
  } catch (...) {
    // Already reported by the test that failed; the script stops by recorded pid either way.
  }
}

std::string kafka_broker::script(const std::string& args) const {
  std::vector<std::string> argv{"bash", "-c", "exec \"$0\" " + args + " --dir \"$1\"",
                                (source_dir() / "deploy/local/kafka.sh").string(), dir_.string()};
  auto [code, out] = run_command(argv, std::chrono::minutes(3));
  if (code != 0)
    throw std::runtime_error("kafka.sh " + args + " failed (" + std::to_string(code) + "):\n" +
                             out);
  return out;
}

}  // namespace order_tracker::test
