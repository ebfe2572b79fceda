"""A grading record as a Markdown page a student can read."""
from pathlib import Path


def render(record):
    out = [f"# {record['assignment']}: feedback for {record['student']}", "",
           f"**Score: {record['score']:g} / {record['max_score']:g}**", ""]
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
    if record.get("answers"):
        out += ["## Your written answers (graded by hand)", ""]
        for notebook, pairs in record["answers"].items():
            out += [f"### {notebook}", ""]
            for question, answer in pairs:
                out += [f"> {question.splitlines()[0] if question else '(question)'}", "", answer, ""]
    notes = [n for n in record.get("notes", []) if not n.startswith("Traceback")]
    if notes:
        out += ["## Notes from the grader", ""] + [f"- {_cell(n)}" for n in notes] + [""]
    return "\n".join(out)


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
