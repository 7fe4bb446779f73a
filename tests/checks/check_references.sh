#!/usr/bin/env bash
# Comments cite what a reader can open: the papers, the authors' code, the README. A design document that is
# not in the repository (its name followed by a section sign or ".md") cannot be followed, so no source file
# may cite one.
set -uo pipefail
root="${1:-$(dirname "$0")/../..}"
cd "$root" || exit 2
hits=$(grep -rnE --include='*.h' --include='*.cpp' --include='*.inc' --include='*.py' --include='*.sh' \
  --include='CMakeLists.txt' 'DESIGN( ?§|\.md)' engine app ui datasets tests CMakeLists.txt
  grep -rnE 'DESIGN( ?§|\.md)' scripts .ci)
if [ -n "$hits" ]; then
  echo "references: comments cite a design document the repository does not have:"
  echo "$hits"
  exit 1
fi
echo "references: ok"
