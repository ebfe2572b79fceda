"""Grading machinery shared by ``course-kit release/validate/grade/gradescope`` and
``collect_submission.sh``: one small module per concept.

Shared by every side (students' tools, the instructor's, the grader):

- ``kit``: the kit's layout (assignments, notebooks, files students may edit).
- ``manifest``: questions -> hidden tests, graded cells and points.
- ``notebook_checks``: was a notebook run top to bottom; its written answers.
- ``collect``: the student's submission zip; ``zipout``: deterministic zip writing.
- ``students``: student ids and the assignment a submission holds.
- ``wire``: the plain-data format between the two sides below.

The trust boundary is the folder layout:

- ``harness/``, the trusted side: it never runs student code in its own processes.
  ``pipeline`` grades one submission (``job``: as a self-contained job), ``batch`` many;
  ``sandbox`` builds the folders, ``safezip`` unpacks without trusting the zip,
  ``containment`` starts the processes that run student code, ``worker_client`` and
  ``notebook_runner`` talk to them, ``runner``/``tests_step``/``pytest_stream`` run the
  harness's own pytest, ``scoring``, ``gradebook``, ``results_json`` and ``feedback``
  make the outputs, ``written`` follows the written answers and ``hand_scores`` merges a
  TA's scores of them, ``autograder`` is the Gradescope entry point.
- ``worker/``, the untrusted side: the request loop that runs inside the student's
  sandbox, next to the student's code.
"""
