"""A grading record as Gradescope's ``results.json``.

Top level: ``score``, ``output`` (summary), ``output_format``, ``visibility``,
``stdout_visibility``, ``execution_time``, ``tests`` and ``extra_data`` (the
student id, the submission's sha256 and the isolation level: never grader paths,
notes or tracebacks). One test per question: ``name``, ``score``, ``max_score``,
``status`` (passed|failed), ``output`` (the checks and the messages a student can
act on), ``visibility``.
"""
import json
from pathlib import Path

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
    for notebook, pairs in record.get("answers", {}).items():
        text = "\n\n".join(f"Q: {q}\nA: {a}" for q, a in pairs)
        tests.append({"name": f"written answers in {notebook} (graded by hand)", "score": 0.0,
                      "max_score": 0.0, "status": "passed", "output": text[:20000], "visibility": VISIBILITY})
    return {
        "score": record["score"],
        "execution_time": int(record.get("seconds") or 0),
        "output": summary(record),
        "output_format": "text",
        "visibility": VISIBILITY,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"course_kit": {key: record.get(key) for key in
                                      ("student", "assignment", "sha256", "score", "max_score", "isolation")}},
    }


def summary(record):
    lines = [f"{record['assignment']}: {record['score']:g} / {record['max_score']:g} points"]
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
