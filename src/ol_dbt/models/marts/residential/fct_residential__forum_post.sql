-- One row per legacy LMS deployment and forum post (a thread, a response or a comment on a
-- response) of the latest extraction: the thread it belongs to, the post it answers, its author
-- only as user_hash, the body only as its length, votes and dates.
with
    posts as (select * from {{ ref('stg_residential__forum_posts') }}),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(post_id as varchar) as post_id,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(post_type as varchar) as post_type,
            cast(thread_id as varchar) as thread_id,
            cast(parent_post_id as varchar) as parent_post_id,
            cast(discussion_id as varchar) as discussion_id,
            cast(user_username_hash as varchar) as user_hash,
            cast(thread_type as varchar) as thread_type,
            cast(post_title as varchar) as post_title,
            cast(post_body_length as bigint) as post_body_length,
            cast(coalesce(post_is_anonymous, false) as boolean) as post_is_anonymous,
            cast(
                coalesce(post_is_anonymous_to_peers, false) as boolean
            ) as post_is_anonymous_to_peers,
            cast(coalesce(post_is_endorsed, false) as boolean) as post_is_endorsed,
            cast(coalesce(thread_is_closed, false) as boolean) as thread_is_closed,
            cast(post_upvote_count as bigint) as post_upvote_count,
            cast(post_downvote_count as bigint) as post_downvote_count,
            cast(post_comment_count as bigint) as post_comment_count,
            cast(post_created_at as timestamp(6)) as post_created_at,
            cast(post_updated_at as timestamp(6)) as post_updated_at
        from posts
    )

select *
from final
