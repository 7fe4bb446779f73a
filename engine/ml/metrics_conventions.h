// mAP in the conventions of the two papers this project follows, next to scikit-learn's (ml/metrics.h), so a
// run can be compared with the numbers the papers print: the same scores give different mAPs in each.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mls {

// Query2Label's VOC-style AP as a fraction 0-1 (SlongLiu/query2labels lib/utils/metric.py, voc_ap/voc_mAP):
// one precision/recall point per ranked item, precision made monotone by a running maximum from the right,
// summed over the recall steps. Tied scores are not grouped: they keep their input order (the authors leave it
// to numpy's argsort; this is its order for small arrays and that of kind='stable'). NaN scores rank last.
// NaN if there are no positives (the authors' code gets 0/0 there). Same element layout as averagePrecision.
double averagePrecisionVoc(const float* scores, const uint8_t* labels, size_t n, size_t stride = 1);

// The MLSPL code's mAP in percent (elijahcole/single-positive-multi-label, metrics.py compute_avg_precision and
// instrumentation.py compute_metrics): scikit-learn's AP per class, a class without positives counting 0, mean
// over all K. Takes scikit-learn APs in percent with NaN for classes without positives. NaN when K is 0.
double mapMlspl(const std::vector<double>& ap_percent);

// The Q2L code's mAP in percent over (num_images, num_classes) row-major scores and labels. The authors' mean
// over all classes turns NaN as soon as one class has no positives; here such classes are skipped (as in the
// default mAP), which agrees with their number whenever every class has a positive, as on COCO val2014.
// NaN when no class has a positive.
double mapQ2lVoc(const std::vector<float>& scores, const std::vector<uint8_t>& labels, size_t num_images,
                 size_t num_classes);

}  // namespace mls
