"""Classifiers built on course_utils: k-nearest neighbour, linear models and networks.

Import each one from its own module, e.g.
``from course_utils.classifiers.k_nearest_neighbor import KNearestNeighbor``.
"""
