-- One row per edX.org forum post (grain: courserun_source_system, post_id): threads and their
-- comments with the thread they belong to, the comment they answer, the author (its user id; the
-- body only as its length), votes and dates, as of the latest archive holding the course.
with
    posts as (select * from {{ ref('int_edxorg__forum_posts') }}),

    final as (
        select
            cast(post_id as varchar) as post_id,
            cast(courserun_source_system as varchar) as courserun_source_system,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(post_type as varchar) as post_type,
            cast(thread_id as varchar) as thread_id,
            cast(parent_post_id as varchar) as parent_post_id,
            cast(discussion_id as varchar) as discussion_id,
            cast(user_id as bigint) as user_id,
            cast(thread_type as varchar) as thread_type,
            cast(post_title as varchar) as post_title,
            cast(post_body_length as bigint) as post_body_length,
            cast(coalesce(post_is_anonymous, false) as boolean) as post_is_anonymous,
            cast(
                coalesce(post_is_anonymous_to_peers, false) as boolean
            ) as post_is_anonymous_to_peers,
            cast(coalesce(post_is_endorsed, false) as boolean) as post_is_endorsed,
            cast(post_upvote_count as bigint) as post_upvote_count,
            cast(post_downvote_count as bigint) as post_downvote_count,
            cast(thread_comment_count as bigint) as thread_comment_count,
            cast(post_created_at as timestamp(6)) as post_created_at,
            cast(post_updated_at as timestamp(6)) as post_updated_at,
            cast(archive_date as date) as archive_date
        from posts
    )

select *
from final
