-- MIT's edX.org programs as MIT Learn learning resources. The catalog gives a marketing slug;
-- the program's page on edx.org depends on its type.
with
    programs as (select * from {{ ref('stg_learning_resources__edxorg_programs') }}),

    resources as (
        select
            program_uuid as readable_id,
            'program' as resource_type,
            'Program' as resource_category,
            program_title as title,
            case
                program_type
                when 'MicroMasters'
                then 'https://www.edx.org/masters/micromasters/'
                when 'XSeries'
                then 'https://www.edx.org/xseries/'
                when 'Professional Certificate'
                then 'https://www.edx.org/certificates/professional-certificate/'
                else 'https://www.edx.org/'
            end
            || coalesce(program_marketing_slug, program_uuid) as url,
            program_subtitle as description,
            cast(null as varchar) as image_url,
            cast(null as varchar) as image_alt,
            cast(null as varchar) as topics,
            'mitx' as offered_by_code,
            'edx' as platform,
            'mit_edx' as etl_source,
            coalesce(program_status = 'active', false) as published,
            cast(null as timestamp(6)) as start_on,
            cast(null as timestamp(6)) as end_on,
            cast(null as timestamp(6)) as created_on,
            program_modified_on as last_modified_on
        from programs
        where program_title is not null
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
