#pragma once
/// One outbound HTTP/1.1 GET on the io_context, bounded as a whole by one deadline: for a
/// service asking another instance of itself (the Tracker's routing). A connection per request.

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/response.hpp"

namespace order_tracker::http {

/// What came back: a response, or why there is none (`error`, e.g. timed_out,
/// connection_refused, a name that does not resolve).
struct client_result {
  boost::system::error_code error;
  response message;
};

/// Extra request headers: name, value.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// Receives the result once, on the io_context's thread.
using client_handler = std::function<void(client_result&&)>;

/// GETs `target` from `address` ("HOST:PORT"; HOST a name, resolved off the loop by Asio, or a
/// numeric address). Everything (resolving, connecting, writing, reading) is done within
/// `timeout`, after which `done` gets `boost::asio::error::timed_out`. The operation keeps
/// itself alive until `done` has run; destroying the io_context drops it without a call.
void get(boost::asio::io_context& io, std::string_view address, std::string target,
         const header_list& headers, std::chrono::milliseconds timeout, client_handler done);

}  // namespace order_tracker::http
