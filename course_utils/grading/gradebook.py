"""``grades.csv``: one row per submission, one column per question, a total.

Columns: ``student``, the manifest's question names in order, ``run:<notebook>``
columns when the manifest gives run points, ``total``, ``max_total``, ``error``.
Rebuilt from every ``results/*.json`` so skipped (already graded) submissions
keep their rows.
"""
import csv
from pathlib import Path

from course_utils.grading.results_json import read_record


def columns(records):
    names = []
    for record in records:
        for item in record["items"]:
            if item["name"] not in names:
                names.append(item["name"])
    return ["student", *names, "total", "max_total", "error"]


def write(results_dir, path):
    records = [r for r in (read_record(p) for p in sorted(Path(results_dir).glob("*.json"))) if r]
    header = columns(records)
    path = Path(path)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for record in sorted(records, key=lambda r: r["student"]):
            scores = {item["name"]: item["score"] for item in record["items"]}
            writer.writerow([record["student"], *[f"{scores.get(n, 0.0):g}" for n in header[1:-3]],
                             f"{record['score']:g}", f"{record['max_score']:g}", record.get("error") or ""])
    tmp.replace(path)
    return path
