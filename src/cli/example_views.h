// The example views (examples/views.sql), built into the binary so that
// `lambdaflow run` with no arguments has views to compute.
#pragma once

#include <string_view>

namespace lf::cli {

std::string_view ExampleViewsText();

}  // namespace lf::cli
