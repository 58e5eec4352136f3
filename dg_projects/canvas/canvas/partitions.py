"""The course partitions: one dynamic partition per Canvas course in the course registry."""

import dagster as dg

# Partition keys are Canvas course ids as strings ("10001"); the registry sensor adds and
# deletes them, and every canvas asset is partitioned by them.
CANVAS_COURSES_NAME = "canvas_courses"
CANVAS_COURSES = dg.DynamicPartitionsDefinition(name=CANVAS_COURSES_NAME)
