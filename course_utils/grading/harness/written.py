"""Written answers on a grading record: what each manifest ``[answers.*]`` entry found,
and the points a TA gave it.

``record["written"]`` is ``{name: entry}`` in manifest order, each entry::

    {"title": ..., "notebook": "knn", "question": 1, "max_score": 2.0,
     "answered": True, "score": None, "comment": ""}

``answered`` is False when the notebook or its n-th answer region is missing, empty or
still the release's placeholder. ``score`` stays None until ``course-kit answers import``
sets it; the entry's status is then ``scored``, else ``to be graded by hand`` or
``unanswered``. An unanswered question counts 0 points once the others are scored (a TA
may still score it). The written total exists only when no answer waits for a TA.
"""
from pathlib import Path

from course_utils.grading.harness.safezip import copy_folder, extract_zip, match_files
from course_utils.grading.kit import notebooks
from course_utils.grading.manifest import ManifestError
from course_utils.grading.notebook_checks import check_notebook
from course_utils.markers import is_placeholder_answer

SCORED, TO_GRADE, UNANSWERED = "scored", "to be graded by hand", "unanswered"


def check_answers(manifest, source, assignment):
    """Raise ManifestError unless every answer entry names a notebook of the assignment
    and an inline question it has; return {name: (question text, reference answer)}."""
    own = {Path(rel).stem: Path(source) / rel for rel in notebooks(source, assignment)}
    counted, reference = {}, {}
    for name, spec in manifest.answers.items():
        table = f"{manifest.path or '<manifest>'}: [answers.{name}]"
        if spec.notebook not in own:
            raise ManifestError(f"{table}: {spec.notebook!r} is not a notebook of {assignment} "
                                f"(its notebooks: {', '.join(sorted(own)) or 'none'})")
        if spec.notebook not in counted:
            counted[spec.notebook] = check_notebook(own[spec.notebook]).answers
        pairs = counted[spec.notebook]
        if spec.question > len(pairs):
            raise ManifestError(f"{table}: question {spec.question}, but {spec.notebook}.ipynb has "
                                f"{len(pairs)} inline question(s) (answer regions)")
        reference[name] = tuple(pairs[spec.question - 1])
    return reference


def student_answer(answers, spec):
    """The student's text for an answer entry, from ``record["answers"]`` ({notebook file: [[q, a], ...]});
    "" when missing."""
    pairs = answers.get(f"{spec['notebook']}.ipynb", [])
    if spec["question"] > len(pairs):
        return ""
    answer = pairs[spec["question"] - 1][1]
    return "" if is_placeholder_answer(answer) else answer


def entries(manifest, answers):
    """``record["written"]`` for a submission whose notebooks hold ``answers``, nothing scored yet."""
    found = {}
    for name, spec in manifest.answers.items():
        entry = {"title": spec.title, "notebook": spec.notebook, "question": spec.question,
                 "max_score": spec.points, "score": None, "comment": ""}
        entry["answered"] = bool(student_answer(answers, entry))
        found[name] = entry
    return found


def status(entry):
    if entry["score"] is not None:
        return SCORED
    return TO_GRADE if entry["answered"] else UNANSWERED


def totals(record):
    """(points given, points possible, complete): complete when no answer waits for a TA."""
    written = record.get("written", {}).values()
    given = round(sum(e["score"] or 0.0 for e in written), 2)
    possible = round(sum(e["max_score"] for e in written), 2)
    return given, possible, all(status(e) != TO_GRADE for e in written)


def carry_scores(previous, record):
    """Keep a TA's scores when a submission is graded again: for every entry whose
    answer text is unchanged and whose score still fits the (maybe new) maximum."""
    old = previous.get("written", {})
    for name, entry in record.get("written", {}).items():
        before = old.get(name)
        if not before or before.get("score") is None or before["score"] > entry["max_score"]:
            continue
        if student_answer(previous.get("answers", {}), before) == student_answer(record["answers"], entry):
            entry["score"], entry["comment"] = before["score"], before.get("comment", "")
    return record


def submission_answers(submission, wanted, work):
    """{notebook file name: [[question, answer], ...]} of a submission (zip or folder),
    unpacked with the grader's checks into ``work``; nothing in it is run.
    ``wanted``: the kit paths of the assignment's notebooks. Raises UnsafeSubmission."""
    submission, work = Path(submission), Path(work)
    files = copy_folder(submission, work) if submission.is_dir() else extract_zip(submission, work)
    found = match_files(files, wanted)
    return {Path(rel).name: check_notebook(work / found[rel]).answers for rel in wanted if rel in found}
