// The classes bound to number keys 1-9 in the Annotate panel: pinned classes first (in pin order), then the
// most used ones. The keys are full from the start (a fresh project gets its first classes, a reopened one
// its most used), and a class keeps its key until a new class needs room and it is the least used one, so
// the key a user just learned does not move after every click.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace mls {

class QuickLabelSlots {
 public:
  static constexpr int kSlots = 9;

  // Fills the unpinned keys from `classes` (the project's classes in model order) with `uses` (class id ->
  // how often it is already a single positive): the most used first, ties and unused classes in class order;
  // the chosen ones sit on the keys in class order, so key k on a fresh project is class k.
  void seed(const std::vector<int64_t>& classes, const std::unordered_map<int64_t, int64_t>& uses);
  // Records that a class was just used; it gets a key if it has none, replacing the least used class (ties:
  // the least recently used, then the highest key) in place.
  void use(int64_t category_id);
  // Pins (first free pinned position) or unpins a class. Pinning a 10th class is refused (returns false).
  bool setPinned(int64_t category_id, bool pinned);
  bool isPinned(int64_t category_id) const;
  const std::vector<int64_t>& pinned() const { return pinned_; }
  void setPinnedList(const std::vector<int64_t>& pinned);  // restores a saved list (extra entries dropped)
  // Forgets classes that no longer exist (a different project).
  void clear();

  // Category ids for keys 1..n (n <= 9): pinned, then the others.
  std::vector<int64_t> slotCategories() const;
  // The class on key 1..9, or -1.
  int64_t categoryForKey(int key) const;
  // 1..9, or 0 when the class has no key.
  int keyOf(int64_t category_id) const;

  // "3,17,5" <-> list, for the project's meta table.
  static std::string encode(const std::vector<int64_t>& ids);
  static std::vector<int64_t> decode(const std::string& text);

 private:
  size_t capacity() const { return kSlots - pinned_.size(); }
  // The unpinned class to give up its key: least used, then least recently used, then the highest key.
  std::vector<int64_t>::iterator evictionCandidate();
  void trimRecent();
  void refill();  // after an unpin or a seed: free keys take the best classes that have none

  std::vector<int64_t> pinned_;
  std::vector<int64_t> recent_;                  // the unpinned keys, in stable key order
  std::vector<int64_t> classes_;                 // every class, in model order (refills come from here)
  std::unordered_map<int64_t, int64_t> uses_;
  std::unordered_map<int64_t, uint64_t> last_used_;
  uint64_t tick_ = 0;
};

}  // namespace mls
