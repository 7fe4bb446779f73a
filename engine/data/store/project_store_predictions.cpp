// Stored per-class scores of a run (float32 blobs, one row per image): written once when a run ends, read
// by Inspect, the Annotate suggestions and the Runs panel's per-class evaluation.
#include <optional>
#include <unordered_map>
#include <vector>

#include "data/store/project_store.h"
#include "data/store/sqlite_db.h"

namespace mls {

void ProjectStore::storePredictions(int64_t run_id,
                                    const std::vector<std::pair<int64_t, std::vector<float>>>& scores) {
  Transaction tx(*db_);
  auto st = db_->prepare("INSERT OR REPLACE INTO predictions(run_id, image_id, scores) VALUES(?, ?, ?)");
  for (const auto& [image_id, s] : scores) {
    st.bind(1, run_id).bind(2, image_id).bindBlob(3, s.data(), static_cast<int>(s.size() * sizeof(float)));
    st.run();
  }
  tx.commit();
}

namespace {
std::vector<float> blobToFloats(const Statement& st, int col) {
  int bytes = 0;
  const auto* data = static_cast<const float*>(st.blob(col, &bytes));
  return std::vector<float>(data, data + bytes / static_cast<int>(sizeof(float)));
}
}  // namespace

std::optional<std::vector<float>> ProjectStore::predictions(int64_t run_id, int64_t image_id) {
  auto st = db_->prepare("SELECT scores FROM predictions WHERE run_id = ? AND image_id = ?");
  st.bind(1, run_id).bind(2, image_id);
  if (!st.step()) return std::nullopt;
  return blobToFloats(st, 0);
}

std::unordered_map<int64_t, std::vector<float>> ProjectStore::allPredictions(int64_t run_id) {
  auto st = db_->prepare("SELECT image_id, scores FROM predictions WHERE run_id = ?");
  st.bind(1, run_id);
  std::unordered_map<int64_t, std::vector<float>> out;
  while (st.step()) out.emplace(st.int64(0), blobToFloats(st, 1));
  return out;
}

}  // namespace mls
