// One table of names per enum (methods, losses, run statuses, metric keys, ...): parsing, printing and the
// choices the CLI and the GUI offer all read the same table, so they cannot drift apart. The names are
// what project files store; they never change.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace mls {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

// "a, b or c".
inline std::string choiceList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

template <class E, size_t N>
std::vector<std::string> enumNames(const EnumName<E> (&table)[N]) {
  std::vector<std::string> names;
  for (const auto& e : table) names.emplace_back(e.name);
  return names;
}

template <class E, size_t N>
std::vector<E> enumValues(const EnumName<E> (&table)[N]) {
  std::vector<E> values;
  for (const auto& e : table) values.push_back(e.value);
  return values;
}

template <class E, size_t N>
const char* enumName(const EnumName<E> (&table)[N], E value) {
  for (const auto& e : table)
    if (e.value == value) return e.name;
  throw std::logic_error("an enum value without a name in its table");
}

// Throws std::invalid_argument("unknown <what> 'x' (expected a, b or c)").
template <class E, size_t N>
E parseEnum(const EnumName<E> (&table)[N], const std::string& name, const char* what) {
  for (const auto& e : table)
    if (name == e.name) return e.value;
  throw std::invalid_argument("unknown " + std::string(what) + " '" + name + "' (expected " +
                              choiceList(enumNames(table)) + ")");
}

}  // namespace mls
