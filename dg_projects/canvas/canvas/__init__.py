"""The canvas code location: Canvas LMS courses from a course registry into the lake."""
