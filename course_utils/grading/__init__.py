"""Grading machinery shared by ``course-kit release/validate/grade/gradescope`` and
``collect_submission.sh``: one small module per concept.

- ``kit``: the kit's layout (assignments, notebooks, files students may edit).
- ``safezip``: unpack a submission zip (or folder) without trusting it.
- ``runner``: run one step in its own process under CPU, wall-time and memory limits.
- ``manifest``: questions -> hidden tests, graded cells and points.
- ``pytest_stream``: pytest plugin streaming each test's outcome (survives crashes).
- ``tests_step``: run hidden (or public) tests, resuming after a crash or timeout.
- ``notebook_checks``: was a notebook run top to bottom; its written answers.
- ``sandbox``: the clean folder a submission is graded in.
- ``scoring``: outcomes -> points per question.
- ``gradebook``, ``results_json``, ``feedback``: the three outputs.
- ``pipeline``: grade one submission; ``batch``: grade many.
- ``collect``: the student's submission zip; ``zipout``: deterministic zip writing.
- ``students``: student ids and the assignment a submission holds.
- ``autograder``: the Gradescope entry point.
- ``wire``: the plain-data format between the two sides below.

The trust boundary is in the folder layout: ``harness/`` is the trusted side (it never
runs student code in its own processes: containment, the worker client, the notebook
runner, one job per submission) and ``worker/`` is the untrusted side (the request loop
that runs inside the student's sandbox).
"""
