"""The trusted side of the grader: code here never runs student code in its own process.

Everything in this subpackage runs with the grader's rights and hands student code
only to processes it has contained first (see ``containment``).

- ``containment``: start a process that runs student code with its own uid, no network,
  a private /tmp, only its sandbox writable, resource limits, and its whole process tree
  ended with the step; at the strongest isolation level the machine offers.
"""
