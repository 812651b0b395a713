-- One row per participation (pid, eintritt), as the latest delivery describes it.
create or replace view staging.stg_teilnahmen as
with

source as (
    select * from raw.teilnehmende
),

build as (
    select default_site from meta.build
),

ranked as (
    -- corrections: for each natural key the row of the latest delivery wins
    select
        *,
        row_number() over (
            partition by pid, eintritt
            order by delivery_id desc, line desc
        ) as recency
    from source
),

final as (
    select
        pid,
        eintritt,
        austritt,
        austrittsgrund,
        coach,
        geschlecht,
        geburtsjahr,
        langzeitleistungsbezug,
        berufsabschluss,
        -- a delivery without the optional column gets the configured site
        coalesce(standort, build.default_site) as standort,
        delivery_id,
        line
    from ranked
    cross join build
    where recency = 1
)

select * from final
