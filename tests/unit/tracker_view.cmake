# The Tracker's order view and dedup window. Included from tests/unit/CMakeLists.txt.
ot_add_test(tracker_view_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/tracker_view_test.cpp
            LIBS tracker_domain LABELS unit)
