#include "annotate/quick_label_slots.h"

#include <algorithm>
#include <optional>
#include <sstream>

namespace mls {

namespace {
bool contains(const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }
void erase(std::vector<int64_t>& v, int64_t x) { v.erase(std::remove(v.begin(), v.end(), x), v.end()); }
}  // namespace

void QuickLabelSlots::seed(const std::vector<int64_t>& classes, const std::unordered_map<int64_t, int64_t>& uses) {
  classes_ = classes;
  uses_ = uses;
  recent_.clear();
  std::vector<int64_t> candidates;
  for (int64_t id : classes_)
    if (!contains(pinned_, id)) candidates.push_back(id);
  // Most used first; stable, so equal counts (and a fresh project's zeros) keep the class order.
  std::stable_sort(candidates.begin(), candidates.end(), [&](int64_t a, int64_t b) { return uses_[a] > uses_[b]; });
  candidates.resize(std::min(candidates.size(), capacity()));
  // Keys follow the class order, which the user knows from the palette, not the counts.
  for (int64_t id : classes_)
    if (contains(candidates, id)) recent_.push_back(id);
}

void QuickLabelSlots::use(int64_t category_id) {
  ++uses_[category_id];
  last_used_[category_id] = ++tick_;
  if (contains(pinned_, category_id) || contains(recent_, category_id)) return;
  if (capacity() == 0) return;
  if (recent_.size() < capacity()) {
    recent_.push_back(category_id);
    return;
  }
  // In place, so the other keys stay where they are.
  *evictionCandidate() = category_id;
}

std::vector<int64_t>::iterator QuickLabelSlots::evictionCandidate() {
  auto rank = [&](int64_t id) { return std::make_pair(uses_[id], last_used_[id]); };
  auto best = recent_.begin();
  for (auto it = recent_.begin(); it != recent_.end(); ++it)
    if (rank(*it) <= rank(*best)) best = it;  // "<=": on a tie the higher key goes, keys 1, 2, ... stay put
  return best;
}

bool QuickLabelSlots::setPinned(int64_t category_id, bool pin) {
  if (!pin) {
    if (!contains(pinned_, category_id)) return true;
    erase(pinned_, category_id);
    // It was in use a moment ago: keep it reachable on the key that just came free.
    if (!contains(recent_, category_id)) recent_.push_back(category_id);
    refill();
    return true;
  }
  if (contains(pinned_, category_id)) return true;
  if (pinned_.size() >= static_cast<size_t>(kSlots)) return false;
  erase(recent_, category_id);
  pinned_.push_back(category_id);
  trimRecent();
  refill();
  return true;
}

bool QuickLabelSlots::isPinned(int64_t category_id) const { return contains(pinned_, category_id); }

void QuickLabelSlots::setPinnedList(const std::vector<int64_t>& pinned) {
  pinned_.clear();
  for (int64_t id : pinned)
    if (!contains(pinned_, id) && pinned_.size() < static_cast<size_t>(kSlots)) pinned_.push_back(id);
  for (int64_t id : pinned_) erase(recent_, id);
  trimRecent();
  refill();
}

void QuickLabelSlots::clear() {
  pinned_.clear();
  recent_.clear();
  classes_.clear();
  uses_.clear();
  last_used_.clear();
  tick_ = 0;
}

void QuickLabelSlots::trimRecent() {
  while (recent_.size() > capacity()) recent_.erase(evictionCandidate());
}

void QuickLabelSlots::refill() {
  while (recent_.size() < capacity()) {
    std::optional<int64_t> best;
    for (int64_t id : classes_) {
      if (contains(pinned_, id) || contains(recent_, id)) continue;
      if (!best || uses_[id] > uses_[*best]) best = id;  // ties: class order
    }
    if (!best) return;  // fewer classes than keys
    recent_.push_back(*best);
  }
}

std::vector<int64_t> QuickLabelSlots::slotCategories() const {
  std::vector<int64_t> out = pinned_;
  out.insert(out.end(), recent_.begin(), recent_.end());
  return out;
}

int64_t QuickLabelSlots::categoryForKey(int key) const {
  const auto all = slotCategories();
  if (key < 1 || key > static_cast<int>(all.size())) return -1;
  return all[static_cast<size_t>(key - 1)];
}

int QuickLabelSlots::keyOf(int64_t category_id) const {
  const auto all = slotCategories();
  auto it = std::find(all.begin(), all.end(), category_id);
  return it == all.end() ? 0 : static_cast<int>(it - all.begin()) + 1;
}

std::string QuickLabelSlots::encode(const std::vector<int64_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out;
}

std::vector<int64_t> QuickLabelSlots::decode(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used == item.size()) out.push_back(v);
    } catch (const std::exception&) {
      // A hand-edited or damaged entry is skipped, never fatal.
    }
  }
  return out;
}

}  // namespace mls
