// A small XML tree read with expat, enough for S3's answers (listings,
// multipart upload ids, error codes). Namespaces are ignored: elements are
// matched by their local name. Not a general XML library: no attributes,
// text of mixed content concatenated.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lf::aws {

struct XmlElement {
  std::string name;  // local name, without a namespace prefix
  std::string text;  // character data directly inside
  std::vector<std::unique_ptr<XmlElement>> children;

  // The first child named `name`, or null.
  const XmlElement* Child(std::string_view name) const;
  // The text of the first child named `name`, or "" when there is none.
  std::string ChildText(std::string_view name) const;
  // Every child named `name`, in document order.
  std::vector<const XmlElement*> Children(std::string_view name) const;
};

// Corruption naming `what` when the document is not well-formed.
Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view doc, const std::string& what);

}  // namespace lf::aws
