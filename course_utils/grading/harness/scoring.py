"""Turn the outcomes of the grading steps into points, one entry per question.

A question's checks are its hidden tests (by node-id pattern) and its graded
reference-notebook cells (by tag); its score is ``points * passed / checks``,
rounded to 2 decimals.
"""
from dataclasses import dataclass, field

from course_utils.grading.harness.tests_step import Outcome


@dataclass
class Check:
    label: str
    outcome: Outcome


@dataclass
class Item:
    """One line of the result: a question or a notebook check."""
    name: str
    title: str
    max_score: float
    score: float = 0.0
    checks: list = field(default_factory=list)
    note: str = ""

    @property
    def passed(self):
        return self.score >= self.max_score


def score_questions(manifest, hidden, cells, not_started=()):
    """hidden: {nodeid: Outcome}; cells: {tag: Outcome}; not_started: question names with only stubs."""
    items = []
    for name, question in manifest.questions.items():
        checks = [Check(node, outcome) for node, outcome in sorted(hidden.items()) if question.matches_hidden(node)]
        checks += [Check(f"notebook cell {tag}", cells.get(tag, Outcome(False, "not run")))
                   for tag in question.cells]
        passed = sum(c.outcome.passed for c in checks)
        score = round(question.points * passed / len(checks), 2) if checks else 0.0
        note = "not started (the code region is still a stub)" if name in not_started else ""
        items.append(Item(name, question.title, question.points, score, checks, note))
    return items
