"""A grading record as a Markdown page a student can read."""
from pathlib import Path

from course_utils.grading.harness import written


def render(record):
    out = [f"# {record['assignment']}: feedback for {record['student']}", "",
           f"**Score: {record['score']:g} / {record['max_score']:g}**"
           + (" (auto-graded; the written answers follow below)" if record.get("written") else ""), ""]
    if record.get("error"):
        out += [f"> {record['error']}", ""]
    if record.get("missing"):
        out += ["Files not found in your submission (the release's stub was used instead):", ""]
        out += [f"- `{rel}`" for rel in record["missing"]] + [""]
    out += ["| question | points | status |", "|---|---|---|"]
    for item in record["items"]:
        status = "ok" if item["score"] >= item["max_score"] else (item["note"] or _first_failure(item))
        out.append(f"| {item['title']} | {item['score']:g} / {item['max_score']:g} | {_cell(status)} |")
    out.append("")
    failing = [item for item in record["items"] if item["score"] < item["max_score"]]
    if failing:
        out += ["## What failed", ""]
        for item in failing:
            out += [f"### {item['title']}", ""]
            if item["note"]:
                out += [item["note"], ""]
            for check in item["checks"]:
                if not check["outcome"]["passed"]:
                    out.append(f"- `{check['label']}`: {check['outcome']['message']}")
            out.append("")
    if record.get("stubs"):
        out += ["## Code regions still holding the stub", ""]
        out += [f"- `{rel}`: {', '.join(names)}" for rel, names in record["stubs"].items()] + [""]
    if record.get("written"):
        out += _written(record)
    notes = [n for n in record.get("notes", []) if not n.startswith("Traceback")]
    if notes:
        out += ["## Notes from the grader", ""] + [f"- {_cell(n)}" for n in notes] + [""]
    return "\n".join(out)


def _written(record):
    given, possible, complete = written.totals(record)
    out = ["## Written answers (graded by hand)", "",
           f"**{given:g} / {possible:g}**" + ("" if complete else " so far: the answers still to be graded by hand "
                                                                  "get their points when a TA has graded them"), "",
           "| question | points | status |", "|---|---|---|"]
    for entry in record["written"].values():
        state = written.status(entry)
        points = f"{entry['score']:g}" if state == written.SCORED else "-"
        out.append(f"| {_cell(entry['title'])} | {points} / {entry['max_score']:g} | {state} |")
    out.append("")
    for entry in record["written"].values():
        answer = written.student_answer(record.get("answers", {}), entry)
        out += [f"### {entry['title']}", "", f"*{entry['notebook']}.ipynb, inline question {entry['question']}*", ""]
        if entry["comment"]:
            out += ["> **TA:** " + entry["comment"].replace("\n", "\n> "), ""]
        out += [answer or "*unanswered*", ""]
    return out


def _first_failure(item):
    for check in item["checks"]:
        if not check["outcome"]["passed"]:
            return check["outcome"]["message"] or "failed"
    return "failed"


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")[:300]


def write(record, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(record), encoding="utf-8")
    return path
