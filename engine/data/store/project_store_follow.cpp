// Reads for a GUI that follows a run written by another process (mlstudio-cli train, another machine).
#include "data/store/project_store.h"
#include "data/store/sqlite_db.h"

namespace mls {

std::vector<std::pair<int64_t, RunMetric>> ProjectStore::runMetricsAfter(int64_t run_id, int64_t after_seq) {
  auto st = db_->prepare(
      "SELECT rowid, epoch, step, name, value FROM run_metrics WHERE run_id = ? AND rowid > ? ORDER BY rowid");
  st.bind(1, run_id).bind(2, after_seq);
  std::vector<std::pair<int64_t, RunMetric>> out;
  while (st.step())
    out.push_back({st.int64(0), RunMetric{static_cast<int>(st.int64(1)), st.int64(2), st.text(3), st.real(4)}});
  return out;
}

}  // namespace mls
