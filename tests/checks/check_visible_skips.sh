#!/usr/bin/env bash
# A Qt test that skips must not read as "Passed" in ctest, and on CI (CI=true) the PyTorch cross-checks must
# not skip at all. Runs test_weights, as this build registered it with ctest, without a usable Python:
#   - CI unset: ctest must report it as skipped;
#   - CI=true: ctest must report it as failed.
# Usage: check_visible_skips.sh BUILD_TESTS_DIR CTEST
set -uo pipefail
tests_dir="$1"
ctest_cmd="${2:-ctest}"
definition=$(grep -E '^(add_test|set_tests_properties)\(\[=\[test_weights\]=\]' "$tests_dir/CTestTestfile.cmake")
if [ -z "$definition" ]; then
  echo "visible skips: test_weights is not registered in $tests_dir/CTestTestfile.cmake"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$definition" > "$work/CTestTestfile.cmake"

run() {  # ctest on the copied definition; prints its output, returns its exit code
  (cd "$work" && env -u CI MLS_TEST_PYTHON=/nonexistent/python3 "$@" "$ctest_cmd" --output-on-failure 2>&1)
}
status=0
out=$(run)
rc=$?
if [ $rc -ne 0 ] || ! grep -q 'Skipped' <<<"$out"; then
  echo "visible skips: without torchvision, ctest should report test_weights as skipped (rc $rc):"
  echo "$out"
  status=1
fi
out=$(run CI=true)
rc=$?
if [ $rc -eq 0 ] || ! grep -q 'Failed' <<<"$out" || ! grep -q 'cannot start /nonexistent/python3' <<<"$out"; then
  echo "visible skips: with CI=true and no torchvision, test_weights should fail and say why (rc $rc):"
  echo "$out"
  status=1
fi
[ $status -eq 0 ] && echo "visible skips: ok"
exit $status
