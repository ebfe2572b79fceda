"""A TA's scores of written answers, merged into a grade folder (``course-kit answers import``).

The scores file is a CSV with the columns ``student``, ``question``, ``points`` and
``comment`` (optional), as ``course-kit answers export`` writes its template: one row
per student and written answer, ``question`` being the manifest's ``[answers.<name>]``
name. A row with empty points is not scored yet and left alone. The file is trusted
instructor input, but checked as a whole before anything is written: an unknown
student or question, points that are not a number from 0 to the answer's points, a
row given twice or a wrong header stops the import with the row it is on.

The scores go into the grader's ledger (``<out>/.ledger.json``), from which the
student's ``results/<student>.json`` and ``feedback/<student>.md`` and the whole
``grades.csv`` are written again, exactly as ``course-kit grade`` writes them.
"""
import csv
import math
from pathlib import Path

from course_utils.grading.harness import gradebook
from course_utils.grading.harness.batch import LEDGER, Ledger, write_outputs

COLUMNS = ("student", "question", "points", "comment")


class ScoresError(ValueError):
    """A scores file that cannot be imported; the message names the file and the row."""


def _listing(names, limit=8):
    names = sorted(names)
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "") if names else "none"


def read_scores(path, ledger):
    """[(student, question, points, comment)] of the rows that give points."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: as spreadsheets save it
            reader = csv.DictReader(handle)
            header, rows = reader.fieldnames or [], list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScoresError(f"{path}: cannot read the scores: {exc}") from exc
    missing = [c for c in COLUMNS[:3] if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise ScoresError(f"{path}: the header must be {','.join(COLUMNS)} (as `course-kit answers export` writes "
                          f"scores.csv), got {','.join(header) or 'nothing'}")
    scores, seen = [], {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{path} row {number}"
        if None in row:
            raise ScoresError(f"{where}: more cells than the header has columns (a comma in a comment needs quotes)")
        student, question = (row["student"] or "").strip(), (row["question"] or "").strip()
        record = ledger.record(student)
        if record is None:
            raise ScoresError(f"{where}: unknown student {student!r}; graded students: {_listing(ledger.entries)}")
        entry = record.get("written", {}).get(question)
        if entry is None:
            raise ScoresError(f"{where}: unknown question {question!r}; the written answers of {student}: "
                              f"{_listing(record.get('written', {}))}")
        if (student, question) in seen:
            raise ScoresError(f"{where}: {student}, {question} was already given in row {seen[student, question]}")
        seen[student, question] = number
        text = (row["points"] or "").strip()
        if not text:
            continue
        try:
            points = float(text)
        except ValueError:
            raise ScoresError(f"{where}: points {text!r} is not a number") from None
        if math.isnan(points) or not 0 <= points <= entry["max_score"]:
            raise ScoresError(f"{where}: {text} points for {question}, which takes 0 to {entry['max_score']:g} points")
        scores.append((student, question, points, (row.get("comment") or "").strip()))
    return scores


def import_scores(path, out):
    """Merge the scores file at ``path`` into the grade folder ``out``; return {student: scores imported}."""
    out = Path(out)
    if not (out / LEDGER).is_file():
        raise ScoresError(f"{out} holds no grades ({LEDGER} is missing): give the --out folder of `course-kit grade`")
    ledger = Ledger(out / LEDGER)
    scores = read_scores(path, ledger)
    imported = {}
    for student, question, points, comment in scores:
        entry = ledger.record(student)["written"][question]
        entry["score"], entry["comment"] = points, comment
        imported[student] = imported.get(student, 0) + 1
    for student in sorted(imported):
        write_outputs(ledger.record(student), out, ledger)
    if imported:
        gradebook.write(ledger.records(), out / "grades.csv")
    return imported
