// Base64 (RFC 4648, with padding), over OpenSSL: Kinesis carries record
// data base64-encoded in its JSON protocol.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lf::aws {

std::string Base64Encode(std::string_view data);
// Corruption naming `what` for anything but padded base64.
Result<std::string> Base64Decode(std::string_view text, const std::string& what);

}  // namespace lf::aws
