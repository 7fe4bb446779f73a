// The classes bound to number keys 1-9 in the Annotate panel: pinned classes first (in pin order), then the
// most recently used ones. A recent class keeps its key until it is the least recently used one and a new
// class needs room, so the key a user just learned does not move after every click.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace mls {

class QuickLabelSlots {
 public:
  static constexpr int kSlots = 9;

  // Records that a class was just used; it gets a key if it has none.
  void use(int64_t category_id);
  // Pins (first free pinned position) or unpins a class. Pinning a 10th class is refused (returns false).
  bool setPinned(int64_t category_id, bool pinned);
  bool isPinned(int64_t category_id) const;
  const std::vector<int64_t>& pinned() const { return pinned_; }
  void setPinnedList(const std::vector<int64_t>& pinned);  // restores a saved list (extra entries dropped)
  // Forgets classes that no longer exist (a different project).
  void clear();

  // Category ids for keys 1..n (n <= 9): pinned, then recent.
  std::vector<int64_t> slotCategories() const;
  // The class on key 1..9, or -1.
  int64_t categoryForKey(int key) const;
  // 1..9, or 0 when the class has no key.
  int keyOf(int64_t category_id) const;

  // "3,17,5" <-> list, for the project's meta table.
  static std::string encode(const std::vector<int64_t>& ids);
  static std::vector<int64_t> decode(const std::string& text);

 private:
  void trimRecent();

  std::vector<int64_t> pinned_;
  std::vector<int64_t> recent_;  // stable key order
  std::unordered_map<int64_t, uint64_t> last_used_;
  uint64_t tick_ = 0;
};

}  // namespace mls
