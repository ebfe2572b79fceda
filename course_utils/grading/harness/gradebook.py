"""``grades.csv``: one row per submission, one column per question, the totals.

Columns: ``student``; the manifest's auto-graded questions in order, ``total`` and
``max_total`` (their sum and maximum); then, when the manifest has written answers,
one column per answer, ``written_total``, ``written_max``, ``combined_total`` and
``combined_max``; then ``isolation`` (the containment level student code ran under)
and ``error``.

A written answer's cell is its points once a TA scored it (``course-kit answers
import``), ``unanswered`` when the student gave none, and empty while it waits for a
TA. ``written_total`` and ``combined_total`` (auto-graded plus written) stay empty
until no answer waits (an unanswered one counts 0). Built from the harness's records
(the batch's ledger), so skipped (already graded) submissions keep their rows and no
file in the output folder can change a grade.
"""
import csv
from pathlib import Path

from course_utils.grading.harness import written


def _in_order(groups):
    names = []
    for group in groups:
        names += [name for name in group if name not in names]
    return names


def question_names(records):
    return _in_order([item["name"] for item in record["items"]] for record in records)


def answer_names(records):
    return _in_order(record.get("written", {}) for record in records)


def columns(records):
    answers = answer_names(records)
    totals = ["written_total", "written_max", "combined_total", "combined_max"] if answers else []
    return ["student", *question_names(records), "total", "max_total", *answers, *totals, "isolation", "error"]


def answer_cell(entry):
    """What grades.csv shows for one written answer."""
    if entry is None:
        return ""
    state = written.status(entry)
    return f"{entry['score']:g}" if state == written.SCORED else ("" if state == written.TO_GRADE else state)


def row(record, questions, answers):
    scores = {item["name"]: item["score"] for item in record["items"]}
    cells = [record["student"], *[f"{scores.get(n, 0.0):g}" for n in questions],
             f"{record['score']:g}", f"{record['max_score']:g}"]
    if answers:
        entries = record.get("written", {})
        given, possible, complete = written.totals(record)
        cells += [answer_cell(entries.get(n)) for n in answers]
        cells += [f"{given:g}" if complete else "", f"{possible:g}",
                  f"{round(record['score'] + given, 2):g}" if complete else "",
                  f"{round(record['max_score'] + possible, 2):g}"]
    return cells + [record.get("isolation", {}).get("level", ""), record.get("error") or ""]


def write(records, path):
    """Write ``records`` (grading records) as a CSV gradebook at ``path``."""
    header = columns(records)
    questions, answers = question_names(records), answer_names(records)
    path = Path(path)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for record in sorted(records, key=lambda r: r["student"]):
            writer.writerow(row(record, questions, answers))
    tmp.replace(path)
    return path
