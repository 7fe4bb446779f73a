#!/usr/bin/env bash
# The README's dependency rules, checked on the sources: engine/ is Qt-free, engine/ml has no OpenCV or
# SQLite, the models do not reach into the trainer (engine/ml/models must not include ml/training/), and
# <torch/torch.h> (slow to parse) stays out of engine headers other than the precompiled one and *_impl.h.
set -uo pipefail
root="${1:-$(dirname "$0")/../..}"
cd "$root" || exit 2
status=0
violations() {  # rule, pattern, paths...
  local rule="$1" pattern="$2"
  shift 2
  local hits
  hits=$(grep -rnE --include='*.h' --include='*.cpp' "$pattern" "$@")
  if [ -n "$hits" ]; then
    echo "layering: $rule"
    echo "$hits"
    status=1
  fi
}
violations "engine/ includes Qt" '^#include <Q' engine
violations "engine/ml includes OpenCV or SQLite" '^#include <(opencv|sqlite)' engine/ml
# mls_data_core: what mlstudio-cli links, so that its data commands start without loading LibTorch or OpenCV.
# ml/name_table.h is the one exception: a header-only, standard-library-only template the stored names share.
violations "engine/data/{store,coco,labels} include LibTorch, OpenCV or engine/ml" \
  '^#include (<(torch|ATen|c10|opencv)|"ml/([^n]|n[^a]|na[^m]|nam[^e]|name[^_]))' engine/data/store engine/data/coco engine/data/labels
violations "engine/ml/models includes the trainer's headers" '^#include "ml/training/' engine/ml/models
torch_headers=$(grep -rlE --include='*.h' '^#include <torch/torch.h>' engine | grep -vE '(torch_pch|_impl)\.h$')
if [ -n "$torch_headers" ]; then
  echo "layering: engine headers include <torch/torch.h>"
  echo "$torch_headers"
  status=1
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
