# The Tracker's pure domain: the order view (tracking, dedup window, totals). No Asio, no Kafka,
# so the unit tests link it alone. Included from services/tracker/CMakeLists.txt.
add_library(tracker_domain ${CMAKE_CURRENT_LIST_DIR}/order_view.cpp)
target_include_directories(tracker_domain PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(tracker_domain PUBLIC order_tracker::events Boost::json Boost::headers
                                     PRIVATE order_tracker_warnings)
