#include "inspect/inspection_job.h"

#include <exception>

#include "data/training/run_model.h"
#include "inspect/run_model_cache.h"

namespace mls {

InspectionResult runInspection(const InspectionRequest& request, RunModelCache& cache,
                               const std::atomic<uint64_t>* latest) {
  InspectionResult out;
  out.run_id = request.run_id;
  out.image_id = request.image_id;
  out.generation = request.generation;
  auto superseded = [&] { return latest && latest->load() != request.generation; };
  if (superseded()) {
    out.skipped = true;
    return out;
  }
  try {
    auto model = cache.get(request.project, request.run_id, request.device);
    if (superseded()) {  // the user moved on while the model loaded
      out.skipped = true;
      return out;
    }
    out.has_attention = model->hasAttention();
    // Attention costs nothing extra (the decoder computes it anyway), so ask for it whenever there is one:
    // picking another label or head then needs no second forward pass.
    auto pred = model->predict(request.image_path, out.has_attention);
    out.scores = std::move(pred.scores);
    out.attention = pred.attention;
    out.image_rgb = pred.image_rgb;
    if (out.has_attention && !out.attention.defined()) out.has_attention = false;
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace mls
