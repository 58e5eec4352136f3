-- MITx Online's `django_content_type` (one row per Django content type (`courses.courserun`, ...)).
{{ stg_mitx_app__content_types('mitxonline') }}
