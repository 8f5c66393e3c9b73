#pragma once
// A small JSON Schema validator for the subset docs/schemas/*.json use:
// type (incl. integer and type lists), enum, required, properties,
// additionalProperties (bool or schema), items, minItems, maxItems, minimum,
// anyOf, allOf, and $ref to "#/$defs/NAME" or to a sibling schema file.
// Unknown keywords ($schema, title, description, …) are ignored; a keyword of
// the subset that is malformed is reported as an error, never skipped.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace kt_test {

class SchemaValidator {
 public:
  explicit SchemaValidator(std::filesystem::path dir) : dir_(std::move(dir)) {}

  /// Errors (JSON pointer: message); empty when `doc` is valid.
  std::vector<std::string> validate(const nlohmann::json& doc, const std::string& schema_file) {
    errors_.clear();
    nlohmann::json root = load(schema_file);
    check(doc, root, root, "");
    return errors_;
  }

 private:
  nlohmann::json load(const std::string& file) {
    std::ifstream in(dir_ / file);
    if (!in) {
      errors_.push_back("cannot read schema " + file);
      return nlohmann::json::object();
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
  }

  static bool has_type(const nlohmann::json& v, const std::string& t) {
    if (t == "null") return v.is_null();
    if (t == "boolean") return v.is_boolean();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "number") return v.is_number();
    if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
    throw std::invalid_argument("unknown type in schema: " + t);
  }

  void check(const nlohmann::json& v, const nlohmann::json& s, const nlohmann::json& root, const std::string& at) {
    if (s.is_boolean()) {
      if (!s.get<bool>()) errors_.push_back(at + ": not allowed");
      return;
    }
    if (s.contains("$ref")) {
      std::string ref = s["$ref"];
      if (ref.rfind("#/$defs/", 0) == 0) {
        check(v, root.at("$defs").at(ref.substr(8)), root, at);
      } else {
        nlohmann::json other = load(ref);
        check(v, other, other, at);
      }
    }
    if (s.contains("type")) {
      bool ok = false;
      if (s["type"].is_string()) ok = has_type(v, s["type"]);
      else for (const auto& t : s["type"]) ok = ok || has_type(v, t);
      if (!ok) {
        errors_.push_back(at + ": expected type " + s["type"].dump() + ", got " + v.dump().substr(0, 80));
        return;
      }
    }
    if (s.contains("enum")) {
      bool ok = false;
      for (const auto& e : s["enum"]) ok = ok || e == v;
      if (!ok) errors_.push_back(at + ": " + v.dump() + " not in " + s["enum"].dump());
    }
    if (s.contains("minimum") && v.is_number() && v.get<double>() < s["minimum"].get<double>())
      errors_.push_back(at + ": below minimum " + s["minimum"].dump());
    if (s.contains("allOf"))
      for (const auto& sub : s["allOf"]) check(v, sub, root, at);
    if (s.contains("anyOf")) {
      bool ok = false;
      auto saved = errors_;
      for (const auto& sub : s["anyOf"]) {
        errors_.clear();
        check(v, sub, root, at);
        if (errors_.empty()) { ok = true; break; }
      }
      errors_ = saved;
      if (!ok) errors_.push_back(at + ": matches none of anyOf");
    }
    if (v.is_object()) {
      if (s.contains("required"))
        for (const auto& k : s["required"])
          if (!v.contains(k.get<std::string>())) errors_.push_back(at + ": missing required '" + k.get<std::string>() + "'");
      for (const auto& [k, val] : v.items()) {
        if (s.contains("properties") && s["properties"].contains(k)) {
          check(val, s["properties"][k], root, at + "/" + k);
        } else if (s.contains("additionalProperties")) {
          check(val, s["additionalProperties"], root, at + "/" + k);
        }
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>()) errors_.push_back(at + ": too few items");
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<std::size_t>()) errors_.push_back(at + ": too many items");
      if (s.contains("items"))
        for (std::size_t i = 0; i < v.size(); ++i) check(v[i], s["items"], root, at + "/" + std::to_string(i));
    }
  }

  std::filesystem::path dir_;
  std::vector<std::string> errors_;
};

}  // namespace kt_test
