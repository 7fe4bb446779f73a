// The training losses by name, without LibTorch: what the CLI offers, run configs store and the GUI lists.
#pragma once
#include <string>
#include <vector>

namespace mls {

enum class LossKind { BCE, AN, AN_LS, WAN, EPR, ROLE, Focal, ASL };

// "bce", "an", "an-ls", "wan", "epr", "role", "focal", "asl" (case-insensitive, '_' accepted for '-').
// Throws std::invalid_argument naming the valid names.
LossKind parseLossKind(const std::string& name);
std::string lossName(LossKind kind);
std::vector<std::string> lossNames();  // every loss, in the table's order

}  // namespace mls
