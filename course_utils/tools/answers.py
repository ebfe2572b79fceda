"""``course-kit answers export|import``: grade the written answers by hand, question by question.

``course-kit answers export SUBMISSIONS... --out DIR`` reads the submissions (zips,
folders of zips or unpacked folders, as ``course-kit grade`` takes them; unpacked with
the grader's checks, nothing run) and writes, for the manifest's ``[answers.*]``:

- ``DIR/index.html``: the questions, their points and how many students answered;
- ``DIR/<answer>.html``: one page per question: the question, the reference answer
  and every student's answer (student ids as ``course-kit grade`` derives them);
- ``DIR/scores.csv``: the template to fill in: ``student,question,points,comment``,
  one row per student and question, points empty (``unanswered`` noted in comment).

The pages show the reference answers: keep DIR away from students. DIR must be new or
empty (``--force`` replaces it; never a grade folder, nor one holding the submissions
or the source).

``course-kit answers import SCORES.csv --out GRADES_DIR`` merges the filled-in scores into
the grade folder of ``course-kit grade`` (see ``grading.harness.hand_scores``): its
ledger, ``grades.csv``, ``results/`` and ``feedback/``. Re-grading keeps them.
"""
import csv
import html
import shutil
import sys
import tempfile
from pathlib import Path

STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}"
         ".text{white-space:pre-wrap;font-family:monospace;background:#f6f6f6;padding:.6em;border-radius:4px}"
         ".reference{background:#eef6ee}.none{color:#a00;font-style:italic}"
         "section{border-top:1px solid #ccc;margin-top:1em}td,th{padding:.2em .8em;text-align:left}")


def configure(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="one page per written question with every student's answer, "
                                               "and a scores.csv template")
    export.add_argument("submissions", nargs="+", help="submission zips, folders of zips, or unpacked submissions")
    export.add_argument("--out", required=True, help="folder to write the pages and scores.csv to (new or empty)")
    export.add_argument("--assignment", help="e.g. assignment1 (default: the one the submissions hold)")
    export.add_argument("--manifest", help="manifest to use (default: grading/<assignment>/manifest.toml)")
    export.add_argument("--source", help="instructor source folder (default: this kit)")
    export.add_argument("--force", action="store_true", help="replace the contents of --out")
    imported = actions.add_parser("import", help="merge a TA's scores.csv into a grade folder")
    imported.add_argument("scores", help="the filled-in scores.csv")
    imported.add_argument("--out", required=True, help="the --out folder of `course-kit grade`")


def main(args):
    return export_main(args) if args.action == "export" else import_main(args)


def import_main(args):
    from course_utils.grading.harness.hand_scores import import_scores

    try:
        imported = import_scores(args.scores, args.out)
    except ValueError as exc:
        print(f"course-kit answers import: {exc}", file=sys.stderr)
        return 2
    if not imported:
        print(f"{args.scores} gives no points (every points cell is empty): nothing changed")
        return 0
    print(f"imported {sum(imported.values())} score(s) for {len(imported)} student(s); "
          f"gradebook: {Path(args.out) / 'grades.csv'}")
    return 0


def export_main(args):
    from course_utils.grading.harness.batch import LEDGER
    from course_utils.grading.harness.written import check_answers
    from course_utils.grading.kit import normalize_assignment, source_root
    from course_utils.grading.manifest import ManifestError, load_manifest
    from course_utils.grading.students import batch_assignment, held_assignments, unique_ids
    from course_utils.tools.grade import expand
    from course_utils.tools.outputs import OutputError, check_empty_folder, check_parent

    source = Path(args.source or source_root()).resolve()
    out = Path(args.out)
    try:
        submissions = expand(args.submissions)
        requested = normalize_assignment(args.assignment) if args.assignment else None
        assignment = batch_assignment({p: held_assignments(p, source) for p in submissions}, requested, source)
        manifest = load_manifest(args.manifest or source / "grading" / assignment / "manifest.toml")
        if not manifest.answers:
            raise ManifestError(f"{manifest.path}: no [answers.*] entries, so no written answers to export")
        reference = check_answers(manifest, source, assignment)
        if (out / LEDGER).exists():
            raise OutputError(f"{out} is a grade folder (it holds {LEDGER}): export to a folder of its own")
        if any(Path(p).resolve().is_relative_to(out.resolve()) for p in [*submissions, source]):
            raise OutputError(f"{out} holds submissions or the kit's source: export to a folder of its own")
        check_empty_folder(out, args.force)
        if not out.exists():
            check_parent(out)
    except (ManifestError, ValueError, FileNotFoundError) as exc:
        print(f"course-kit answers export: {exc}", file=sys.stderr)
        return 2
    students = read_students(unique_ids(submissions), manifest, source, assignment)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    write_pages(out, assignment, manifest, reference, students)
    write_template(out / "scores.csv", manifest, students)
    print(f"Wrote {len(manifest.answers)} question page(s) for {len(students)} submission(s) to {out}: open "
          f"{out / 'index.html'}, fill in {out / 'scores.csv'}, then `course-kit answers import "
          f"{out / 'scores.csv'} --out GRADES_DIR`.")
    return 0


def read_students(ids, manifest, source, assignment):
    """{student: (written entries, problem or "")}, sorted by student."""
    from course_utils.grading.harness.safezip import UnsafeSubmission
    from course_utils.grading.harness.written import entries, student_answer, submission_answers
    from course_utils.grading.kit import notebooks

    found = {}
    for path, student in ids.items():
        with tempfile.TemporaryDirectory(prefix="course-kit-answers-") as work:
            try:
                answers, problem = submission_answers(path, notebooks(source, assignment), work), ""
            except UnsafeSubmission as exc:
                answers, problem = {}, f"submission refused: {exc}"
        written = entries(manifest, answers)
        for entry in written.values():
            entry["text"] = student_answer(answers, entry)
        found[student] = (written, problem)
    return dict(sorted(found.items()))


def write_pages(out, assignment, manifest, reference, students):
    names = list(manifest.answers)
    rows = []
    for index, name in enumerate(names):
        spec = manifest.answers[name]
        question, model = reference[name]
        given = [(s, written[name], problem) for s, (written, problem) in students.items()]
        answered = sum(entry["answered"] for _, entry, _ in given)
        links = ['<a href="index.html">all questions</a>']
        neighbours = ((index - 1, "previous"), (index + 1, "next"))
        links += [f'<a href="{names[i]}.html">{label}</a>' for i, label in neighbours if 0 <= i < len(names)]
        body = [f"<p>{' | '.join(links)}</p>", f"<h1>{_e(spec.title)}</h1>",
                f"<p>{_e(assignment)}, {_e(spec.notebook)}.ipynb, inline question {spec.question}; "
                f"{spec.points:g} points; in scores.csv: question <code>{_e(name)}</code>; "
                f"{answered} of {len(given)} answered</p>",
                "<h2>Question</h2>", f'<div class="text">{_e(question)}</div>',
                "<h2>Reference answer</h2>", f'<div class="text reference">{_e(model)}</div>',
                "<h2>Answers</h2>"]
        for student, entry, problem in given:
            text = (f'<div class="text">{_e(entry["text"])}</div>' if entry["answered"]
                    else f'<p class="none">unanswered{": " + _e(problem) if problem else ""}</p>')
            body.append(f'<section id="{_e(student)}"><h3>{_e(student)}</h3>{text}</section>')
        _page(out / f"{name}.html", spec.title, body)
        rows.append(f'<tr><td><a href="{name}.html">{_e(spec.title)}</a></td><td>{_e(spec.notebook)} '
                    f'{spec.question}</td><td>{spec.points:g}</td><td>{answered} / {len(given)}</td></tr>')
    _page(out / "index.html", f"{assignment}: written answers",
          [f"<h1>{_e(assignment)}: written answers</h1>",
           f"<p>{len(students)} submission(s). Score in scores.csv, then <code>course-kit answers import</code>.</p>",
           "<table><tr><th>question</th><th>notebook, number</th><th>points</th><th>answered</th></tr>",
           *rows, "</table>"])


def _e(text):
    return html.escape(str(text))


def _page(path, title, body):
    path.write_text(f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{_e(title)}</title>'
                    f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n",
                    encoding="utf-8")


def write_template(path, manifest, students):
    """scores.csv to fill in: question by question, every student, points empty."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "points", "comment"])
        for name in manifest.answers:
            for student, (written, problem) in students.items():
                note = "" if written[name]["answered"] else (problem or "unanswered")
                writer.writerow([student, name, "", note])
