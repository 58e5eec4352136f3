-- MITx Online's program enrollments and each learner's progress through the program's courses.
{{ int_mitx_app__program_progress('mitxonline') }}
