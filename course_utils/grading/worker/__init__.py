"""The untrusted side of the grader: code here runs in the same process as student code.

It is started contained (see ``course_utils.grading.harness.containment``) inside a
submission's sandbox, sees only the student's kit, and answers the harness's requests
(import a module, get or set an attribute, call a function or method) with plain data
(``course_utils.grading.wire``). Nothing here decides a grade: whatever it answers is
compared with the reference by the harness, so a worker that lies only loses points.
"""
