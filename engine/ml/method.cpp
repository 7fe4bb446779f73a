#include "ml/method.h"

#include "ml/name_table.h"

namespace mls {

namespace {

constexpr EnumName<Method> kMethods[] = {
    {Method::Q2L, "q2l"},
    {Method::MLSPL, "mlspl"},
    {Method::Hybrid, "hybrid"},
};

}  // namespace

const char* methodName(Method method) { return enumName(kMethods, method); }
Method parseMethod(const std::string& name) { return parseEnum(kMethods, name, "method"); }
std::vector<std::string> methodNames() { return enumNames(kMethods); }
std::vector<Method> allMethods() { return enumValues(kMethods); }

}  // namespace mls
