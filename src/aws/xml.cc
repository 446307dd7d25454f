// XML through expat into a small tree (see the header).
#include "aws/xml.h"

#include <expat.h>

namespace lf::aws {

namespace {

struct Builder {
  std::unique_ptr<XmlElement> root;
  std::vector<XmlElement*> stack;
};

std::string LocalName(const char* name) {
  std::string_view n(name);
  const size_t colon = n.rfind(':');
  return std::string(colon == std::string_view::npos ? n : n.substr(colon + 1));
}

void OnStart(void* data, const XML_Char* name, const XML_Char** /*attrs*/) {
  auto* b = static_cast<Builder*>(data);
  auto e = std::make_unique<XmlElement>();
  e->name = LocalName(name);
  XmlElement* raw = e.get();
  if (b->stack.empty()) {
    b->root = std::move(e);
  } else {
    b->stack.back()->children.push_back(std::move(e));
  }
  b->stack.push_back(raw);
}

void OnEnd(void* data, const XML_Char* /*name*/) { static_cast<Builder*>(data)->stack.pop_back(); }

void OnText(void* data, const XML_Char* s, int len) {
  auto* b = static_cast<Builder*>(data);
  if (!b->stack.empty()) b->stack.back()->text.append(s, static_cast<size_t>(len));
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view n) const {
  for (const auto& c : children) {
    if (c->name == n) return c.get();
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view n) const {
  const XmlElement* c = Child(n);
  return c ? c->text : std::string();
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view n) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c->name == n) out.push_back(c.get());
  }
  return out;
}

Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view doc, const std::string& what) {
  XML_Parser p = XML_ParserCreate(nullptr);
  if (p == nullptr) return Status::Internal("XML parser: out of memory");
  Builder b;
  XML_SetUserData(p, &b);
  XML_SetElementHandler(p, OnStart, OnEnd);
  XML_SetCharacterDataHandler(p, OnText);
  const bool ok = XML_Parse(p, doc.data(), static_cast<int>(doc.size()), /*isFinal=*/1) == XML_STATUS_OK;
  std::string error;
  if (!ok) {
    error =
        std::string(XML_ErrorString(XML_GetErrorCode(p))) + " at line " + std::to_string(XML_GetCurrentLineNumber(p));
  }
  XML_ParserFree(p);
  if (!ok) return Status::Corruption(what + ": malformed XML: " + error);
  if (!b.root) return Status::Corruption(what + ": empty XML document");
  return std::move(b.root);
}

}  // namespace lf::aws
