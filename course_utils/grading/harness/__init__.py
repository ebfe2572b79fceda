"""The trusted side of the grader: code here never runs student code in its own process.

Everything in this subpackage runs with the grader's rights and hands student code
only to processes it has contained first (see ``containment``).

- ``containment``: start a process that runs student code with its own uid, no network,
  a private /tmp, only its sandbox writable, resource limits, and its whole process tree
  ended with the step; at the strongest isolation level the machine offers.
- ``worker_client``: proxies of a student's modules; every call runs in a contained worker
  (``course_utils.grading.worker``) and only plain data comes back.
- ``notebook_runner``: the reference notebooks, cell by cell, in a contained kernel; the
  stored outputs stay here and are compared here.
"""
