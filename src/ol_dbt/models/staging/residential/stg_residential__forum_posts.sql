-- Forum posts of every legacy LMS's latest extraction (every partition is the whole forum of
-- the day's courses): threads, responses and comments; the author's username leaves only as a
-- salted hash, the body only as its length.
with
    source as (
        {{ union_legacy_openedx_deployments('forum_posts', [
        'deployment', 'post_id', 'post_type', 'course_id', 'commentable_id', 'thread_id',
        'parent_id', 'author_id', 'author_username', 'title', 'body', 'thread_type', 'anonymous',
        'anonymous_to_peers', 'created_at', 'updated_at', 'votes_up', 'votes_down',
        'comment_count', 'endorsed', 'closed', 'retrieved_at',
    ]) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(post_id as varchar) as post_id,
            cast(post_type as varchar) as post_type,
            cast(course_id as varchar) as courserun_readable_id,
            cast(commentable_id as varchar) as discussion_id,
            cast(thread_id as varchar) as thread_id,
            cast(parent_id as varchar) as parent_post_id,
            cast(author_id as bigint) as user_id,
            -- personal data: only a salted hash leaves staging
            {{ hash_pii("nullif(author_username, '')") }} as user_username_hash,
            cast(title as varchar) as post_title,
            cast(length(body) as bigint) as post_body_length,
            cast(thread_type as varchar) as thread_type,
            cast(anonymous as boolean) as post_is_anonymous,
            cast(anonymous_to_peers as boolean) as post_is_anonymous_to_peers,
            {{ cast_timestamp('created_at') }} as post_created_at,
            {{ cast_timestamp('updated_at') }} as post_updated_at,
            cast(votes_up as bigint) as post_upvote_count,
            cast(votes_down as bigint) as post_downvote_count,
            cast(comment_count as bigint) as post_comment_count,
            cast(endorsed as boolean) as post_is_endorsed,
            cast(closed as boolean) as thread_is_closed,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
