#include "source/kafka_url.h"

namespace lf {

bool IsKafkaUrl(std::string_view url) { return url.substr(0, 8) == "kafka://"; }

Result<KafkaUrl> ParseKafkaUrl(std::string_view url, std::string_view flag) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(flag) + " " + std::string(url) + ": " + why +
                                   " (expected kafka://HOST:PORT[,HOST:PORT...]/TOPIC)");
  };
  if (!IsKafkaUrl(url)) return bad("not a kafka:// URL");
  std::string_view rest = url.substr(8);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no topic");
  KafkaUrl out;
  const std::string_view brokers = rest.substr(0, slash);
  const std::string_view topic = rest.substr(slash + 1);
  if (brokers.empty()) return bad("no broker address");
  size_t start = 0;
  while (start <= brokers.size()) {
    size_t end = brokers.find(',', start);
    if (end == std::string_view::npos) end = brokers.size();
    const std::string_view b = brokers.substr(start, end - start);
    const size_t colon = b.rfind(':');
    if (b.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == b.size()) {
      return bad("broker '" + std::string(b) + "' is not HOST:PORT");
    }
    for (char c : b.substr(colon + 1)) {
      if (c < '0' || c > '9') return bad("broker '" + std::string(b) + "' has a bad port");
    }
    start = end + 1;
  }
  // Kafka's topic names: 1..249 of [a-zA-Z0-9._-].
  if (topic.empty() || topic.size() > 249) return bad("the topic name must have 1 to 249 characters");
  for (char c : topic) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return bad("the topic name may hold only letters, digits, '.', '_' and '-'");
  }
  out.brokers = std::string(brokers);
  out.topic = std::string(topic);
  return out;
}

}  // namespace lf
