#!/usr/bin/env bash
# Make your submission zip:  bash collect_submission.sh assignment1
# (or run it from inside assignments/assignmentN without an argument).
# Checks that every notebook was run top to bottom, warns about unfinished code,
# and writes <assignment>_submission.zip next to this script. The logic lives in
# course_utils/grading/collect.py; this wrapper only passes on its exit code.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export COLLECT_CWD="$PWD"
cd "$here" || exit 2
python3 -m course_utils.grading.collect --root "$here" "$@"
exit $?
