// The ways the studio trains a model: Query2Label (Liu et al. 2021), the single-positive classifier of
// Cole et al. 2021 ("MLSPL"), and the hybrid (the Q2L model trained with a single-positive loss).
#pragma once
#include <string>
#include <vector>

namespace mls {

enum class Method { Q2L, MLSPL, Hybrid };

// "q2l", "mlspl", "hybrid": what the CLI takes and run configs store.
const char* methodName(Method method);
// Throws std::invalid_argument("unknown method 'x' (expected q2l, mlspl or hybrid)").
Method parseMethod(const std::string& name);
std::vector<std::string> methodNames();
std::vector<Method> allMethods();

}  // namespace mls
