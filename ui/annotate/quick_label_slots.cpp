#include "annotate/quick_label_slots.h"

#include <algorithm>
#include <sstream>

namespace mls {

namespace {
bool contains(const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }
void erase(std::vector<int64_t>& v, int64_t x) { v.erase(std::remove(v.begin(), v.end(), x), v.end()); }
}  // namespace

void QuickLabelSlots::use(int64_t category_id) {
  last_used_[category_id] = ++tick_;
  if (contains(pinned_, category_id) || contains(recent_, category_id)) return;
  const size_t capacity = kSlots - pinned_.size();
  if (capacity == 0) return;
  if (recent_.size() < capacity) {
    recent_.push_back(category_id);
    return;
  }
  // Replace the least recently used recent class in place, so the other keys stay where they are.
  auto lru = std::min_element(recent_.begin(), recent_.end(),
                              [&](int64_t a, int64_t b) { return last_used_[a] < last_used_[b]; });
  *lru = category_id;
}

bool QuickLabelSlots::setPinned(int64_t category_id, bool pin) {
  if (!pin) {
    if (!contains(pinned_, category_id)) return true;
    erase(pinned_, category_id);
    // It was in use a moment ago: keep it reachable as a recent class when there is room.
    if (recent_.size() < kSlots - pinned_.size()) recent_.push_back(category_id);
    return true;
  }
  if (contains(pinned_, category_id)) return true;
  if (pinned_.size() >= static_cast<size_t>(kSlots)) return false;
  erase(recent_, category_id);
  pinned_.push_back(category_id);
  trimRecent();
  return true;
}

bool QuickLabelSlots::isPinned(int64_t category_id) const { return contains(pinned_, category_id); }

void QuickLabelSlots::setPinnedList(const std::vector<int64_t>& pinned) {
  pinned_.clear();
  for (int64_t id : pinned)
    if (!contains(pinned_, id) && pinned_.size() < static_cast<size_t>(kSlots)) pinned_.push_back(id);
  for (int64_t id : pinned_) erase(recent_, id);
  trimRecent();
}

void QuickLabelSlots::clear() {
  pinned_.clear();
  recent_.clear();
  last_used_.clear();
  tick_ = 0;
}

void QuickLabelSlots::trimRecent() {
  const size_t capacity = kSlots - pinned_.size();
  while (recent_.size() > capacity) {
    auto lru = std::min_element(recent_.begin(), recent_.end(),
                                [&](int64_t a, int64_t b) { return last_used_[a] < last_used_[b]; });
    recent_.erase(lru);
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
