-- One row per edX.org forum post (grain: source system, post id): threads and comments of the
-- latest archive holding each course.
with
    posts as (select * from {{ ref('stg_edxorg__forum_posts') }}),

    latest as (select * from {{ edxorg_latest_archive('posts') }})

select
    archive_date,
    courserun_source_system,
    archive_courserun_readable_id as courserun_readable_id,
    post_id,
    post_type,
    discussion_id,
    thread_id,
    parent_post_id,
    user_id,
    user_username_hash,
    post_title,
    post_body_length,
    thread_type,
    post_is_anonymous,
    post_is_anonymous_to_peers,
    post_created_at,
    post_updated_at,
    post_upvote_count,
    post_downvote_count,
    thread_comment_count,
    post_is_endorsed,
    thread_is_closed
from
    {{ deduplicate(
    'latest',
    partition_by=['courserun_source_system', 'post_id'],
    order_by=['post_updated_at desc nulls last', 'archive_courserun_readable_id'],
) }}
