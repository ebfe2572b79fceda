"""``grades.csv``: one row per submission, one column per question, a total.

Columns: ``student``, the manifest's question names in order, ``total``,
``max_total``, ``isolation`` (the containment level student code ran under),
``error``. Built from the harness's records (the batch's ledger), so skipped
(already graded) submissions keep their rows and no file in the output folder
can change a grade.
"""
import csv
from pathlib import Path


def columns(records):
    names = []
    for record in records:
        for item in record["items"]:
            if item["name"] not in names:
                names.append(item["name"])
    return ["student", *names, "total", "max_total", "isolation", "error"]


def write(records, path):
    """Write ``records`` (grading records) as a CSV gradebook at ``path``."""
    header = columns(records)
    path = Path(path)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for record in sorted(records, key=lambda r: r["student"]):
            scores = {item["name"]: item["score"] for item in record["items"]}
            writer.writerow([record["student"], *[f"{scores.get(n, 0.0):g}" for n in header[1:-4]],
                             f"{record['score']:g}", f"{record['max_score']:g}",
                             record.get("isolation", {}).get("level", ""), record.get("error") or ""])
    tmp.replace(path)
    return path
