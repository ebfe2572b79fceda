"""A grading record as Gradescope's ``results.json``.

Top level: ``score``, ``output`` (summary), ``output_format``, ``visibility``,
``stdout_visibility``, ``execution_time``, ``tests`` and ``extra_data`` (the
student id, the submission's sha256 and the isolation level: never grader paths,
notes or tracebacks). One test per question: ``name``, ``score``, ``max_score``,
``status`` (passed|failed), ``output`` (the checks and the messages a student can
act on), ``visibility``. Then one test per written answer, tagged ``written``: 0
points and ``failed`` while it is "to be graded by hand" or "unanswered" (the
output says which), the TA's points and comment once scored. ``score`` is the
auto-graded points plus the written points scored so far.
"""
import json
from pathlib import Path

from course_utils.grading.harness import written

VISIBILITY = "visible"


def build(record):
    tests = []
    for item in record["items"]:
        lines = [item["note"]] if item["note"] else []
        for check in item["checks"]:
            outcome = check["outcome"]
            mark = "PASS" if outcome["passed"] else "FAIL"
            lines.append(f"{mark} {check['label']}" + ("" if outcome["passed"] else f": {outcome['message']}"))
        tests.append({
            "name": f"{item['name']}: {item['title']}" if item["title"] != item["name"] else item["name"],
            "score": item["score"],
            "max_score": item["max_score"],
            "status": "passed" if item["score"] >= item["max_score"] else "failed",
            "output": "\n".join(lines),
            "visibility": VISIBILITY,
        })
    for name, entry in record.get("written", {}).items():
        tests.append(written_test(name, entry, written.student_answer(record.get("answers", {}), entry)))
    return {
        "score": round(record["score"] + written.totals(record)[0], 2),
        "execution_time": int(record.get("seconds") or 0),
        "output": summary(record),
        "output_format": "text",
        "visibility": VISIBILITY,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"course_kit": {key: record.get(key) for key in
                                      ("student", "assignment", "sha256", "score", "max_score", "isolation")}},
    }


def written_test(name, entry, answer):
    """The results.json test of one written answer."""
    state, points = written.status(entry), entry["max_score"]
    if state == written.SCORED:
        lines = [f"scored by hand: {entry['score']:g} / {points:g}"] + ([entry["comment"]] if entry["comment"] else [])
    elif state == written.TO_GRADE:
        lines = [f"to be graded by hand ({points:g} points): the score appears here once a TA has graded it"]
    else:
        lines = [f"unanswered: inline question {entry['question']} of {entry['notebook']}.ipynb holds no answer "
                 "between its answer markers"]
    if answer:
        lines += ["", "Your answer:", answer[:5000]]
    return {"name": f"{name}: {entry['title']}" if entry["title"] != name else name,
            "score": entry["score"] if state == written.SCORED else 0.0, "max_score": points,
            "status": "passed" if state == written.SCORED and entry["score"] >= points else "failed",
            "output": "\n".join(lines), "visibility": VISIBILITY, "tags": ["written"]}


def summary(record):
    lines = [f"{record['assignment']}: {record['score']:g} / {record['max_score']:g} points"
             + (" (auto-graded)" if record.get("written") else "")]
    if record.get("written"):
        given, possible, complete = written.totals(record)
        waiting = sum(written.status(e) == written.TO_GRADE for e in record["written"].values())
        lines.append(f"written answers: {given:g} / {possible:g} points"
                     + ("" if complete else f" so far, {waiting} to be graded by hand"))
    if record.get("isolation"):
        lines.append(f"student code ran at isolation level {record['isolation']['level']}: "
                     f"{record['isolation']['description']}")
    if record.get("error"):
        lines.append(record["error"])
    if record.get("missing"):
        lines.append("missing from the submission: " + ", ".join(record["missing"]))
    return "\n".join(lines)


def write(record, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(build(record), indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
