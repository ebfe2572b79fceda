#!/usr/bin/env bash
# Make your submission zip:  bash collect_submission.sh assignment1
# (or run it from inside assignments/assignmentN without an argument).
# Writes <assignment>_submission.zip next to this script with what you have done so
# far, and prints where each notebook and module stands (cells not run, errors, stubs
# left). --strict refuses notebooks that were not run top to bottom. The logic lives
# in course_utils/grading/collect.py; this wrapper only passes on its exit code.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export COLLECT_CWD="$PWD"
cd "$here" || exit 2
python3 -m course_utils.grading.collect --root "$here" "$@"
exit $?
