// Boost.JSON compiled here rather than linked from Debian's libboost_json, so that the parser under
// the event decoder and the body parser carries libFuzzer's coverage instrumentation too: most of
// decoding is parsing, and uninstrumented code gives the fuzzer nothing to steer by.
#include <boost/json/src.hpp>
